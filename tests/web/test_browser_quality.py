"""The 环境质量 pages in a real browser (Playwright driving Debian's chromium)
over real HTTP, on 45 days of demo station and section history stored through
the archive: the county map coloured by AQI with the stations on it, the
ranking, the sections; a station's charts drawn by the vendored ECharts. No
request leaves envwatch's own host and no script fails. Screenshots:
quality.png, quality-station.png."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import Engine

from envwatch.demo.quality_seed import seed_quality_history
from envwatch.demo.seed import seed_demo
from envwatch.hj212.codes import now_cst
from tests.web.server import serving
from tests.web.test_browser import SCREENSHOTS, browser, log_in

__all__ = ["browser"]

DRAWN = "[data-state=drawn]"


@pytest.fixture
def quality_city(engine: Engine) -> Iterator[str]:
    seed_demo(engine)
    seed_quality_history(engine, now_cst().replace(tzinfo=None) - timedelta(hours=2), days=45)
    with serving(engine) as url:
        yield url


def test_the_quality_page_draws_map_ranking_and_a_station_chart(
    quality_city: str, browser: Any
) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = log_in(browser, quality_city, "supervisor")
    hosts: set[str] = set()
    errors: list[str] = []
    page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{quality_city}/quality")
    assert page.locator("#quality-map svg path.county").count() == 8
    coloured = page.locator("#quality-map path.county[data-aqi]:not([data-aqi=''])")
    assert coloured.count() == 8  # every county has the day's AQI
    assert page.locator("#quality-map circle.station").count() == 13
    assert page.locator("#quality-map rect.section").count() == 14
    ranked = page.locator("#ranking tbody tr")
    assert ranked.count() == 11  # eight counties and three zones
    first_rank = ranked.first.locator("td").first.inner_text()
    assert first_rank == "1"
    assert page.locator("#sections tbody tr").count() == 14
    page.screenshot(path=str(SCREENSHOTS / "quality.png"), full_page=True)
    page.click("#stations a:text-is('市监测站（示例）')")
    page.wait_for_url(f"{quality_city}/quality/stations/LC-A01")
    page.wait_for_selector(f"#aqi-chart{DRAWN}", timeout=15_000)
    page.wait_for_selector(f"#hours-chart{DRAWN}", timeout=15_000)
    box = page.locator("#aqi-chart canvas").first.bounding_box()
    assert box is not None and box["width"] > 300
    assert page.locator("#days tbody tr").count() >= 40
    page.screenshot(path=str(SCREENSHOTS / "quality-station.png"), full_page=True)
    page.goto(f"{quality_city}/quality/sections/LC-W09")
    assert page.locator("#months tbody tr").count() >= 2
    assert page.locator("#quality-admin").count() == 0  # a supervisor sets no targets
    assert errors == []
    assert hosts == {urlsplit(quality_city).netloc}
    page.close()
    # A city administrator sets the city's PM2.5 target on the page.
    admin = log_in(browser, quality_city, "admin")
    admin.on("pageerror", lambda error: errors.append(str(error)))
    admin.goto(f"{quality_city}/quality")
    admin.select_option("#target-form select[name=area]", "city")
    admin.select_option("#target-form select[name=indicator]", "PM2_5")
    admin.fill("#target-form input[name=value]", "42")
    admin.click("#target-form button[type=submit]")
    admin.locator("#targets tr[data-area=city] td", has_text="42.0").first.wait_for(timeout=15_000)
    # A province file with a bad row: refused whole, the row and column named.
    admin.set_input_files("#province-form input[name=file]", files=[{
        "name": "province.csv", "mimeType": "text/csv",
        "buffer": "month,area,composite_index\n2026-13,全省,4.1\n".encode(),
    }])  # fmt: skip
    admin.click("#province-form button[type=submit]")
    status = admin.locator("#quality-admin-status.error")
    status.wait_for(timeout=15_000)
    assert "2 month" in status.inner_text()
    assert errors == []
    admin.close()
