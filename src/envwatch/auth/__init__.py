"""Who may do what: machine clients' bearer tokens (users and roles come later)."""
