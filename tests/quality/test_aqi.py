"""HJ 633 AQI by edition: golden values of rules.md §6.1 and §6.6, every
breakpoint, the rules above a table's top, rounding, and monotonicity."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envwatch.quality.aqi import QualityInputError, daily_report, hourly_report, indicator_iaqi
from envwatch.quality.editions import Edition, air_editions

EDITIONS = air_editions()
OLD = EDITIONS.by_id("2012")
NEW = EDITIONS.by_id("2026")


def test_the_edition_follows_the_date() -> None:
    assert EDITIONS.edition_for(date(2026, 2, 28)).id == "2012"
    assert EDITIONS.edition_for(date(2026, 3, 1)).id == "2026"
    assert EDITIONS.edition_for(date(2015, 6, 1)).id == "2012"  # the oldest before its start


@pytest.mark.parametrize(
    ("edition", "indicator", "value", "iaqi"),
    [
        ("2012", "PM2_5_24h", 80, 107),  # 106.25 rounded up
        ("2026", "PM2_5_24h", 80, 119),  # 118.18 rounded up
        ("2012", "O3_8h", 170, 110),  # 109.09
        ("2026", "O3_8h", 170, 110),
        ("2012", "PM10_24h", 130, 90),
        ("2026", "PM10_24h", 130, 104),  # 100 + 50/130 × 10 = 103.85
        ("2012", "PM2_5_1h", 80, 107),  # the real-time PM read against 24-h breakpoints
        ("2026", "CO_24h", 2.25, 55),  # rounded half to even to 2.2 first
        ("2026", "CO_24h", 2.35, 60),  # 2.4
        ("2026", "PM2_5_24h", 35.5, 52),  # 36 (half to even): 50 + 50/25 × 1
        ("2026", "PM2_5_24h", 34.5, 49),  # 34 (half to even): 48.57 rounded up
    ],
)
def test_golden_iaqi(edition: str, indicator: str, value: float, iaqi: int) -> None:
    judged = indicator_iaqi(EDITIONS.by_id(edition), indicator, value)
    assert judged.iaqi == iaqi


@pytest.mark.parametrize("edition", [OLD, NEW], ids=lambda e: e.id)
def test_every_breakpoint_gives_its_own_iaqi_and_one_above_gives_more(edition: object) -> None:
    assert isinstance(edition, Edition)
    for indicator, row in edition.breakpoints.items():
        step = Decimal("0.1") if indicator.startswith("CO") else Decimal(1)
        for index, breakpoint in enumerate(row):
            at = indicator_iaqi(edition, indicator, Decimal(repr(breakpoint)))
            assert at.iaqi == edition.iaqi[index], (indicator, breakpoint)
            if index + 1 < len(row):
                above = indicator_iaqi(edition, indicator, Decimal(repr(breakpoint)) + step)
                assert above.iaqi is not None and above.iaqi > edition.iaqi[index]


def test_above_the_short_tables_the_editions_differ() -> None:
    # 2012: SO2 1-h above 800 and O3 8-h above 800 are not used: another IAQI reports them.
    so2 = indicator_iaqi(OLD, "SO2_1h", 900)
    assert (so2.iaqi, so2.replaced_by) == (None, "SO2_24h")
    o3 = indicator_iaqi(OLD, "O3_8h", 900)
    assert (o3.iaqi, o3.replaced_by) == (None, "O3_1h")
    # 2026: fixed IAQIs.
    assert indicator_iaqi(NEW, "SO2_1h", 900).iaqi == 200
    assert indicator_iaqi(NEW, "O3_8h", 900).iaqi == 300
    # Above a full table: capped at 500 and flagged.
    capped = indicator_iaqi(NEW, "PM2_5_24h", 620)
    assert (capped.iaqi, capped.beyond_scale) == (500, True)
    # An indicator the edition has no table for.
    assert indicator_iaqi(NEW, "CO_8h", 3).iaqi is None


def test_2012_real_time_report_takes_so2_by_its_24h_value_above_800() -> None:
    report = hourly_report(
        OLD,
        {"SO2_1h": 900, "SO2_24h": 300, "NO2_1h": 50, "CO_1h": 1, "O3_1h": 50, "O3_8h": 40,
         "PM10_1h": 40, "PM10_24h": 40, "PM2_5_1h": 20, "PM2_5_24h": 20},
    )  # fmt: skip
    assert report.indicators["SO2_24h"].iaqi == 124  # 100 + 50/325 × 150 = 123.08
    assert report.aqi == 124
    assert report.primary == ("SO2_24h",)


def day_values(**values: float | None) -> dict[str, float | None]:
    base: dict[str, float | None] = {
        "SO2_24h": 10, "NO2_24h": 30, "CO_24h": 0.8, "PM10_24h": 60, "PM2_5_24h": 30,
        "O3_1h": 100, "O3_8h": 90,
    }  # fmt: skip
    base.update(values)
    return base


def test_golden_daily_report_primary_and_exceeding() -> None:
    report = daily_report(OLD, day_values(PM2_5_24h=80, O3_8h=170, O3_1h=190))
    assert report.aqi == 110
    assert report.primary == ("O3_8h",)
    assert set(report.exceeding) == {"PM2_5_24h", "O3_8h"}
    assert report.level is not None
    assert (report.level.number, report.level.category_zh, report.level.colour) == (
        3, "轻度污染", "#ff7e00",
    )  # fmt: skip


def test_a_tie_lists_every_primary_pollutant() -> None:
    # PM10 150 and PM2.5 75 both give IAQI 100 in 2012.
    report = daily_report(OLD, day_values(PM10_24h=150, PM2_5_24h=75))
    assert report.aqi == 100
    assert set(report.primary) == {"PM10_24h", "PM2_5_24h"}
    assert report.exceeding == ()


def test_no_primary_pollutant_at_50_or_below() -> None:
    report = daily_report(NEW, day_values(PM10_24h=20, PM2_5_24h=10, O3_8h=40, O3_1h=50))
    assert report.aqi is not None and report.aqi <= 50
    assert report.primary == ()


def test_a_missing_indicator_by_edition() -> None:
    # 2026: the AQI is published only if above 100, else NA.
    assert daily_report(NEW, day_values(SO2_24h=None)).aqi is None
    high = daily_report(NEW, day_values(SO2_24h=None, PM2_5_24h=80))
    assert (high.aqi, high.missing) == (119, ("SO2_24h",))
    # 2012: the AQI of the indicators there, the missing one listed.
    old = daily_report(OLD, day_values(SO2_24h=None))
    assert old.aqi is not None and old.missing == ("SO2_24h",)


def test_2026_daily_report_has_six_indicators_and_2012_seven() -> None:
    assert len(NEW.daily_indicators) == 6 and "O3_1h" not in NEW.daily_indicators
    assert len(OLD.daily_indicators) == 7
    assert len(OLD.hourly_indicators) == 9 and len(NEW.hourly_indicators) == 6


def test_negative_and_non_finite_concentrations_are_refused() -> None:
    with pytest.raises(QualityInputError) as error:
        indicator_iaqi(NEW, "PM10_24h", -1)
    assert error.value.code == "bad_concentration"
    with pytest.raises(QualityInputError):
        indicator_iaqi(NEW, "PM10_24h", float("nan"))


concentration = st.decimals(min_value=0, max_value=3000, places=1, allow_nan=False)


@given(
    edition=st.sampled_from([OLD, NEW]),
    indicator=st.sampled_from(sorted(NEW.breakpoints)),
    a=concentration,
    b=concentration,
)
def test_iaqi_is_monotone_in_the_concentration(
    edition: object, indicator: str, a: Decimal, b: Decimal
) -> None:
    assert isinstance(edition, Edition)
    low, high = sorted((a, b))
    first = indicator_iaqi(edition, indicator, low).iaqi
    second = indicator_iaqi(edition, indicator, high).iaqi
    if first is not None and second is not None:
        assert first <= second


@given(
    edition=st.sampled_from([OLD, NEW]),
    key=st.sampled_from(sorted(day_values())),
    base=st.fixed_dictionaries(dict.fromkeys(sorted(day_values()), concentration)),
    extra=concentration,
)
def test_daily_aqi_is_monotone_in_each_concentration(
    edition: object, key: str, base: dict[str, Decimal], extra: Decimal
) -> None:
    assert isinstance(edition, Edition)
    values: dict[str, float | Decimal | None] = dict(base)
    # The O3 1-h daily maximum is never below the MDA8 (an 8-h mean of those hours).
    values["O3_1h"] = max(base["O3_1h"], base["O3_8h"])
    before = daily_report(edition, values).aqi
    raised = dict(values)
    raised[key] = base[key] + extra
    raised["O3_1h"] = max(Decimal(str(raised["O3_1h"])), Decimal(str(raised["O3_8h"])))
    after = daily_report(edition, raised).aqi
    assert before is not None and after is not None
    assert after >= before
