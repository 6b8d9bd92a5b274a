"""In a real browser (Playwright driving Debian's chromium, headless), over
real HTTP: a county officer logs in, sees a new alert arrive on the map page
live, opens it, acknowledges and handles it and sees it move; an enterprise
user cannot open another enterprise's page. Screenshots of the dashboard and
the alert page are saved (``ENVWATCH_SCREENSHOTS``, default var/screenshots)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from envwatch.alerts.desk import AlertDesk
from envwatch.demo.seed import DEMO_PASSWORD
from tests.alerts.test_desk import DATA_T0, NOW, store_finding
from tests.conftest import service_missing
from tests.electricity.test_http_batch import base_url
from tests.web.test_pages_and_api import alerts

__all__ = ["alerts", "base_url"]

SCREENSHOTS = Path(os.environ.get("ENVWATCH_SCREENSHOTS", "var/screenshots"))


@pytest.fixture
def browser() -> Iterator[Any]:
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        service_missing("no chromium browser (Debian: apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright  # noqa: PLC0415
    except ImportError:
        service_missing("playwright is not installed (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        yield launched
        launched.close()


def log_in(browser: Any, base_url: str, username: str) -> Any:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{base_url}/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form.login button[type=submit]")
    page.wait_for_url(f"{base_url}/")
    return page


def test_a_county_officer_works_a_live_alert_in_the_browser(
    base_url: str, engine: Engine, browser: Any, alerts: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    mine, theirs = alerts
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = log_in(browser, base_url, f"county-{mine['county']}")
    assert page.locator("svg path.county").count() == 8
    # A new alert of the officer's county arrives while the page is open.
    store_finding(engine, mine["mn"], DATA_T0, rule="zero", severity="warning")
    AlertDesk(engine).run_once(NOW)
    page.locator("#newest a", has_text="3").wait_for(timeout=15_000)
    page.screenshot(path=str(SCREENSHOTS / "dashboard.png"), full_page=True)
    page.click("#newest a:text-is('1')")
    page.wait_for_url(f"{base_url}/alerts/1")
    assert page.inner_text("#state") == "已派发"
    page.screenshot(path=str(SCREENSHOTS / "alert.png"), full_page=True)
    page.click("button[value=acknowledge]")
    page.wait_for_selector("#state:text-is('已响应')")
    page.select_option("select[name=outcome]", "onsite_check")
    page.fill("input[name=note]", "现场检查：除尘器故障，已责令整改")
    page.click("button[value=handle]")
    page.wait_for_selector("#state:text-is('已处置')")
    assert "现场检查：除尘器故障" in page.inner_text("ol.history")
    page.goto(f"{base_url}/alerts/{theirs['id']}")
    assert "没有找到" in page.content()
    page.close()


def test_an_enterprise_user_cannot_open_another_enterprise(
    base_url: str, browser: Any, alerts: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    mine, theirs = alerts
    page = log_in(browser, base_url, "enterprise-1")
    page.goto(f"{base_url}/enterprises/{mine['enterprise']}")
    assert page.locator("h1").inner_text() != ""
    response = page.goto(f"{base_url}/enterprises/{theirs['enterprise']}")
    assert response is not None and response.status == 404
    assert "没有找到" in page.content()
    page.close()
