"""In a real browser (Playwright driving Debian's chromium): a county officer
opens a problem of the demo feedback list, sees its buttons, applies for
acceptance with a PDF chosen in the file field (the page uploads it to the
evidence store first, ``static/evidence-upload.js``) and sees the state and the
evidence; a supervisor sees the complaints map with its hotspot; the
public notice opens without login and names no person. On
SQLite only: the same pages run on PostgreSQL in test_rectification_web.py."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from envwatch.demo.rectification import seed_rectification
from envwatch.store.schema import AppUser, RectificationProblem
from tests.electricity.test_http_batch import base_url
from tests.rectification.helpers import PDF
from tests.web.test_browser import SCREENSHOTS, browser, log_in
from tests.web.test_pages_and_api import alerts

__all__ = ["alerts", "base_url", "browser"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_county_officer_applies_for_acceptance_in_the_browser(
    base_url: str, engine: Engine, browser: Any, tmp_path: Path
) -> None:
    seed_rectification(engine)
    with engine.connect() as connection:
        problem = connection.execute(
            select(RectificationProblem.id, RectificationProblem.county_code).where(
                RectificationProblem.state == "rectifying"
            )
        ).one()
        people = connection.execute(select(AppUser.username, AppUser.display_name)).all()
    report = tmp_path / "整改完成报告.pdf"
    report.write_bytes(PDF)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    supervisor = log_in(browser, base_url, "supervisor")
    supervisor.goto(f"{base_url}/complaints")
    assert supervisor.locator("svg.complaints-map path.county").count() == 8
    assert supervisor.locator("svg.complaints-map circle.hotspot").count() == 1
    supervisor.screenshot(path=str(SCREENSHOTS / "complaints.png"), full_page=True)
    supervisor.close()
    page = log_in(browser, base_url, f"county-{problem.county_code}")
    page.goto(f"{base_url}/problems")
    page.click(f"a[href='/problems/{problem.id}'] >> nth=0")
    page.wait_for_url(f"{base_url}/problems/{problem.id}")
    assert page.inner_text("#problem-state") == "整改中"
    buttons = page.locator("form.problem-action button").all_inner_texts()
    assert buttons == ["报送进展", "申请验收", "举一反三", "备注"]
    apply = page.locator("form[data-action=apply]")
    apply.locator("input[name=note]").fill("整改措施已全部落实")
    apply.locator("input[type=file]").set_input_files(str(report))
    apply.locator("button").click()
    page.wait_for_selector("#problem-state:text-is('申请验收')")
    assert "整改完成报告.pdf" in page.inner_text("#evidence")
    assert page.locator("form.problem-action button").all_inner_texts() == ["举一反三", "备注"]
    page.screenshot(path=str(SCREENSHOTS / "problem.png"), full_page=True)
    page.close()
    # The public notice: no login, no person's name.
    anonymous = browser.new_page()
    anonymous.goto(f"{base_url}/notice")
    assert anonymous.url == f"{base_url}/notice"
    text = anonymous.inner_text("main")
    assert "整改公示" in anonymous.title() and "公示中" in text
    for username, display_name in people:
        assert display_name not in text and f"{username}（" not in text
    anonymous.screenshot(path=str(SCREENSHOTS / "notice.png"), full_page=True)
    anonymous.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_enterprise_explains_an_alert_with_a_file_in_the_browser(
    base_url: str, browser: Any, alerts: tuple[dict[str, Any], dict[str, Any]], tmp_path: Path
) -> None:
    mine, _ = alerts
    record = tmp_path / "检修记录.pdf"
    record.write_bytes(PDF)
    page = log_in(browser, base_url, "enterprise-1")
    page.goto(f"{base_url}/alerts/{mine['id']}")
    form = page.locator("form.actions").first
    form.locator("input[name=note]").fill("除尘器检修")
    form.locator("input[type=file]").set_input_files(str(record))
    with page.expect_navigation():
        form.locator("button[value=explain]").click()
    assert page.url == f"{base_url}/alerts/{mine['id']}"
    digest = hashlib.sha256(PDF).hexdigest()
    link = page.locator(f"a[href='/api/v1/alerts/{mine['id']}/files/{digest}']")
    assert link.inner_text() == "检修记录.pdf"
    assert "除尘器检修" in page.inner_text("main")
    page.close()
