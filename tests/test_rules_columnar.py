"""The columnar path finds exactly what the streaming engine finds
(``rules/columnar.py``): on the benchmark fleet with every injected fault and
on random series."""

from __future__ import annotations

import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from envwatch.processing.columnar_replay import feed_replay
from envwatch.rules import columnar
from envwatch.rules.catalogue import RULES
from envwatch.rules.columnar import (
    COLUMNAR,
    GATES,
    columns_of,
    evaluate,
    streaming_only,
    streams_on_columns,
)
from envwatch.rules.engine import RuleEngine, default_rule_set
from envwatch.rules.model import Finding, Limit, PointContext, Upload, Values
from envwatch.rules.parameters import RuleSet

sys.path.insert(0, str(Path(__file__).parents[1] / "bench"))
from rules_fleet import PATTERNS, fleet, o2_of

RULE_SET = default_rule_set()


def _wide() -> RuleSet:
    """The rule set with a constant's epsilon above zero (runs by an anchor)."""
    text = (Path(__file__).parents[1] / "src/envwatch/rules/rules.toml").read_text()
    assert "\nepsilon = 0.0" in text
    folder = Path(tempfile.mkdtemp())
    (folder / "rules.toml").write_text(text.replace("\nepsilon = 0.0", "\nepsilon = 0.6", 1))
    return default_rule_set(folder / "rules.toml")


WIDE = _wide()


def _short_pinned() -> RuleSet:
    """The rule set with a pinned window of 8 hours, judged from 3."""
    text = (Path(__file__).parents[1] / "src/envwatch/rules/rules.toml").read_text()
    head, _, rest = text.partition("[rules.pinned]")
    assert "window = 168" in rest and "min_hours = 24" in rest
    rest = rest.replace("window = 168", "window = 8", 1).replace(
        "min_hours = 24", "min_hours = 3", 1
    )
    text = f"{head}[rules.pinned]{rest}"
    folder = Path(tempfile.mkdtemp())
    (folder / "rules.toml").write_text(text)
    return default_rule_set(folder / "rules.toml")


SHORT_PINNED = _short_pinned()
START = datetime(2026, 1, 5)
POLLUTANT = "a21026"
O2 = "a19001"
WATER = "w01018"
CONTEXT = PointContext("DEV", 1, "4411", "air", {POLLUTANT: (Limit(200.0, "mg/m³", "t"),)})
WATER_CONTEXT = PointContext("DEV", 1, "4411", "water", {WATER: (Limit(50.0, "mg/L", "t"),)})


ON_COLUMNS = [
    rule_id
    for rule_id, rule in RULES.items()
    if rule_id in COLUMNAR or rule_id in GATES or streams_on_columns(rule, CONTEXT)
]
"""Every rule a device's columns are judged by: vectorised, gated, or streamed on them."""


def streamed(
    context: PointContext, uploads: list[Upload], rule_set: RuleSet = RULE_SET
) -> list[Finding]:
    rules = [RULES[rule_id] for rule_id in ON_COLUMNS]
    engine = RuleEngine(rule_set, {context.mn: context}, rules, trust_arrival=False)
    found: list[Finding] = []
    for upload in uploads:
        found += engine.feed(upload)
    return found


def key(finding: Finding) -> tuple[str, str, str]:
    return (finding.rule, str(finding.pollutant), finding.window_start.isoformat())


def same(context: PointContext, uploads: list[Upload], rule_set: RuleSet = RULE_SET) -> None:
    columns = columns_of(context.mn, uploads)
    assert streaming_only(columns, context, rule_set, trust_arrival=False) is None
    columnar = evaluate(columns, context, rule_set, ON_COLUMNS)
    assert sorted(columnar, key=key) == sorted(streamed(context, uploads, rule_set), key=key)


# Corrected to 9 % O2, a limit some of the fleet's hours breach (and which its
# diluted stretches, air for an hour and more, leave uncorrectable).
FLEET_LIMITS = {POLLUTANT: (Limit(45.0, "mg/m³", "t", reference_o2=9.0),)}


