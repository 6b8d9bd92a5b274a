"""The streaming rules engine: per-device state, updated upload by upload.

``RuleEngine.feed`` runs every rule on an upload and returns what they found;
``advance_clock`` lets the rules that watch for silence speak. The same
engine replays stored history: fed the same uploads in the same order, it
finds the same.

Uploads that arrive late and out of order (a back-fill, ``rules/backfill.py``)
do not reach the live state: they are held per device and judged in
data-time order, with states of their own, when the back-fill is over; the
episode is reported once. Silence is measured by arrival, so a back-fill is
no outage.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from envwatch.rules.backfill import BackfillEpisode, lateness, period_end
from envwatch.rules.catalogue import PARAM_MODELS, RULES, Rule
from envwatch.rules.catalogue.base import watches
from envwatch.rules.catalogue.transmission import Backfill, BackfillParams
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


# The share of devices whose newest arrival the arrival clock may not pass.
CLOCK_QUANTILE = 0.9

REPLAY_CLOCK_STEP = timedelta(minutes=1)
"""A replay moves the arrival clock on whenever the newest arrival it fed
passes into a new step of this length (``RuleEngine.replay``): a replay has no
wall clock, and a processor running live moves it at least that often."""

_EPOCH = datetime(1970, 1, 1)

LIVE = ""
"""The namespace of the live states (a back-fill's are ``backfill:<MN>``)."""


class RuleEngine:
    def __init__(
        self,
        rule_set: RuleSet,
        contexts: Mapping[str, PointContext],
        rules: Iterable[Rule] | None = None,
        *,
        trust_arrival: bool = True,
    ) -> None:
        """``trust_arrival`` False: receive times say nothing (simulated loggers
        catching up with the wall clock send history live), data times stand in."""
        self.rule_set = rule_set
        self.rules = tuple(rules if rules is not None else RULES.values())
        self._gates = tuple(rule for rule in self.rules if rule.gate)
        self._states: dict[tuple[str, str, str], Any] = {}
        """By (rule, scope, namespace): the rules' states."""
        self._bound: dict[tuple[str, str, str], tuple[tuple[Rule, Any], ...]] = {}
        """By (MN, CN, namespace): the rules that read such uploads, with their states."""
        self.contexts = contexts
        self._latest: dict[str, datetime] = {}
        """By MN: the newest arrival (receive time, else data time)."""
        self._newest: dict[tuple[str, str], datetime] = {}
        """By (MN, CN): the newest data time the live state has judged."""
        self._episodes: dict[str, BackfillEpisode] = {}
        self._clock_rules = tuple(rule for rule in self.rules if rule.watches_clock)
        backfill = RULES.get(Backfill.id)
        self._backfill = backfill if isinstance(backfill, Backfill) else Backfill()
        self.failures: list[RuleFailure] = []
        """Uploads a rule failed on, with the error: for the processor to quarantine."""
        self.trust_arrival = trust_arrival
        self.newest_arrival: datetime | None = None
        """The newest arrival of any device that streams (a replay moves the clock by it)."""
        self._replay_step: int | None = None
        self.clock: datetime | None = None
        """The city's arrival clock: a high quantile of the devices' newest
        arrivals (so one logger with its clock in the future, where no
        receive time is known, cannot declare every other device offline),
        never running backwards."""

    @property
    def contexts(self) -> dict[str, PointContext]:
        return self._contexts

    @contexts.setter
    def contexts(self, contexts: Mapping[str, PointContext]) -> None:
        """A new view of the registry; rules keep their state (an enterprise's
        rules bind anew, should a device have moved)."""
        self._contexts = dict(contexts)
        self._bound.clear()

    def _rules_for(
        self, context: PointContext, cn: str, namespace: str = LIVE
    ) -> tuple[tuple[Rule, Any], ...]:
        key = (context.mn, cn, namespace)
        bound = self._bound.get(key)
        if bound is None:
            bound = self._bound[key] = tuple(
                (rule, self._state(rule, context, namespace))
                for rule in self.rules
                if watches(rule, context, cn) and not rule.gate and not rule.watches_clock
            )
        return bound

    def _state(self, rule: Rule, context: PointContext, namespace: str = LIVE) -> Any:
        key = (rule.id, rule.scope(context), namespace)
        state = self._states.get(key)
        if state is None:
            state = self._states[key] = rule.new_state()
        return state

    def feed(self, upload: Upload) -> list[Finding]:
        """Run every rule on ``upload``; the findings it completes."""
        context = self.contexts.get(upload.mn)
        if context is None:
            return []  # a device the registry does not know (any more)
        received = upload.received_at if self.trust_arrival else None
        if received is not None:  # it arrived, whatever its data time says
            self._arrived(upload, received, context)
        rule_set = self.rule_set
        for gate in self._gates:
            refused = gate.refuses(self._state(gate, context), upload, context, rule_set)
            if refused is not None:
                return refused
        if received is None:
            self._arrived(upload, upload.data_time, context)
        else:
            params: BackfillParams = self._backfill.params_for(rule_set, context, None)
            periods = params.period_minutes
            if lateness(upload, received, periods) > timedelta(minutes=params.late_after_minutes):
                return self._late(upload, received, context, params)
        return self._judge(upload, context, LIVE)

    def replay(self, upload: Upload, step: timedelta = REPLAY_CLOCK_STEP) -> list[Finding]:
        """Feed an upload of a replay (stored uploads in arrival order): what
        it completes, and what the clock finds when its arrival moved the
        newest arrival into a new ``step`` (``REPLAY_CLOCK_STEP``)."""
        findings = self.feed(upload)
        newest = self.newest_arrival
        if newest is not None:
            reached = (newest - _EPOCH) // step
            if self._replay_step is None or reached > self._replay_step:
                self._replay_step = reached
                findings += self.advance_clock()
        return findings

    def _judge(self, upload: Upload, context: PointContext, namespace: str) -> list[Finding]:
        findings: list[Finding] = []
        for rule, state in self._rules_for(context, upload.cn, namespace):
            try:
                findings += rule.on_upload(state, upload, context, self.rule_set)
            except Exception as error:  # one upload never stops the city's rules
                self._failed(rule, context, upload, error, namespace)
        if namespace == LIVE:
            key = (upload.mn, upload.cn)
            newest = self._newest.get(key)
            if newest is None or upload.data_time > newest:
                self._newest[key] = upload.data_time
        return findings

    def _arrived(self, upload: Upload, arrival: datetime, context: PointContext) -> None:
        for rule in self._clock_rules:
            if watches(rule, context, upload.cn):
                state = self._state(rule, context)
                rule.on_arrival(state, upload, arrival, context, self.rule_set)
        latest = self._latest.get(upload.mn)
        if context.streams and (latest is None or arrival > latest):
            self._latest[upload.mn] = arrival
            if self.newest_arrival is None or arrival > self.newest_arrival:
                self.newest_arrival = arrival

    def _late(
        self, upload: Upload, arrival: datetime, context: PointContext, params: BackfillParams
    ) -> list[Finding]:
        """A late upload: into its device's back-fill, and to the rules at once
        if in order for its kind, else held for judging in data-time order."""
        end = period_end(upload, params.period_minutes)
        episode = self._episodes.get(upload.mn)
        if episode is None:
            episode = self._episodes[upload.mn] = BackfillEpisode.start(upload, arrival, end)
        newest = self._newest.get((upload.mn, upload.cn))
        in_order = newest is None or upload.data_time > newest
        episode.add(upload, arrival, end, hold=not in_order)
        if in_order:
            return self._judge(upload, context, LIVE)
        if len(episode.held) >= params.max_held:
            return self._judge_held(episode, context, params)
        return []

    def _judge_held(
        self, episode: BackfillEpisode, context: PointContext, params: BackfillParams
    ) -> list[Finding]:
        namespace = f"backfill:{episode.mn}"
        findings: list[Finding] = []
        for upload in episode.take_held(params.period_minutes):
            findings += self._judge(upload, context, namespace)
        episode.findings += len(findings)
        return findings

    def _close_backfills(self, clock: datetime | None) -> list[Finding]:
        """Judge and report the back-fills that are over by ``clock`` (all, if None)."""
        findings: list[Finding] = []
        for mn, episode in list(self._episodes.items()):
            context = self.contexts.get(mn)
            if context is None:
                del self._episodes[mn]
                continue
            params: BackfillParams = self._backfill.params_for(self.rule_set, context, None)
            quiet = timedelta(minutes=params.quiet_minutes)
            if clock is not None and not episode.over(
                clock, quiet, timedelta(hours=params.longest_hours)
            ):
                continue
            del self._episodes[mn]
            findings += self._judge_held(episode, context, params)
            self._forget(f"backfill:{mn}")
            findings.append(self._backfill.report(episode, context, self.rule_set))
        return findings

    def _forget(self, namespace: str) -> None:
        for key in [key for key in self._states if key[2] == namespace]:
            del self._states[key]
        for key in [key for key in self._bound if key[2] == namespace]:
            del self._bound[key]

    def finish(self) -> list[Finding]:
        """The end of the uploads (a replay's): judge and report every back-fill."""
        return self._close_backfills(None)

    def _arrival_clock(self) -> datetime | None:
        if not self._latest:
            return None
        times = sorted(self._latest.values())
        return times[max(0, math.ceil(CLOCK_QUANTILE * len(times)) - 1)]

    def advance_clock(self, clock: datetime | None = None) -> list[Finding]:
        """Move the arrival clock on (to ``clock``, a wall clock, if that is
        later), run the silence rules and close the back-fills that are over."""
        for candidate in (self._arrival_clock(), clock):
            if candidate is not None and (self.clock is None or candidate > self.clock):
                self.clock = candidate
        if self.clock is None:
            return []
        findings: list[Finding] = []
        for rule in self._clock_rules:
            for context in self.contexts.values():
                state = self._states.get((rule.id, rule.scope(context), LIVE))
                if state is not None:
                    try:
                        findings += rule.on_clock(state, self.clock, context, self.rule_set)
                    except Exception as error:
                        self._failed(rule, context, None, error)
        return findings + self._close_backfills(self.clock)

    def _failed(
        self,
        rule: Rule,
        context: PointContext,
        upload: Upload | None,
        error: Exception,
        namespace: str = LIVE,
    ) -> None:
        """Set ``upload`` aside with its error; the rule starts afresh for that
        device, so a state the upload broke cannot fail every later one."""
        self.failures.append(
            RuleFailure(rule.id, context.mn, upload, f"{type(error).__name__}: {error}")
        )
        key = (rule.id, rule.scope(context), namespace)
        if key in self._states:
            self._states[key] = rule.new_state()
            self._bound.clear()
