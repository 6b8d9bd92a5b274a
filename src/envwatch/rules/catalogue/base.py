"""What every rule shares: the ``Rule`` base, the registry, runs of uploads
and the helpers that read an upload against its limits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from envwatch.glossary import factor
from envwatch.rules.model import (
    FLUE_GAS_FLOW_CODE,
    O2_CODE,
    WATER_FLOW_CODE,
    Finding,
    Limit,
    PointContext,
    Severity,
    Upload,
    Values,
)
from envwatch.rules.o2 import o2_corrected
from envwatch.rules.parameters import Params, RuleSet

REALTIME = "2011"
MINUTE_DATA = "2051"
HOURLY = "2061"
NON_POLLUTANTS = frozenset(
    {
        O2_CODE,
        FLUE_GAS_FLOW_CODE,
        WATER_FLOW_CODE,
        "a01011",
        "a01012",
        "a01013",
        "a01014",
        "w01010",
        "w01001",
    }
)


def name_of(code: str) -> str:
    known = factor(code)
    return known.name_zh if known else code


def clock_text(moment: datetime) -> str:
    return moment.isoformat(sep=" ")


ANY_DEVICE = "any"
POINTS = "points"  # monitoring points (analysers)
METERS = "meters"  # electricity meters


def watches(rule: Rule, context: PointContext, cn: str) -> bool:
    """Whether ``rule`` reads an upload of command ``cn`` from this device."""
    if rule.reads is not None and cn not in rule.reads:
        return False
    if context.station is not None and not rule.for_stations:
        return False
    if rule.devices == ANY_DEVICE:
        return True
    return (rule.devices == METERS) == (context.meter_id is not None)


@dataclass
class Run:
    """A run of consecutive uploads meeting a condition."""

    start: datetime | None = None
    end: datetime | None = None
    count: int = 0
    values: list[float] = field(default_factory=list)
    frames: list[int] = field(default_factory=list)
    reported: bool = False
    anchor: float | None = None

    def extend(self, upload: Upload, value: float, keep: int = 60) -> None:
        if self.start is None:
            self.start = upload.data_time
            self.anchor = value
        self.end = upload.data_time
        self.count += 1
        self.values = [*self.values[-(keep - 1) :], value]
        if upload.frame_id is not None:
            self.frames = [*self.frames[-(keep - 1) :], upload.frame_id]

    def clear(self) -> None:
        self.start = self.end = self.anchor = None
        self.count = 0
        self.values, self.frames = [], []
        self.reported = False


RULE_KINDS = (
    "exceedance",
    "early_warning",
    "falsification",
    "electricity",
    "transmission",
    "quality",
)


class Rule:
    id: ClassVar[str]
    version: ClassVar[int]
    params_model: ClassVar[type[Params]]
    severity: ClassVar[Severity]
    title_zh: ClassVar[str]
    kind: ClassVar[str]
    """What the finding tells a supervisor: an ``exceedance`` of a limit, an
    ``early_warning`` before one, suspected ``falsification``, an
    ``electricity`` anomaly, a ``transmission`` fault, or the environment's
    ``quality`` against its levels and targets (see ``RULE_KINDS``)."""
    reads: ClassVar[frozenset[str] | None] = None
    """The commands (CN) whose uploads the rule reads; None: every upload."""
    devices: ClassVar[str] = ANY_DEVICE
    """Which devices it watches: monitoring points, meters or any."""
    for_stations: ClassVar[bool] = False
    """Whether it watches air stations' and river sections' loggers too: the
    rules of data quality (offline, zeros, constant and copied values,
    spikes) do, with parameters for them (``ambient_air``, ``surface_water``
    overrides); those about emissions and their limits do not."""

    def scope(self, context: PointContext) -> str:
        """Whose state this rule keeps: a device by default."""
        return context.mn

    def new_state(self) -> Any:
        return {}

    def on_upload(
        self, state: Any, upload: Upload, context: PointContext, rules: RuleSet
    ) -> list[Finding]:
        return []

    watches_clock: ClassVar[bool] = False
    """Speaks as the city's arrival clock advances (``on_clock``); told of
    every arrival, late ones too (``on_arrival``)."""

    gate: ClassVar[bool] = False
    """Judged before every other rule: an upload it refuses reaches none of them."""

    def refuses(
        self, state: Any, upload: Upload, context: PointContext, rules: RuleSet
    ) -> list[Finding] | None:
        """None: the upload goes on to the rules; else what refusing it found."""
        return None

    def on_arrival(
        self, state: Any, upload: Upload, arrival: datetime, context: PointContext, rules: RuleSet
    ) -> None:
        """``upload`` arrived at ``arrival`` (live or back-filled): for rules
        that watch the clock."""

    def on_clock(
        self, state: Any, clock: datetime, context: PointContext, rules: RuleSet
    ) -> list[Finding]:
        """Findings of silence: called as the city's arrival clock advances."""
        return []

    def params_for(self, rules: RuleSet, context: PointContext, pollutant: str | None) -> Any:
        return rules.for_point(
            self.id,
            industry=context.industry,
            outlet_kind=context.outlet_kind,
            pollutant=pollutant,
        )

    def finding(  # noqa: PLR0917 (mirrors Finding's fields)
        self,
        upload: Upload,
        pollutant: str | None,
        start: datetime,
        end: datetime,
        explanation: str,
        evidence: Mapping[str, Any],
        params: Params,
        severity: Severity | None = None,
        *,
        mn: str | None = None,
    ) -> Finding:
        """A finding about ``upload``'s device (or ``mn``'s, when the upload that
        completes the evidence is another device's)."""
        return Finding(
            mn=mn or upload.mn,
            pollutant=pollutant,
            rule=self.id,
            rule_version=self.version,
            window_start=start,
            window_end=end,
            severity=severity or self.severity,
            explanation=explanation,
            evidence={**evidence, "parameters": params.model_dump(mode="json")},
        )