def test_the_benchmark_fleet_with_every_fault() -> None:
    devices = fleet(40, 24 * 60)
    assert {d.fault.pattern for d in devices if d.fault} == set(PATTERNS)
    found: set[str] = set()
    for device in devices:
        context = PointContext(device.mn, 1, "4411", "air", FLEET_LIMITS)
        uploads = [
            Upload(
                device.mn,
                "2011",
                START + timedelta(minutes=minute),
                {
                    POLLUTANT: Values(rtd=value, flag=device.flags.get(minute, "N")),
                    "a00000": Values(rtd=100.0, flag="N"),
                    O2: Values(rtd=o2_of(device, minute), flag="N"),
                },
                minute + 1,
            )
            for minute, value in enumerate(device.values)
            if value is not None
        ]
        same(context, uploads)
        found |= {finding.rule for finding in streamed(context, uploads)}
    # What the fleet's faults and its limit make the rules find (it has no
    # hourly data, no marks and no wastewater).
    assert found == {"negative", "zero", "constant", "spike", "o2_dilution", "exceedance",
                     "o2_uncorrectable", "early_warning"}  # fmt: skip


LEVELS = st.one_of(
    st.none(),
    st.sampled_from([0.0, 0.0, 1.5, 1.5, 1.9, 2.3, 2.7, -1.0]),
    st.floats(-5, 50, allow_nan=False).map(lambda v: round(v, 1)),
)
ROW = st.tuples(
    st.sampled_from(["2011", "2011", "2011", "2051", "2061"]),
    LEVELS,
    st.sampled_from(["N", "N", "N", "N", "C", None]),
    st.sampled_from([100.0, 100.0, 100.0, 0.0, None]),
    st.booleans(),  # the upload carries the pollutant
    st.sampled_from([1, 1, 1, 3, 9, 10, 11, 20, 21]),  # repeated (runs)
)


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(ROW, max_size=40), water=st.booleans(), epsilon=st.sampled_from([0.0, 0.6]))
def test_random_series(
    rows: list[tuple[str, float | None, str | None, float | None, bool, int]],
    water: bool,
    epsilon: float,
) -> None:
    context = WATER_CONTEXT if water else CONTEXT
    code = WATER if water else POLLUTANT
    uploads = []
    expanded = [row[:5] for row in rows for _ in range(row[5])]
    for index, (cn, level, flag, flow, carries) in enumerate(expanded):
        values = {}
        if carries:
            values[code] = Values(rtd=level, flag=flag) if cn == "2011" else Values(avg=level)
        if flow is not None:
            flow_values = Values(rtd=flow) if cn == "2011" else Values(avg=flow)
            values["w00000" if water else "a00000"] = flow_values  # as loggers send them
        uploads.append(Upload("DEV", cn, START + timedelta(minutes=5 * index), values, index))
    same(context, uploads, WIDE if epsilon else RULE_SET)


# Spikes: a noisy baseline with jumps of one value, lasting shifts, stops and gaps.
STEP = st.tuples(
    st.sampled_from(["noise", "noise", "noise", "noise", "spike", "shift", "stop", "gap"]),
    st.floats(-1, 1, allow_nan=False).map(lambda v: round(v, 2)),
)


def spiky(steps: list[tuple[str, float]]) -> list[Upload]:
    uploads, level = [], 20.0
    for index, (kind, noise) in enumerate(steps):
        if kind == "shift":
            level *= 3
        values = {"a00000": Values(rtd=0.0 if kind == "stop" else 100.0)}
        if kind != "gap":
            jump = 6 if kind == "spike" else 1
            values[POLLUTANT] = Values(rtd=round(level * jump + noise, 2), flag="N")
        uploads.append(Upload("DEV", "2011", START + timedelta(minutes=index), values, index))
    return uploads


