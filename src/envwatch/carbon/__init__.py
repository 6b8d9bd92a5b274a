"""Carbon beside pollutants (减污降碳协同): CO2 from electricity and from flue-gas
CEMS, pollutant emissions from the permits' hourly table, intensities and the
year-on-year synergy of the two. ``core.py`` is pure (formulas, factors as
versioned data in ``factors.toml``); ``summary.py`` reads the store."""
