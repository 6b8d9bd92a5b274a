"""The permit pages in a real browser (Playwright driving Debian's chromium),
over real HTTP on the demo registry (SQLite): the emissions page draws the
monthly bars and the cumulative line with its projection without a script
error; a supervisor makes an audit file from its page and reads it; the
city table of permit use sorts. Screenshots: emissions.png, audit-file.png."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from envwatch.demo.seed import seed_demo
from envwatch.permits.materialise import Materialiser
from envwatch.store.archive import Archive, MeasurementRow, ReceivedFrame
from envwatch.store.db import make_engine, upgrade
from envwatch.store.schema import MonitoringPoint
from tests.web.server import serving
from tests.web.test_browser import SCREENSHOTS, browser, log_in

__all__ = ["browser"]
SO2 = "a21026"
JAN = datetime(2026, 1, 1)
H = timedelta(hours=1)


@pytest.fixture
def demo_url(sqlite_url: str) -> Iterator[tuple[str, Engine]]:
    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    seed_demo(engine)
    with engine.connect() as connection:
        mn = connection.execute(
            select(MonitoringPoint.mn).where(MonitoringPoint.outlet_id == 1)
        ).scalar_one()  # fmt: skip
    Archive(engine).write_batch([
        ReceivedFrame(datetime.now(UTC), "p", b"##", "accepted", mn=mn, cn="2061",
                      measurements=(MeasurementRow(mn, "2061", JAN + i * H, SO2, avg=100.0,
                                                   flag="N"),
                                    MeasurementRow(mn, "2061", JAN + i * H, "a00000",
                                                   avg=100.0, flag="N")))
        for i in range(12) if i not in (4, 5)
    ])  # fmt: skip
    Materialiser.create(engine).catch_up(JAN + 12 * H)
    with serving(engine) as url:
        yield url, engine


def test_emissions_chart_audit_file_and_usage_in_the_browser(
    demo_url: tuple[str, Engine], browser: Any
) -> None:
    url, _ = demo_url
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = log_in(browser, url, "supervisor")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{url}/enterprises/1/emissions?year=2026")
    cumulative = f'[data-chart=emissions_cumulative][data-pollutant="{SO2}"]'
    page.wait_for_selector(f"{cumulative}[data-state=drawn]", timeout=15_000)
    page.wait_for_selector(f'[data-chart=emissions][data-pollutant="{SO2}"][data-state=drawn]',
                           timeout=15_000)  # fmt: skip
    box = page.locator(f"{cumulative} canvas").first.bounding_box()
    assert box is not None and box["width"] > 300
    page.screenshot(path=str(SCREENSHOTS / "emissions.png"), full_page=True)
    page.click("a[href='/enterprises/1/audit']")
    page.fill("input[name=period]", "2026-01")
    page.click("form[action='/enterprises/1/audit'] button[type=submit]")
    page.wait_for_url("**/audit-files/*")
    text = page.inner_text("main")
    assert "合规检查" in text and "浓度超标小时" in text and "按直排核算" in text
    assert page.locator("a[download]", has_text="PDF").count() == 1
    page.screenshot(path=str(SCREENSHOTS / "audit-file.png"), full_page=True)
    page.goto(f"{url}/permits/usage?year=2026")
    page.click("th a:has-text('企业')")
    page.wait_for_url("**sort=enterprise**")
    assert page.locator("table.permit-usage tbody tr").count() > 100
    assert errors == []
    page.close()
