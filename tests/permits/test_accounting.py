"""The permit accounting's golden values (rules.md §5.1 and §1.2): the worked
example, each HJ 75 substitution case as accounted, direct discharge, water
daily emissions; and the totals' thresholds (§5.2)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envwatch.permits.accounting import Method, accounted_hours, daily_totals, direct_hours
from envwatch.permits.checks import PermitSpan, validity_checks
from envwatch.permits.parameters import load_parameters
from envwatch.permits.totals import Status, pollutant_total, projection, status_of
from envwatch.rules.engine import default_rule_set
from envwatch.rules.hours import hours_of, with_substitutes
from envwatch.rules.model import Period, Upload, Values

RULES = default_rule_set()
PARAMETERS = load_parameters()
MN = "371502000000001001000000"
SO2, COD = "a21026", "w01018"
H = timedelta(hours=1)
Q3, Q4, NEXT = datetime(2026, 7, 1), datetime(2026, 10, 1), datetime(2027, 1, 1)


def air_hour(at: datetime, so2: float, flag: str = "N") -> Upload:
    # 100 m³/s: 360,000 m³ in the hour, so 0.36 kg per mg/m³.
    return Upload(MN, "2061", at, {SO2: Values(avg=so2, flag=flag),
                                   "a00000": Values(avg=100.0, flag="N")})  # fmt: skip


def test_the_worked_example_20_mg_by_500000_m3_is_a_hundredth_of_a_tonne() -> None:
    upload = Upload(
        MN,
        "2061",
        Q4,
        {SO2: Values(avg=20.0, flag="N"), "a00000": Values(avg=138.9, cou=500_000.0, flag="N")},
    )
    (hour,) = accounted_hours(MN, SO2, hours_of([upload], SO2, RULES))
    assert hour.method is Method.MEASURED
    assert hour.flow_m3 == pytest.approx(500_000.0)
    assert hour.emission_kg == pytest.approx(10.0)  # 0.01 t
    assert hour.measured_kg == hour.emission_kg


def _quarter(gap: int, flag: str, *, missing_tail: int = 0) -> list[Upload]:
    """Q3 all valid (SO2 30 then, its last 540 hours, 20); Q4: 180 valid hours
    at 10, a gap of ``gap`` hours flagged ``flag``, valid hours at 10 to the
    quarter's end but ``missing_tail`` hours never sent."""
    q3_hours = int((Q4 - Q3) / H)
    uploads = [air_hour(Q3 + i * H, 30.0 if i < q3_hours - 540 else 20.0) for i in range(q3_hours)]
    q4_hours = int((NEXT - Q4) / H)
    for i in range(q4_hours - missing_tail):
        at = Q4 + i * H
        uploads.append(air_hour(at, 10.0, flag if 180 <= i < 180 + gap else "N"))
    return uploads


CASES = [
    # (gap hours, α band, out of control, substitute kg, rule)
    (10, "≥90%", False, 3.6, "max of the last 180 valid hours"),
    (48, "≥90%", False, 7.2, "max of the last 720 valid hours"),
    (10, "75-90%", False, 10.8, "max of the last 2160 valid hours"),
    (10, "≥90%", True, 3.6, "max of the last 180 valid hours before the last calibration (失控)"),
    (48, "≥90%", True, 7.2, "max of the last 720 valid hours before the last calibration (失控)"),
    (10, "75-90%", True, 10.8,
     "max of the last 2160 valid hours before the last calibration (失控)"),
]  # fmt: skip


