"""Who may do what: people (``users.py``, ``passwords.py``, ``sessions.py``),
the operation contractors whose devices scope their users (``contractors.py``)
and machine clients' bearer tokens (``tokens.py``)."""
