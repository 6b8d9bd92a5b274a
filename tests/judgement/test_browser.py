"""The analysis page and the weekly report page in a real browser
(Playwright driving Debian's chromium) over real HTTP: the analysis pivots
by county and industry and drills down to the alerts behind a row; the
report page draws its county map and charts; no request leaves envwatch's
host and no script fails."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import Engine, select

from envwatch.store.schema import Enterprise
from tests.judgement.conftest import COUNTY, WEEK, seeded
from tests.web.server import serving
from tests.web.test_browser import browser, log_in

__all__ = ["browser"]


@pytest.fixture
def city_url(tmp_path: Path) -> Iterator[tuple[Engine, str]]:
    engine = seeded(f"sqlite:///{tmp_path}/city.db")
    with serving(engine) as url:
        yield engine, url
    engine.dispose()


def test_analysis_pivots_and_drills_down_and_the_report_draws_offline(
    city_url: tuple[Engine, str], browser: Any
) -> None:
    engine, url = city_url
    with engine.connect() as connection:
        industry = connection.execute(
            select(Enterprise.industry_code).where(Enterprise.county_code == COUNTY)
            .order_by(Enterprise.id)).scalars().first()  # fmt: skip
    page = log_in(browser, url, "supervisor")
    hosts: set[str] = set()
    errors: list[str] = []
    page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{url}/analysis")
    page.select_option("#analysis-form select[name=measure]", "alerts")
    page.fill("#analysis-form input[name=by]", "county,industry")
    page.fill("#analysis-form input[name=period]", "2026-11")
    page.click("#analysis-form button[type=submit]")
    row = page.locator("#analysis-table tbody tr").first
    row.wait_for(timeout=15_000)
    assert page.locator("#analysis-table tbody tr").count() == 1
    cells = row.locator("td").all_inner_texts()
    assert cells[:4] == [COUNTY, "东昌府区", industry, "3"]
    assert page.locator("#analysis-chart canvas").count() >= 1
    row.click()
    page.locator("#drill-table tbody tr").nth(2).wait_for(timeout=15_000)
    assert page.locator("#drill-table tbody tr").count() == 3
    assert "csv" in (page.get_attribute("#export-csv", "href") or "")

    page.goto(f"{url}/judgement/reports/{WEEK}")
    assert page.locator(".weekly-report svg.report-map path").count() == 8
    assert page.locator(".weekly-report svg.report-chart").count() == 2
    assert page.locator(".weekly-report svg.report-chart rect").count() >= 8
    assert page.locator("#report-pdf").count() == 1
    page.goto(f"{url}/judgement?week={WEEK}")
    assert page.locator("#ranking tbody tr").count() == 12
    page.locator("#judgement-chart canvas").first.wait_for(timeout=15_000)
    assert errors == []
    assert hosts == {urlsplit(url).netloc}
