"""The web application (pages and REST API)."""
