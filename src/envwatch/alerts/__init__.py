"""The alert closed loop (rules.md §4.1): findings become alerts, one per
(device, pollutant, rule) episode; alerts move through a transition table in
data (``workflow.toml``), carry deadlines by level (``policy.toml``), and
escalate when a deadline is missed. Pure here; the store, notifications and
the command line are at the edges (``store.py``, ``notify.py``, ``cli``)."""
