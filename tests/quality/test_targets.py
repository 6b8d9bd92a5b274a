"""Targets, their seasonal projection and the improvement against the province
(pure arithmetic; the progress read from stored days on SQLite and PostgreSQL)."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, insert

from envwatch.demo.quality_profiles import quality_demo
from envwatch.demo.seed import seed_demo
from envwatch.quality.province import ProvinceImportError, import_province_csv, parse_province
from envwatch.quality.targets import project, target_progress
from envwatch.store.schema import QualityDay, QualityTarget


def test_the_projection_keeps_the_season() -> None:
    # 100 days at 40 against 30 last year: the rest of last year (60) scaled by 4/3.
    assert project(40.0, 100, 30.0, 60.0, 265) == pytest.approx((40 * 100 + 80 * 265) / 365)
    assert project(40.0, 365, 30.0, 60.0, 0) == 40.0  # the year is over
    assert project(40.0, 100, None, 60.0, 265) == 40.0  # nothing to scale by
    assert project(None, 100, 30.0, 60.0, 265) is None


def month_of_days(
    engine: Engine, stations: list[str], year: int, month: int, *, pm2_5: float, frame: int
) -> None:
    """Stored days of the national stations for a whole month (the store's
    representation, as ``quality/daily.py`` writes it)."""
    days = calendar.monthrange(year, month)[1]
    rows = [
        {"kind": "air", "site": code, "day": date(year, month, 1) + timedelta(days=n),
         "edition": "2026" if year >= 2026 and month >= 3 else "2012",
         "figures": {"PM2_5": pm2_5, "PM10": 70.0, "SO2": 8.0, "NO2": 30.0, "CO": 0.8,
                     "O3_8h": 90.0, "O3_1h": 110.0},
         "counts": {}, "valid": {}, "aqi": None, "primary_pollutants": "",
         "newest_frame_id": frame}
        for code in stations for n in range(days)
    ]  # fmt: skip
    with engine.begin() as connection:
        connection.execute(insert(QualityDay), rows)


def test_progress_and_the_province(engine: Engine) -> None:
    seed_demo(engine)
    national = [s.code for s in quality_demo().stations if s.level == "national"]
    month_of_days(engine, national, 2025, 11, pm2_5=60.0, frame=1)
    month_of_days(engine, national, 2026, 11, pm2_5=50.0, frame=2)  # PM2.5 a sixth down
    province = (
        "month,area,composite_index,pm2_5,good_day_ratio\n"
        "2025-11,全省,5.00,55,60\n2026-11,全省,4.80,52,62\n2026-10,全省,4.00,40,70\n"
    ).encode()
    with engine.begin() as connection:
        assert import_province_csv(connection, province) == 3
        connection.execute(insert(QualityTarget).values(
            year=2026, area="city", indicator="PM2_5", value=50.0, set_by="test",
            set_at=datetime.now(UTC)))  # fmt: skip
    with engine.connect() as connection:
        progress = target_progress(connection, 2026, date(2026, 12, 4))
    compared = progress["province"]
    # Only November has the province's figure of both years and valid city data.
    assert compared["months_compared"] == ["2026-11"]
    assert compared["province_change"] == pytest.approx(-0.04)
    before = 60 / 35 + 1 + 8 / 60 + 30 / 40 + 0.8 / 4 + 90 / 160
    after = 50 / 35 + 1 + 8 / 60 + 30 / 40 + 0.8 / 4 + 90 / 160
    assert compared["city_change"] == pytest.approx(after / before - 1, abs=1e-4)
    assert compared["improvement_above_province"] is True
    city = next(a for a in progress["areas"] if a["area"] == "city")
    assert city["indicators"]["PM2_5"]["target"] == 50.0
    # November alone does not make a valid year to date: no value, no verdict.
    assert city["indicators"]["PM2_5"]["to_date"] is None
    assert city["indicators"]["PM2_5"]["on_course"] is None


def test_a_bad_province_file_is_refused_whole() -> None:
    bad = "month,area,composite_index\n2026-13,全省,4.1\n2026-01,全省,x\n2026-01,全省,4\n"
    with pytest.raises(ProvinceImportError) as refused:
        parse_province(bad.encode())
    assert {(p["row"], p["column"]) for p in refused.value.problems} == {
        (2, "month"), (3, "composite_index"),
    }  # fmt: skip
