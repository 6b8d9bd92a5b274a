"""Quality days kept from the archive (SQLite and PostgreSQL): uploads of a
station-day through the gateway's decoder and admission give the day's AQI;
resends change nothing; a late upload recomputes its day; the county ranking
and the sections' classes read from the stored days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.exc import OperationalError

from envwatch.demo.quality_profiles import quality_demo
from envwatch.demo.quality_seed import hourly_upload, station_values
from envwatch.demo.seed import seed_demo
from envwatch.gateway.admission import admit, connection_options
from envwatch.gateway.server import load_devices
from envwatch.hj212 import Decoder
from envwatch.processing.inputs import load_contexts
from envwatch.quality import daily
from envwatch.quality.air_statistics import day_statistics
from envwatch.quality.daily import recompute_days, refresh_days
from envwatch.quality.queries import ranking, section_months
from envwatch.store.archive import Archive
from envwatch.store.cursors import save_cursor
from envwatch.store.db import make_engine
from envwatch.store.schema import PointFactor, QualityDay, WaterSection

DAY = date(2026, 7, 15)
CODES = {"PM2_5": "a34004", "PM10": "a34002", "SO2": "a21026", "NO2": "a21004",
         "CO": "a21005", "O3": "a05024"}  # fmt: skip


def feed(engine: Engine, frames: list[bytes]) -> None:
    """Through the gateway's decoder and admission into the archive."""
    devices = load_devices(engine)
    decoder = Decoder(connection_options())
    items = decoder.feed(b"".join(frames)) + decoder.close()
    received = datetime.now(UTC)
    Archive(engine).write_batch(
        [admit(item, devices, peer="test", received_at=received).record for item in items]
    )


def station_day(mn: str, pw: str, day: date, hours: dict[str, list[float]]) -> list[bytes]:
    frames = []
    for hour in range(24):
        values = {CODES[p]: row[hour] for p, row in hours.items()}
        when = datetime.combine(day, datetime.min.time()) + timedelta(hours=hour)
        frames.append(hourly_upload(mn, pw, "22", when, values, qn=f"{when:%Y%m%d%H%M%S}001")[0])
    return frames


def a_day(pm2_5: float, o3_peak: float) -> dict[str, list[float]]:
    o3 = [60.0] * 24
    for hour in range(10, 18):
        o3[hour] = o3_peak
    return {"PM2_5": [pm2_5] * 24, "PM10": [pm2_5 * 1.6] * 24, "SO2": [8.0] * 24,
            "NO2": [30.0] * 24, "CO": [0.8] * 24, "O3": o3}  # fmt: skip


def stored(engine: Engine, site: str, day: date) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.execute(
            select(QualityDay).where(QualityDay.site == site, QualityDay.day == day)
        ).all())  # fmt: skip


def test_a_station_day_of_uploads_gives_its_aqi(engine: Engine) -> None:
    seed_demo(engine)
    station = quality_demo().stations[0]
    hours = a_day(80.0, 170.0)
    feed(engine, station_day(station.mn, station.pw, DAY, hours))
    assert refresh_days(engine) == 1
    [row] = stored(engine, station.code, DAY)
    expected = day_statistics(DAY, hours)
    assert (row.edition, row.aqi) == ("2026", expected.aqi.aqi) == ("2026", 119)
    assert row.primary_pollutants == "PM2_5_24h"
    assert row.figures["PM2_5"] == 80 and row.figures["O3_8h"] == 170
    # A resend stores nothing new and changes no figure.
    feed(engine, station_day(station.mn, station.pw, DAY, hours))
    refresh_days(engine)
    assert [(r.aqi, r.figures) for r in stored(engine, station.code, DAY)] == [
        (row.aqi, row.figures)
    ]
    # Five hours flagged as maintenance: 19 valid hours, PM2.5's mean is invalid.
    late = [
        raw.replace(b"a34004-Flag=N", b"a34004-Flag=M") for raw in station_day(
            station.mn, station.pw, DAY + timedelta(days=1), hours)
    ]  # fmt: skip
    late = [_recrc(raw) if index < 5 else good for index, (raw, good) in enumerate(
        zip(late, station_day(station.mn, station.pw, DAY + timedelta(days=1), hours),
            strict=True))]  # fmt: skip
    feed(engine, late)
    refresh_days(engine)
    [next_day] = stored(engine, station.code, DAY + timedelta(days=1))
    assert next_day.valid["PM2_5"] is False and next_day.figures["PM2_5"] is None
    assert next_day.counts["PM2_5"] == 19
    # From scratch: the same figures.
    recompute_days(engine, DAY, DAY + timedelta(days=1))
    assert [(r.aqi, r.figures) for r in stored(engine, station.code, DAY)] == [
        (row.aqi, row.figures)
    ]


def _recrc(raw: bytes) -> bytes:
    from envwatch.hj212.framing import frame_segment  # noqa: PLC0415

    return frame_segment(raw[6:-6])


def test_the_seeded_frames_read_back_as_the_gateway_reads_them(engine: Engine) -> None:
    seed_demo(engine)
    devices = load_devices(engine)
    station = quality_demo().stations[3]
    when = datetime(2026, 1, 15, 9)
    raw, rows = hourly_upload(station.mn, station.pw, "22", when, station_values(station, when),
                              qn="20260115090000001")  # fmt: skip
    [item] = Decoder(connection_options()).feed(raw)
    admitted = admit(item, devices, peer="test", received_at=datetime.now(UTC)).record
    assert admitted.verdict == "accepted"
    assert admitted.measurements == rows


