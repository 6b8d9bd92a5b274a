"""HJ 75 substitution over the right population: absent hours counted as
missing, the capture rate α per calendar quarter, the cause of each invalid
hour, out-of-control hours looking back from the last calibration, and the
look-back over the device's stored history whatever the query window."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from envwatch.processing.hours import stored_hours
from envwatch.rules.engine import default_rule_set
from envwatch.rules.hours import hours_of, quarterly_capture, with_substitutes
from envwatch.rules.model import Period, Upload, Values
from envwatch.rules.validity import InvalidCause, Validity
from envwatch.store.archive import Archive, MeasurementRow, ReceivedFrame

RULES = default_rule_set()
SO2 = "a21026"
MN = "371502000000001001000000"
Q4 = datetime(2026, 10, 1)  # a calendar quarter's first hour
H = timedelta(hours=1)


def hourly(start: datetime, at: int, so2: float, flag: str = "N") -> Upload:
    # 100 m³/s: 360,000 m³ an hour, 0.36 kg per mg/m³.
    values = {SO2: Values(avg=so2, flag=flag), "a00000": Values(avg=100.0, flag="N")}
    return Upload(MN, "2061", start + at * H, values)


def test_absent_hours_are_missing_and_count_against_the_capture_rate() -> None:
    # 100 valid hours, 30 with no upload at all, 10 valid: 140 hours, α = 110/140.
    uploads = [hourly(Q4, h, 10.0 + h % 10) for h in (*range(100), *range(130, 140))]
    hours = hours_of(uploads, SO2, RULES, since=Q4, until=Q4 + 140 * H)
    assert len(hours) == 140
    absent = hours[100:130]
    assert {(h.source, h.validity, h.cause) for h in absent} == {
        ("none", Validity.INVALID, InvalidCause.MISSING)
    }
    assert quarterly_capture(hours) == {Q4: pytest.approx(110 / 140)}  # 78.6 %
    substituted = with_substitutes(hours, SO2, RULES)
    gaps = [h for h in substituted if h.substituted_kg is not None]
    assert len(gaps) == 30
    # 75 % ≤ α < 90 %: the largest of the last 2160 valid hourly emissions, 19 × 0.36 kg.
    assert {h.substitution for h in gaps} == {"max of the last 2160 valid hours"}
    assert {round(h.substituted_kg or 0, 6) for h in gaps} == {6.84}
    # Without a span, nothing is invented: only the uploaded hours.
    assert len(hours_of(uploads, SO2, RULES)) == 110


def test_each_invalid_hour_records_its_cause() -> None:
    uploads = [hourly(Q4, 0, 10.0, "D"), hourly(Q4, 1, 10.0, "M"), hourly(Q4, 2, 10.0, "C"),
               hourly(Q4, 3, 10.0, "B"), hourly(Q4, 4, 10.0, "F"), hourly(Q4, 5, 10.0),
               Upload(MN, "2061", Q4 + 6 * H, {"a00000": Values(avg=100.0, flag="N")})]  # fmt: skip
    # Hour 7: two 10-minute records only (20 < 45 valid minutes).
    uploads += [Upload(MN, "2051", Q4 + 7 * H + timedelta(minutes=10 * i),
                       {SO2: Values(avg=10.0, flag="N")}) for i in range(2)]  # fmt: skip
    hours = hours_of(uploads, SO2, RULES, since=Q4, until=Q4 + 9 * H)
    assert [h.cause for h in hours] == [
        InvalidCause.FAULT, InvalidCause.MAINTENANCE, InvalidCause.CALIBRATION,
        InvalidCause.COMMS, None, None, InvalidCause.NO_VALUE,
        InvalidCause.TOO_FEW_MINUTES, InvalidCause.MISSING,
    ]  # fmt: skip
    assert hours[4].validity is Validity.STOPPED


def drifting() -> list[Upload]:
    """Hours 0–39 at 10 mg/m³ (hour 30 at 20), a calibration in hour 40,
    hours 41–47 at 40 mg/m³, hours 48–49 invalid (flag U), 50–59 at 10."""
    uploads = [hourly(Q4, h, 20.0 if h == 30 else 10.0) for h in range(40)]
    uploads += [hourly(Q4, 40, 10.0, "C")]
    uploads += [hourly(Q4, h, 40.0) for h in range(41, 48)]
    uploads += [hourly(Q4, h, 10.0, "U") for h in range(48, 50)]
    return uploads + [hourly(Q4, h, 10.0) for h in range(50, 60)]


def test_out_of_control_hours_look_back_from_the_last_calibration() -> None:
    # A deployment whose loggers flag out-of-control data (失控) with U.
    causes = {**RULES.validity.invalid_causes, "U": InvalidCause.OUT_OF_CONTROL}
    rules = replace(RULES, validity=RULES.validity.model_copy(update={"invalid_causes": causes}))
    hours = with_substitutes(hours_of(drifting(), SO2, rules), SO2, rules)
    assert [h.cause for h in hours[48:50]] == [InvalidCause.OUT_OF_CONTROL] * 2
    # Before the calibration of hour 40 the largest was 20 mg/m³: 7.2 kg, not
    # the 40 mg/m³ (14.4 kg) of the drifting hours after it.
    assert [h.substituted_kg for h in hours[48:50]] == [pytest.approx(7.2)] * 2
    assert (
        hours[48].substitution
        == "max of the last 180 valid hours before the last calibration (失控)"
    )
    # The same hours as maintenance look back from the gap: 14.4 kg.
    maintenance = [replace(u, values={**u.values, SO2: Values(avg=10.0, flag="M")})
                   if u.values[SO2].flag == "U" else u for u in drifting()]  # fmt: skip
    hours = with_substitutes(hours_of(maintenance, SO2, RULES), SO2, RULES)
    assert [h.cause for h in hours[48:50]] == [InvalidCause.MAINTENANCE] * 2
    assert [h.substituted_kg for h in hours[48:50]] == [pytest.approx(14.4)] * 2


def test_a_declared_out_of_control_period_invalidates_its_hours_whatever_their_flags() -> None:
    # The check at hour 50 failed: out of control since the calibration (hour 41 on).
    period = Period(Q4 + 41 * H, Q4 + 50 * H)
    uploads = [u for u in drifting() if u.values[SO2].flag != "U"]
    uploads += [hourly(Q4, h, 40.0) for h in (48, 49)]
    hours = with_substitutes(hours_of(uploads, SO2, RULES, out_of_control=[period]), SO2,
                             RULES, out_of_control=[period])  # fmt: skip
    gap = hours[41:50]
    assert {(h.validity, h.cause, h.mean) for h in gap} == {
        (Validity.INVALID, InvalidCause.OUT_OF_CONTROL, None)
    }
    assert [h.substituted_kg for h in gap] == [pytest.approx(7.2)] * 9
    assert hours[50].validity is Validity.VALID


def quarter_with_a_gap() -> list[Upload]:
    """Q4 2026 hourly (2,208 hours), no upload 2026-11-15 06:00–12:00; SO2
    10–19 mg/m³, 30 mg/m³ in the hour before the gap."""
    gap = range(45 * 24 + 6, 45 * 24 + 12)
    return [hourly(Q4, h, 30.0 if h == gap.start - 1 else 10.0 + h % 10)
            for h in range(92 * 24) if h not in gap]  # fmt: skip


def test_the_capture_rate_is_the_quarter_s_not_the_window_s() -> None:
    uploads = quarter_with_a_gap()
    quarter = hours_of(uploads, SO2, RULES, since=Q4, until=Q4 + 92 * 24 * H)
    assert quarterly_capture(quarter) == {Q4: pytest.approx(2202 / 2208)}
    day = datetime(2026, 11, 15)
    substituted = [
        h for h in with_substitutes(quarter, SO2, RULES) if day <= h.start < day + 24 * H
    ]
    gap = [h for h in substituted if h.validity is Validity.INVALID]
    assert len(gap) == 6
    # α ≥ 90 %, 6 hours ≤ 24: the 180-hour rule, 30 mg/m³ × 0.36 = 10.8 kg.
    assert {(h.substitution, round(h.substituted_kg or 0, 6)) for h in gap} == {
        ("max of the last 180 valid hours", 10.8)
    }
    # The day alone would say α = 18/24 = 75 % and the 2160-hour rule.
    alone = with_substitutes([h for h in quarter if day <= h.start < day + 24 * H], SO2, RULES)
    assert {h.substitution for h in alone if h.validity is Validity.INVALID} == {
        "max of the last 2160 valid hours"
    }


def test_stored_hours_count_the_quarter_and_look_back_whatever_the_window(engine: Engine) -> None:
    frames = [
        ReceivedFrame(datetime.now(UTC), "test", b"##", "accepted", mn=MN, cn="2061",
                      measurements=tuple(MeasurementRow(MN, "2061", u.data_time, code, avg=v.avg,
                                                        flag=v.flag)
                                         for code, v in u.values.items()))
        for u in quarter_with_a_gap()
    ]  # fmt: skip
    Archive(engine).write_batch(frames)
    now = datetime(2027, 1, 10, 8, 30)
    day = datetime(2026, 11, 15)
    with engine.connect() as connection:
        windows = {
            span: stored_hours(connection, MN, SO2, RULES, since=since, until=since + span,
                               now=now)
            for span, since in ((timedelta(days=1), day), (timedelta(days=30), day - 14 * 24 * H))
        }  # fmt: skip
    for span, hours in windows.items():
        assert len(hours) == span // H
        gap = [h for h in hours if h.validity is Validity.INVALID]
        assert [h.start for h in gap] == [day + (6 + i) * H for i in range(6)]
        assert {h.cause for h in gap} == {InvalidCause.MISSING}
        assert {(h.substitution, round(h.substituted_kg or 0, 6)) for h in gap} == {
            ("max of the last 180 valid hours", 10.8)
        }
