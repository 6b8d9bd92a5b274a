"""Permit audit (排污审计): permits as data with their versions, limits,
annual totals and self-monitoring plans (``store.py``, ``importing.py``);
each device's hourly emissions as the permit accounting counts them
(``accounting.py``, pure; kept current by ``materialise.py``); totals per
enterprise, pollutant and year split by method, the share of the permit,
the projection to year end and the rules.md §5.2 warnings (``totals.py``,
pure; read and turned into findings by ``report.py``), with their
thresholds as versioned data (``permits.toml``)."""
