"""The streaming rules engine: per-device state, updated upload by upload.

``RuleEngine.feed`` runs every rule on an upload and returns what they found;
``advance_clock`` lets the rules that watch for silence speak. The same
engine replays stored history: fed the same uploads in the same order, it
finds the same.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from envwatch.rules.catalogue import PARAM_MODELS, RULES, Rule
from envwatch.rules.model import Finding, PointContext, Upload
from envwatch.rules.parameters import RuleSet, load_rule_set


def default_rule_set(path: Path | None = None) -> RuleSet:
    """The rule set in ``path``, or envwatch's own, for every rule of the catalogue."""
    return load_rule_set(PARAM_MODELS, path)


class RuleEngine:
    def __init__(
        self,
        rule_set: RuleSet,
        contexts: Mapping[str, PointContext],
        rules: Iterable[Rule] | None = None,
    ) -> None:
        self.rule_set = rule_set
        self.contexts = dict(contexts)
        self.rules = tuple(rules if rules is not None else RULES.values())
        self._states: dict[tuple[str, str], Any] = {}
        self.clock: datetime | None = None
        """The city's data clock: the newest data time of any upload seen."""

    def _state(self, rule: Rule, context: PointContext) -> Any:
        key = (rule.id, rule.scope(context))
        state = self._states.get(key)
        if state is None:
            state = self._states[key] = rule.new_state()
        return state

    def feed(self, upload: Upload) -> list[Finding]:
        """Run every rule on ``upload``; the findings it completes."""
        context = self.contexts.get(upload.mn)
        if context is None:
            return []  # a device the registry does not know (any more)
        findings: list[Finding] = []
        for rule in self.rules:
            findings += rule.on_upload(self._state(rule, context), upload, context, self.rule_set)
        if self.clock is None or upload.data_time > self.clock:
            self.clock = upload.data_time
        return findings

    def advance_clock(self, clock: datetime | None = None) -> list[Finding]:
        """Move the data clock to ``clock`` (if later) and run the silence rules."""
        if clock is not None and (self.clock is None or clock > self.clock):
            self.clock = clock
        if self.clock is None:
            return []
        findings: list[Finding] = []
        for rule in self.rules:
            if not rule.watches_clock:
                continue
            for context in self.contexts.values():
                state = self._states.get((rule.id, rule.scope(context)))
                if state is not None:
                    findings += rule.on_clock(state, self.clock, context, self.rule_set)
        return findings