@settings(max_examples=60, deadline=None)
@given(steps=st.lists(STEP, min_size=20, max_size=150))
def test_random_spikes(steps: list[tuple[str, float]]) -> None:
    same(CONTEXT, spiky(steps))


def test_spikes_next_to_each_other_and_after_a_shift() -> None:
    quiet = [("noise", (-1) ** i * 0.3 * (i % 4)) for i in range(40)]
    steps = [*quiet, ("spike", 0.1), ("noise", 0.2), ("spike", 0.0), ("spike", 0.0),
             *quiet[:5], ("shift", 0.0), *quiet, ("spike", 0.5), *quiet[:3]]  # fmt: skip
    uploads = spiky(steps)
    same(CONTEXT, uploads)
    # The first spike, and the one after the shift has settled.
    assert [f.rule for f in streamed(CONTEXT, uploads)].count("spike") == 2


# O2 dilution: O2 around the threshold, flows, stop marks on any factor, gaps.
O2_ROW = st.tuples(
    st.sampled_from(["2011", "2011", "2011", "2051"]),
    st.sampled_from([None, 9.5, 18.9, 19.0, 20.6, 21.0]),  # O2 (None: no O2 value)
    st.booleans(),  # the upload carries O2 at all
    st.sampled_from(["N", "N", "N", "F", "C", None]),  # the O2's flag
    st.sampled_from(["N", "N", "N", "F", None]),  # the pollutant's flag
    st.sampled_from([100.0, 100.0, 0.0, None]),  # flue-gas flow
    st.sampled_from([1, 1, 2, 5, 6, 7]),  # repeated (runs)
)


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(O2_ROW, max_size=40))
def test_random_o2_series(
    rows: list[tuple[str, float | None, bool, str | None, str | None, float | None, int]],
) -> None:
    uploads = []
    expanded = [row[:6] for row in rows for _ in range(row[6])]
    for index, (cn, o2, carries, o2_flag, flag, flow) in enumerate(expanded):
        values = {POLLUTANT: Values(rtd=12.0, flag=flag)}
        if carries:
            values[O2] = Values(rtd=o2, flag=o2_flag) if cn == "2011" else Values(avg=o2)
        if flow is not None:
            values["a00000"] = Values(rtd=flow)
        uploads.append(Upload("DEV", cn, START + timedelta(minutes=index), values, index))
    same(CONTEXT, uploads)


# Pinned: hourly values just under the limit (flat or not), above it, marked,
# missing; with and without an O2-corrected limit.
HOUR = st.tuples(
    st.sampled_from(["2061", "2061", "2061", "2011"]),
    st.sampled_from([None, 40.0, 188.0, 190.0, 190.0, 190.5, 192.0, 199.0, 200.0, 201.0]),
    st.sampled_from(["N", "N", "N", "N", "C", None]),
    st.sampled_from([None, 9.0, 9.0, 10.0, 19.5]),  # O2
    st.sampled_from([1, 1, 2, 4, 9]),  # repeated (runs)
)
O2_LIMITS = {POLLUTANT: (Limit(200.0, "mg/m³", "t", reference_o2=9.0),)}


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(HOUR, max_size=40), corrected=st.booleans(), short=st.booleans())
def test_random_hourly_series(
    rows: list[tuple[str, float | None, str | None, float | None, int]],
    corrected: bool,
    short: bool,
) -> None:
    context = PointContext("DEV", 1, "4411", "air", O2_LIMITS) if corrected else CONTEXT
    uploads = []
    expanded = [row[:4] for row in rows for _ in range(row[4])]
    for index, (cn, level, flag, o2) in enumerate(expanded):
        values = {POLLUTANT: Values(avg=level, flag=flag)}
        if o2 is not None:
            values[O2] = Values(avg=o2, flag="N")
        uploads.append(Upload("DEV", cn, START + timedelta(hours=index), values, index))
    same(context, uploads, SHORT_PINNED if short else RULE_SET)


