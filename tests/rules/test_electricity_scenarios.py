"""Electricity rules on normal plant days (issue 20 item 9): an overhauled line,
a variable-speed fan, day-shift meters, A-grade and exempt firms in a warning,
declared night shifts. Each gives no finding; the fault beside it still does."""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from envwatch.rules.engine import RuleEngine, default_rule_set
from envwatch.rules.model import Finding, Period, PointContext, PollutionWarning, Upload, Values
from envwatch.rules.shifts import declared_minutes, format_shifts, parse_shifts

T0 = datetime(2026, 11, 30, 0, 0)
ELECTRICITY_RULES = ("treatment_off", "start_stop_sync", "meter_frozen", "night_production",
                     "emergency_consumption")  # fmt: skip


def meter(mn: str, meter_id: int, kind: str, rated: float, **traits: object) -> PointContext:
    return PointContext(mn=mn, enterprise_id=7, industry="3011", outlet_kind=None,
                        meter_id=meter_id, meter_kind=kind, rated_kw=rated, **traits)  # type: ignore[arg-type]  # fmt: skip


LINE_A = meter("PA", 21, "production", 1000.0)
LINE_B = meter("PB", 22, "production", 1000.0)
DUST_A = meter("TA", 31, "treatment", 400.0, serves=(21,))
DUST_B = meter("TB", 32, "treatment", 400.0, serves=(22,))


NOISE = random.Random(20261204)


def power(context: PointContext, when: datetime, kw: float, energy: float | None = None) -> Upload:
    """A reading with the jitter of a real circuit's power (a still one reads 0)."""
    kw = round(kw * NOISE.uniform(0.98, 1.02), 1)
    values = {"power_kw": Values(rtd=kw, flag="N")}
    if energy is not None:
        values["energy_kwh"] = Values(rtd=energy, flag="N")
    return Upload(context.mn, "2011", when, values)


def run(contexts: Iterable[PointContext], uploads: Iterable[Upload]) -> list[Finding]:
    engine = RuleEngine(default_rule_set(), {c.mn: c for c in contexts})
    found: list[Finding] = []
    for upload in sorted(uploads, key=lambda u: u.data_time):
        found += engine.feed(upload)
    return [f for f in found if f.rule in ELECTRICITY_RULES]


def minutes(count: int, start: datetime = T0, step_s: int = 60) -> list[datetime]:
    return [start + timedelta(seconds=step_s * i) for i in range(count)]


def overhaul(dust_a_kw: float) -> list[Upload]:
    """Line A runs for 6 hours; line B and its own dust collector are down."""
    uploads = []
    for t in minutes(6 * 60):
        uploads += [power(LINE_A, t, 800.0), power(DUST_A, t, dust_a_kw),
                    power(LINE_B, t, 0.0), power(DUST_B, t, 0.0)]  # fmt: skip
    return uploads


def test_a_line_down_for_overhaul_with_its_own_treatment_is_no_alarm() -> None:
    contexts = (LINE_A, LINE_B, DUST_A, DUST_B)
    assert run(contexts, overhaul(dust_a_kw=280.0)) == []
    # Without the links, line A's running would be read as every treatment's duty.
    unlinked = (LINE_A, LINE_B, replace(DUST_A, serves=()), replace(DUST_B, serves=()))
    assert {(f.rule, f.mn) for f in run(unlinked, overhaul(dust_a_kw=280.0))} == {
        ("treatment_off", "TB")
    }
    # Line A's own dust collector off while line A runs is still found.
    assert {(f.rule, f.mn) for f in run(contexts, overhaul(dust_a_kw=1.0))} == {
        ("treatment_off", "TA")
    }


def fan_days(days: int, fan_kw: float, last_hour_kw: float | None = None) -> list[Upload]:
    """Production at 80 % all day; a variable-speed dust fan at ``fan_kw``."""
    rng = random.Random(7)
    uploads = []
    end = T0 + timedelta(days=days)
    for t in minutes(days * 24 * 60 + 60, step_s=60):
        kw = fan_kw * rng.uniform(0.95, 1.05)
        if last_hour_kw is not None and t >= end:
            kw = last_hour_kw
        uploads += [power(LINE_A, t, 800.0), power(DUST_A, t, round(kw, 1))]
    return uploads


