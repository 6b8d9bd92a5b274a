"""Registers of the bureau's management tools beside the permits: the positive
lists (正面清单, ``positive.py``, criteria as versioned data in
``criteria.toml``) and the county total-quantity ledger (总量指标台账: a pure
core in ``quota.py``, its store edge in ``quota_store.py``); imports of both
on the registry's machinery (``importing.py``)."""
