"""Golden values of the calculations (rules.md §1.1, §1.2, §1.4)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envwatch.rules.o2 import o2_corrected
from envwatch.rules.validity import (
    InvalidCause,
    Sample,
    SubstitutionTable,
    Validity,
    capture_rate,
    daily_mean,
    period_mean,
    substitute_emission,
)

HOUR = datetime(2026, 11, 29, 10, 0)
HJ75 = SubstitutionTable(
    high_rate=0.9, low_rate=0.75, short_gap_hours=24, short_window=180, long_window=720,
    low_rate_window=2160,
)  # fmt: skip


def test_o2_correction_of_the_coal_boiler_example() -> None:
    # 31.0 mg/m³ at 9.0 % O2, reference 6 %: 31 × 15/12 = 38.75, above 35.
    assert o2_corrected(31.0, 9.0, 6.0, 19.0) == pytest.approx(38.75)
    assert o2_corrected(30.0, 8.0, 6.0, 19.0) == pytest.approx(34.615, abs=1e-3)


def test_no_correction_near_21_percent_o2() -> None:
    assert o2_corrected(10.0, 19.0, 6.0, 19.0) is None
    assert o2_corrected(10.0, 21.5, 6.0, 25.0) is None
    assert o2_corrected(10.0, 18.9, 6.0, 19.0) == pytest.approx(10 * 15 / 2.1)


@given(st.floats(0, 5000), st.floats(0, 18.9), st.floats(0, 18.9), st.floats(0, 15))
def test_correction_grows_with_o2_and_equals_at_the_reference(
    concentration: float, o2: float, other_o2: float, reference: float
) -> None:
    low, high = sorted((o2, other_o2))
    at_low = o2_corrected(concentration, low, reference, 19.0)
    at_high = o2_corrected(concentration, high, reference, 19.0)
    assert at_low is not None and at_high is not None
    assert at_low <= at_high * (1 + 1e-12)
    assert o2_corrected(concentration, reference, reference, 19.0) == pytest.approx(concentration)


def minutes(count: int, flag: str = "N", value: float = 10.0) -> list[Sample]:
    return [Sample(HOUR + timedelta(minutes=i), value, flag) for i in range(count)]


def test_a_valid_hour_needs_45_valid_minutes() -> None:
    hour = minutes(45) + minutes(15, flag="M", value=500.0)
    result = period_mean(hour, min_valid_minutes=45, valid_flags={"N", "T"})
    assert (result.validity, result.mean, result.valid_minutes) == (Validity.VALID, 10.0, 45)
    short = minutes(44) + minutes(16, flag="D")
    assert period_mean(short, min_valid_minutes=45, valid_flags={"N"}).validity is Validity.INVALID


def test_ten_minute_data_count_their_minutes_and_stopped_hours_are_stopped() -> None:
    tens = [Sample(HOUR + timedelta(minutes=10 * i), 5.0 + i, "N", minutes=10) for i in range(5)]
    result = period_mean(tens, min_valid_minutes=45, valid_flags={"N"})
    assert result.validity is Validity.VALID and result.mean == pytest.approx(7.0)
    stopped = period_mean(minutes(60, flag="F"), min_valid_minutes=45, valid_flags={"N"})
    assert stopped.validity is Validity.STOPPED


def test_daily_mean_of_wastewater_is_flow_weighted() -> None:
    # COD 40 and 60 mg/L with 100 and 300 m³ → 55 mg/L.
    assert daily_mean([40.0, 60.0], [100.0, 300.0]) == pytest.approx(55.0)
    assert daily_mean([40.0, 60.0]) == pytest.approx(50.0)
    assert daily_mean([40.0, 60.0], [0.0, 0.0]) == pytest.approx(50.0)
    with pytest.raises(ValueError, match="no valid"):
        daily_mean([])


def test_capture_rate_leaves_stopped_hours_out() -> None:
    assert capture_rate(2184, 184, 100) == pytest.approx(0.95)
    assert capture_rate(100, 100, 0) is None


@pytest.mark.parametrize(
    ("capture", "gap", "window"),
    [(0.95, 24, 180), (0.95, 25, 720), (0.80, 3, 2160), (0.90, 1, 180), (0.75, 100, 2160)],
)
def test_substitution_table(capture: float, gap: int, window: int) -> None:
    history = [float(i) for i in range(3000)]
    result = substitute_emission(HJ75, capture, gap, history)
    assert result.window == window
    assert result.value == 2999.0
    assert substitute_emission(HJ75, capture, gap, [5.0, 9.0, 7.0]).value == 9.0
    assert InvalidCause.OUT_OF_CONTROL.value == "out_of_control"


def test_substitution_takes_the_maximum_of_its_window_only() -> None:
    history = [100.0] + [1.0] * 180
    assert substitute_emission(HJ75, 0.95, 2, history).value == 1.0
    assert substitute_emission(HJ75, 0.95, 30, history).value == 100.0


def test_below_75_percent_capture_the_data_are_unusable() -> None:
    result = substitute_emission(HJ75, 0.7, 1, [1.0])
    assert result.value is None and "unusable" in result.rule
