"""Enforcement linked to alerts: cases (on-site or off-site inspections) and
an enterprise's history of alerts, cases and outcomes."""
