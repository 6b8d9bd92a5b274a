"""The rules added for B4, B8, B10b, B10e, B11, B14, B16, copied days,
start/stop synchronisation and heavy-pollution-weather warnings: each on a
series that must fire and on near misses that must not (pure)."""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envwatch.rules.engine import RuleEngine, default_rule_set
from envwatch.rules.model import (
    Finding,
    Limit,
    Period,
    PointContext,
    PollutionWarning,
    Upload,
    Values,
)
from envwatch.rules.statistics import binomial_tail, chance_of_equal
from tests.rules.test_catalogue import COAL, MN, PRODUCTION, T0, TREATMENT, WATER, air

CONTEXTS = {c.mn: c for c in (COAL, WATER, PRODUCTION, TREATMENT)}


def run(
    uploads: Iterable[Upload], rule: str, contexts: Mapping[str, PointContext] = CONTEXTS
) -> list[Finding]:
    engine = RuleEngine(default_rule_set(), contexts)
    found = []
    for upload in uploads:
        found += engine.feed(upload)
    return [f for f in found if f.rule == rule]


def hours(count: int, start: datetime = T0) -> list[datetime]:
    return [start + timedelta(hours=i) for i in range(count)]


def minutes(count: int, start: datetime = T0, step_s: int = 60) -> list[datetime]:
    return [start + timedelta(seconds=step_s * i) for i in range(count)]


def with_window(context: PointContext, start: datetime, end: datetime) -> dict[str, PointContext]:
    return {**CONTEXTS, context.mn: replace(context, maintenance=(Period(start, end),))}


# -- B4 near the detection limit ------------------------------------------------


def test_near_detection_limit_fires_after_enough_hours_of_almost_nothing() -> None:
    # SO2 limit 35 (ultra-low): a range of 2.5 x 35 and an LOD of 2 % of it, 1.75 mg/m³.
    series = [air(t, 0.5 + 0.5 * (i % 3), cn="2061") for i, t in enumerate(hours(140))]
    (found,) = run(series, "near_lod")
    assert found.pollutant == "a21026" and found.evidence["detection_limit"] == 1.75
    assert found.evidence["detection_limit_from"] == "limit_range"
    assert found.evidence["hours"] == 120 and found.evidence["share"] == 1.0
    assert found.window_end == T0 + timedelta(hours=120)
    assert "检出限" in found.explanation


def test_the_analyser_s_own_detection_limit_comes_first() -> None:
    """Issue 20 item 10: detection limits per analyser, from its 3020 settings."""
    settings = Upload(MN, "3020", T0 - timedelta(hours=1), {}, info={"i13009": "0.3"},
                      pol_id="a21026")  # fmt: skip
    series = [air(t, 0.5 + 0.5 * (i % 3), cn="2061") for i, t in enumerate(hours(140))]
    assert run([settings, *series], "near_lod") == []  # 0.5-1.5 is not near an LOD of 0.3
    tiny = [air(t, 0.3 + 0.1 * (i % 3), cn="2061") for i, t in enumerate(hours(140))]
    (found,) = run([settings, *tiny], "near_lod")
    assert found.evidence["detection_limit"] == 0.3
    assert found.evidence["detection_limit_from"] == "analyser"
    ranged = replace(settings, info={"i13001": "20"})  # a 0-20 range: LOD 0.4
    (found,) = run([ranged, *tiny], "near_lod")
    assert found.evidence["detection_limit"] == pytest.approx(0.4)


def test_clean_low_emitters_are_not_near_the_detection_limit() -> None:
    """Issue 20 item 10: a gas boiler's SO2 0-4 and an ultra-low unit's dust ~1.5."""
    gas = replace(COAL, limits={"a21026": (Limit(50.0, "mg/m³", "GB 13271-2014 燃气", 3.5),)})
    series = [air(t, float(i % 5), cn="2061") for i, t in enumerate(hours(168))]
    assert run(series, "near_lod", {MN: gas}) == []
    ultra_low = replace(COAL, limits={"a34013": (Limit(10.0, "mg/m³", "超低排放", 6.0),)})
    dust = [Upload(MN, "2061", t, {"a34013": Values(avg=1.3 + 0.1 * (i % 5), flag="N"),
                                   "a19001": Values(avg=6.0, flag="N"),
                                   "a00000": Values(avg=180.0, flag="N")})
            for i, t in enumerate(hours(168))]  # fmt: skip
    assert run(dust, "near_lod", {MN: ultra_low}) == []


