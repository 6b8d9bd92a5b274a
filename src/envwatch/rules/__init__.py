"""Data you can trust (去伪存真): validity, O2 correction, exceedance and
falsification rules as pure functions, run incrementally by ``engine``.

- ``o2``: reference-oxygen normalisation (折算浓度).
- ``validity``: valid hours and days (HJ 75-2017, HJ 356-2019), capture rate,
  substitution of invalid hours for emission quantities.
- ``parameters``: the rules' thresholds as versioned, validated data
  (``rules.toml``), overridable per industry, outlet kind and pollutant.
- ``catalogue``: the rules (exceedance, early warning, B1-B13 of rules.md §2.3
  that our data supports, electricity §3); each a registered pure class.
- ``engine``: per-device state updated upload by upload; the same code
  streams and replays.
"""