def test_pinned_stretches_are_found() -> None:
    levels = [190.0 + (i % 3) * 0.5 for i in range(40)] + [120.0] * 30 + [190.0] * 20
    uploads = [
        Upload("DEV", "2061", START + timedelta(hours=i), {POLLUTANT: Values(avg=v)}, i)
        for i, v in enumerate(levels)
    ]
    same(CONTEXT, uploads, SHORT_PINNED)
    assert [f.rule for f in streamed(CONTEXT, uploads)] == ["pinned"]  # a week's window
    # Eight hours' windows: the hours at 120 end the first; the last are a second.
    assert [f.rule for f in streamed(CONTEXT, uploads, SHORT_PINNED)] == ["pinned", "pinned"]


# Concentrations changing (or not) while the wastewater flow is zero.
STILL = st.tuples(
    st.sampled_from(["2011", "2011", "2011", "2051"]),
    st.sampled_from([0.0, 0.0, 0.0, 3.0, -1.0, None]),  # wastewater flow (None: none)
    st.booleans(),  # the upload carries the flow
    st.sampled_from([None, 10.0, 10.0, 11.0, 12.5]),  # COD
    st.sampled_from([None, 2.0, 2.0, 2.0, 2.1]),  # a second pollutant
    st.sampled_from([1, 1, 2, 5, 10, 11]),  # repeated
    st.booleans(),  # alternate the COD while repeated
)


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(STILL, max_size=30))
def test_random_still_flow_series(
    rows: list[tuple[str, float | None, bool, float | None, float | None, int, bool]],
) -> None:
    uploads = []
    index = 0
    for cn, flow, carries, cod, other, times, alternate in rows:
        for step in range(times):
            values = {}
            if carries:
                values["w00000"] = Values(rtd=flow)
            if cod is not None:
                values[WATER] = Values(rtd=cod + (step % 2 if alternate else 0))
            if other is not None:
                values["w21003"] = Values(rtd=other)
            uploads.append(Upload("DEV", cn, START + timedelta(minutes=index), values, index))
            index += 1
    same(WATER_CONTEXT, uploads)


def test_concentrations_changing_without_flow_are_found() -> None:
    uploads = [
        Upload("DEV", "2011", START + timedelta(minutes=i),
               {"w00000": Values(rtd=0.0 if 5 <= i < 20 else 3.0), WATER: Values(rtd=10.0 + i % 2)},
               i)
        for i in range(30)
    ]  # fmt: skip
    same(WATER_CONTEXT, uploads)
    assert [f.rule for f in streamed(WATER_CONTEXT, uploads)] == ["concentration_without_flow"]


# Exceedance: real-time readings around a limit (some hours computed from
# them, some with hourly or minute data of their own), out of order at times.
READING = st.tuples(
    st.sampled_from(["2011"] * 12 + ["2051", "2061"]),
    st.one_of(
        st.none(),
        st.sampled_from([40.0, 40.1, 40.3, 39.9]),  # at the limit
        st.floats(0, 90, allow_nan=False).map(lambda v: round(v, 1)),
    ),
    st.sampled_from(["N", "N", "N", "N", "N", "N", "D", "M", "Sd", None]),
    st.one_of(st.none(), st.sampled_from([8.0, 10.5, 12.0, 12.0, 19.5, 20.8, 25.0])),  # O2 %
    st.sampled_from([1, 1, 1, 1, 1, 2, 4, 20, 45, 60, 130, -30]),  # minutes to the next
    st.sampled_from([1, 5, 30, 90, 90]),  # repeated
)
LIMIT_KINDS = {
    "plain": (Limit(40.0, "mg/m³", "t"),),
    "corrected": (Limit(40.0, "mg/m³", "t", reference_o2=9.0),),
    "two": (Limit(40.0, "mg/m³", "t"), Limit(30.0, "mg/m³", "t2", reference_o2=11.0)),
    "band": (Limit(60.0, "mg/m³", "t", lower=20.0),),
}


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(READING, min_size=3, max_size=30),
    limits=st.sampled_from(sorted(LIMIT_KINDS)),
    realtime_only=st.booleans(),
)
def test_random_exceedance_series(
    rows: list[tuple[str, float | None, str | None, float | None, int, int]],
    limits: str,
    realtime_only: bool,
) -> None:
    context = PointContext("DEV", 1, "4411", "air", {POLLUTANT: LIMIT_KINDS[limits]})
    uploads, moment = [], START
    expanded = [row[:5] for row in rows for _ in range(row[5])]
    for index, (kind, level, flag, o2, step) in enumerate(expanded):
        realtime = realtime_only or kind == "2011"
        cn = "2011" if realtime else kind
        reading = Values(rtd=level, flag=flag) if realtime else Values(avg=level, flag=flag)
        values = {POLLUTANT: reading}
        if o2 is not None:
            values[O2] = Values(rtd=o2, flag="N") if realtime else Values(avg=o2, flag="N")
        at = moment if realtime else moment.replace(minute=0, second=0)
        uploads.append(Upload("DEV", cn, at, values, index))
        moment += timedelta(minutes=step)
    same(context, uploads)