def test_near_detection_limit_near_misses() -> None:
    # 60 % of hours near the limit: below the 80 % share.
    mixed = [air(t, 1.0 if i % 5 < 3 else 20.0, cn="2061") for i, t in enumerate(hours(168))]
    assert run(mixed, "near_lod") == []
    # Near the limit but not running (no flow): nothing to measure.
    stopped = [air(t, 1.0, flow=0.0, cn="2061") for t in hours(168)]
    assert run(stopped, "near_lod") == []
    # Too few hours for a week's judgement.
    assert run([air(t, 1.0, cn="2061") for t in hours(100)], "near_lod") == []


# -- B16 distribution ----------------------------------------------------------


def test_distribution_narrowing_is_found_when_the_day_ends() -> None:
    rng = random.Random(7)
    reference = [air(t, rng.uniform(10, 30), cn="2061") for t in hours(21 * 24)]
    start = T0 + timedelta(days=21)
    recent = [air(t, 20 + rng.uniform(-0.5, 0.5), cn="2061") for t in hours(7 * 24, start)]
    next_day = [air(start + timedelta(days=7), 20.0, cn="2061")]
    assert run([*reference, air(start, 20.0, cn="2061")], "distribution") == []
    (found,) = run(reference + recent + next_day, "distribution")
    assert found.pollutant == "a21026"
    assert found.evidence["p_value"] < 0.01
    assert found.evidence["recent_iqr"] < 0.5 * found.evidence["reference_iqr"]
    # Judged as a day ends, once the narrow days outweigh the wide ones in the week.
    assert start + timedelta(days=2) < found.window_end <= start + timedelta(days=7)


def test_distribution_near_misses() -> None:
    rng = random.Random(11)
    same = [air(t, rng.uniform(10, 30), cn="2061") for t in hours(29 * 24)]
    assert run(same, "distribution") == []
    # Shifted but just as wide: a real change of the process, not a narrowing.
    rng = random.Random(5)
    start = T0 + timedelta(days=21)
    shifted = [air(t, rng.uniform(10, 30), cn="2061") for t in hours(21 * 24)] + [
        air(t, rng.uniform(25, 45), cn="2061") for t in hours(8 * 24, start)
    ]
    assert run(shifted, "distribution") == []


def test_base_load_after_load_following_is_no_distribution_anomaly() -> None:
    """Issue 20 item 11: concentrations steady because the load steadied (the
    flow narrowed with them) are the process's; narrowing at an unchanged
    load is still found."""
    rng = random.Random(7)
    start = T0 + timedelta(days=21)

    def hour_at(when: datetime, load: float) -> Upload:
        return air(when, 20 * load + rng.gauss(0, 0.3), flow=180 * load, cn="2061")

    following = [hour_at(t, rng.uniform(0.5, 1.5)) for t in hours(21 * 24)]
    base = [hour_at(t, 1.0 + rng.uniform(-0.02, 0.02)) for t in hours(8 * 24, start)]
    assert run(following + base, "distribution") == []
    figures = [air(t, 20 + rng.uniform(-0.5, 0.5), flow=180 * rng.uniform(0.5, 1.5), cn="2061")
               for t in hours(8 * 24, start)]  # fmt: skip
    (found,) = run(following + figures, "distribution")
    assert found.evidence["recent_iqr"] < 0.5 * found.evidence["reference_iqr"]


# -- copied days ---------------------------------------------------------------


