"""Persistence: schema, migrations, the raw archive and the group-commit writer."""
