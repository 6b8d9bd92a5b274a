"""The demo city (Liaocheng, fictional enterprises) and its simulated loggers."""