def test_a_day_copied_from_an_earlier_one_is_found() -> None:
    rng = random.Random(3)
    day = [round(rng.uniform(10, 30), 3) for _ in range(24)]
    first = [air(t, v, cn="2061") for t, v in zip(hours(24), day, strict=True)]
    second = [air(t, v, cn="2061") for t, v in zip(hours(24, T0 + timedelta(days=2)), day,
                                                    strict=True)]  # fmt: skip
    close = [air(T0 + timedelta(days=3), 20.0, cn="2061")]
    (found,) = run(first + second + close, "copied_day")
    assert found.evidence["copied_from"] == (T0 - timedelta(hours=8)).date().isoformat()
    assert len(found.evidence["hours"]) >= 12
    assert found.severity == "alarm"


def test_copied_day_near_misses() -> None:
    rng = random.Random(3)
    day = [round(rng.uniform(10, 30), 3) for _ in range(24)]
    first = [air(t, v, cn="2061") for t, v in zip(hours(24), day, strict=True)]
    nudged = [air(t, v + 0.01, cn="2061") for t, v in zip(hours(24, T0 + timedelta(days=1)), day,
                                                            strict=True)]  # fmt: skip
    close = [air(T0 + timedelta(days=3), 20.0, cn="2061")]
    assert run(first + nudged + close, "copied_day") == []
    # Two constant days are the constant rule's, not a copy.
    flat = [air(t, 20.0, cn="2061") for t in hours(72)]
    assert run(flat, "copied_day") == []


# -- B10b, B10e and declared maintenance windows --------------------------------


def test_a_mark_right_after_approaching_the_limit_is_found() -> None:
    series = [air(T0, 30.0), air(T0 + timedelta(minutes=10), 31.0, flag="M")]
    (found,) = run(series, "mark_after_warning")
    assert found.evidence["flag"] == "M" and found.evidence["approached_value"] == 30.0
    assert found.window_start == T0


def test_mark_after_warning_near_misses() -> None:
    late = [air(T0, 30.0), air(T0 + timedelta(minutes=40), 31.0, flag="M")]
    assert run(late, "mark_after_warning") == []
    low = [air(T0, 20.0), air(T0 + timedelta(minutes=10), 31.0, flag="M")]
    assert run(low, "mark_after_warning") == []
    declared = with_window(COAL, T0 + timedelta(minutes=5), T0 + timedelta(hours=2))
    soon = [air(T0, 30.0), air(T0 + timedelta(minutes=10), 31.0, flag="C")]
    assert run(soon, "mark_after_warning", declared) == []


def test_marks_outside_declared_maintenance_are_found() -> None:
    series = [air(t, 10.0, flag="M") for t in minutes(3)]
    (found,) = run(series, "undeclared_maintenance")
    assert found.evidence["flags"] == ["M"] and found.pollutant is None
    assert found.severity == "notice"
    # A calibration mark as long as a calibration is judged a day later: it
    # did not recur at the same time of day, so no daily calibration explains it.
    calibration = [air(t, 10.0, flag="C") for t in minutes(3)]
    day_later = [air(t, 10.0) for t in minutes(3, T0 + timedelta(days=1, hours=1))]
    assert run(calibration, "undeclared_maintenance") == []
    (late,) = run(calibration + day_later, "undeclared_maintenance")
    assert late.evidence["flags"] == ["C"] and late.window_start == T0
    # One longer than any calibration is found once it is.
    long_one = [air(t, 10.0, flag="C") for t in minutes(45)]
    (found,) = run(long_one, "undeclared_maintenance")
    assert found.evidence["minutes"] > 20


