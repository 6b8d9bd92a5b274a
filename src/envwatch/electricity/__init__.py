"""Electricity data of production and treatment circuits (分表计电)."""