@pytest.mark.parametrize(("gap", "band", "uncontrolled", "kg", "rule"), CASES)
def test_each_hj75_substitution_case_is_accounted_with_its_rule(
    gap: int, band: str, uncontrolled: bool, kg: float, rule: str
) -> None:
    tail = 0 if band == "≥90%" else 300  # 2208 hours: 310 invalid is α 86 %
    uploads = _quarter(gap, "N" if uncontrolled else "M", missing_tail=tail)
    gap_start = Q4 + 180 * H
    periods = [Period(gap_start, gap_start + gap * H)] if uncontrolled else []
    hours = hours_of(uploads, SO2, RULES, since=Q3, until=NEXT, out_of_control=periods)
    substituted = with_substitutes(hours, SO2, RULES, out_of_control=periods)
    accounted = accounted_hours(MN, SO2, substituted)
    gap_hours = [h for h in accounted if gap_start <= h.hour < gap_start + gap * H]
    assert len(gap_hours) == gap
    assert {h.method for h in gap_hours} == {Method.SUBSTITUTED}
    assert {h.rule for h in gap_hours} == {rule}
    assert {round(h.emission_kg or 0, 6) for h in gap_hours} == {kg}
    assert {h.measured_kg for h in gap_hours} == {None}  # the original: invalid, kept apart
    assert {h.cause for h in gap_hours} == {"out_of_control" if uncontrolled else "maintenance"}


def test_below_75_percent_capture_the_hours_are_not_accounted() -> None:
    uploads = _quarter(10, "M", missing_tail=600)  # α = 1598/2208 = 72 %
    hours = with_substitutes(hours_of(uploads, SO2, RULES, since=Q3, until=NEXT), SO2, RULES)
    gap = [h for h in accounted_hours(MN, SO2, hours) if Q4 + 180 * H <= h.hour < Q4 + 190 * H]
    assert {h.method for h in gap} == {Method.MISSING}
    assert {h.emission_kg for h in gap} == {None}
    assert all("unusable" in (h.rule or "") for h in gap)


def test_a_stopped_hour_emits_nothing_and_an_unsubstituted_pollutant_stays_missing() -> None:
    water = [
        Upload(
            MN,
            "2061",
            Q4,
            {COD: Values(avg=50.0, flag="F"), "w00000": Values(avg=1.0, cou=3.6, flag="N")},
        ),
        Upload(
            MN,
            "2061",
            Q4 + H,
            {COD: Values(avg=50.0, flag="D"), "w00000": Values(avg=1.0, cou=3.6, flag="N")},
        ),
    ]
    hours = with_substitutes(hours_of(water, COD, RULES), COD, RULES)
    stopped, faulty = accounted_hours(MN, COD, hours)
    assert (stopped.method, stopped.emission_kg) == (Method.STOPPED, 0.0)
    assert (faulty.method, faulty.emission_kg, faulty.cause) == (Method.MISSING, None, "fault")


def test_direct_discharge_is_the_untreated_concentration_times_the_design_flow() -> None:
    reason = PARAMETERS.direct.reason
    hours = direct_hours(
        7,
        SO2,
        untreated_concentration=2000.0,
        design_flow_m3h=100_000.0,
        since=Q4 + timedelta(minutes=30),
        until=Q4 + 4 * H,
        reason=reason,
    )
    assert [h.hour for h in hours] == [Q4 + H, Q4 + 2 * H, Q4 + 3 * H]  # whole hours only
    assert {h.mn for h in hours} == {"outlet:7"}
    assert {h.method for h in hours} == {Method.DIRECT}
    assert [h.emission_kg for h in hours] == pytest.approx([200.0] * 3)  # 2000 × 1e5 × 1e-6 kg
    assert {h.rule for h in hours} == {reason}
    undeclared = direct_hours(7, SO2, untreated_concentration=None, design_flow_m3h=100_000.0,
                              since=Q4, until=Q4 + H, reason=reason)  # fmt: skip
    assert undeclared[0].emission_kg is None
    assert undeclared[0].rule is not None and "未申报" in undeclared[0].rule


