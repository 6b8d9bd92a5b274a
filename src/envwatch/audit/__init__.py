"""The audit log: every action (who, when, from where, what changed) appended
to one hash chain, verified like the raw archive (``log.py``)."""
