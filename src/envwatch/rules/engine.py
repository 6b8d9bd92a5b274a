"""The streaming rules engine: per-device state, updated upload by upload.

``RuleEngine.feed`` runs every rule on an upload and returns what they found;
``advance_clock`` lets the rules that watch for silence speak. The same
engine replays stored history: fed the same uploads in the same order, it
finds the same.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from envwatch.rules.catalogue import PARAM_MODELS, RULES, Rule
from envwatch.rules.catalogue.base import watches
from envwatch.rules.model import Finding, PointContext, Upload
from envwatch.rules.parameters import RuleSet, load_rule_set


def default_rule_set(path: Path | None = None) -> RuleSet:
    """The rule set in ``path``, or envwatch's own, for every rule of the catalogue."""
    return load_rule_set(PARAM_MODELS, path)


@dataclass(frozen=True, slots=True)
class RuleFailure:
    """A rule that raised on an upload (or on the clock, ``upload`` None)."""

    rule: str
    mn: str
    upload: Upload | None
    error: str


# The share of devices whose newest data the data clock may not pass.
CLOCK_QUANTILE = 0.9


class RuleEngine:
    def __init__(
        self,
        rule_set: RuleSet,
        contexts: Mapping[str, PointContext],
        rules: Iterable[Rule] | None = None,
    ) -> None:
        self.rule_set = rule_set
        self.rules = tuple(rules if rules is not None else RULES.values())
        self._gates = tuple(rule for rule in self.rules if rule.gate)
        self._states: dict[tuple[str, str], Any] = {}
        self._bound: dict[tuple[str, str], tuple[tuple[Rule, Any], ...]] = {}
        """By (MN, CN): the rules that read such uploads, with their states."""
        self.contexts = contexts
        self._latest: dict[str, datetime] = {}
        self.failures: list[RuleFailure] = []
        """Uploads a rule failed on, with the error: for the processor to quarantine."""
        self.clock: datetime | None = None
        """The city's data clock: a high quantile of the devices' newest data
        times (so one logger with its clock in the future cannot declare every
        other device offline), never running backwards."""

    @property
    def contexts(self) -> dict[str, PointContext]:
        return self._contexts

    @contexts.setter
    def contexts(self, contexts: Mapping[str, PointContext]) -> None:
        """A new view of the registry; rules keep their state (an enterprise's
        rules bind anew, should a device have moved)."""
        self._contexts = dict(contexts)
        self._bound.clear()

    def _rules_for(self, context: PointContext, cn: str) -> tuple[tuple[Rule, Any], ...]:
        key = (context.mn, cn)
        bound = self._bound.get(key)
        if bound is None:
            bound = self._bound[key] = tuple(
                (rule, self._state(rule, context))
                for rule in self.rules
                if watches(rule, context, cn) and not rule.gate
            )
        return bound

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
        rule_set = self.rule_set
        for gate in self._gates:
            refused = gate.refuses(self._state(gate, context), upload, context, rule_set)
            if refused is not None:
                return refused
        for rule, state in self._rules_for(context, upload.cn):
            try:
                findings += rule.on_upload(state, upload, context, rule_set)
            except Exception as error:  # one upload never stops the city's rules
                self._failed(rule, context, upload, error)
        latest = self._latest.get(upload.mn)
        if context.streams and (latest is None or upload.data_time > latest):
            self._latest[upload.mn] = upload.data_time
        return findings

    def _data_clock(self) -> datetime | None:
        if not self._latest:
            return None
        times = sorted(self._latest.values())
        return times[max(0, math.ceil(CLOCK_QUANTILE * len(times)) - 1)]

    def advance_clock(self, clock: datetime | None = None) -> list[Finding]:
        """Move the data clock on (to ``clock``, a wall clock, if that is later)
        and run the silence rules."""
        for candidate in (self._data_clock(), clock):
            if candidate is not None and (self.clock is None or candidate > self.clock):
                self.clock = candidate
        if self.clock is None:
            return []
        findings: list[Finding] = []
        for rule in self.rules:
            if not rule.watches_clock:
                continue
            for context in self.contexts.values():
                state = self._states.get((rule.id, rule.scope(context)))
                if state is not None:
                    try:
                        findings += rule.on_clock(state, self.clock, context, self.rule_set)
                    except Exception as error:
                        self._failed(rule, context, None, error)
        return findings

    def _failed(
        self, rule: Rule, context: PointContext, upload: Upload | None, error: Exception
    ) -> None:
        """Set ``upload`` aside with its error; the rule starts afresh for that
        device, so a state the upload broke cannot fail every later one."""
        self.failures.append(
            RuleFailure(rule.id, context.mn, upload, f"{type(error).__name__}: {error}")
        )
        key = (rule.id, rule.scope(context))
        if key in self._states:
            self._states[key] = rule.new_state()
            self._bound.clear()
