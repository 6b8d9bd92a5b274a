"""Each rule on series that must fire, and on near misses that must not (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from envwatch.errors import ConfigError
from envwatch.rules.catalogue import PARAM_MODELS, RULES
from envwatch.rules.catalogue.base import RULE_KINDS
from envwatch.rules.engine import RuleEngine, default_rule_set
from envwatch.rules.model import Finding, Limit, PointContext, Upload, Values
from envwatch.rules.parameters import load_rule_set

T0 = datetime(2026, 11, 29, 8, 0)
MN = "371502000000001001000000"
COAL = PointContext(
    mn=MN, enterprise_id=1, industry="4411", outlet_kind="air",
    limits={"a21026": (Limit(35.0, "mg/m³", "超低排放", 6.0),
                       Limit(100.0, "mg/m³", "GB 13223-2011", 6.0))},
)  # fmt: skip
WATER = PointContext(
    mn="W1", enterprise_id=2, industry="4620", outlet_kind="water",
    limits={"w01018": (Limit(50.0, "mg/L", "GB 18918-2002 一级A", period="24h"),)},
)  # fmt: skip
PRODUCTION = PointContext(mn="P1", enterprise_id=3, industry="1713", outlet_kind=None,
                          meter_id=11, meter_kind="production", rated_kw=1000.0)  # fmt: skip
TREATMENT = PointContext(mn="T1", enterprise_id=3, industry="1713", outlet_kind=None,
                         meter_id=12, meter_kind="treatment", rated_kw=400.0)  # fmt: skip
CONTEXTS = {c.mn: c for c in (COAL, WATER, PRODUCTION, TREATMENT)}


def air(
    when: datetime,
    so2: float,
    *,
    o2: float = 6.0,
    flow: float = 180.0,
    flag: str = "N",
    cn: str = "2011",
) -> Upload:
    def value(level: float, mark: str = "N") -> Values:
        return Values(rtd=level, flag=mark) if cn == "2011" else Values(avg=level, flag=mark)

    values = {"a21026": value(so2, flag), "a19001": value(o2), "a00000": value(flow)}
    return Upload(MN, cn, when, values)


def run(uploads: Iterable[Upload], rule: str) -> list[Finding]:
    engine = RuleEngine(default_rule_set(), CONTEXTS)
    found = []
    for upload in uploads:
        found += engine.feed(upload)
    return [f for f in found if f.rule == rule]


def every(seconds: int, count: int, start: datetime = T0) -> list[datetime]:
    return [start + timedelta(seconds=seconds * i) for i in range(count)]


def test_exceedance_is_judged_on_the_o2_corrected_hourly_mean() -> None:
    (found,) = run([air(T0, 31.0, o2=9.0, cn="2061")], "exceedance")
    assert found.evidence["corrected"] == pytest.approx(38.75)
    assert found.evidence["limit"] == 35.0
    assert found.evidence["other_limits"] == [
        {"value": 100.0, "basis": "GB 13223-2011", "period": "1h"}
    ]
    assert found.severity == "alarm" and "38.75" in found.explanation
    assert (found.window_start, found.window_end) == (T0, T0 + timedelta(hours=1))
    # near misses: 30 at 8 % is 34.6; equality is compliant; real-time data are not judged
    assert run([air(T0, 30.0, o2=8.0, cn="2061")], "exceedance") == []
    assert run([air(T0, 35.0, o2=6.0, cn="2061")], "exceedance") == []
    assert run([air(T0, 80.0, cn="2011")], "exceedance") == []
    # an hour flagged invalid is not judged here (flag_abuse looks at it)
    assert run([air(T0, 80.0, cn="2061", flag="D")], "exceedance") == []


def test_wastewater_hours_over_the_limit_are_warnings() -> None:
    upload = Upload("W1", "2061", T0, {"w01018": Values(avg=60.0, flag="N")})
    (found,) = run([upload], "exceedance")
    assert found.severity == "warning" and "日均值" in found.explanation


def test_early_warning_needs_consecutive_values_near_the_limit() -> None:
    near = [air(t, 29.0) for t in every(30, 3)]  # 29 ≥ 0.8 × 35
    found = run(near, "early_warning")
    assert len(found) == 1 and found[0].window_start == T0
    broken = [air(T0, 29.0), air(T0 + timedelta(seconds=30), 20.0), air(T0 + timedelta(60), 29.0)]
    assert run(broken, "early_warning") == []


def test_constant_values_while_running() -> None:
    frozen = [air(t, 12.3) for t in every(30, 20)]
    (found,) = run(frozen, "constant")
    assert found.pollutant == "a21026" and len(found.evidence["values"]) == 20
    assert run(frozen[:19], "constant") == []
    wobbling = [air(t, 12.3 + 0.01 * (i % 2)) for i, t in enumerate(every(30, 40))]
    assert run(wobbling, "constant") == []
    stopped = [air(t, 12.3, flow=0.0) for t in every(30, 40)]
    assert run(stopped, "constant") == []


def test_zeros_while_flue_gas_flows() -> None:
    zeros = [air(t, 0.0) for t in every(30, 10)]
    assert len(run(zeros, "zero")) == 1
    assert run([air(t, 0.0, flow=0.0) for t in every(30, 10)], "zero") == []
    assert run(zeros[:9], "zero") == []


def test_a_negative_concentration_once_per_run() -> None:
    found = run([air(t, -1.0) for t in every(30, 5)], "negative")
    assert len(found) == 1
    assert run([air(T0, 0.0)], "negative") == []


def test_pinned_just_under_the_limit() -> None:
    hours = [air(T0 + timedelta(hours=i), 33.0 + 0.2 * (i % 3), cn="2061") for i in range(24)]
    (found,) = run(hours, "pinned")
    assert found.evidence["share"] == pytest.approx(33.2 / 35, abs=1e-4)
    assert found.evidence["cv"] < 0.05 and found.evidence["median"] == 33.2
    assert run(hours[:23], "pinned") == []
    # hours in the band that vary are not "pinned"; nor are too few in the band
    varied = [air(T0 + timedelta(hours=i), 30.0 + 4.5 * (i % 2), cn="2061") for i in range(48)]
    assert run(varied, "pinned") == []
    rare = [air(T0 + timedelta(hours=i), 33.0 if i % 3 == 0 else 15.0, cn="2061")
            for i in range(48)]  # fmt: skip
    assert run(rare, "pinned") == []
    # one odd hour does not hide a flat top
    odd = [air(T0, 12.0, cn="2061"), *hours]
    assert len(run(odd, "pinned")) == 1
    # a process held at its set point, 44 ± 2 against 50 (88 %), is not pinned
    scr = [air(T0 + timedelta(hours=i), 27.7 + 1.2 * ((i * 7) % 5 - 2) / 2, cn="2061")
           for i in range(72)]  # fmt: skip  # SO2 limit 35: 27.7 is the same 79-88 %
    assert run(scr, "pinned") == []
    # nor hours that once went over the limit
    over = [*hours[:23], air(T0 + timedelta(hours=23), 35.5, cn="2061")]
    assert run(over, "pinned") == []


def test_o2_dilution_while_flue_gas_flows() -> None:
    diluted = [air(t, 5.0, o2=19.2) for t in every(30, 6)]
    (found,) = run(diluted, "o2_dilution")
    assert found.pollutant == "a19001"
    assert run([air(t, 5.0, o2=18.9) for t in every(30, 20)], "o2_dilution") == []
    assert run([air(t, 5.0, o2=20.5, flow=0.0) for t in every(30, 20)], "o2_dilution") == []


def test_flag_abuse_hides_an_exceedance_under_a_mark() -> None:
    (found,) = run([air(T0, 60.0, flag="M")], "flag_abuse")
    assert found.evidence["flag"] == "M" and "标记" in found.explanation
    assert run([air(T0, 20.0, flag="M")], "flag_abuse") == []
    assert run([air(T0, 60.0, flag="N")], "flag_abuse") == []


def test_offline_by_the_city_data_clock() -> None:
    engine = RuleEngine(default_rule_set(), CONTEXTS)
    engine.feed(air(T0, 10.0))
    assert engine.advance_clock(T0 + timedelta(minutes=29)) == []
    (found,) = engine.advance_clock(T0 + timedelta(minutes=31))
    assert found.rule == "offline" and found.mn == MN
    assert engine.advance_clock(T0 + timedelta(minutes=60)) == []  # once per silence
    engine.feed(air(T0 + timedelta(minutes=61), 10.0))
    assert len(engine.advance_clock(T0 + timedelta(minutes=95))) == 1


def meter(context: PointContext, when: datetime, power: float) -> Upload:
    return Upload(context.mn, "2011", when, {"power_kw": Values(rtd=power)})


def test_treatment_off_while_production_runs() -> None:
    times = every(60, 20)
    uploads = [u for t in times for u in (meter(PRODUCTION, t, 800.0), meter(TREATMENT, t, 2.0))]
    (found,) = run(uploads, "treatment_off")
    assert found.mn == "T1" and found.evidence["rated_kw"] == 400.0
    assert found.window_end - found.window_start >= timedelta(minutes=15)
    # treatment running, or production stopped: nothing
    running = [u for t in times for u in (meter(PRODUCTION, t, 800.0), meter(TREATMENT, t, 250.0))]
    assert run(running, "treatment_off") == []
    idle = [u for t in times for u in (meter(PRODUCTION, t, 30.0), meter(TREATMENT, t, 2.0))]
    assert run(idle, "treatment_off") == []
    short = [u for t in times[:14] for u in (meter(PRODUCTION, t, 800.0), meter(TREATMENT, t, 2.0))]
    assert run(short, "treatment_off") == []


def test_replay_finds_what_streaming_found() -> None:
    uploads = [air(t, 0.0 if i < 30 else 60.0, flag="N" if i < 40 else "C")
               for i, t in enumerate(every(30, 60))]  # fmt: skip
    first, second = run(uploads, "zero"), run(uploads, "zero")
    assert first == second and len(first) == 1


def test_overrides_apply_by_industry_and_pollutant(tmp_path: Path) -> None:
    text = Path(default_rule_set.__code__.co_filename).with_name("rules.toml").read_text()
    text += '\n[[override]]\nrule = "constant"\nindustry = "4411"\nconsecutive = 5\n'
    text += '\n[[override]]\nrule = "constant"\nindustry = "4411"\npollutant = "a21026"\n'
    text += "consecutive = 8\n"
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    rules = load_rule_set(PARAM_MODELS, path)
    assert rules.for_point("constant", industry="4411").consecutive == 5  # type: ignore[attr-defined]
    assert rules.for_point("constant", industry="4411", pollutant="a21026").consecutive == 8  # type: ignore[attr-defined]
    assert rules.for_point("constant", industry="2221").consecutive == 20  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("consecutive = 20", "consecutive = 1"),
            r"rules\.toml: line \d+, rules\.constant\.consecutive",
        ),
        (("epsilon = 0.0", "epsilon = 0.0\nepsilom = 1"), r"line \d+, rules\.constant\.epsilom"),
        (("[rules.negative]", "[rules.negativ]"), r"rules\.negativ: no such rule"),
        (("min_valid_minutes = 45.0", "min_valid_minutes = 75.0"), r"validity\.min_valid_minutes"),
        (('version = "envwatch-rules-2026.9"', ""), "version"),
        (("[rules.zero]", "[rules.zero"), "rules.toml"),
    ],
)
def test_errors_name_file_line_and_key(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    text = Path(default_rule_set.__code__.co_filename).with_name("rules.toml").read_text()
    assert change[0] in text
    path = tmp_path / "rules.toml"
    path.write_text(text.replace(change[0], change[1], 1), encoding="utf-8")
    with pytest.raises(ConfigError, match=expected):
        load_rule_set(PARAM_MODELS, path)


def test_a_spike_against_the_recent_median() -> None:
    base = [air(t, 20.0 + (i % 5) * 0.3) for i, t in enumerate(every(30, 40))]
    spike = air(T0 + timedelta(minutes=30), 80.0)
    back = air(T0 + timedelta(minutes=31), 20.3)
    (found,) = run([*base, spike, back], "spike")
    assert found.evidence["value"] == 80.0 and found.evidence["median"] == pytest.approx(20.6)
    assert found.window_start == spike.data_time
    # a moderate rise, too little history, or a lasting shift is no spike
    assert run([*base, air(T0 + timedelta(minutes=30), 25.0), back], "spike") == []
    assert run([*base[:10], spike, back], "spike") == []
    shift = [air(T0 + timedelta(minutes=30 + i), -2.0) for i in range(5)]
    assert run([*base, *shift], "spike") == []
    assert run([*base, *shift, air(T0 + timedelta(minutes=40), 20.3)], "spike") == []


def minute_data(start: datetime, values: list[float]) -> list[Upload]:
    return [
        Upload(MN, "2051", start + timedelta(minutes=10 * i), {"a21026": Values(avg=v, flag="N")})
        for i, v in enumerate(values)
    ]


def test_an_hourly_upload_must_agree_with_its_own_minute_data() -> None:
    minutes = minute_data(T0, [10.0, 12.0, 11.0, 13.0, 12.0, 14.0])  # mean 12.0
    hourly = Upload(MN, "2061", T0, {"a21026": Values(avg=15.0, flag="N")})
    (found,) = run([*minutes, hourly], "hourly_mismatch")
    assert found.evidence["minute_mean"] == 12.0 and found.window_start == T0
    agreeing = Upload(MN, "2061", T0, {"a21026": Values(avg=12.5, flag="N")})
    assert run([*minutes, agreeing], "hourly_mismatch") == []
    # four 10-minute records are 40 minutes: too few to say what the hour was
    assert run([*minutes[:4], hourly], "hourly_mismatch") == []


def water_hour(when: datetime, cod: float, volume: float) -> Upload:
    values = {"w01018": Values(avg=cod, flag="N"), "w00000": Values(avg=1.0, cou=volume, flag="N")}
    return Upload("W1", "2061", when, values)


def test_a_wastewater_day_is_judged_on_its_flow_weighted_mean() -> None:
    # 12 hours of 40 mg/L at 100 m³ and 12 of 60 at 300: flow-weighted 55 > 50
    # (the arithmetic mean, 50, would pass).
    day = [water_hour(T0.replace(hour=h), 40.0 if h < 12 else 60.0, 100.0 if h < 12 else 300.0)
           for h in range(24)]  # fmt: skip
    next_day = water_hour(T0.replace(hour=0) + timedelta(days=1), 30.0, 100.0)
    found = run([*day, next_day], "daily_exceedance")
    assert [f.evidence["daily_mean"] for f in found] == [55.0]
    assert found[0].evidence["flow_weighted"] is True
    assert found[0].window_end - found[0].window_start == timedelta(days=1)
    assert run(day, "daily_exceedance") == []  # not judged before the day is over
    even = [water_hour(T0.replace(hour=h), 40.0 if h < 12 else 60.0, 100.0) for h in range(24)]
    assert run([*even, next_day], "daily_exceedance") == []
    short = day[:19]
    assert run([*short, next_day], "daily_exceedance") == []


def test_declared_stopped_while_flue_gas_flows() -> None:
    stopped = [air(t, 0.5, flag="F") for t in every(30, 10)]
    (found,) = run(stopped, "declared_stopped")
    assert found.evidence["marked"] == ["a21026"] and found.pollutant is None
    assert run([air(t, 0.5, flag="F", flow=0.0) for t in every(30, 20)], "declared_stopped") == []
    assert run(stopped[:9], "declared_stopped") == []


def water_rtd(when: datetime, cod: float, flow: float) -> Upload:
    values = {"w01018": Values(rtd=cod, flag="N"), "w00000": Values(rtd=flow, flag="N")}
    return Upload("W1", "2011", when, values)


def test_concentrations_changing_while_the_flow_is_zero() -> None:
    made_up = [water_rtd(t, 30.0 + (i % 4), 0.0) for i, t in enumerate(every(60, 12))]
    (found,) = run(made_up, "concentration_without_flow")
    assert found.pollutant == "w00000"
    # no flow and frozen values: the plant stands still; flow and changes: normal
    assert run([water_rtd(t, 30.0, 0.0) for t in every(60, 30)], "concentration_without_flow") == []
    normal = [water_rtd(t, 30.0 + (i % 4), 5.0) for i, t in enumerate(every(60, 30))]
    assert run(normal, "concentration_without_flow") == []


def test_a_meter_reading_frozen_for_hours() -> None:
    frozen = [meter(TREATMENT, t, 123.4) for t in every(60, 130)]
    (found,) = run(frozen, "meter_frozen")
    assert found.mn == "T1" and found.evidence["power_kw"] == 123.4
    assert run(frozen[:110], "meter_frozen") == []
    alive = [meter(TREATMENT, t, 123.4 + (i % 2)) for i, t in enumerate(every(60, 200))]
    assert run(alive, "meter_frozen") == []


def shifts(days: int, night_kw: float, day_kw: float) -> list[Upload]:
    start = T0.replace(hour=0)
    return [
        meter(PRODUCTION, t, night_kw if t.hour >= 22 or t.hour < 6 else day_kw)
        for t in every(600, days * 144 + 1, start)
    ]


def test_production_by_night_more_than_by_day() -> None:
    (found,) = run(shifts(7, night_kw=900.0, day_kw=300.0), "night_production")
    assert found.evidence["night_kw"] == pytest.approx(900.0)
    assert found.evidence["day_kw"] == pytest.approx(300.0, rel=0.01)
    assert run(shifts(7, night_kw=400.0, day_kw=300.0), "night_production") == []
    assert run(shifts(5, night_kw=900.0, day_kw=300.0), "night_production") == []


def test_meters_are_not_judged_as_pollutants() -> None:
    idle = [meter(TREATMENT, t, 0.0) for t in every(60, 40)]
    for rule in ("zero", "constant", "spike", "negative"):
        assert run(idle, rule) == [], rule


def minutes_with_o2(start: datetime, so2: list[float], o2: float = 9.0) -> list[Upload]:
    return [
        Upload(MN, "2051", start + timedelta(minutes=10 * i),
               {"a21026": Values(avg=v, flag="N"), "a19001": Values(avg=o2, flag="N")})
        for i, v in enumerate(so2)
    ]  # fmt: skip


def test_an_hour_without_an_hourly_upload_is_judged_from_its_minute_data() -> None:
    hour = minutes_with_o2(T0, [30.0, 31.0, 32.0, 31.0, 30.0, 32.0])  # mean 31 at 9 % O2
    next_hour = minutes_with_o2(T0 + timedelta(hours=1), [20.0])
    (found,) = run([*hour, *next_hour], "exceedance")
    assert found.evidence["corrected"] == pytest.approx(38.75)
    assert found.evidence["valid_minutes"] == 60 and "分钟数据" in found.explanation
    assert (found.window_start, found.window_end) == (T0, T0 + timedelta(hours=1))
    # the hour is not over yet; too few valid minutes; or the device sent its own hour
    assert run(hour, "exceedance") == []
    assert run([*hour[:4], *next_hour], "exceedance") == []
    own = Upload(MN, "2061", T0, {"a21026": Values(avg=20.0, flag="N"),
                                  "a19001": Values(avg=6.0, flag="N")})  # fmt: skip
    assert run([*hour, own, *next_hour], "exceedance") == []


def test_a_logger_with_its_clock_in_the_future_does_not_silence_the_city() -> None:
    contexts = {f"D{i:02d}": PointContext(f"D{i:02d}", 1, "4411", "air") for i in range(20)}
    engine = RuleEngine(default_rule_set(), contexts)

    def reading(mn: str, when: datetime) -> Upload:
        return Upload(mn, "2011", when, {"a21026": Values(rtd=10.0)})

    found: list[Finding] = []
    for minute in range(0, 41):
        when = T0 + timedelta(minutes=minute)
        for i in range(1, 19):
            found += engine.feed(reading(f"D{i:02d}", when))
        found += engine.feed(reading("D19", when + timedelta(days=1)))  # its clock is wrong
        if minute == 0:
            found += engine.feed(reading("D00", when))  # then it falls silent
        found += engine.advance_clock()
    assert {f.mn for f in found if f.rule == "offline"} == {"D00"}


def test_every_rule_says_what_kind_of_finding_it_makes() -> None:
    kinds = {rule_id: rule.kind for rule_id, rule in RULES.items()}
    assert set(kinds.values()) <= set(RULE_KINDS)
    assert kinds["exceedance"] == kinds["daily_exceedance"] == "exceedance"
    assert kinds["constant"] == kinds["o2_dilution"] == kinds["flag_abuse"] == "falsification"
    assert kinds["treatment_off"] == "electricity" and kinds["offline"] == "transmission"
