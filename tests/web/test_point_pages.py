"""The enterprise and monitoring-point pages over real HTTP on SQLite and
PostgreSQL, with data from real HJ 212 frames: rendered whole on the server in
Chinese and English (values, flags, limits, computed days), each chart's data
source answering with the same values, scope answering like unknown, the
alert page's evidence chart and raw frames, and ECharts served by envwatch
itself with no page loading anything from elsewhere."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from html import escape, unescape
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from envwatch.alerts.desk import AlertDesk
from envwatch.demo.seed import DEMO_PASSWORD
from envwatch.store.schema import ArchivedFrame
from tests.alerts.test_desk import NOW, store_finding
from tests.web.server import form_login
from tests.web.test_measurements_api import (
    COUNTY,
    DAY,
    INVALID_HOUR,
    MN,
    OTHER_COUNTY,
    OTHER_MN,
    PRODUCTION_METER_MN,
    SO2,
    City,
    base_url,
    city,
    hourly_so2,
)

__all__ = ["base_url", "city"]

ECHARTS = Path(__file__).parents[2] / "src/envwatch/web/static/vendor/echarts/echarts.min.js"
OUTSIDE = re.compile(r"https?://")


Login = Callable[[str], httpx.Client]


@pytest.fixture
def login(city: City) -> Iterator[Login]:
    """Log in through the login page, as a browser does; every client closed after."""
    made: list[httpx.Client] = []

    def as_user(username: str) -> httpx.Client:
        client = httpx.Client(base_url=city.base_url)
        made.append(client)
        response = form_login(client, username, DEMO_PASSWORD)
        assert response.status_code == 303
        return client

    yield as_user
    for client in made:
        client.close()


def source_of(html: str, chart: str) -> str:
    match = re.search(rf'data-chart="{chart}" data-src="([^"]*)"', html)
    assert match is not None, f"no {chart} chart"
    return unescape(match.group(1))


def table_rows(html: str) -> list[list[str]]:
    body = html.split('id="series-table"', 1)[1].split("</table>", 1)[0]
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr class=[^>]*>(.*?)</tr>", body, re.S)
    ]


def test_the_point_page_shows_the_hours_raw_corrected_and_flagged(city: City, login: Login) -> None:
    officer = login(f"county-{COUNTY}")
    window = {
        "cn": "2061",
        "pollutant": SO2,
        "since": "2026-11-29T00:00",
        "until": "2026-11-30T00:00",
    }
    for lang, words in (
        ("zh", ("小时数据", "折算值", "许可限值", "二氧化硫")),
        ("en", ("Hourly", "O2-corrected", "Permit limit", "sulphur dioxide")),
    ):
        page = officer.get(f"/points/{MN}", params={**window, "lang": lang})
        assert page.status_code == 200, page.text
        assert not OUTSIDE.search(page.text)
        for word in words:
            assert word in page.text, (lang, word)
        assert '<script src="/static/vendor/echarts/echarts.min.js">' in page.text
        rows = table_rows(page.text)
        assert len(rows) == 24
        # time, measured, min, max, amount, corrected, flag, validity
        assert rows[0][:2] == ["2026-11-29 00:00:00", "20"] and rows[0][5] == "25.00"
        assert rows[INVALID_HOUR][6] == "D"
        assert rows[23][5] == f"{hourly_so2(23) * 1.25:.2f}"
    # The chart draws what the table shows: its source answers with the same hours.
    source = source_of(page.text, "point")
    assert f'href="{escape(source)}&amp;format=csv"' in page.text  # the table as CSV
    assert source.startswith(f"/api/v1/points/{MN}/measurements?")
    data = officer.get(source).json()
    assert [item["values"][SO2]["avg"] for item in data["items"]] == [
        hourly_so2(h) for h in range(24)
    ]
    assert data["pollutants"][0]["limits"][0]["value"] == 35.0  # the markLine


def test_days_real_time_and_bad_windows_on_the_point_page(city: City, login: Login) -> None:
    owner = login("enterprise-1")
    whole_days = {"since": "2026-11-28T00:00", "until": "2026-11-30T00:00"}
    days = owner.get(f"/points/{MN}", params={"cn": "2031", "pollutant": SO2, **whole_days})
    assert days.status_code == 200
    rows = table_rows(days.text)
    assert [row[0][:10] for row in rows] == ["2026-11-28", "2026-11-29"]
    assert rows[0][-1] == "设备上传" and rows[1][-1] == "由小时值计算"
    assert "23/24" in rows[1][-2]
    minutes = {"since": "2026-11-29T10:00", "until": "2026-11-29T10:05"}
    real_time = owner.get(f"/points/{MN}", params={"cn": "2011", "pollutant": SO2, **minutes})
    rows = table_rows(real_time.text)
    assert [row[1] for row in rows] == ["12", "12.5", "13", "14"]
    assert [row[6] for row in rows] == ["N", "N", "M", "N"]
    assert 'class="flagged invalid"' in real_time.text  # the M-marked value
    too_long = owner.get(f"/points/{MN}", params={"cn": "2011", "since": "2026-11-01T00:00",
                                                  "until": "2026-11-29T00:00"})  # fmt: skip
    assert too_long.status_code == 422 and "跨度不超过1天" in too_long.text
    garbage = owner.get(f"/points/{MN}", params={"since": "soon", "lang": "en"})
    assert garbage.status_code == 422 and "Not a valid time" in garbage.text
    empty = owner.get(f"/points/{MN}", params={"cn": "2051", "lang": "zh"})
    assert empty.status_code == 200 and "该时段没有数据" in empty.text


def test_a_meter_page_shows_what_the_meter_sends(city: City, login: Login) -> None:
    owner = login("enterprise-1")
    minutes = {"since": "2026-11-29T10:00", "until": "2026-11-29T10:05", "lang": "zh"}
    page = owner.get(f"/points/{PRODUCTION_METER_MN}", params={"cn": "2011", **minutes})
    assert page.status_code == 200
    assert "生产线" in page.text and "用电功率" in page.text  # the meters' code table names it
    assert [row[1] for row in table_rows(page.text)] == ["800", "801"]
    assert 'data-pollutant="e10001"' in page.text


def test_enterprises_list_filters_and_empty_state(city: City, login: Login) -> None:
    officer = login(f"county-{COUNTY}")
    listing = officer.get("/enterprises")
    assert listing.status_code == 200 and not OUTSIDE.search(listing.text)
    ids = set(re.findall(r'data-enterprise="(\d+)"', listing.text))
    assert "1" in ids and "2" not in ids  # enterprise 2 is in another county
    named = officer.get("/enterprises", params={"q": "泰和", "industry": "4411"})
    assert re.findall(r'data-enterprise="(\d+)"', named.text) == ["1"]
    assert officer.get("/enterprises", params={"offset": "many"}).status_code == 200
    nothing = officer.get("/enterprises", params={"q": "不存在的企业", "lang": "en"})
    assert "No enterprise matches" in nothing.text and "data-enterprise" not in nothing.text
    chinese = officer.get("/enterprises", params={"q": "不存在的企业", "lang": "zh"})
    assert "没有符合条件的企业" in chinese.text
    boss = login("supervisor")
    everyone = boss.get("/enterprises", params={"county": OTHER_COUNTY}).text
    assert 'data-enterprise="2"' in everyone and 'data-enterprise="1"' not in everyone
    owner = login("enterprise-1")
    straight = owner.get("/enterprises")
    assert straight.status_code == 303 and straight.headers["location"] == "/enterprises/1"


def test_the_enterprise_page_links_its_points_and_charts_its_electricity(
    city: City, login: Login
) -> None:
    owner = login("enterprise-1")
    for lang, words in (("zh", ("排放口与监测点位", "生产与治污设施用电对比", "治污设施")),
                        ("en", ("Outlets and monitoring points", "production against treatment",
                                "treatment"))):  # fmt: skip
        page = owner.get("/enterprises/1", params={"lang": lang})
        assert page.status_code == 200 and not OUTSIDE.search(page.text)
        for word in words:
            assert word in page.text, (lang, word)
        assert f'href="/points/{MN}"' in page.text
        assert "在线" in page.text or "online" in page.text
    source = source_of(page.text, "electricity")
    assert source == "/api/v1/enterprises/1/electricity"
    readings = owner.get(source).json()
    assert [item["meters"]["1"]["power_kw"] for item in readings["items"]] == [800.0, 801.0]
    assert owner.get("/enterprises/2").status_code == 404
    assert owner.get(f"/points/{OTHER_MN}").status_code == 404
    elsewhere = login(f"county-{OTHER_COUNTY}")
    for path in (f"/points/{MN}", "/enterprises/1", "/points/000000000000000000000000"):
        page = elsewhere.get(path)
        assert page.status_code == 404 and "没有找到，或您无权查看" in page.text, path


def test_a_contractor_sees_the_devices_it_runs_and_no_enterprise(city: City, login: Login) -> None:
    contractor = login("contractor-1")  # its company runs enterprise 1's analyser
    listing = contractor.get("/enterprises", params={"lang": "zh"})
    assert listing.status_code == 200 and "本单位运维的监测设备" in listing.text
    assert f'data-point="{MN}"' in listing.text and "data-enterprise" not in listing.text
    assert contractor.get(f"/points/{MN}").status_code == 200
    assert contractor.get("/enterprises/1").status_code == 404  # an enterprise is no device
    assert contractor.get(f"/points/{OTHER_MN}").status_code == 404


def test_the_alert_page_charts_the_event_and_lists_its_raw_frames(city: City, login: Login) -> None:
    with city.engine.connect() as connection:
        cited = connection.execute(
            select(ArchivedFrame.id).where(ArchivedFrame.chain == MN, ArchivedFrame.cn == "2061")
            .order_by(ArchivedFrame.seq).offset(10).limit(1)
        ).scalar_one()  # fmt: skip
    store_finding(city.engine, MN, DAY.replace(hour=10), evidence={"frames": [cited]})
    AlertDesk(city.engine).run_once(NOW)
    officer = login(f"county-{COUNTY}")
    page = officer.get("/alerts/1")
    assert page.status_code == 200 and not OUTSIDE.search(page.text)
    assert "事件前后监测数据" in page.text and "事件前后原始报文" in page.text
    chart = officer.get(source_of(page.text, "evidence")).json()
    # The hours 12 h either side of the finding at 10:00, of the alert's pollutant.
    assert (chart["since"], chart["until"]) == ("2026-11-28T22:00:00+08:00",
                                                "2026-11-29T22:00:00+08:00")  # fmt: skip
    assert [item["values"][SO2]["avg"] for item in chart["items"]] == [
        hourly_so2(h) for h in range(22)
    ]
    match = re.search(r'data-cited="([^"]+)"', page.text)
    assert match is not None
    frames = officer.get(unescape(match.group(1))).json()
    assert [item["id"] for item in frames["items"]] == [cited]
    assert "a21026-Avg=30.0" in frames["items"][0]["text"]  # the 10:00 hour
    around = re.search(r'data-chart="frames" data-src="([^"]+)"', page.text)
    assert around is not None
    received = officer.get(unescape(around.group(1))).json()
    assert cited in {item["id"] for item in received["items"]}
    english = officer.get("/alerts/1", params={"lang": "en"}).text
    assert "Values around the event" in english and "Raw frames around the event" in english
    # A rule that reads real-time data (B2 zero values): real-time data, an hour either side.
    store_finding(city.engine, MN, DAY.replace(hour=10), rule="zero", severity="warning")
    AlertDesk(city.engine).run_once(NOW)
    zero = officer.get("/alerts/2")
    real_time = officer.get(source_of(zero.text, "evidence")).json()
    assert (real_time["cn"], real_time["since"], real_time["until"]) == (
        "2011",
        "2026-11-29T09:00:00+08:00",
        "2026-11-29T11:00:00+08:00",
    )
    assert [item["values"][SO2]["rtd"] for item in real_time["items"]] == [12.0, 12.5, 13.0, 14.0]


def test_echarts_and_the_chart_script_are_served_locally(city: City) -> None:
    echarts = httpx.get(f"{city.base_url}/static/vendor/echarts/echarts.min.js")
    assert echarts.status_code == 200
    assert "javascript" in echarts.headers["content-type"]
    assert echarts.content == ECHARTS.read_bytes()
    for name in ("LICENSE", "NOTICE"):
        assert httpx.get(f"{city.base_url}/static/vendor/echarts/{name}").status_code == 200
    script = httpx.get(f"{city.base_url}/static/charts.js")
    assert script.status_code == 200 and "echarts.init" in script.text
    assert not OUTSIDE.search(script.text)