def test_declared_maintenance_explains_marks_but_not_a_fault_mark() -> None:
    declared = with_window(COAL, T0, T0 + timedelta(hours=1))
    assert run([air(t, 10.0, flag="C") for t in minutes(3)], "undeclared_maintenance",
               declared) == []  # fmt: skip
    assert run([air(T0, 10.0, flag="C")], "undeclared_maintenance") == []  # a single upload
    # Calibration gas reads high inside a declared window: not a hidden exceedance ...
    assert run([air(T0, 80.0, flag="C")], "flag_abuse", declared) == []
    # ... but a fault mark over an exceedance still is, window or not.
    (hidden,) = run([air(T0, 80.0, flag="D")], "flag_abuse", declared)
    assert hidden.evidence["flag"] == "D"
    # Outside the window a calibration mark over an exceedance is found once it
    # lasts longer than a calibration can (issue 20 item 6: span gas reads 80).
    after = T0 + timedelta(hours=2)
    assert run([air(t, 80.0, flag="C") for t in minutes(10, after)], "flag_abuse", declared) == []
    (hidden,) = run([air(t, 80.0, flag="C") for t in minutes(45, after)], "flag_abuse", declared)
    assert hidden.evidence["marked_minutes"] > 20


# -- B14 analyser parameters ----------------------------------------------------


def info(when: datetime, settings: dict[str, str], pol_id: str = "a21026") -> Upload:
    return Upload(MN, "3020", when, {}, frame_id=None, info=settings, pol_id=pol_id)


def test_a_changed_analyser_slope_is_found() -> None:
    series = [info(T0, {"i13008": "1.00", "i13004": "168.0"}),
              info(T0 + timedelta(days=1), {"i13008": "0.80", "i13004": "160.0"})]  # fmt: skip
    (found,) = run(series, "parameter_change")
    assert (found.evidence["before"], found.evidence["after"]) == ("1.00", "0.80")
    assert found.evidence["code"] == "i13008" and found.pollutant == "a21026"
    assert "斜率" in found.explanation


def test_parameter_change_near_misses() -> None:
    same = [info(T0, {"i13008": "1.0"}), info(T0 + timedelta(hours=1), {"i13008": "1.00"})]
    assert run(same, "parameter_change") == []
    first = [info(T0, {"i13008": "0.8"})]  # a baseline, not a change
    assert run(first, "parameter_change") == []
    declared = with_window(COAL, T0 + timedelta(hours=1), T0 + timedelta(hours=3))
    during = [info(T0, {"i13008": "1.0"}), info(T0 + timedelta(hours=2), {"i13008": "0.9"})]
    assert run(during, "parameter_change", declared) == []


# -- B11 a fall right after a warning -------------------------------------------


def test_a_fall_after_a_warning_with_steady_flow_is_found() -> None:
    series = [air(T0, 30.0), air(T0 + timedelta(minutes=1), 31.0),
              air(T0 + timedelta(minutes=6), 12.0)]  # fmt: skip
    (found,) = run(series, "drop_after_warning")
    assert found.evidence["warned_value"] == 31.0 and found.evidence["value"] == 12.0
    assert found.evidence["flow_before"] == found.evidence["flow_after"] == 180.0


def test_drop_after_warning_near_misses() -> None:
    warned = [air(T0, 30.0), air(T0 + timedelta(minutes=1), 31.0)]
    load_cut = [air(T0 + timedelta(minutes=6), 12.0, flow=80.0)]
    assert run(warned + load_cut, "drop_after_warning") == []
    small = [air(T0 + timedelta(minutes=6), 20.0)]
    assert run(warned + small, "drop_after_warning") == []
    late = [air(T0 + timedelta(minutes=45), 12.0)]
    assert run(warned + late, "drop_after_warning") == []
    once = [air(T0, 30.0), air(T0 + timedelta(minutes=6), 12.0)]  # one value is no warning
    assert run(once, "drop_after_warning") == []
    # Issue 20 item 11: more ammonia to the SCR at constant load brings the value down
    # over several readings: a process responding, not figures changed.
    response = [30.0, 31.0, 31.5, 27.0, 24.0, 21.0, 18.0, 15.0, 12.0, 11.0]
    responding = [air(T0 + timedelta(seconds=30 * i), v) for i, v in enumerate(response)]
    assert run(responding, "drop_after_warning") == []


# -- B8 wet desulfurisation flue temperature ------------------------------------


