"""Devices that send only real-time data (2011): their hours are computed
from the readings, HJ 75 coverage counted from the readings' times, judged
and accounted like any other hour (pure)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envwatch.rules.engine import RuleEngine, default_rule_set
from envwatch.rules.hours import hours_of, hours_without_own_data
from envwatch.rules.model import Finding, Limit, PointContext, Upload, Values
from envwatch.rules.validity import Validity, realtime_samples

RULES = default_rule_set()
T0 = datetime(2026, 11, 29, 8, 0)
MN = "371502000000001001000000"
LIMIT = 35.0
COAL = PointContext(mn=MN, enterprise_id=1, industry="4411", outlet_kind="air",
                    limits={"a21026": (Limit(LIMIT, "mg/m³", "超低排放", 6.0),)})  # fmt: skip


def reading(when: datetime, so2: float, *, o2: float = 6.0, cn: str = "2011") -> Upload:
    wobble = (when.minute % 5) * 0.2  # not constant (a finding of its own)
    if cn == "2011":
        values = {"a21026": Values(rtd=so2 + wobble, flag="N"),
                  "a19001": Values(rtd=o2, flag="N"),
                  "a00000": Values(rtd=100.0, flag="N")}  # fmt: skip
    else:
        values = {"a21026": Values(avg=so2, flag="N"), "a19001": Values(avg=o2, flag="N")}
    return Upload(MN, cn, when, values, received_at=when)


def every(seconds: float, span: timedelta, start: datetime = T0) -> list[datetime]:
    count = int(span.total_seconds() // seconds)
    return [start + timedelta(seconds=seconds * i) for i in range(count)]


def judge(uploads: list[Upload]) -> list[Finding]:
    engine = RuleEngine(RULES, {MN: COAL})
    found: list[Finding] = []
    for upload in uploads:
        found += engine.feed(upload)
    return found


def test_two_hours_at_one_point_six_times_the_limit_in_real_time_data_only_are_exceedances() -> (
    None
):
    over = [reading(t, 1.6 * LIMIT) for t in every(30, timedelta(hours=2))]
    after = [reading(t, 10.0) for t in every(30, timedelta(minutes=30), T0 + timedelta(hours=2))]
    found = judge([*over, *after])
    exceeded = [f for f in found if f.rule == "exceedance"]
    assert [f.window_start for f in exceeded] == [T0, T0 + timedelta(hours=1)]
    first = exceeded[0]
    assert "由实时数据计算" in first.explanation and first.severity == "alarm"
    assert first.evidence["corrected"] == pytest.approx(56.4, abs=0.01)  # 56 + mean wobble 0.4
    assert first.evidence["valid_minutes"] == 60.0 and first.evidence["realtime_values"] == 120
    assert any(f.rule == "early_warning" for f in found)


def test_real_time_hours_are_not_computed_where_they_should_not_be() -> None:
    # too little coverage: a reading every 10 minutes covers 5 minutes each (30 < 45)
    sparse = [reading(t, 2 * LIMIT) for t in every(600, timedelta(hours=2))]
    sparse.append(reading(T0 + timedelta(hours=2, minutes=20), 10.0))
    assert [f for f in judge(sparse) if f.rule == "exceedance"] == []
    # 40 minutes of data, then silence: not a valid hour
    short = [reading(t, 2 * LIMIT) for t in every(30, timedelta(minutes=40))]
    short.append(reading(T0 + timedelta(hours=1, minutes=20), 10.0))
    assert [f for f in judge(short) if f.rule == "exceedance"] == []
    # the device sends its own (compliant) hours: those are judged, not the real-time data
    own = [reading(T0 + timedelta(hours=h), 20.0, cn="2061") for h in range(-1, 3)]
    realtime = [reading(t, 2 * LIMIT) for t in every(30, timedelta(hours=2, minutes=30))]
    mixed = sorted([*own, *realtime], key=lambda u: (u.data_time + timedelta(
        hours=1 if u.cn == "2061" else 0)))  # fmt: skip
    assert [f for f in judge(mixed) if f.rule == "exceedance"] == []
    # the hour is over but its own hourly upload may still come: not yet judged
    waiting = [reading(t, 2 * LIMIT) for t in every(30, timedelta(hours=1, minutes=10))]
    assert [f for f in judge(waiting) if f.rule == "exceedance"] == []


def test_real_time_hours_feed_the_hours_and_their_emissions() -> None:
    uploads = [reading(t, 20.0, o2=9.0) for t in every(60, timedelta(hours=2))]
    uploads = [u for u in uploads if not (T0 + timedelta(hours=1, minutes=30) <= u.data_time)]
    hours = hours_of(uploads, "a21026", RULES, reference_o2=6.0)
    assert [h.source for h in hours] == ["realtime", "realtime"]
    assert [h.validity for h in hours] == [Validity.VALID, Validity.INVALID]  # 60 and 30 minutes
    first = hours[0]
    assert first.mean == pytest.approx(20.4) and first.o2 == 9.0
    assert first.corrected == pytest.approx(20.4 * 15 / 12)
    assert first.volume_m3 == pytest.approx(360_000.0)
    assert first.emission_kg == pytest.approx(20.4 * 0.36)


def test_the_hours_without_own_data_are_the_runs_to_read_real_time_data_for() -> None:
    own = [reading(T0 + timedelta(hours=1), 20.0, cn="2061"),
           reading(T0 + timedelta(hours=2, minutes=10), 20.0, cn="2051")]  # fmt: skip
    runs = hours_without_own_data(own, T0, T0 + timedelta(hours=6))
    assert runs == [(T0, T0 + timedelta(hours=1)),
                    (T0 + timedelta(hours=3), T0 + timedelta(hours=6))]  # fmt: skip


@given(
    offsets=st.lists(st.floats(min_value=0, max_value=3599.999), max_size=200),
    longest=st.floats(min_value=0.1, max_value=60),
)
def test_real_time_coverage_never_exceeds_the_hour_nor_a_reading_its_share(
    offsets: list[float], longest: float
) -> None:
    readings = [(T0 + timedelta(seconds=s), 1.0, "N") for s in offsets]
    samples = realtime_samples(readings, T0 + timedelta(hours=1), longest)
    assert len(samples) == len(readings)
    assert all(0 <= s.minutes <= longest for s in samples)
    assert sum(s.minutes for s in samples) <= 60 + 1e-6