def test_a_variable_speed_fan_far_below_its_rating_is_judged_against_its_normal_power() -> None:
    contexts = (LINE_A, DUST_A)
    # 26 % of its 400 kW rating: its normal running power, not idling.
    assert run(contexts, fan_days(2, fan_kw=104.0)) == []
    # The same fan dropping to 20 kW (a fifth of its normal power) while line A runs.
    (found,) = run(contexts, fan_days(2, fan_kw=104.0, last_hour_kw=20.0))
    assert found.rule == "treatment_off" and found.mn == "TA"
    assert 99.0 < found.evidence["normal_kw"] < 109.0
    assert found.window_start == T0 + timedelta(days=2)


def day_shift(days: int, frozen_register_from: datetime | None = None) -> list[Upload]:
    """Meters of a plant running 08:00-18:00 and reading 0 (register still) otherwise."""
    uploads = []
    registers = {"PA": 1000.0, "TA": 500.0}
    for t in minutes(days * 24 * 12, step_s=300):
        on = 8 <= t.hour < 18
        for context, kw in ((LINE_A, 750.0), (DUST_A, 300.0)):
            level = kw if on else 0.0
            if frozen_register_from is None or t < frozen_register_from or context is LINE_A:
                registers[context.mn] += level * 5 / 60
            uploads.append(power(context, t, level, round(registers[context.mn], 2)))
    return uploads


def test_day_shift_meters_reading_zero_off_shift_are_not_frozen() -> None:
    contexts = (LINE_A, DUST_A)
    assert run(contexts, day_shift(3)) == []
    # A register that stands still while the meter's power says the fan runs is.
    stuck = T0 + timedelta(days=1, hours=9)
    (found,) = run(contexts, day_shift(2, frozen_register_from=stuck))
    assert found.rule == "meter_frozen" and found.mn == "TA"
    assert found.window_start == stuck - timedelta(minutes=5)


DAY8 = T0 + timedelta(days=8)


def warning_week(context: PointContext, kw_during_warning: float) -> list[Finding]:
    warning = PollutionWarning("orange", Period(DAY8, DAY8 + timedelta(hours=12)))
    line = replace(context, emergencies=(warning,))
    series = [
        power(line, t, kw_during_warning if t >= DAY8 else 800.0)
        for t in minutes(9 * 144, T0 + timedelta(days=1), step_s=600)
    ]
    return run([line], series)


def test_a_grade_and_exempt_firms_are_not_held_to_the_flat_cut() -> None:
    assert warning_week(replace(LINE_A, performance_grade="A"), 800.0) == []
    assert warning_week(replace(LINE_A, performance_grade="A+"), 800.0) == []
    assert warning_week(replace(LINE_A, emergency_exempt=True), 800.0) == []
    (found,) = warning_week(replace(LINE_A, performance_grade="B"), 800.0)
    assert found.rule == "emergency_consumption" and found.evidence["required_cut"] == 0.2
    assert found.evidence["performance_grade"] == "B"


def valley_tariff_week(shifts: str) -> list[Finding]:
    line = replace(LINE_A, work_shifts=parse_shifts(shifts))
    series = [
        power(line, t, 900.0 if t.hour >= 22 or t.hour < 6 else 300.0)
        for t in minutes(7 * 144 + 1, step_s=600)
    ]
    return run([line], series)


def test_declared_night_shifts_are_no_night_production() -> None:
    assert valley_tariff_week("22:00-06:00,08:00-16:00") == []
    (found,) = valley_tariff_week("08:00-16:00")
    assert found.rule == "night_production"
    (found,) = valley_tariff_week("")
    assert found.rule == "night_production"


def test_shifts_read_as_declared() -> None:
    assert parse_shifts("08:00-16:00, 22:00-06:00") == ((480, 960), (1320, 1800))
    assert parse_shifts("00:00-24:00") == ((0, 1440),)
    for text in ("08:00-16:00,22:00-06:00", "00:00-24:00", "07:30-19:30"):
        assert format_shifts(parse_shifts(text)) == text
    assert declared_minutes(parse_shifts("22:00-06:00"), 22 * 60, 6 * 60) == 480
    assert declared_minutes(parse_shifts("08:00-16:00"), 22 * 60, 6 * 60) == 0
    assert declared_minutes(parse_shifts("00:00-24:00"), 22 * 60, 6 * 60) == 480
    for bad in ("8:00-16:00", "08:00-25:00", "08:00"):
        with pytest.raises(ValueError, match=bad):
            parse_shifts(bad)