RULES: dict[str, Rule] = {}


def register(cls: type[Rule]) -> type[Rule]:
    RULES[cls.id] = cls()
    return cls


def flow_level(upload: Upload) -> float | None:
    """The upload's flue-gas or wastewater flow, where it has one."""
    for code in (FLUE_GAS_FLOW_CODE, WATER_FLOW_CODE):
        values = upload.values.get(code)
        if values is not None and values.level is not None:
            return values.level
    return None


def running(upload: Upload) -> bool:
    """Whether the source runs, as far as the upload tells: flow above zero,
    or no flow measured at all."""
    flow = flow_level(upload)
    return flow is None or flow > 0


def o2_problem(o2: Values | None, rules: RuleSet) -> str | None:
    """Why an O2 value cannot correct a concentration (None: it can): absent,
    marked invalid (only a valid O2 corrects: a D-marked 0.0 would hide an
    exceedance), or outside the plausible range (below it, or so near air
    that the factor explodes)."""
    if o2 is None or o2.level is None:
        return "missing"
    if (o2.flag or "N") not in rules.validity.valid_flags:
        return f"flag {o2.flag}"
    if not rules.validity.o2_min_percent <= o2.level < rules.validity.o2_ceiling_percent:
        return "out_of_range"
    return None


def compliance_value(
    upload: Upload, code: str, values: Values, limit: Limit, rules: RuleSet
) -> tuple[float | None, dict[str, Any]]:
    """The value judged against ``limit``: O2-corrected when the limit has a
    reference O2; None when it cannot be (no valid, plausible O2: the
    evidence says why under ``o2_problem``)."""
    level = values.level
    if level is None:
        return None, {}
    if limit.reference_o2 is None:
        return level, {"measured": level}
    o2 = upload.values.get(O2_CODE)
    o2_level = o2.level if o2 is not None else None
    evidence: dict[str, Any] = {"measured": level, "o2": o2_level,
                                "reference_o2": limit.reference_o2}  # fmt: skip
    problem = o2_problem(o2, rules)
    if problem is not None:
        return None, {**evidence, "o2_problem": problem}
    assert o2_level is not None
    corrected = o2_corrected(level, o2_level, limit.reference_o2, rules.validity.o2_ceiling_percent)
    if corrected is None:
        return None, {**evidence, "o2_problem": "out_of_range"}
    return corrected, {**evidence, "corrected": round(corrected, 4)}


def judge_value(
    upload: Upload, code: str, values: Values, limits: Sequence[Limit], rules: RuleSet
) -> tuple[Limit | None, float | None, dict[str, Any]]:
    """``code``'s value against ``limits`` (of one period), each corrected to
    its own reference O2: the limit breached furthest, else the nearest, with
    the value judged; (None, None, evidence) when it cannot be corrected."""
    best: tuple[float, Limit, float, dict[str, Any]] | None = None
    for limit in limits:
        value, used = compliance_value(upload, code, values, limit, rules)
        if value is None:
            return None, None, used
        margin = limit.margin(value)
        if best is None or margin > best[0]:
            best = (margin, limit, value, used)
    if best is None:
        return None, None, {}
    return best[1], best[2], best[3]


def limit_evidence(context: PointContext, code: str, judged: Limit | None = None) -> dict[str, Any]:
    """The limit judged (by default the strictest) and the others in force."""
    limits = context.limits.get(code, ())
    limit = judged or (limits[0] if limits else None)
    return {
        "limit": limit.value if limit else None,
        "lower_limit": limit.lower if limit else None,
        "period": limit.period if limit else None,
        "unit": limit.unit if limit else None,
        "basis": limit.basis if limit else None,
        "other_limits": [
            {"value": lim.value, "basis": lim.basis, "period": lim.period}
            for lim in limits
            if lim is not limit
        ],
    }


def valid_hourly_values(
    upload: Upload, context: PointContext, rules: RuleSet
) -> list[tuple[str, float]]:
    """The pollutants' valid hourly means of an hourly upload while the source
    runs (measured, not O2-corrected), by factor code."""
    if upload.cn != HOURLY or context.meter_id is not None or not running(upload):
        return []
    return [
        (code, values.level)
        for code, values in upload.values.items()
        if values.level is not None
        and code not in NON_POLLUTANTS
        and (values.flag or "N") in rules.validity.valid_flags
    ]


def day_of(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)