def test_ranking_and_sections_read_from_the_stored_days(engine: Engine) -> None:
    seed_demo(engine)
    demo = quality_demo()
    by_county = {s.county: s for s in reversed(demo.stations)}
    clean, dirty, tied = by_county["371526"], by_county["371503"], by_county["371524"]
    for day in range(1, 31):
        when = date(2026, 6, day)
        feed(engine, station_day(clean.mn, clean.pw, when, a_day(20.0, 120.0)))
        feed(engine, station_day(dirty.mn, dirty.pw, when, a_day(45.0, 180.0)))
        feed(engine, station_day(tied.mn, tied.pw, when, a_day(20.0, 120.0)))
    refresh_days(engine)
    with engine.connect() as connection:
        ranked = ranking(connection, date(2026, 6, 1), date(2026, 6, 30))
    by_area = {r.area: r for r in ranked}
    assert by_area["371526"].rank == by_area["371524"].rank == 1  # equal values tie
    assert by_area["371503"].rank == 3
    assert by_area["371526"].statistics.good_day_ratio == 100
    # The first half of 2026 spans the new editions: judged part by part.
    with engine.connect() as connection:
        half = {r.area: r for r in ranking(connection, date(2026, 1, 1), date(2026, 6, 30))}
    parts = half["371526"].statistics.parts
    assert [(p.edition, p.first, p.last, p.days) for p in parts] == [
        ("2012", date(2026, 1, 1), date(2026, 2, 28), 0),
        ("2026", date(2026, 3, 1), date(2026, 6, 30), 30),
    ]
    # Counties without data are listed, unranked.
    assert by_area["371581"].rank is None and by_area["371581"].statistics.aqi_days == 0

    # A section's month: NH3-N above its target class IV.
    section = next(s for s in demo.sections if s.code == "LC-W09")
    frames = []
    for day in range(1, 31):
        when = datetime(2026, 7, day, 8)
        values = {"w01009": 4.0, "w01019": 8.0, "w21003": 1.9 if day > 10 else 1.2,
                  "w21011": 0.2, "w01001": 7.5}  # fmt: skip
        frames.append(hourly_upload(section.mn, section.pw, "21", when, values,
                                    qn=f"{when:%Y%m%d%H%M%S}001")[0])  # fmt: skip
    feed(engine, frames)
    refresh_days(engine)
    with engine.connect() as connection:
        [(month, judgement)] = section_months(
            connection, "LC-W09", date(2026, 7, 1), date(2026, 7, 31)
        )
        target = connection.execute(
            select(WaterSection.target_class).where(WaterSection.code == "LC-W09")
        ).scalar()
    assert month == (2026, 7) and target == "IV"
    assert judgement.judged.water_class == "V" and judgement.meets_target is False
    [(item, value, multiple)] = judgement.exceeding
    assert item == "NH3_N" and abs(value - (1.2 * 10 + 1.9 * 20) / 30) < 1e-9
    assert abs(multiple - (value - 1.5) / 1.5) < 1e-9
    # The target moves to V: the same month now meets it.
    with engine.begin() as connection:
        connection.execute(
            update(WaterSection).where(WaterSection.code == "LC-W09").values(target_class="V")
        )
        [(_, again)] = section_months(connection, "LC-W09", date(2026, 7, 1), date(2026, 7, 31))
    assert again.meets_target is True


def test_a_logger_in_an_unreadable_unit_stops_no_other_site(engine: Engine) -> None:
    seed_demo(engine)
    odd, fine = quality_demo().stations[:2]
    with engine.begin() as connection:
        connection.execute(
            update(PointFactor)
            .where(PointFactor.mn == odd.mn, PointFactor.pollutant == "a34004")
            .values(unit="furlongs")
        )
    hours = a_day(80.0, 170.0)
    feed(
        engine, station_day(odd.mn, odd.pw, DAY, hours) + station_day(fine.mn, fine.pw, DAY, hours)
    )
    assert refresh_days(engine) == 2
    [odd_day] = stored(engine, odd.code, DAY)
    [fine_day] = stored(engine, fine.code, DAY)
    assert odd_day.figures["PM2_5"] is None and odd_day.figures["PM10"] == 128
    assert fine_day.figures["PM2_5"] == 80 and fine_day.aqi == 119
    # The rules still know both stations.
    contexts = load_contexts(engine, datetime(2026, 7, 16))
    assert contexts[odd.mn].station is not None and contexts[fine.mn].station is not None


def test_a_commit_during_the_read_does_not_cost_a_day_on_sqlite(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SQLite refuses at once (no busy wait) to turn a read snapshot that another
    # commit made stale into a write. The days' pass takes its write lock
    # before it reads the hours, so a commit arriving meanwhile waits instead
    # (here it gives up after 0.2 s) and the day is stored.
    engine = make_engine(sqlite_url)
    seed_demo(engine)
    station = quality_demo().stations[0]
    feed(engine, station_day(station.mn, station.pw, DAY, a_day(80.0, 170.0)))
    other = make_engine(sqlite_url, busy_timeout=0.2)
    outcomes: list[str] = []
    read_hours = daily._hourly_values

    def read_while_another_commits(*args: Any, **kwargs: Any) -> Any:
        values = read_hours(*args, **kwargs)
        try:
            with other.begin() as connection:
                save_cursor(connection, "a-concurrent-writer", 1)
            outcomes.append("committed")
        except OperationalError:
            outcomes.append("waited")
        return values

    monkeypatch.setattr(daily, "_hourly_values", read_while_another_commits)
    assert refresh_days(engine) == 1
    assert outcomes == ["waited"]
    assert [row.aqi for row in stored(engine, station.code, DAY)] == [119]
    other.dispose()
    engine.dispose()
