"""The rules: each a registered class with an id, a version, declared
parameters (``Params``) and a pure ``on_upload`` over its own state.

A rule keeps what it needs of the past in the state object the engine hands
it (one per rule and ``scope``: a device, or an enterprise for the
electricity rule), so each finding is emitted by the upload that completes
its evidence. Rules that watch a condition over a run of uploads emit once per
run and re-arm when the condition clears.
"""

from envwatch.rules.catalogue import (
    compliance,
    cross_checks,
    electricity,
    falsification,
    marks,
    quality,
    transmission,
)
from envwatch.rules.catalogue.base import RULES, Rule
from envwatch.rules.catalogue.electricity import ENERGY, POWER
from envwatch.rules.parameters import Params

PARAM_MODELS: dict[str, type[Params]] = {
    rule_id: rule.params_model for rule_id, rule in RULES.items()
}

__all__ = [
    "ENERGY",
    "PARAM_MODELS",
    "POWER",
    "RULES",
    "Rule",
    "compliance",
    "cross_checks",
    "electricity",
    "falsification",
    "marks",
    "quality",
    "transmission",
]
