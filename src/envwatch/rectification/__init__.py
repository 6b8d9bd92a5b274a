"""Rectification to closure (集中整改): problems fed back by inspections and
complaints, assigned, rectified, accepted, noticed and closed off (rules.md
§4.2). The workflow is data (``workflow.toml``, loaded by the alert loop's
loader), the policy too (``policy.toml``); ``problems.py`` and ``evidence.py``
are pure, ``desk.py`` and ``importing.py`` the store's edge."""
