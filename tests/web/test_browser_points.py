"""The charts in a real browser (Playwright driving Debian's chromium), over
real HTTP, with data from real HJ 212 frames: a point's hours drawn on a
canvas by the vendored ECharts, switched to real-time data; an enterprise's
production and treatment electricity; an alert's values around the event and
its raw frames. No script error on any page. Screenshots are saved
(``ENVWATCH_SCREENSHOTS``, default var/screenshots): point.png,
point-en.png, enterprise.png and alert-evidence.png."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from envwatch.alerts.desk import AlertDesk
from envwatch.store.schema import ArchivedFrame
from tests.alerts.test_desk import NOW, store_finding
from tests.web.test_browser import SCREENSHOTS, browser, log_in
from tests.web.test_measurements_api import (
    COUNTY,
    DAY,
    MN,
    SO2,
    City,
    base_url,
    city,
    hourly_so2,
)

__all__ = ["base_url", "browser", "city"]

DRAWN = "[data-state=drawn]"


def test_a_points_charts_render_and_switch_granularity(city: City, browser: Any) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = log_in(browser, city.base_url, f"county-{COUNTY}")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{city.base_url}/points/{MN}?cn=2061&pollutant={SO2}"
              "&since=2026-11-29T00:00&until=2026-11-30T00:00")  # fmt: skip
    chart = page.locator("#point-chart")
    page.wait_for_selector(f"#point-chart{DRAWN}", timeout=15_000)
    assert chart.get_attribute("data-points") == "24"
    assert page.locator("#point-chart canvas").count() >= 1
    box = page.locator("#point-chart canvas").first.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 200
    # Hovering shows the values of that hour, in China Standard Time.
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    tooltip = page.locator("#point-chart div", has_text="2026-11-29").filter(has_text="实测值")
    tooltip.last.wait_for(timeout=15_000)
    text = tooltip.last.inner_text()
    shown = re.search(r"2026-11-29 (\d\d):00:00", text)
    assert shown is not None, text
    hour = int(shown.group(1))
    assert f"{hourly_so2(hour):g}" in text and f"{hourly_so2(hour) * 1.25:g}" in text
    page.screenshot(path=str(SCREENSHOTS / "point.png"), full_page=True)
    # Real-time data: the form forgets the hourly window and shows the newest.
    page.select_option("select[name=cn]", "2011")
    page.wait_for_url("**/points/*cn=2011*")
    page.wait_for_selector(f"#point-chart{DRAWN}", timeout=15_000)
    assert page.locator("#point-chart").get_attribute("data-points") == "4"
    assert page.locator("#series-table tbody tr").count() == 4
    # Days: the logger's own for the 28th, computed from the hours for the 29th.
    page.goto(f"{city.base_url}/points/{MN}?cn=2031&pollutant={SO2}"
              "&since=2026-11-28T00:00&until=2026-11-30T00:00")  # fmt: skip
    page.wait_for_selector(f"#point-chart{DRAWN}", timeout=15_000)
    assert page.locator("#point-chart").get_attribute("data-points") == "2"
    page.goto(f"{city.base_url}/points/{MN}?cn=2061&pollutant={SO2}&lang=en")
    page.wait_for_selector(f"#point-chart{DRAWN}", timeout=15_000)
    assert "Permit limit" in page.inner_text("main")
    page.screenshot(path=str(SCREENSHOTS / "point-en.png"), full_page=True)
    assert errors == []
    page.close()


def test_electricity_and_alert_evidence_render(city: City, browser: Any) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with city.engine.connect() as connection:
        cited = connection.execute(
            select(ArchivedFrame.id).where(ArchivedFrame.chain == MN, ArchivedFrame.cn == "2061")
            .order_by(ArchivedFrame.seq).offset(10).limit(1)
        ).scalar_one()  # fmt: skip
    store_finding(city.engine, MN, DAY.replace(hour=10), evidence={"frames": [cited]})
    AlertDesk(city.engine).run_once(NOW)
    page = log_in(browser, city.base_url, f"county-{COUNTY}")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{city.base_url}/enterprises/1")
    page.wait_for_selector(f"#electricity-chart{DRAWN}", timeout=15_000)
    assert page.locator("#electricity-chart").get_attribute("data-points") == "2"
    assert page.locator("#electricity-chart canvas").count() >= 1
    page.screenshot(path=str(SCREENSHOTS / "enterprise.png"), full_page=True)
    page.goto(f"{city.base_url}/alerts/1")
    page.wait_for_selector(f"#evidence-chart{DRAWN}", timeout=15_000)
    page.wait_for_selector(f"#evidence-frames{DRAWN}", timeout=15_000)
    assert page.locator("#evidence-chart canvas").count() >= 1
    assert page.locator("#evidence-frames tr.cited").count() == 1
    assert "a21026-Avg=30.0" in page.inner_text("#evidence-frames tr.cited")
    page.screenshot(path=str(SCREENSHOTS / "alert-evidence.png"), full_page=True)
    assert errors == []
    page.close()