def test_exceeding_hours_computed_from_real_time_data_are_found() -> None:
    """A week of real-time data every minute, with hours over the limit: the
    columnar path reports each of them, as streaming does."""
    uploads = [
        Upload("DEV", "2011", START + timedelta(minutes=minute),
               {POLLUTANT: Values(rtd=250.0 if 600 <= minute % 1440 < 720 else 120.0, flag="N"),
                O2: Values(rtd=9.0, flag="N")}, minute)
        for minute in range(7 * 1440)
    ]  # fmt: skip
    context = PointContext("DEV", 1, "4411", "air", O2_LIMITS)
    same(context, uploads)
    hours = [f for f in streamed(context, uploads) if f.rule == "exceedance"]
    assert len(hours) == 7 * 2  # 10:00 and 11:00 each day


def test_real_time_data_held_before_hourly_data_came_are_dropped() -> None:
    """Real-time data held for their hour are dropped when the device's own
    hourly data come (as streaming drops them): when its hourly data stop
    later, the hour held before is not judged, only the hours after are
    computed from real-time data (here within the limit)."""

    def realtime(minute: int, level: float) -> Upload:
        return Upload("DEV", "2011", START + timedelta(minutes=minute),
                      {POLLUTANT: Values(rtd=level, flag="N")}, minute)  # fmt: skip

    uploads = [realtime(minute, 300.0) for minute in range(50)]  # held, never judged
    uploads.append(Upload("DEV", "2061", START, {POLLUTANT: Values(avg=10.0, flag="N")}, 100))
    uploads += [realtime(minute, 300.0 if minute < 60 else 10.0) for minute in range(50, 600)]
    same(CONTEXT, uploads)
    hours = [f.window_start for f in streamed(CONTEXT, uploads) if f.rule == "exceedance"]
    assert hours == []


# Offline: several devices' arrivals interleaved in frame order, with
# silences, receive times late or unknown, data times the gate refuses, and a
# device that sends in batches; the clock moves every minute, or less often.
ARRIVAL = st.tuples(
    st.integers(0, 3),  # the device
    st.sampled_from([1, 1, 1, 2, 5, 40, 90, 200]),  # minutes on the city's clock
    st.sampled_from([0, 0, 0, 0, 3, 30, None, -5]),  # minutes received after its data time
    st.booleans(),  # a data time the gate refuses
)


