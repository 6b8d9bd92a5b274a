"""Daily and period statistics (GB 3095 validity, HJ 663 percentiles and the
composite index), and a period judged part by part across 2026-03-01."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from envwatch.quality.air_statistics import (
    DayStatistics,
    area_day,
    day_statistics,
    o3_8h_windows,
    percentile,
    period_statistics,
    required_days,
)
from envwatch.quality.editions import air_editions

EDITIONS = air_editions()


def steady_day(
    day: date, hours: int = 24, *, pm2_5: float = 40, o3: float = 80, co: float = 0.8
) -> dict[str, list[float | None]]:
    def row(value: float) -> list[float | None]:
        return [value if h < hours else None for h in range(24)]

    return {"PM2_5": row(pm2_5), "PM10": row(70), "SO2": row(8), "NO2": row(30),
            "CO": row(co), "O3": row(o3)}  # fmt: skip


def test_a_24h_mean_needs_20_hours() -> None:
    nineteen = day_statistics(date(2026, 5, 1), steady_day(date(2026, 5, 1), 19))
    twenty = day_statistics(date(2026, 5, 1), steady_day(date(2026, 5, 1), 20))
    assert (nineteen.valid["PM2_5"], nineteen.values["PM2_5"]) == (False, None)
    assert nineteen.counts["PM2_5"] == 19
    assert (twenty.valid["PM2_5"], twenty.values["PM2_5"]) == (True, Decimal(40))
    # 2026: a missing indicator and the rest at most 100 → NA.
    assert nineteen.aqi.aqi is None
    assert twenty.aqi.aqi is not None


def test_an_8h_window_needs_6_hours() -> None:
    hours: list[float | None] = [None] * 24
    for h in range(5):  # hours 0–4: the first window has 5
        hours[h] = 100
    assert o3_8h_windows(hours, 6)[0] is None
    hours[5] = 100
    assert o3_8h_windows(hours, 6)[0] == Decimal(100)
    assert len(o3_8h_windows(hours, 6)) == 17  # windows starting 0..16


def test_mda8_needs_14_windows_unless_it_exceeds_the_limit() -> None:
    day = date(2026, 7, 1)
    low: list[float | None] = [60.0] * 13 + [None] * 11  # windows 0..5 valid only
    stats = day_statistics(day, {"O3": low})
    assert stats.counts["O3_8h"] < 14 and not stats.valid["O3_8h"]
    high: list[float | None] = [200.0] * 13 + [None] * 11
    over = day_statistics(day, {"O3": high})
    assert over.valid["O3_8h"] and over.values["O3_8h"] == Decimal(200)


def test_mda8_is_the_highest_window() -> None:
    hours: list[float | None] = [50.0] * 24
    for h in range(12, 20):
        hours[h] = 170.0
    stats = day_statistics(date(2026, 7, 1), {**steady_day(date(2026, 7, 1)), "O3": hours})
    assert stats.values["O3_8h"] == Decimal(170)
    assert stats.values["O3_1h"] == Decimal(170)
    assert stats.aqi.aqi == 110 and stats.aqi.primary == ("O3_8h",)


@given(
    st.lists(st.floats(min_value=0, max_value=500, allow_nan=False), min_size=1, max_size=400),
    st.sampled_from([50, 90, 95]),
)
def test_percentiles_follow_numpy_linear(values: list[float], p: int) -> None:
    ours = percentile(values, p)
    assert ours is not None
    theirs = float(np.percentile(np.array(values), p, method="linear"))
    assert abs(float(ours) - theirs) <= 1e-9 * max(1.0, abs(theirs))


def test_hj663_percentile_golden() -> None:
    # n = 10, p = 90: k = 1 + 9 × 0.9 = 9.1, X = X9 + 0.1 × (X10 − X9).
    assert percentile([float(v) for v in range(1, 11)], 90) == Decimal("9.1")
    assert percentile([5.0], 95) == Decimal(5)


def test_required_days() -> None:
    new = EDITIONS.by_id("2026")
    assert required_days(date(2026, 5, 1), date(2026, 5, 31), new) == 27
    assert required_days(date(2027, 2, 1), date(2027, 2, 28), new) == 25
    assert required_days(date(2027, 1, 1), date(2027, 12, 31), new) == 324
    assert required_days(date(2026, 12, 1), date(2026, 12, 10), new) == 6  # month to date


def month(first: date, last: date, pm2_5: float = 40) -> list[DayStatistics]:
    days = []
    day = first
    while day <= last:
        days.append(day_statistics(day, steady_day(day, pm2_5=pm2_5)))
        day += timedelta(days=1)
    return days


def test_a_month_statistics_and_composite_index() -> None:
    days = month(date(2026, 5, 1), date(2026, 5, 31))
    stats = period_statistics(days, date(2026, 5, 1), date(2026, 5, 31))
    assert stats.valid
    figures = {k: s.value for k, s in stats.statistics.items()}
    assert figures == {
        "PM2_5": 40, "PM10": 70, "SO2": 8, "NO2": 30, "CO_p95": Decimal("0.8"), "O3_8h_p90": 80,
    }  # fmt: skip
    expected = (
        Decimal(40) / 35 + Decimal(70) / 70 + Decimal(8) / 60 + Decimal(30) / 40
        + Decimal("0.8") / 4 + Decimal(80) / 160
    )  # fmt: skip
    assert stats.composite_index == expected
    assert (stats.aqi_days, stats.good_days, stats.heavy_days) == (31, 31, 0)
    assert [p.edition for p in stats.parts] == ["2026"]


def test_too_few_days_make_the_month_invalid_and_the_index_absent() -> None:
    days = month(date(2026, 5, 1), date(2026, 5, 26))  # 26 of 31 days
    stats = period_statistics(days, date(2026, 5, 1), date(2026, 5, 31))
    assert not stats.valid
    assert stats.statistics["PM2_5"].value is None and stats.statistics["PM2_5"].days == 26
    assert stats.composite_index is None and "PM2_5" in stats.missing_for_index


def test_a_period_spanning_2026_03_01_is_judged_part_by_part() -> None:
    # PM2.5 at 70 every day: good (IAQI 94) by 2012, lightly polluted (110) by 2026.
    first, last = date(2026, 2, 15), date(2026, 3, 14)
    days = month(first, last, pm2_5=70)
    stats = period_statistics(days, first, last)
    assert [(p.edition, p.first, p.last, p.days) for p in stats.parts] == [
        ("2012", date(2026, 2, 15), date(2026, 2, 28), 14),
        ("2026", date(2026, 3, 1), date(2026, 3, 14), 14),
    ]
    assert (stats.aqi_days, stats.good_days) == (28, 14)
    assert stats.good_day_ratio == Decimal(50)


def test_an_area_day_is_the_mean_of_its_stations() -> None:
    day = date(2026, 5, 1)
    a = day_statistics(day, steady_day(day, pm2_5=40))
    b = day_statistics(day, steady_day(day, pm2_5=61))
    missing = day_statistics(day, steady_day(day, hours=10))
    area = area_day(day, [a, b, missing])
    assert area.values["PM2_5"] == Decimal(50)  # 50.5 rounded half to even
    assert area.counts["PM2_5"] == 2