def test_water_daily_emission_is_daily_volume_times_flow_weighted_mean() -> None:
    # COD 40 mg/L in 100 m³ and 60 mg/L in 300 m³: 400 m³ at 55 mg/L is 22 kg (rules.md §1.4, §5.1).
    uploads = [Upload(MN, "2061", Q4 + 8 * H, {COD: Values(avg=40.0, flag="N"),
                                               "w00000": Values(cou=100.0, flag="N")}),
               Upload(MN, "2061", Q4 + 9 * H, {COD: Values(avg=60.0, flag="N"),
                                               "w00000": Values(cou=300.0, flag="N")})]  # fmt: skip
    hours = accounted_hours(MN, COD, hours_of(uploads, COD, RULES))
    assert daily_totals(hours) == {Q4: {"measured": pytest.approx(400 * 55 * 1e-3)}}


def test_the_thresholds_of_the_permitted_total() -> None:
    totals = PARAMETERS.totals
    assert status_of(0.5, 10.0, 9.0, totals) is Status.OK
    assert status_of(0.8, 10.0, 9.0, totals) is Status.WARNING  # ≥ 80 %
    assert status_of(0.5, 10.0, 10.5, totals) is Status.WARNING  # projected above 100 %
    assert status_of(1.0, 10.0, 12.0, totals) is Status.ALARM
    assert status_of(None, None, 3.0, totals) is Status.NO_PERMIT


def test_the_projection_is_linear_to_year_end() -> None:
    half = datetime(2026, 7, 2, 12)  # 182.5 of 365 days
    assert projection(5.0, 2026, half) == pytest.approx(10.0)
    assert projection(5.0, 2026, None) is None
    total = pollutant_total(SO2, {"measured": 4000.0, "substituted": 500.0, "direct": 500.0,
                                  "missing": 0.0}, 10.0, 2026, half, PARAMETERS.totals)  # fmt: skip
    parts = [total.actual_t, total.measured_t, total.substituted_t, total.direct_t]
    assert parts == pytest.approx([5.0, 4.0, 0.5, 0.5])
    assert total.share == pytest.approx(0.5)
    assert total.status is Status.OK  # exactly 100 % projected is not above it


@given(st.lists(st.tuples(st.integers(0, 24 * 40), st.floats(0, 500), st.floats(0, 1e4)),
                max_size=60, unique_by=lambda item: item[0]))  # fmt: skip
def test_daily_totals_add_up_to_the_hours(samples: list[tuple[int, float, float]]) -> None:
    uploads = [Upload(MN, "2061", Q4 + at * H, {COD: Values(avg=c, flag="N"),
                                                "w00000": Values(cou=v, flag="N")})
               for at, c, v in samples]  # fmt: skip
    hours = accounted_hours(MN, COD, hours_of(uploads, COD, RULES))
    days = daily_totals(hours)
    assert sum(day["measured"] for day in days.values()) == pytest.approx(
        sum(c * v * 1e-3 for _, c, v in samples), rel=1e-9, abs=1e-9
    )


def test_permit_validity_checks() -> None:
    permit = PermitSpan("P-1", datetime(2021, 1, 1), datetime(2026, 3, 1))
    days = PARAMETERS.checks.expiring_days  # 60

    def codes(now: datetime, *, emitting: bool = True) -> list[tuple[str, str]]:
        return [(c.code, str(c.status)) for c in
                validity_checks([permit], now, emitting=emitting, expiring_days=days)]  # fmt: skip

    assert codes(datetime(2025, 12, 1)) == [("permit_valid", "ok")]  # 90 days left
    assert codes(datetime(2026, 1, 1)) == [("permit_expiring", "warning")]  # 59 days
    assert codes(datetime(2026, 3, 1)) == [("permit_expired", "problem"),
                                           ("no_valid_permit", "problem")]  # fmt: skip
    assert codes(datetime(2026, 3, 1), emitting=False) == [("permit_expired", "problem")]
    assert [c.code for c in validity_checks([], datetime(2026, 3, 1), emitting=True,
                                            expiring_days=days)] == ["no_valid_permit"]  # fmt: skip
