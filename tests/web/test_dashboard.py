"""The dashboard (一张图) over real HTTP on SQLite and PostgreSQL: today's
findings by kind, points online and offline and the connection rate per
county, the newest exceedances and suspected falsifications, each as the
user's role and scope allow; the page and ``/api/v1/overview`` agree."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Engine, func, select

from envwatch.hj212.codes import CHINA_STANDARD_TIME
from envwatch.store.archive import Archive, ReceivedFrame
from envwatch.store.schema import Enterprise, MonitoringPoint
from envwatch.times import cst_text
from tests.alerts.test_desk import DATA_T0, store_finding
from tests.electricity.test_http_batch import base_url
from tests.web.test_pages_and_api import alerts, points_in_two_counties, session

__all__ = ["alerts", "base_url"]


def today_at(hour: int) -> datetime:
    """A data time today (China Standard Time, naive), at ``hour``."""
    now = datetime.now(CHINA_STANDARD_TIME).replace(tzinfo=None)
    return now.replace(hour=hour, minute=0, second=0, microsecond=0)


def connect(engine: Engine, mns: list[str], received_at: datetime) -> None:
    """An accepted frame from each device, received at ``received_at`` (UTC)."""
    Archive(engine).write_batch([
        ReceivedFrame(received_at=received_at, peer="127.0.0.1:1", raw=b"##frame", mn=mn,
                      verdict="accepted", cn="2011", qn="20261201000000000")
        for mn in mns
    ])  # fmt: skip


def points_per_county(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(Enterprise.county_code, func.count())
            .join(MonitoringPoint, MonitoringPoint.enterprise_id == Enterprise.id)
            .where(MonitoringPoint.active.is_(True))
            .group_by(Enterprise.county_code)
        ).all()
    return {code: int(count) for code, count in rows}


def test_todays_findings_and_connection_per_county_by_scope(base_url: str, engine: Engine) -> None:
    (mn_a, county_a, ent_a), (mn_b, county_b, _) = points_in_two_counties(engine)
    store_finding(engine, mn_a, today_at(0))
    store_finding(engine, mn_a, today_at(0), rule="constant", pollutant="a21002",
                  explanation="氮氧化物数值恒定")  # fmt: skip
    store_finding(engine, mn_b, today_at(0), rule="offline", pollutant="")
    store_finding(engine, mn_b, today_at(0) - timedelta(days=1))  # yesterday: not counted
    now = datetime.now(UTC)
    connect(engine, [mn_a], now)
    connect(engine, [mn_b], now - timedelta(hours=2))  # offline after 300 s

    boss, _ = session(base_url, "supervisor")
    body = boss.get("/api/v1/overview").json()
    assert body["day"] == today_at(0).date().isoformat()
    assert body["findings_today"] == {"exceedance": 1, "early_warning": 0,
                                      "falsification": 1, "electricity": 0,
                                      "transmission": 1, "quality": 0}  # fmt: skip
    assert [(f["mn"], f["rule"]) for f in body["newest_findings"]] == [
        (mn_a, "constant"),
        (mn_a, "exceedance"),
    ]  # newest first; same time: newest id first
    assert body["newest_findings"][0]["window_start"] == cst_text(today_at(0))
    expected_points = points_per_county(engine)
    rows = {row["county"]: row for row in body["counties"]}
    assert len(rows) == 11  # 8 counties and districts, 3 development zones
    assert {code: row["points"] for code, row in rows.items() if row["points"]} == expected_points
    assert (rows[county_a]["online"], rows[county_a]["offline"]) == (1, 0)
    assert (rows[county_b]["online"], rows[county_b]["offline"]) == (0, 1)
    assert rows[county_a]["never_connected"] == expected_points[county_a] - 1
    assert rows[county_a]["connection_rate"] == 1 / expected_points[county_a]
    totals = body["totals"]
    assert totals["points"] == sum(expected_points.values()) and totals["online"] == 1
    assert body["open_alerts"] == {}

    officer, _ = session(base_url, f"county-{county_a}")
    mine = officer.get("/api/v1/overview").json()
    assert [row["county"] for row in mine["counties"]] == [county_a]
    assert mine["findings_today"]["exceedance"] == 1
    assert mine["findings_today"]["transmission"] == 0  # county B's offline device
    owner, _ = session(base_url, "enterprise-1")
    own = owner.get("/api/v1/overview").json()
    assert own["counties"] == []  # connection figures are for supervisors
    assert {f["enterprise_id"] for f in own["newest_findings"]} <= {1}
    assert (own["findings_today"]["exceedance"] == 1) == (ent_a == 1)

    page = boss.get("/")
    assert page.status_code == 200
    html = page.text
    assert "今日超标" in html and "今日疑似造假" in html and "联网率" in html
    assert "氮氧化物数值恒定" in html and "http://" not in html and "https://" not in html
    assert f'data-county="{county_b}"' in html
    english = boss.get("/?lang=en").text
    assert "suspected falsification today" in english and "Connection rate" in english
    assert httpx.get(f"{base_url}/api/v1/overview").status_code == 401
    for client in (boss, officer, owner):
        client.close()


def test_findings_api_gives_data_times_in_china_standard_time(
    base_url: str, engine: Engine, alerts: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    # The fixture stores its findings at DATA_T0, a data time.
    boss, _ = session(base_url, "supervisor")
    items = boss.get("/api/v1/findings").json()["items"]
    assert {item["window_start"] for item in items} == {cst_text(DATA_T0)}
    assert {item["window_end"] for item in items} == {cst_text(DATA_T0 + timedelta(hours=1))}
    boss.close()
