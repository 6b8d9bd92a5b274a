"""Environmental quality end to end over real TCP and HTTP (``envwatch serve``
on SQLite and PostgreSQL): a station's day of hourly uploads gives the day's
AQI on the API and the station page; a section whose month is worse than its
target opens an alert routed to the section's county, seen by that county's
officer and not by another's."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Engine

from envwatch.demo.quality_profiles import quality_demo
from envwatch.demo.quality_seed import hourly_upload
from envwatch.demo.seed import DEMO_PASSWORD, seed_demo
from envwatch.hj212 import DecodedFrame, Decoder
from envwatch.hj212.codes import now_cst
from envwatch.quality.air_statistics import day_statistics
from envwatch.quality.aqi import hourly_report
from envwatch.quality.editions import air_editions
from tests.quality.test_days import CODES, a_day
from tests.test_cli_contract import free_port, wait_for

DEADLINE_S = 60.0


def send_all(port: int, frames: list[bytes]) -> None:
    """Send each frame and wait for its 9014, as a logger does."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as logger:
        decoder = Decoder()
        for frame in frames:
            logger.sendall(frame)
            answered: list[DecodedFrame] = []
            while not answered:
                answered = [i for i in decoder.feed(logger.recv(4096))
                            if isinstance(i, DecodedFrame)]  # fmt: skip
            assert answered[0].packet.cn == "9014"


def eventually(client: httpx.Client, url: str, ready: Any) -> Any:
    deadline = time.monotonic() + DEADLINE_S
    while True:
        body = client.get(url).json()
        if ready(body):
            return body
        assert time.monotonic() < deadline, f"{url} never ready: {body}"
        time.sleep(0.5)


@contextmanager
def logged_in(base: str, username: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base, timeout=30) as client:
        answer = client.post(
            "/api/v1/session", json={"username": username, "password": DEMO_PASSWORD}
        )
        assert answer.status_code == 200, answer.text
        yield client


def test_station_day_and_section_alert_over_tcp(database_url: str, engine: Engine) -> None:
    seed_demo(engine)
    demo = quality_demo()
    station = demo.stations[0]
    section = next(s for s in demo.sections if s.code == "LC-W09")
    day: date = now_cst().date() - timedelta(days=2)
    hours = a_day(80.0, 170.0)
    station_frames = []
    for hour in range(24):
        when = datetime.combine(day, datetime.min.time()) + timedelta(hours=hour)
        values = {CODES[p]: row[hour] for p, row in hours.items()}
        station_frames.append(hourly_upload(station.mn, station.pw, "22", when, values,
                                            qn=f"{when:%Y%m%d%H%M%S}001")[0])  # fmt: skip
    # Three days of the previous month every four hours, NH3-N above class IV's 1.5.
    first = (now_cst().date().replace(day=1) - timedelta(days=1)).replace(day=1)
    section_frames = []
    for n in range(18):
        when = datetime.combine(first, datetime.min.time()) + timedelta(hours=4 * n)
        values = {"w01009": 4.0, "w01019": 8.0, "w21003": 1.9, "w21011": 0.2, "w01001": 7.4}
        section_frames.append(hourly_upload(section.mn, section.pw, "21", when, values,
                                            qn=f"{when:%Y%m%d%H%M%S}001")[0])  # fmt: skip
    hj212, http = free_port(), free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "envwatch", "serve", "--db", database_url,
         "--hj212", f"127.0.0.1:{hj212}", "--http", f"127.0.0.1:{http}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        wait_for(hj212, process)
        wait_for(http, process)
        send_all(hj212, station_frames + section_frames)
        base = f"http://127.0.0.1:{http}"
        expected = day_statistics(day, hours).aqi.aqi
        with logged_in(base, f"county-{section.county}") as county:
            days = eventually(
                county,
                f"/api/v1/quality/stations/{station.code}/days?since={day}&until={day}",
                lambda body: body.get("items"),
            )
            [stored] = days["items"]
            assert (stored["day"], stored["aqi"]) == (day.isoformat(), expected)
            hourly = county.get(f"/api/v1/quality/stations/{station.code}/hours?day={day}").json()
            assert hourly["hours"]["PM2_5"] == [80] * 24
            # The real-time AQI of each hour: PM2.5's 1-h 80 on the 24-h breakpoints.
            expected_hour = (
                hourly_report(air_editions().edition_for(day), {"PM2_5_1h": 80, "O3_1h": 170})
                .indicators["PM2_5_1h"]
                .iaqi
            )
            assert hourly["aqi"] == [expected_hour] * 24
            page = county.get(f"/quality/stations/{station.code}")
            assert page.status_code == 200
            assert (
                f'<tr data-day="{day}"><td>{day}</td><td class="aqi">{expected}</td>' in page.text
            )
            alerts = eventually(
                county,
                "/api/v1/alerts?rule=section_below_target",
                lambda body: body.get("total"),
            )
            [alert] = alerts["items"]
            assert alert["county"] == section.county and alert["mn"] == section.mn
            assert "劣于目标IV类" in alert["explanation"]
        with logged_in(base, "county-371502") as elsewhere:
            hidden = elsewhere.get("/api/v1/alerts?rule=section_below_target").json()
            assert hidden["total"] == 0
    finally:
        process.terminate()
        _, errors = process.communicate(timeout=60)
    assert process.returncode == 0, errors.decode()