def flue(when: datetime, temperature: float, so2: float, mn: str = MN) -> Upload:
    values = {
        "a21026": Values(avg=so2, flag="N"),
        "a19001": Values(avg=6.0, flag="N"),
        "a00000": Values(avg=180.0, flag="N"),
        "a01012": Values(avg=temperature, flag="N"),
    }
    return Upload(mn, "2061", when, values)


def test_hot_flue_gas_with_low_so2_after_wet_desulfurisation_is_found() -> None:
    (found,) = run([flue(t, 120.0, 5.0) for t in hours(3)], "wet_fgd_temperature")
    assert found.evidence["temperatures"] == [120.0, 120.0]
    assert found.window_end == T0 + timedelta(hours=2)


def test_wet_fgd_temperature_near_misses() -> None:
    assert run([flue(t, 50.0, 5.0) for t in hours(3)], "wet_fgd_temperature") == []
    assert run([flue(t, 120.0, 30.0) for t in hours(3)], "wet_fgd_temperature") == []
    # Not thermal power: no wet desulfuriser assumed.
    boiler = {MN: replace(COAL, industry="4430")}
    assert run([flue(t, 120.0, 5.0) for t in hours(3)], "wet_fgd_temperature", boiler) == []
    # A unit that reheats its flue gas after wet desulfurisation (MGGH), as registered.
    reheated = {MN: replace(COAL, reheated=True)}
    assert run([flue(t, 85.0, 5.0) for t in hours(3)], "wet_fgd_temperature", reheated) == []


# -- start/stop synchronisation --------------------------------------------------


def power(mn: str, when: datetime, kw: float) -> Upload:
    return Upload(mn, "2011", when, {"power_kw": Values(rtd=kw, flag="N")})


def test_treatment_that_does_not_start_with_production_is_found() -> None:
    series = [power("P1", T0, 0.0), power("T1", T0, 0.0),
              power("P1", T0 + timedelta(minutes=1), 800.0)] + [
        power("T1", t, 0.0) for t in minutes(8, T0 + timedelta(minutes=2))]  # fmt: skip
    (found,) = run(series, "start_stop_sync")
    assert found.mn == "T1" and found.evidence["treatment_on"] is False
    assert found.window_start == T0 + timedelta(minutes=1)
    assert "仍未启动" in found.explanation


def test_treatment_that_stops_before_production_is_found() -> None:
    series = [power("P1", T0, 800.0), power("T1", T0, 300.0),
              power("T1", T0 + timedelta(minutes=20), 0.0),
              power("P1", T0 + timedelta(minutes=25), 800.0),
              power("P1", T0 + timedelta(minutes=30), 0.0)]  # fmt: skip
    (found,) = run(series, "start_stop_sync")
    assert found.mn == "T1" and found.window_start == T0 + timedelta(minutes=20)
    assert found.window_end == T0 + timedelta(minutes=30)


def test_start_stop_sync_near_misses() -> None:
    prompt = [power("P1", T0, 0.0), power("T1", T0, 0.0),
              power("P1", T0 + timedelta(minutes=1), 800.0),
              power("T1", T0 + timedelta(minutes=3), 300.0)] + [
        power("T1", t, 300.0) for t in minutes(8, T0 + timedelta(minutes=4))]  # fmt: skip
    assert run(prompt, "start_stop_sync") == []
    close = [power("P1", T0, 800.0), power("T1", T0, 300.0),
             power("T1", T0 + timedelta(minutes=28), 0.0),
             power("P1", T0 + timedelta(minutes=30), 0.0)]  # fmt: skip
    assert run(close, "start_stop_sync") == []
    # Production already running at the first reading: no start was seen.
    unseen = [power("P1", T0, 800.0), power("T1", T0, 0.0)] + [
        power("T1", t, 0.0) for t in minutes(10, T0 + timedelta(minutes=1))]  # fmt: skip
    assert run(unseen, "start_stop_sync") == []


# -- heavy-pollution-weather warnings ---------------------------------------------


DAY8 = datetime(2026, 12, 8)


