"""Environmental quality against targets: ambient air stations and river
sections (sans-IO core, I/O at the edges).

- ``editions.py``, ``air_editions.toml``: the air standards by edition
  (GB 3095, HJ 633, HJ 663; 2012 and 2026), chosen by the data's date.
- ``aqi.py``: IAQI and AQI reports (HJ 633).
- ``air_statistics.py``: a station-day from its hours, an area-day, period
  statistics per HJ 663 and the composite index.
- ``water.py``, ``water_classes.toml``: GB 3838 classes, the single-factor
  method, exceedance multiples and the water-quality index.
"""
