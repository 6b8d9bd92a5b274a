"""Judgement corrections (issue 20 items 3-5): limits by averaging period, only a
valid O2 corrects, start-up marks, intermittent wastewater days and two-sided
limits; golden values from the issue's scenarios (pure)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from envwatch.rules.catalogue.compliance import DailyExceedanceParams, valid_day
from envwatch.rules.engine import RuleEngine, default_rule_set
from envwatch.rules.model import Finding, Limit, PointContext, Upload, Values

RULES = default_rule_set()
DAY = datetime(2026, 11, 29)
SO2, O2, COD, PH, FLOW = "a21026", "a19001", "w01018", "w01001", "w00000"

INCINERATOR = PointContext(
    mn="INC1", enterprise_id=1, industry="7820", outlet_kind="air",
    limits={SO2: (Limit(100.0, "mg/m³", "GB 18485-2014 1小时均值", 11.0, period="1h"),
                  Limit(80.0, "mg/m³", "GB 18485-2014 24小时均值", 11.0, period="24h"))},
)  # fmt: skip
COAL = PointContext(
    mn="COAL1", enterprise_id=2, industry="4411", outlet_kind="air",
    limits={SO2: (Limit(35.0, "mg/m³", "超低排放", 6.0),)},
)  # fmt: skip
PLANT = PointContext(
    mn="WW1", enterprise_id=3, industry="2221", outlet_kind="water",
    limits={COD: (Limit(50.0, "mg/L", "GB 18918-2002 一级A", period="24h"),),
            PH: (Limit(9.0, "无量纲", "GB 18918-2002", period="24h", lower=6.0),)},
)  # fmt: skip
CONTEXTS = {c.mn: c for c in (INCINERATOR, COAL, PLANT)}


def hour(
    mn: str, at: datetime, values: dict[str, tuple[float, str]], *, cou: float | None = None
) -> Upload:
    out = {code: Values(avg=value, flag=flag) for code, (value, flag) in values.items()}
    if cou is not None:
        out[FLOW] = Values(avg=cou / 3600 * 1000, cou=cou, flag="N")
    return Upload(mn, "2061", at, out)


def judged(uploads: list[Upload]) -> list[Finding]:
    engine = RuleEngine(RULES, CONTEXTS)
    found: list[Finding] = []
    for upload in uploads:
        found += engine.feed(upload)
    return found


def rules_of(found: list[Finding]) -> list[str]:
    return sorted(f.rule for f in found)


def incinerator_day(hourly: list[float]) -> list[Upload]:
    return [hour("INC1", DAY + timedelta(hours=h), {SO2: (v, "N"), O2: (11.0, "N")})
            for h, v in enumerate(hourly)]  # fmt: skip


def test_hours_are_judged_against_hourly_limits_and_days_against_daily_ones() -> None:
    # Hourly 90 and 92 are under the hourly limit (100), though over the 24-h one (80);
    # the day's mean, 54.9, meets both.
    hourly = [90.0, 92.0] + [51.6] * 22
    assert sum(hourly) / 24 == pytest.approx(54.9, abs=0.05)
    next_day = hour("INC1", DAY + timedelta(days=1), {SO2: (50.0, "N"), O2: (11.0, "N")})
    exceeded = [f for f in judged([*incinerator_day(hourly), next_day])
                if f.rule in ("exceedance", "daily_exceedance")]  # fmt: skip
    assert exceeded == []
    # A day whose mean is 85 breaks the 24-h limit: a daily exceedance, no hourly one.
    found = judged([*incinerator_day([85.0] * 24), next_day])
    (daily,) = [f for f in found if f.rule == "daily_exceedance"]
    assert daily.evidence["daily_mean"] == 85.0 and daily.evidence["period"] == "24h"
    assert daily.evidence["limit"] == 80.0 and "exceedance" not in rules_of(found)
    # An hour of 120 breaks the hourly limit; evidence names its period.
    (alarm,) = [f for f in judged(incinerator_day([120.0])) if f.rule == "exceedance"]
    assert alarm.evidence["limit"] == 100.0 and alarm.evidence["period"] == "1h"
    assert alarm.evidence["other_limits"] == [
        {"value": 80.0, "basis": "GB 18485-2014 24小时均值", "period": "24h"}
    ]


def test_the_strictest_limit_is_chosen_after_o2_correction() -> None:
    # 40 mg/m³ at 9 % O2: 50.0 at the 6 % reference (limit 60, met), 33.3 at the 11 %
    # one (limit 30, breached): judged against the one it breaches.
    limits = (Limit(30.0, "mg/m³", "B", 11.0), Limit(60.0, "mg/m³", "A", 6.0))
    two = PointContext(mn="TWO", enterprise_id=4, industry="4411", outlet_kind="air",
                       limits={SO2: limits})  # fmt: skip
    engine = RuleEngine(RULES, {"TWO": two})
    (found,) = engine.feed(hour("TWO", DAY, {SO2: (40.0, "N"), O2: (9.0, "N")}))
    assert found.evidence["limit"] == 30.0 and found.evidence["corrected"] == pytest.approx(
        33.3333, abs=1e-3
    )


@pytest.mark.parametrize(
    ("o2", "problem"),
    [((0.0, "D"), "flag D"), (None, "missing"), ((-0.5, "N"), "out_of_range")],
    ids=["D-marked 0.0", "no O2", "below zero"],
)
def test_only_a_valid_o2_corrects(o2: tuple[float, str] | None, problem: str) -> None:
    # SO2 45 at a D-marked O2 of 0.0 would be 32.1 mg/m³ "corrected": an exceedance hidden.
    values = {SO2: (45.0, "N"), **({O2: o2} if o2 is not None else {})}
    found = judged([hour("COAL1", DAY + timedelta(hours=h), values) for h in range(3)])
    assert rules_of(found) == ["o2_uncorrectable"]  # once for the run of hours, not judged
    (said,) = found
    assert said.evidence["o2_problem"] == problem and "无法折算" in said.explanation
    # A valid O2 again, and the hour is judged: 45 at 6 % is over 35.
    again = hour("COAL1", DAY + timedelta(hours=3), {SO2: (45.0, "N"), O2: (6.0, "N")})
    assert rules_of(judged([again])) == ["exceedance"]


def test_a_marked_start_up_hour_is_not_judged_at_the_ceiling() -> None:
    # O2 18.5 % would make SO2 7 into 42 mg/m³ (×6): the start-up mark excludes the hour.
    startup = hour("COAL1", DAY, {SO2: (7.0, "N"), O2: (18.5, "S")})
    assert [f for f in judged([startup]) if f.severity in ("alarm", "severe")] == []
    assert "exceedance" not in rules_of(judged([startup]))
    unmarked = hour("COAL1", DAY, {SO2: (7.0, "N"), O2: (18.5, "N")})
    assert rules_of(judged([unmarked])) == ["exceedance"]  # unmarked, it is judged


def test_a_day_shift_discharger_is_judged_on_its_discharging_hours() -> None:
    # 10 discharging hours of COD 60 mg/L (limit 50), 14 hours stopped (F).
    day = [hour("WW1", DAY + timedelta(hours=h),
                {COD: (60.0, "N") if 8 <= h < 18 else (0.0, "F")},
                cou=40.0 if 8 <= h < 18 else 0.0)
           for h in range(24)]  # fmt: skip
    next_day = hour("WW1", DAY + timedelta(days=1), {COD: (30.0, "F")})
    (daily,) = [f for f in judged([*day, next_day]) if f.rule == "daily_exceedance"]
    assert daily.evidence["daily_mean"] == 60.0 and daily.evidence["stopped_hours"] == 14
    assert "停运14小时" in daily.explanation
    params = DailyExceedanceParams(min_valid_hours=20)
    assert valid_day(9, 14, params) and not valid_day(8, 14, params)
    assert valid_day(20, 0, params) and not valid_day(19, 0, params)
    assert not valid_day(0, 24, params)


def test_ph_is_a_range() -> None:
    day = [hour("WW1", DAY + timedelta(hours=h), {PH: (3.5, "N")}) for h in range(24)]
    next_day = hour("WW1", DAY + timedelta(days=1), {PH: (7.0, "N")})
    found = judged([*day, next_day])
    (daily,) = [f for f in found if f.rule == "daily_exceedance"]
    assert daily.evidence["daily_mean"] == 3.5 and daily.evidence["lower_limit"] == 6.0
    assert "低于" in daily.explanation and "6~9" in daily.explanation
    warnings = [f for f in found if f.rule == "exceedance"]
    assert len(warnings) == 24 and all(f.severity == "warning" for f in warnings)
    neutral = [hour("WW1", DAY + timedelta(hours=h), {PH: (7.2, "N")}) for h in range(24)]
    assert judged([*neutral, next_day]) == []  # in range: nothing, no early warning either
