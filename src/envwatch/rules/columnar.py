"""Columnar evaluation of the rules that vectorise (pure; numpy).

A replay of stored history reads each device's window in column form
(``DeviceColumns``, read by ``processing/columns.py``) and judges it here,
rule by rule, over whole arrays instead of upload by upload. One truth: the
columnar path only finds *where* a rule's condition can hold (vectorised);
the rule's own definition (``holds``, ``complete``, the finding it builds,
its parameters) decides there, exactly as the streaming engine would. The
equivalence test (``tests/test_rules_columnar.py``) holds the two paths to
the same findings.

Rules without a columnar form (``COLUMNAR`` lacks them) fall back to the
streaming engine, as do devices where the engine itself would intervene
(``streaming_only``: an upload the time gate refuses, a late upload that
would be judged as a back-fill, a meter).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from envwatch.hj212.model import DEVICE_INFO_COMMAND
from envwatch.rules.catalogue import RULES
from envwatch.rules.catalogue.base import (
    HOURLY,
    MINUTE_DATA,
    NON_POLLUTANTS,
    REALTIME,
    Rule,
    Run,
    compliance_value,
    watches,
)
from envwatch.rules.catalogue.compliance import EarlyWarning, Exceedance, hourly_limits
from envwatch.rules.catalogue.cross_checks import (
    ConcentrationWithoutFlow,
    DeclaredStopped,
    DropAfterWarning,
    O2Dilution,
)
from envwatch.rules.catalogue.falsification import (
    MAD_TO_SD,
    Constant,
    Negative,
    Pinned,
    Spike,
    Zero,
    _RunRule,
)
from envwatch.rules.catalogue.marks import (
    FlagAbuse,
    LearnedCalibration,
    MarkAfterWarning,
    UndeclaredMaintenance,
    calibration_params,
)
from envwatch.rules.catalogue.transmission import (
    Backfill,
    BackfillParams,
    ImplausibleDataTime,
    Offline,
)
from envwatch.rules.engine import CLOCK_QUANTILE, REPLAY_CLOCK_STEP
from envwatch.rules.model import (
    FLUE_GAS_FLOW_CODE,
    O2_CODE,
    WATER_FLOW_CODE,
    Finding,
    Limit,
    PointContext,
    Upload,
    Values,
)
from envwatch.rules.o2 import AIR_O2_PERCENT
from envwatch.rules.parameters import RuleSet

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
Times = npt.NDArray[np.datetime64]


@dataclass(frozen=True, slots=True)
class FactorColumn:
    """One factor's values in a device's uploads: ``rows`` index the uploads
    that carry it (ascending), ``level`` is Rtd else Avg (NaN: neither),
    ``flag`` the HJ 212 flag (None: unflagged)."""

    rows: Ints
    level: Floats
    flag: npt.NDArray[np.object_]
    flag_code: Ints | None = None
    """Optional: ``flag`` as codes into ``flag_names`` (the reader's), so a
    test of flags is one lookup per distinct flag."""
    flag_names: tuple[str | None, ...] = ()


@dataclass(frozen=True, slots=True)
class DeviceColumns:
    """A device's uploads in a window, in arrival (frame) order, as columns."""

    mn: str
    frame_id: Ints
    cn: npt.NDArray[np.object_]
    data_time: Times
    """datetime64[us], China Standard Time."""
    received_at: Times
    """datetime64[us], China Standard Time; NaT where unknown."""
    factors: Mapping[str, FactorColumn] = field(default_factory=dict)
    _masks: dict[str | None, Bools] = field(default_factory=dict, compare=False, repr=False)
    """By CN: ``is_cn``'s masks, each made once (the rules ask often)."""
    _marks: dict[tuple[str, bool], frozenset[str | None]] = field(
        default_factory=dict, compare=False, repr=False
    )
    """By (factor, real-time only): ``marks``, each found once."""

    def __len__(self) -> int:
        return len(self.frame_id)

    def kinds(self) -> list[str | None]:
        """The CNs of the device's uploads, each once."""
        if not self._masks and len(self):
            for cn in set(self.cn.tolist()):
                self._masks[cn] = np.asarray(self.cn == cn)
        return list(self._masks)

    def is_cn(self, *cns: str | None) -> Bools:
        """Per upload: its CN is one of ``cns``."""
        self.kinds()
        mask = np.zeros(len(self), dtype=np.bool_)
        for cn in cns:
            known = self._masks.get(cn)
            if known is not None:
                if len(cns) == 1:
                    return known
                mask |= known
        return mask

    def marks(self, code: str, *, realtime_only: bool) -> frozenset[str | None]:
        """The flags ``code``'s values carry (in real-time uploads only: ``realtime_only``)."""
        key = (code, realtime_only)
        found = self._marks.get(key)
        if found is None:
            column = self.factors[code]
            mine = self.is_cn(REALTIME)[column.rows] if realtime_only else slice(None)
            if column.flag_code is not None:
                counts = np.bincount(column.flag_code[mine], minlength=len(column.flag_names))
                found = frozenset(column.flag_names[code] for code in np.flatnonzero(counts))
            else:
                found = frozenset(column.flag[mine].tolist())
            self._marks[key] = found
        return found

    @property
    def points(self) -> int:
        """Values held (a factor in an upload), the benchmark's unit."""
        return sum(len(column.rows) for column in self.factors.values())

    def upload_with_values(self, row: int) -> Upload:
        """Row ``row`` as the upload the rule reads: every factor it carries,
        its level (the level a rule reads) with its flag: as Rtd in real-time
        data, as Avg in period data (minute, hourly, daily)."""
        values: dict[str, Values] = {}
        realtime = self.cn[row] == REALTIME
        for code, column in self.factors.items():
            index = int(np.searchsorted(column.rows, row))
            if index < len(column.rows) and int(column.rows[index]) == row:
                level: float | None = float(column.level[index])
                if level is not None and np.isnan(level):
                    level = None
                flag = column.flag[index]
                mark = None if flag is None else str(flag)
                values[code] = (
                    Values(rtd=level, flag=mark) if realtime else Values(avg=level, flag=mark)
                )
        return replace(self.upload(row), values=values)

    def uploads_with_values(self, rows: Ints) -> list[Upload]:
        """Rows ``rows`` (ascending) as ``upload_with_values`` gives each, built at once."""
        wanted = np.zeros(len(self), dtype=np.bool_)
        wanted[rows] = True
        values: dict[int, dict[str, Values]] = {row: {} for row in rows.tolist()}
        realtime = self.is_cn(REALTIME)
        for code, column in self.factors.items():
            mine = wanted[column.rows]
            at = column.rows[mine].tolist()
            levels = column.level[mine].tolist()
            flags = column.flag[mine].tolist()
            kinds = realtime[column.rows[mine]].tolist()
            for row, level, flag, kind in zip(at, levels, flags, kinds, strict=True):
                known = None if math.isnan(level) else level
                mark = None if flag is None else str(flag)
                values[row][code] = (
                    Values(rtd=known, flag=mark) if kind else Values(avg=known, flag=mark)
                )
        return [replace(self.upload(row), values=values[row]) for row in rows.tolist()]

    def upload(self, row: int) -> Upload:
        """Row ``row`` as the light upload a finding is built on (no values)."""
        frame = int(self.frame_id[row])
        return Upload(
            self.mn,
            str(self.cn[row]),
            _datetime(self.data_time[row]),
            {},
            frame if frame >= 0 else None,
        )


def _datetime(moment: np.datetime64) -> datetime:
    value = moment.astype("datetime64[us]").item()
    assert isinstance(value, datetime)
    return value


def _flow(columns: DeviceColumns) -> Floats:
    """Per upload: the flue-gas flow, else the wastewater flow (``flow_level``); NaN: none."""
    flow = np.full(len(columns), np.nan)
    for code in (WATER_FLOW_CODE, FLUE_GAS_FLOW_CODE):  # flue gas last: it wins
        column = columns.factors.get(code)
        if column is not None:
            known = ~np.isnan(column.level)
            flow[column.rows[known]] = column.level[known]
    return flow


def running(columns: DeviceColumns) -> Bools:
    """Per upload: the source runs (``base.running``): flow above zero, or none measured."""
    flow = _flow(columns)
    return np.asarray(np.isnan(flow) | (flow > 0))


def valid_flag(column: FactorColumn, rule_set: RuleSet) -> Bools:
    """Per value of the column: its flag is a valid one (no flag counts as N)."""
    valid = rule_set.validity.valid_flags
    if column.flag_code is not None:
        table = np.array([(name or "N") in valid for name in column.flag_names], dtype=np.bool_)
        return np.asarray(table[column.flag_code])
    flags = column.flag.tolist()
    return np.fromiter(((f or "N") in valid for f in flags), dtype=np.bool_, count=len(flags))


def flagged(column: FactorColumn, flags: frozenset[str]) -> Bools:
    """Per value of the column: its flag is one of ``flags`` (no flag: none)."""
    if column.flag_code is not None:
        table = np.array([name in flags for name in column.flag_names], dtype=np.bool_)
        return np.asarray(table[column.flag_code])
    marks = column.flag.tolist()
    return np.fromiter((f in flags for f in marks), dtype=np.bool_, count=len(marks))


def streaming_only(
    columns: DeviceColumns, context: PointContext, rule_set: RuleSet, *, trust_arrival: bool
) -> str | None:
    """Why the engine itself would intervene on this device's window (so the
    columnar path must not judge it), or None. The engine's gate refuses
    implausible data times; with arrival trusted, late uploads become a
    back-fill with states of their own; meters also read batches."""
    if context.meter_id is not None:
        return "meter"
    if not len(columns):
        return None
    gate = RULES[ImplausibleDataTime.id]
    params = gate.params_for(rule_set, context, None)
    times = columns.data_time
    earliest, latest = np.datetime64(params.earliest, "us"), np.datetime64(params.latest, "us")
    if bool(np.any((times < earliest) | (times > latest))):
        return "implausible_data_time"
    received = columns.received_at
    known = ~np.isnat(received)
    age = (received - times)[known]
    # The gate reads a receive time even where arrival is not trusted.
    if bool(
        np.any(age > np.timedelta64(timedelta(days=params.max_age_days)))
        or np.any(-age > np.timedelta64(timedelta(hours=params.max_ahead_hours)))
    ):
        return "implausible_data_time"
    if not trust_arrival:
        return None
    backfill = RULES[Backfill.id]
    late: BackfillParams = backfill.params_for(rule_set, context, None)
    period = np.zeros(len(columns))
    for cn in columns.kinds():  # a CN unknown: "None"
        period[columns.is_cn(cn)] = late.period_minutes.get(str(cn), 0.0)
    ends = times + (period * 60_000_000).astype("timedelta64[us]")
    lateness = (received - ends)[known]
    if bool(np.any(lateness > np.timedelta64(timedelta(minutes=late.late_after_minutes)))):
        return "backfill"
    return None


def _segments(mask: Bools, restart: Bools, shortest: int = 1) -> list[tuple[int, int]]:
    """The [start, end) stretches where ``mask`` holds, split where ``restart``
    does, of at least ``shortest`` rows."""
    before = np.concatenate(([False], mask[:-1]))
    starts = mask & (restart | ~before)
    follows = np.concatenate((mask[1:] & ~starts[1:], [False]))
    ends = mask & ~follows
    first, after = np.flatnonzero(starts), np.flatnonzero(ends) + 1
    long = after - first >= shortest
    return list(zip(first[long].tolist(), after[long].tolist(), strict=True))


@dataclass(frozen=True, slots=True)
class Candidates:
    """Where a run rule's runs can lie: ``member`` rows may belong to one; a
    run cannot continue across a ``restart`` row; ``steady``: within a
    stretch every member holds with the run's first (nothing more to find
    once it reported)."""

    member: Bools
    restart: Bools
    steady: bool


def _run_rule(
    rule: _RunRule,
    candidates: Callable[[Floats, Any], Candidates],
    columns: DeviceColumns,
    context: PointContext,
    rule_set: RuleSet,
) -> list[Finding]:
    """A run rule (``_RunRule``) over the device's real-time values: stretches
    where runs can reach completion are found vectorised; the rule's own
    ``holds``/``advance`` judge inside them, as streaming does."""
    if not watches(rule, context, REALTIME):
        return []
    findings: list[Finding] = []
    runs = running(columns)
    is_realtime = columns.is_cn(REALTIME)
    # ``applies`` = the device and factor qualify, and the source runs: the
    # first part asked of an upload without flow (which runs), the second per row.
    probe = Upload(columns.mn, REALTIME, datetime(2000, 1, 1), {})
    for code, column in columns.factors.items():
        if code in NON_POLLUTANTS or not rule.applies(probe, context, code, rule_set):
            continue
        realtime = is_realtime[column.rows]
        rows, level = column.rows[realtime], column.level[realtime]
        if not len(rows):
            continue
        params = rule.params_for(rule_set, context, code)
        shortest = 2 if params.model_dump().get("cycle_minutes") else int(params.consecutive)
        usable = ~np.isnan(level) & valid_flag(column, rule_set)[realtime] & runs[rows]
        found = candidates(level, params)
        for start, end in _segments(usable & found.member, found.restart, shortest):
            run = Run()
            for index in range(start, end):
                value = float(level[index])
                if not rule.holds(value, run, params):
                    run.clear()
                    if not rule.holds(value, run, params):
                        continue
                if run.reported and found.steady:
                    break
                upload = columns.upload(int(rows[index]))
                finding = rule.advance(run, upload, code, value, context=context, params=params)
                if finding is not None:
                    findings.append(finding)
    return findings


def _zero_candidates(level: Floats, params: Any) -> Candidates:
    return Candidates(level == 0, np.zeros(len(level), dtype=np.bool_), steady=True)


def _constant_candidates(level: Floats, params: Any) -> Candidates:
    """Non-zero values; a run cannot span a step of more than twice epsilon
    (both ends lie within epsilon of its anchor), so one restarts there."""
    epsilon = float(params.epsilon)
    step = np.abs(np.diff(level, prepend=np.nan))
    restart = np.asarray(~(step <= 2 * epsilon))
    return Candidates(np.asarray(level != 0), restart, steady=epsilon == 0)


def negative(columns: DeviceColumns, context: PointContext, rule_set: RuleSet) -> list[Finding]:
    """``Negative`` over every upload: where a factor turns negative."""
    rule = RULES[Negative.id]
    assert isinstance(rule, Negative)
    findings: list[Finding] = []
    for code, column in columns.factors.items():
        if code in NON_POLLUTANTS:
            continue
        below = np.asarray(column.level < 0)  # NaN: not negative, and ends a negative stretch
        turned = below & ~np.concatenate(([False], below[:-1]))
        for index in np.flatnonzero(turned).tolist():
            row = int(column.rows[index])
            if watches(rule, context, str(columns.cn[row])):
                level = float(column.level[index])
                findings.append(rule.report(columns.upload(row), code, level, context, rule_set))
    return findings


def zero(columns: DeviceColumns, context: PointContext, rule_set: RuleSet) -> list[Finding]:
    rule = RULES[Zero.id]
    assert isinstance(rule, Zero)
    return _run_rule(rule, _zero_candidates, columns, context, rule_set)


def constant(columns: DeviceColumns, context: PointContext, rule_set: RuleSet) -> list[Finding]:
    rule = RULES[Constant.id]
    assert isinstance(rule, Constant)
    return _run_rule(rule, _constant_candidates, columns, context, rule_set)


def spike(columns: DeviceColumns, context: PointContext, rule_set: RuleSet) -> list[Finding]:
    """``Spike`` over the real-time values of a running source: a value can
    be an outlier only if it lies more than ``min_relative`` of the window's
    smallest magnitude from the window's far end (the median lies between the
    window's least and greatest value), found vectorised; there the rule's own
    ``on_upload`` judges, from the state streaming would hold (the recent
    values, and whether a shift is on: any value judged in between and not a
    candidate is no outlier, which ends a shift)."""
    rule = RULES[Spike.id]
    assert isinstance(rule, Spike)
    if context.meter_id is not None or not watches(rule, context, REALTIME):
        return []
    findings: list[Finding] = []
    runs = running(columns)
    is_realtime = columns.is_cn(REALTIME)
    for code, column in columns.factors.items():
        if code in NON_POLLUTANTS:
            continue
        usable = is_realtime[column.rows] & runs[column.rows] & ~np.isnan(column.level)
        rows, level = column.rows[usable], column.level[usable]
        params = rule.params_for(rule_set, context, code)
        width = int(params.window)
        if len(level) <= width:
            continue
        low = _sliding(level, width, np.minimum)[:-1]
        high = _sliding(level, width, np.maximum)[:-1]
        value = level[width:]
        farthest = np.maximum(np.abs(value - low), np.abs(value - high))
        nearest_zero = np.where(
            (low <= 0) & (high >= 0), 0.0, np.minimum(np.abs(low), np.abs(high))
        )
        candidates = np.flatnonzero(farthest > params.min_relative * nearest_zero) + width
        shift_key, pending_key = f"{code}:shift", f"{code}:pending"

        def upload(
            index: int, code: str = code, rows: Ints = rows, level: Floats = level
        ) -> Upload:
            light = columns.upload(int(rows[index]))
            return replace(light, values={code: Values(rtd=float(level[index]))})

        shift, last = False, width - 1  # judged up to ``last``
        for index in candidates.tolist():
            if index <= last:  # the value after a candidate: judged with it
                continue
            if index > last + 1:  # values judged in between, none an outlier
                shift = False
            state: dict[str, Any] = {
                code: deque(level[index - width : index].tolist(), maxlen=width),
                shift_key: shift,
            }
            findings += rule.on_upload(state, upload(index), context, rule_set)
            last = index
            if pending_key in state and index + 1 < len(level):
                findings += rule.on_upload(state, upload(index + 1), context, rule_set)
                last = index + 1
            shift = bool(state.get(shift_key, False))
    return findings


def _sliding(values: Floats, width: int, extreme: Any) -> Floats:
    """``extreme`` (``np.minimum`` or ``np.maximum``) of each ``width``
    consecutive values (one per window start), by doubling spans: a few
    passes over the array instead of ``width`` (values hold no NaN)."""
    table, span = values, 1
    while span * 2 <= width:
        table = extreme(table[:-span], table[span:])  # each over 2 × span values
        span *= 2
    windows = len(values) - width + 1
    return np.asarray(extreme(table[:windows], table[width - span : width - span + windows]))


def o2_dilution(columns: DeviceColumns, context: PointContext, rule_set: RuleSet) -> list[Finding]:
    """``O2Dilution`` over the real-time O2 values: the stretches where O2 is
    at or above the threshold while the source runs, with no factor marked
    stopped, of at least ``consecutive`` values, found vectorised (uploads
    without an O2 level are not the rule's, so they neither extend nor end a
    run); the rule's own ``on_upload`` judges each stretch's first
    ``consecutive`` uploads from a fresh state, as streaming saw them."""
    rule = RULES[O2Dilution.id]
    assert isinstance(rule, O2Dilution)
    column = columns.factors.get(O2_CODE)
    if column is None or not watches(rule, context, REALTIME):
        return []
    params = rule.params_for(rule_set, context, O2_CODE)
    judged = columns.is_cn(REALTIME)[column.rows] & ~np.isnan(column.level)
    rows, level = column.rows[judged], column.level[judged]
    stopped = np.zeros(len(columns), dtype=np.bool_)
    for factor in columns.factors.values():
        stopped[factor.rows[flagged(factor, params.stopped_flags)]] = True
    member = ~(level < params.o2_percent) & running(columns)[rows] & ~stopped[rows]
    restart = np.zeros(len(rows), dtype=np.bool_)
    findings: list[Finding] = []
    for start, _ in _segments(member, restart, int(params.consecutive)):
        state: dict[str, Any] = {}
        for index in range(start, start + int(params.consecutive)):
            upload = columns.upload_with_values(int(rows[index]))
            findings += rule.on_upload(state, upload, context, rule_set)
    return findings


def concentration_without_flow(
    columns: DeviceColumns, context: PointContext, rule_set: RuleSet
) -> list[Finding]:
    """``ConcentrationWithoutFlow`` over the real-time uploads with a
    wastewater flow level (the rule's; others neither extend nor end a run):
    where the flow is at most zero and a pollutant changed by more than
    ``min_change`` from the upload before, found vectorised; the rule's own
    ``on_upload`` judges each stretch's first ``consecutive`` uploads, from
    the state streaming would hold (the levels of the upload before)."""
    rule = RULES[ConcentrationWithoutFlow.id]
    assert isinstance(rule, ConcentrationWithoutFlow)
    flow = columns.factors.get(WATER_FLOW_CODE)
    if flow is None or not watches(rule, context, REALTIME):
        return []
    params = rule.params_for(rule_set, context, WATER_FLOW_CODE)
    judged = columns.is_cn(REALTIME)[flow.rows] & ~np.isnan(flow.level)
    rows, level = flow.rows[judged], flow.level[judged]
    changed = np.zeros(len(rows), dtype=np.bool_)
    for code, column in columns.factors.items():
        if code in NON_POLLUTANTS:
            continue
        at = np.full(len(columns), np.nan)
        at[column.rows] = column.level
        value = at[rows]
        step = np.abs(np.diff(value, prepend=np.nan))
        changed |= np.asarray(step > params.min_change)  # NaN (absent either side): no change
    member = ~(level > 0) & changed
    findings: list[Finding] = []
    restart = np.zeros(len(rows), dtype=np.bool_)
    for start, _ in _segments(member, restart, int(params.consecutive)):
        state: dict[str, Any] = {}
        if start > 0:
            before = columns.upload_with_values(int(rows[start - 1]))
            state["previous"] = {code: v.level for code, v in before.values.items()
                                 if code not in NON_POLLUTANTS and v.level is not None}  # fmt: skip
        for index in range(start, start + int(params.consecutive)):
            upload = columns.upload_with_values(int(rows[index]))
            findings += rule.on_upload(state, upload, context, rule_set)
    return findings


def _hourly_values(
    columns: DeviceColumns,
    code: str,
    column: FactorColumn,
    context: PointContext,
    rule_set: RuleSet,
) -> tuple[Ints, Floats]:
    """The rows of ``code``'s valid hourly values and the value each is
    judged by (``compliance_value``: O2-corrected where the limit says so,
    through the function itself, an hour at a time; else the level)."""
    limit = context.limit(code)
    assert limit is not None
    hourly = columns.is_cn(HOURLY)[column.rows] & valid_flag(column, rule_set)
    hourly &= ~np.isnan(column.level)
    rows, level = column.rows[hourly], column.level[hourly]
    if limit.reference_o2 is None:
        return rows, level
    values: list[float] = []
    kept: list[int] = []
    for index, row in enumerate(rows.tolist()):
        upload = columns.upload_with_values(row)
        value, _ = compliance_value(upload, code, upload.values[code], limit, rule_set)
        if value is not None:
            values.append(value)
            kept.append(index)
    return rows[kept], np.array(values, dtype=np.float64)


def pinned(columns: DeviceColumns, context: PointContext, rule_set: RuleSet) -> list[Finding]:
    """``Pinned`` over the valid hourly values: each hour's window (the last
    ``window`` hours, fewer at first) is judged vectorised (median, MAD,
    share, greatest) to find the hours that can be pinned, with a margin
    for rounding; the rule's own ``on_upload`` judges each of them from the
    state streaming would hold (the window's hours; reported, when the hour
    before was judged pinned)."""
    rule = RULES[Pinned.id]
    assert isinstance(rule, Pinned)
    if not watches(rule, context, HOURLY):
        return []
    findings: list[Finding] = []
    for code, column in columns.factors.items():
        limit = context.limit(code)
        if limit is None:
            continue
        rows, value = _hourly_values(columns, code, column, context, rule_set)
        params = rule.params_for(rule_set, context, code)
        width = int(params.window)
        if len(rows) < params.min_hours:
            continue
        padded = np.concatenate((np.full(width - 1, np.nan), value))
        windows = np.lib.stride_tricks.sliding_window_view(padded, width)
        median = np.nanmedian(windows, axis=1)
        mad = np.nanmedian(np.abs(windows - median[:, None]), axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            cv = np.where(median > 0, MAD_TO_SD * mad / median, np.inf)
        margin = 1e-9
        candidate = (
            (median / limit.value >= params.median_share_of_limit * (1 - margin))
            & (cv < params.max_cv * (1 + margin) + margin)
            & (np.nanmax(windows, axis=1) <= limit.value)
        )
        candidate[: int(params.min_hours) - 1] = False
        reported_key = f"{code}:reported"
        reported, last = False, -2
        for index in np.flatnonzero(candidate).tolist():
            hours = deque(
                (
                    (_datetime(columns.data_time[row]), float(v), _frame(columns, row))
                    for row, v in zip(
                        rows[max(0, index - width + 1) : index].tolist(),
                        value[max(0, index - width + 1) : index].tolist(),
                        strict=True,
                    )
                ),
                maxlen=width,
            )
            state: dict[str, Any] = {code: hours, reported_key: reported and last == index - 1}
            upload = columns.upload_with_values(int(rows[index]))
            kept = {key: values for key, values in upload.values.items()
                    if key in (code, O2_CODE)}  # fmt: skip
            found = rule.on_upload(state, replace(upload, values=kept), context, rule_set)
            findings += [finding for finding in found if finding.pollutant == code]
            reported, last = bool(state[reported_key]), index
    return findings


def _judged_levels(
    columns: DeviceColumns, column: FactorColumn, limit: Limit, rule_set: RuleSet
) -> Floats:
    """Per value of ``column``: the value ``compliance_value`` judges against
    ``limit`` (O2-corrected to its reference O2 where it has one, with the
    upload's valid, plausible O2); NaN where there is none."""
    if limit.reference_o2 is None:
        return column.level
    o2 = columns.factors.get(O2_CODE)
    if o2 is None:
        return np.full(len(column.level), np.nan)
    validity = rule_set.validity
    at = np.full(len(columns), np.nan)
    good = valid_flag(o2, rule_set) & (o2.level >= validity.o2_min_percent)
    good &= o2.level < validity.o2_ceiling_percent
    at[o2.rows[good]] = o2.level[good]
    o2_level = at[column.rows]
    correctable = o2_level < min(validity.o2_ceiling_percent, AIR_O2_PERCENT)  # NaN: not
    with np.errstate(invalid="ignore", divide="ignore"):
        corrected = (
            column.level * (AIR_O2_PERCENT - limit.reference_o2) / (AIR_O2_PERCENT - o2_level)
        )
    return np.where(correctable, corrected, np.nan)


def _warning_stretches(
    rule: Rule,
    columns: DeviceColumns,
    context: PointContext,
    rule_set: RuleSet,
    *,
    skip_unjudged: bool,
    with_next: bool,
    factors: frozenset[str],
) -> list[Finding]:
    """A warning rule (``EarlyWarning``, ``DropAfterWarning``) over the
    real-time values of each pollutant with a limit: the stretches of values
    at or above the rule's share of the limit (found vectorised, with a
    margin for rounding) are judged by the rule's own ``on_upload`` from a
    fresh state, as streaming saw them (below the share, its state starts
    afresh). ``skip_unjudged``: values without a judged value or with an
    invalid flag leave the rule's state as it was (else they clear it);
    ``with_next``: the value after a stretch is judged with it; ``factors``:
    what the rule reads beside the pollutant."""
    if not watches(rule, context, REALTIME):
        return []
    findings: list[Finding] = []
    is_realtime = columns.is_cn(REALTIME)
    for code, column in columns.factors.items():
        limit = context.limit(code)
        if limit is None or (rule.id == EarlyWarning.id and limit.lower is not None):
            continue
        params = rule.params_for(rule_set, context, code)
        realtime = is_realtime[column.rows]
        rows = column.rows[realtime]
        value = _judged_levels(columns, column, limit, rule_set)[realtime]
        judged = valid_flag(column, rule_set)[realtime] & ~np.isnan(value)
        if skip_unjudged:
            rows, value, judged = rows[judged], value[judged], judged[judged]
        member = judged & (value >= params.share_of_limit * limit.value * (1 - 1e-9))
        restart = np.zeros(len(rows), dtype=np.bool_)
        for start, end in _segments(member, restart, int(params.consecutive)):
            state: dict[str, Any] = {}
            stop = min(end + 1, len(rows)) if with_next else end
            for upload in columns.uploads_with_values(rows[start:stop]):
                kept = {key: values for key, values in upload.values.items()
                        if key == code or key in factors}  # fmt: skip
                found = rule.on_upload(state, replace(upload, values=kept), context, rule_set)
                findings += [finding for finding in found if finding.pollutant == code]
    return findings


def early_warning(
    columns: DeviceColumns, context: PointContext, rule_set: RuleSet
) -> list[Finding]:
    """``EarlyWarning``: runs of real-time values at or above its share of the limit."""
    return _warning_stretches(RULES[EarlyWarning.id], columns, context, rule_set,
                              skip_unjudged=False, with_next=False,
                              factors=frozenset({O2_CODE}))  # fmt: skip


def drop_after_warning(
    columns: DeviceColumns, context: PointContext, rule_set: RuleSet
) -> list[Finding]:
    """``DropAfterWarning``: each stretch near the limit, and the value after it
    (where the rule judges a fall)."""
    return _warning_stretches(RULES[DropAfterWarning.id], columns, context, rule_set,
                              skip_unjudged=True, with_next=True,
                              factors=frozenset({O2_CODE, FLUE_GAS_FLOW_CODE,
                                                 WATER_FLOW_CODE}))  # fmt: skip


def exceedance(columns: DeviceColumns, context: PointContext, rule_set: RuleSet) -> list[Finding]:
    """``Exceedance`` over the device's uploads. A device that sends only
    real-time data has its hours computed from them: which uploads each
    computed hour holds, and when streaming would judge it (the first upload
    at least ``1 h + realtime_wait_minutes`` past the hour), is found
    vectorised, and so are the hours that can breach a limit (their largest
    level, O2-corrected with the largest valid O2, above it; or no valid O2
    where a limit needs one); the rule's own ``_judge_computed`` judges those,
    in streaming's order. A device with minute or hourly data (or with
    real-time data judged as such) goes through the rule's ``on_upload``,
    but for the real-time uploads it ignores while its own hours come
    (found vectorised: they only drop the real-time data held)."""
    rule = RULES[Exceedance.id]
    assert isinstance(rule, Exceedance)
    read = [cn for cn in (REALTIME, MINUTE_DATA, HOURLY) if watches(rule, context, cn)]
    if not len(columns) or not read:
        return []
    params = rule.params_for(rule_set, context, None)
    is_read = columns.is_cn(*read)
    is_realtime = columns.is_cn(REALTIME)
    if params.data != REALTIME and not bool(np.any(is_read & ~is_realtime)):
        return _realtime_hours(rule, columns, context, rule_set)
    state: dict[str, Any] = {}
    held = np.zeros(len(columns), dtype=np.bool_)
    if params.data != REALTIME:
        times = columns.data_time.astype(np.int64)
        floor = np.iinfo(np.int64).min
        periodic = np.maximum.accumulate(np.where(is_read & ~is_realtime, times, floor))
        after = int(params.realtime_after_hours * 3_600_000_000)
        held = is_read & is_realtime & (periodic > floor) & (times - periodic < after)
    dropped = np.cumsum(held)
    last = -1
    findings: list[Finding] = []
    for row in np.flatnonzero(is_read & ~held).tolist():
        if dropped[row] > (dropped[last] if last >= 0 else 0):  # its own hours came
            state.setdefault("realtime", {}).clear()
        findings += rule.on_upload(state, columns.upload_with_values(row), context, rule_set)
        last = row
    return findings


def _realtime_hours(
    rule: Exceedance, columns: DeviceColumns, context: PointContext, rule_set: RuleSet
) -> list[Finding]:
    """``Exceedance`` on a device that sends only real-time data (the hours
    computed from them, ``Exceedance._realtime``)."""
    params = rule.params_for(rule_set, context, None)
    rows = np.flatnonzero(columns.is_cn(REALTIME))
    judged = [code for code in columns.factors if code != O2_CODE and hourly_limits(context, code)]
    if not len(rows) or not judged:
        return []
    times = columns.data_time[rows].astype(np.int64)
    hours = times - times % 3_600_000_000
    due = times - int((60 + params.realtime_wait_minutes) * 60_000_000)
    carries = np.zeros(len(columns), dtype=np.bool_)
    for code in [*judged, O2_CODE]:
        if code in columns.factors:
            carries[columns.factors[code].rows] = True
    held = np.flatnonzero(carries[rows] & (hours > due))  # kept for their hour
    if not len(held):
        return []
    # The upload whose arrival judges each held one's hour: the first after it
    # at least the wait past the hour (none: the window ends first).
    reach = np.maximum.accumulate(due)
    judge = np.searchsorted(reach, hours[held], side="left")
    for index in np.flatnonzero(reach[held] >= hours[held]).tolist():  # its hour was due before
        later = np.flatnonzero(due[held[index] + 1 :] >= hours[held[index]])
        judge[index] = held[index] + 1 + later[0] if len(later) else len(rows)
    kept = judge < len(rows)
    held, judge = held[kept], judge[kept]
    if not len(held):
        return []
    order = np.lexsort((held, hours[held], judge))
    held, judge = held[order], judge[order]
    batch_hour = hours[held]
    starts = np.flatnonzero(
        np.concatenate(([True], (judge[1:] != judge[:-1]) | (batch_hour[1:] != batch_hour[:-1])))
    )
    first = np.zeros(len(held), dtype=np.bool_)
    first[starts] = True
    batch = np.cumsum(first) - 1
    breach = _breaching_batches(columns, context, rule_set, rows[held], batch, len(starts))
    state: dict[str, Any] = {}
    findings: list[Finding] = []
    bounds = [*starts.tolist(), len(held)]
    for number in np.flatnonzero(breach).tolist():
        records = []
        for row in rows[held[bounds[number] : bounds[number + 1]]].tolist():
            upload = columns.upload_with_values(row)
            readings = {code: v for code, v in upload.values.items()
                        if code == O2_CODE or hourly_limits(context, code)}  # fmt: skip
            records.append(replace(upload, values=readings))
        hour = _datetime(np.datetime64(int(batch_hour[bounds[number]]), "us"))
        findings += rule._judge_computed(state, records, hour, realtime=True, context=context,
                                         rules=rule_set)  # fmt: skip
    return findings


def _breaching_batches(  # noqa: PLR0917
    columns: DeviceColumns,
    context: PointContext,
    rule_set: RuleSet,
    rows: Ints,
    batch: Ints,
    batches: int,
) -> Bools:
    """Per batch of real-time uploads (``rows``, numbered ``batch``): whether
    an hour computed from it can breach a limit, or cannot be corrected to a
    limit's reference O2. Its mean lies below its largest level and its O2
    (the mean of the valid, plausible readings) below the largest of them."""
    validity = rule_set.validity
    in_batch = np.full(len(columns), -1, dtype=np.int64)
    in_batch[rows] = batch
    o2_high = np.full(batches, -np.inf)
    o2 = columns.factors.get(O2_CODE)
    if o2 is not None:
        at = in_batch[o2.rows]
        good = (at >= 0) & valid_flag(o2, rule_set) & (o2.level >= validity.o2_min_percent)
        good &= o2.level < validity.o2_ceiling_percent
        np.maximum.at(o2_high, at[good], o2.level[good])
    breach = np.zeros(batches, dtype=np.bool_)
    for code, column in columns.factors.items():
        limits = hourly_limits(context, code) if code != O2_CODE else ()
        if not limits:
            continue
        at = in_batch[column.rows]
        mine = at >= 0
        present = np.zeros(batches, dtype=np.bool_)
        present[at[mine]] = True
        high = np.full(batches, -np.inf)
        known = mine & ~np.isnan(column.level)
        np.maximum.at(high, at[known], column.level[known])
        for limit in limits:
            if limit.lower is not None:
                breach |= present
                continue
            bound = high
            if limit.reference_o2 is not None:
                # No valid O2 (or one no correction holds for): said by the rule.
                breach |= present & ~(o2_high < min(validity.o2_ceiling_percent, AIR_O2_PERCENT))
                with np.errstate(divide="ignore", invalid="ignore"):
                    factor = (AIR_O2_PERCENT - limit.reference_o2) / (AIR_O2_PERCENT - o2_high)
                    bound = np.where(factor > 0, high * factor, np.inf)
            breach |= present & (bound * (1 + 1e-9) + 1e-12 > limit.value)
    return breach


@dataclass(frozen=True, slots=True)
class Arrivals:
    """A device's uploads in a replay window as the engine's clock sees them:
    in arrival (frame) order, their frames, data times and arrivals (µs),
    and whether each is an arrival (``counted``: the time gate can keep one
    whose receive time is unknown or not trusted from being one)."""

    context: PointContext
    frame_id: Ints
    data_time: Ints
    arrival: Ints
    counted: Bools


def arrivals(
    columns: DeviceColumns, context: PointContext, rule_set: RuleSet, *, trust_arrival: bool
) -> Arrivals:
    """The device's uploads as arrivals (``RuleEngine.feed``): at their
    receive time where known and trusted (before the time gate), else at
    their data time once the gate let them through."""
    gate = RULES[ImplausibleDataTime.id]
    params = gate.params_for(rule_set, context, None)
    times = columns.data_time
    received = columns.received_at
    known = ~np.isnat(received)
    age = np.where(known, received - times, np.timedelta64(0, "us"))
    refused = (times < np.datetime64(params.earliest, "us")) | (
        times > np.datetime64(params.latest, "us")
    )
    refused |= known & (age > np.timedelta64(timedelta(days=params.max_age_days)))
    refused |= known & (-age > np.timedelta64(timedelta(hours=params.max_ahead_hours)))
    if trust_arrival:
        arrival = np.where(known, received, times)
        counted = known | ~refused
    else:
        arrival, counted = times, ~refused
    return Arrivals(context, columns.frame_id, times.astype(np.int64),
                    arrival.astype("datetime64[us]").astype(np.int64),
                    np.asarray(counted))  # fmt: skip


_NONE = np.iinfo(np.int64).min
MOVES_AT_ONCE = 4096
"""Clock moves judged together: bounds the memory (moves × devices)."""


def clock_moves(devices: list[Arrivals], step: timedelta = REPLAY_CLOCK_STEP) -> Ints:
    """When a replay of ``devices``' uploads moves the clock (``RuleEngine.replay``):
    the frame of the upload after which each move comes (in frame order), the
    last one the newest frame (the move at the end)."""
    frames = np.concatenate([device.frame_id for device in devices])
    arrival = np.concatenate(
        [np.where(device.counted & device.context.streams, device.arrival, _NONE)
         for device in devices]
    )  # fmt: skip
    low, high = int(frames.min()), int(frames.max())
    if high - low < 8 * len(frames) + 1024:  # frame ids nearly dense: placed, not sorted
        newest = np.full(high - low + 1, _NONE, dtype=np.int64)
        newest[frames - low] = arrival
        ids = np.arange(low, high + 1)
    else:
        order = np.argsort(frames, kind="stable")
        newest, ids = arrival[order], frames[order]
    newest = np.maximum.accumulate(newest)
    width = step // timedelta(microseconds=1)
    step_of = np.where(newest > _NONE, newest // width, _NONE)
    moved = np.concatenate(([step_of[0] > _NONE], step_of[1:] > step_of[:-1]))
    return np.unique(np.concatenate((ids[moved], [high])))


def offline(
    devices: list[Arrivals],
    rule_set: RuleSet,
    *,
    step: timedelta = REPLAY_CLOCK_STEP,
    moves_at_once: int = MOVES_AT_ONCE,
) -> list[Finding] | None:
    """``Offline`` over a replay's devices at once, as the engine finds it
    when fed their uploads in frame order, its clock moved as
    ``clock_moves`` says: the clock at each move (the city's quantile of the
    devices' newest arrivals, never backwards) and each device's newest
    arrival then are found vectorised; the rule's own ``on_clock`` reports
    each silence, from the state streaming would hold. None where an
    upload's frame is unknown (no order to replay them in)."""
    rule = RULES[Offline.id]
    assert isinstance(rule, Offline)
    if any(bool(np.any(device.frame_id < 0)) for device in devices):
        return None
    if not sum(len(device.frame_id) for device in devices):
        return []
    moves = clock_moves(devices, step)
    watched = [d for d in devices if d.context.streams and watches(rule, d.context, REALTIME)]
    if not watched:
        return []
    latests, setters = [], []
    for device in watched:
        arrival = np.where(device.counted, device.arrival, _NONE)
        latest = np.maximum.accumulate(arrival)
        # The upload that set the newest arrival (a later equal one does not).
        rises = np.concatenate(([True], latest[1:] > latest[:-1])) & device.counted
        latests.append(latest)
        setters.append(np.maximum.accumulate(np.where(rises, np.arange(len(arrival)), -1)))
    afters = np.array(
        [timedelta(minutes=rule.params_for(rule_set, d.context, None).after_minutes)
         // timedelta(microseconds=1) for d in watched],
        dtype=np.int64,
    )  # fmt: skip
    findings: list[Finding] = []
    clock_before = _NONE
    was_silent = np.zeros(len(watched), dtype=np.bool_)
    setter_before = np.full(len(watched), -2, dtype=np.int64)
    for start in range(0, len(moves), moves_at_once):
        ticks = moves[start : start + moves_at_once]
        newest = np.full((len(ticks), len(watched)), _NONE, dtype=np.int64)
        setter = np.full((len(ticks), len(watched)), -1, dtype=np.int64)
        for column, device in enumerate(watched):
            fed = np.searchsorted(device.frame_id, ticks, side="right")  # fed by each move
            has = fed > 0
            newest[has, column] = latests[column][fed[has] - 1]
            setter[has, column] = setters[column][fed[has] - 1]
        arrived = setter >= 0
        count = arrived.sum(axis=1)
        pick = np.maximum(0, np.ceil(CLOCK_QUANTILE * count).astype(np.int64) - 1)
        quantile = np.full(len(ticks), _NONE, dtype=np.int64)
        everyone = count == len(watched)  # all arrived (most moves): one partition
        if bool(np.any(everyone)):
            kth = int(pick[everyone][0])
            quantile[everyone] = np.partition(newest[everyone], kth, axis=1)[:, kth]
        if not bool(np.all(everyone)):
            some = ~everyone
            absent = np.iinfo(np.int64).max  # sorts after every arrival
            ranked = np.sort(np.where(arrived[some], newest[some], absent), axis=1)
            quantile[some] = ranked[np.arange(len(ranked)), pick[some]]
        clock = np.maximum.accumulate(
            np.maximum(np.where(count > 0, quantile, _NONE), clock_before)
        )
        silent = arrived & (clock[:, None] > _NONE) & (clock[:, None] - newest >= afters)
        # A silence is reported once, until a new arrival: at its first move
        # (while the newest arrival stays, the clock only advances).
        previous_silent = np.vstack((was_silent, silent[:-1]))
        previous_setter = np.vstack((setter_before, setter[:-1]))
        first = silent & ~(previous_silent & (previous_setter == setter))
        for tick, column in zip(*np.nonzero(first), strict=True):
            device, row = watched[column], int(setter[tick, column])
            frame = int(device.frame_id[row])
            state = {
                "last": _datetime(np.datetime64(int(newest[tick, column]), "us")),
                "last_frame": frame if frame >= 0 else None,
                "last_data_time": _datetime(np.datetime64(int(device.data_time[row]), "us")),
                "reported": False,
            }
            moment = _datetime(np.datetime64(int(clock[tick]), "us"))
            findings += rule.on_clock(state, moment, device.context, rule_set)
        clock_before = int(clock[-1])
        was_silent, setter_before = silent[-1], setter[-1]
    return findings


def _frame(columns: DeviceColumns, row: int) -> int | None:
    frame = int(columns.frame_id[row])
    return frame if frame >= 0 else None


def _nothing(columns: DeviceColumns, context: PointContext, rule_set: RuleSet) -> list[Finding]:
    """The engine's own checks (the time gate, back-fills) find nothing on a
    device ``streaming_only`` let through (it found neither)."""
    return []


COLUMNAR: dict[str, Callable[[DeviceColumns, PointContext, RuleSet], list[Finding]]] = {
    Negative.id: negative,
    Zero.id: zero,
    Constant.id: constant,
    Spike.id: spike,
    O2Dilution.id: o2_dilution,
    Pinned.id: pinned,
    ConcentrationWithoutFlow.id: concentration_without_flow,
    Exceedance.id: exceedance,
    EarlyWarning.id: early_warning,
    DropAfterWarning.id: drop_after_warning,
    ImplausibleDataTime.id: _nothing,
    Backfill.id: _nothing,
}
"""The rules with a columnar form; every other rule falls back to streaming."""


class RuleFailedError(Exception):
    """A rule raised on a device's upload in column form: the engine judges
    the device instead (and sets the upload aside, as it does live)."""


def read_rows(rule: Rule, columns: DeviceColumns, context: PointContext) -> Ints:
    """The rows of the device's uploads ``rule`` reads (``watches``)."""
    read = [str(cn) for cn in columns.kinds() if watches(rule, context, str(cn))]
    return np.flatnonzero(columns.is_cn(*read)) if read else np.zeros(0, dtype=np.int64)


def stream_device(
    rule: Rule, columns: DeviceColumns, context: PointContext, rule_set: RuleSet, rows: Ints
) -> list[Finding]:
    """The rule's own ``on_upload`` over the device's uploads it reads
    (``rows``, ``read_rows``), in arrival order, from one state of its own:
    what the engine does for a rule whose state is the device's, on a device
    whose every upload it lets through (``streaming_only`` None)."""
    state = rule.new_state()
    findings: list[Finding] = []
    for upload in columns.uploads_with_values(rows):
        try:
            findings += rule.on_upload(state, upload, context, rule_set)
        except Exception as error:
            raise RuleFailedError(f"{rule.id}: {type(error).__name__}: {error}") from error
    return findings


def streams_on_columns(rule: Rule, context: PointContext, *, informed: bool = True) -> bool:
    """Whether ``stream_device`` judges ``rule`` on this device as the engine
    would: its state is the device's, it neither gates nor watches the
    clock, and it reads no device information (3020, which columns do not
    hold), or the device sent none in the window (``informed`` False)."""
    return (
        rule.scope(context) == context.mn
        and not rule.gate
        and not rule.watches_clock
        and (not informed or (rule.reads is not None and DEVICE_INFO_COMMAND not in rule.reads))
    )


def _marked(
    columns: DeviceColumns,
    flags_of: Callable[[str], frozenset[str]],
    *,
    realtime_only: bool = True,
    pollutants_only: bool = False,
) -> bool:
    """Whether a factor's value (in real-time uploads only: ``realtime_only``;
    of a pollutant only: ``pollutants_only``) carries one of its ``flags_of`` marks."""
    return any(
        not columns.marks(code, realtime_only=realtime_only).isdisjoint(flags_of(code))
        for code in columns.factors
        if not (pollutants_only and code in NON_POLLUTANTS)
    )


GATES: dict[str, Callable[[DeviceColumns, PointContext, RuleSet], bool]] = {
    # The rules of marks speak only where a value carries one of their marks.
    FlagAbuse.id: lambda columns, context, rule_set: _marked(  # it reads every upload
        columns,
        lambda code: RULES[FlagAbuse.id].params_for(rule_set, context, code).flags,
        realtime_only=False,
    ),
    MarkAfterWarning.id: lambda columns, context, rule_set: _marked(
        columns,
        lambda code: RULES[MarkAfterWarning.id].params_for(rule_set, context, code).flags,
    ),
    UndeclaredMaintenance.id: lambda columns, context, rule_set: _marked(
        columns,
        lambda code: RULES[UndeclaredMaintenance.id].params_for(rule_set, context, None).flags,
    ),
    LearnedCalibration.id: lambda columns, context, rule_set: _marked(
        columns, lambda code: calibration_params(rule_set, context).flags
    ),
    DeclaredStopped.id: lambda columns, context, rule_set: _marked(
        columns,
        lambda code: RULES[DeclaredStopped.id].params_for(rule_set, context, None).flags,
        pollutants_only=True,
    ),
}
"""Rules with a columnar test of whether their condition can hold anywhere
in a device's window: where it cannot, they find nothing; where it can,
``stream_device`` judges the device (the replay counts those devices)."""


CITY_WIDE: dict[str, Callable[[list[Arrivals], RuleSet], list[Finding] | None]] = {
    Offline.id: offline,
}
"""The rules with a columnar form judged over all the replay's devices at once
(each device's silence is measured by the city's arrival clock)."""


def evaluate(
    columns: DeviceColumns,
    context: PointContext,
    rule_set: RuleSet,
    rules: list[str],
    streamed: dict[str, int] | None = None,
) -> list[Finding]:
    """The findings of ``rules`` (ids in ``COLUMNAR`` or ``GATES``, or rules
    that ``streams_on_columns`` here: the caller's to know) on the device's
    window; ``streamed`` counts, by rule, the devices whose uploads
    ``stream_device`` judged. ``RuleFailedError`` where a rule raised."""
    findings: list[Finding] = []
    for rule_id in rules:
        if rule_id in COLUMNAR:
            findings += COLUMNAR[rule_id](columns, context, rule_set)
            continue
        gate = GATES.get(rule_id)
        if gate is not None and not gate(columns, context, rule_set):
            continue
        rule = RULES[rule_id]
        rows = read_rows(rule, columns, context)
        if not len(rows):
            continue
        if streamed is not None:
            streamed[rule_id] = streamed.get(rule_id, 0) + 1
        findings += stream_device(rule, columns, context, rule_set, rows)
    return findings


def columns_of(mn: str, uploads: list[Upload]) -> DeviceColumns:
    """A device's uploads (in arrival order) as columns."""
    rows: dict[str, tuple[list[int], list[float], list[str | None]]] = {}
    for row, upload in enumerate(uploads):
        for code, values in upload.values.items():
            index, levels, flags = rows.setdefault(code, ([], [], []))
            level = values.level
            index.append(row)
            levels.append(np.nan if level is None else level)
            flags.append(values.flag)
    return DeviceColumns(
        mn,
        np.array([-1 if u.frame_id is None else u.frame_id for u in uploads], dtype=np.int64),
        np.array([u.cn for u in uploads], dtype=object),
        np.array([u.data_time for u in uploads], dtype="datetime64[us]"),
        np.array(
            [np.datetime64("NaT") if u.received_at is None else u.received_at for u in uploads],
            dtype="datetime64[us]",
        ),
        {
            code: FactorColumn(
                np.array(index, dtype=np.int64),
                np.array(levels, dtype=np.float64),
                np.array(flags, dtype=object),
            )
            for code, (index, levels, flags) in rows.items()
        },
    )