@settings(max_examples=150, deadline=None)
@example(  # an upload received before the device's newest arrival is no new arrival
    steps=[(0, 1, 30, False), (0, 1, 0, False), (1, 100, 0, False), (1, 1, 0, False)],
    step=1,
    trust_arrival=True,
    at_once=4096,
    spread=False,
)
@given(
    steps=st.lists(ARRIVAL, min_size=1, max_size=80),
    step=st.sampled_from([1, 7, 60]),
    trust_arrival=st.booleans(),
    at_once=st.sampled_from([2, 4096]),
    spread=st.booleans(),  # frame ids far apart (other devices' frames between)
)
def test_random_arrivals_offline(
    steps: list[tuple[int, int, int | None, bool]],
    step: int,
    trust_arrival: bool,
    at_once: int,
    spread: bool,
) -> None:
    contexts = {
        f"D{index}": PointContext(
            f"D{index}", 1, "4411", "air", CONTEXT.limits, streams=index != 3
        )  # a device that sends in batches
        for index in range(4)
    }
    uploads, moment = [], START
    for frame, (device, minutes, delay, refused) in enumerate(steps):
        moment += timedelta(minutes=minutes)
        at = datetime(1990, 1, 1) if refused else moment
        received = None if delay is None else moment + timedelta(minutes=delay)
        uploads.append(Upload(f"D{device}", "2011", at, {POLLUTANT: Values(rtd=1.0)},
                              frame * (997 if spread else 1) + 1,
                              received_at=received))  # fmt: skip
    engine = RuleEngine(RULE_SET, contexts, [RULES["offline"], RULES["implausible_data_time"]],
                        trust_arrival=trust_arrival)  # fmt: skip
    every = timedelta(minutes=step)
    expected = [f for f in feed_replay(engine, uploads, step=every) if f.rule == "offline"]
    devices = [
        columnar.arrivals(columns_of(mn, [u for u in uploads if u.mn == mn]), context,
                          RULE_SET, trust_arrival=trust_arrival)
        for mn, context in contexts.items()
    ]  # fmt: skip
    found = columnar.offline(devices, RULE_SET, step=every, moves_at_once=at_once)
    assert found is not None
    assert sorted(found, key=key) == sorted(expected, key=key)


# The warning rules: real-time values near the limit (80 % of it) and falls
# from there, with the flow held or falling, O2 to correct by or not, and
# invalid marks.
NEAR = st.tuples(
    st.sampled_from([35.0, 33.0, 32.0, 31.9, 20.0, 12.0, 5.0, None]),  # limit 40
    st.sampled_from(["N", "N", "N", "N", "D", None]),
    st.sampled_from([100.0, 100.0, 100.0, 30.0, None]),  # flow
    st.sampled_from([9.0, 9.0, 12.0, 20.0, None]),  # O2 %
    st.sampled_from([1, 1, 1, 2, 3]),  # repeated
)


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(NEAR, max_size=40), limits=st.sampled_from(["plain", "corrected"]))
def test_random_warning_series(
    rows: list[tuple[float | None, str | None, float | None, float | None, int]], limits: str
) -> None:
    context = PointContext("DEV", 1, "4411", "air", {POLLUTANT: LIMIT_KINDS[limits]})
    uploads = []
    expanded = [row[:4] for row in rows for _ in range(row[4])]
    for index, (level, flag, flow, o2) in enumerate(expanded):
        values = {POLLUTANT: Values(rtd=level, flag=flag)}
        if flow is not None:
            values["a00000"] = Values(rtd=flow, flag="N")
        if o2 is not None:
            values[O2] = Values(rtd=o2, flag="N")
        uploads.append(Upload("DEV", "2011", START + timedelta(minutes=index), values, index))
    same(context, uploads)


@settings(max_examples=100, deadline=None)
@given(
    values=st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=2, max_size=80),
    width=st.integers(1, 40),
)
def test_sliding_extremes_are_those_of_each_window(values: list[float], width: int) -> None:
    level = np.array(values)
    if len(level) < width:
        return
    windows = np.lib.stride_tricks.sliding_window_view(level, width)
    assert columnar._sliding(level, width, np.minimum).tolist() == windows.min(axis=1).tolist()
    assert columnar._sliding(level, width, np.maximum).tolist() == windows.max(axis=1).tolist()