def week_then_warning(kw_during_warning: float, level: str = "orange") -> list[Finding]:
    warning = PollutionWarning(level, Period(DAY8, DAY8 + timedelta(hours=12)), "聊环发〔2026〕1号")
    contexts = {**CONTEXTS, "P1": replace(PRODUCTION, emergencies=(warning,))}
    start = DAY8 - timedelta(days=7)
    series = [
        power("P1", t, kw_during_warning if t >= DAY8 else 800.0)
        for t in minutes(8 * 144, start, step_s=600)
    ]
    return run(series, "emergency_consumption", contexts)


def test_production_not_cut_during_a_warning_is_found() -> None:
    (found,) = week_then_warning(800.0)
    assert found.evidence["level"] == "orange" and found.evidence["required_cut"] == 0.2
    assert found.evidence["hours"] == 2
    assert found.evidence["energy_kwh"] == found.evidence["baseline_kwh"] == 1600.0
    assert found.window_start == DAY8 and "橙色" in found.explanation
    assert "聊环发〔2026〕1号" in found.explanation


def test_emergency_consumption_near_misses() -> None:
    assert week_then_warning(600.0) == []  # cut by 25 %: more than the 20 % required
    assert week_then_warning(800.0, level="blue") == []  # blue requires no cut
    assert week_then_warning(700.0, level="yellow") == []  # 12.5 % against 10 %


def test_copied_day_knows_the_resolution_of_the_data() -> None:
    """Issue 20 item 11: an analyser reporting whole mg/L between 9 and 12 repeats
    a quarter of its hours by chance; 12 equal hours are no copy (about 11 % of
    days had them); a whole day repeated still is one."""
    rng = random.Random(11)
    days = 60
    values = [float(rng.randint(9, 12)) for _ in range(days * 24)]
    series = [air(t, v, cn="2061") for t, v in zip(hours(days * 24), values, strict=True)]
    chance_days = sum(
        1
        for day in range(1, days)
        for earlier in range(max(0, day - 7), day)
        if sum(values[day * 24 + h] == values[earlier * 24 + h] for h in range(24)) >= 12
    )
    assert chance_days > 0  # the old exact test would have alarmed on these
    assert run(series, "copied_day") == []
    copied = values[: 24 * 3] + values[24:48]  # day 4 is day 2 again
    series = [air(t, v, cn="2061") for t, v in zip(hours(len(copied)), copied, strict=True)]
    close = [air(T0 + timedelta(days=5), 10.0, cn="2061")]
    (found,) = run(series + close, "copied_day")
    assert found.evidence["copied_from"] == (T0 + timedelta(days=1)).date().isoformat()
    assert found.evidence["probability_by_chance"] < 1e-6


@given(
    trials=st.integers(min_value=1, max_value=48),
    p=st.floats(min_value=0, max_value=1),
    values=st.lists(st.integers(min_value=0, max_value=5), min_size=1, max_size=48),
)
def test_chance_figures_are_probabilities(trials: int, p: float, values: list[int]) -> None:
    tails = [binomial_tail(trials, k, p) for k in range(trials + 2)]
    assert tails[0] == 1.0 and tails[-1] == 0.0
    assert all(-1e-12 <= t <= 1 + 1e-9 for t in tails)
    assert all(a + 1e-12 >= b for a, b in pairwise(tails))  # never rising
    chance = chance_of_equal([float(v) for v in values])
    assert 1 / len(set(values)) - 1e-12 <= chance <= 1.0


def test_zeros_where_the_process_can_be_at_zero_are_no_finding() -> None:
    """Issue 20 item 10: a gas boiler's SO2 may truly read 0 for a long while;
    a coal unit's cannot."""
    zeros = [air(t, 0.0) for t in minutes(30, step_s=30)]
    (found,) = run(zeros, "zero")
    assert found.pollutant == "a21026"
    gas = replace(COAL, limits={"a21026": (Limit(50.0, "mg/m³", "GB 13271-2014 燃气", 3.5),)})
    assert run(zeros, "zero", {MN: gas}) == []
