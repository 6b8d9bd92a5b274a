"""The zoning page in a real browser (Playwright driving Debian's chromium),
on the demo city: the control units and the enterprises drawn as SVG over
the county map with nothing fetched from anywhere but envwatch itself; the
pre-check form answers with the unit, the verdict and the clauses. The
screenshot is saved as zoning.png (``ENVWATCH_SCREENSHOTS``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import Engine, func, select

from envwatch.store.schema import ControlUnit, Enterprise
from envwatch.zoning.store import mismatches
from tests.electricity.test_http_batch import base_url
from tests.web.test_browser import SCREENSHOTS, browser, log_in

__all__ = ["base_url", "browser"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_zoning_page_draws_units_and_enterprises_offline_and_prechecks(
    base_url: str, engine: Engine, browser: Any
) -> None:
    with engine.connect() as connection:
        units = connection.execute(select(func.count()).select_from(ControlUnit)).scalar_one()
        located = connection.execute(
            select(func.count()).select_from(Enterprise).where(Enterprise.longitude.is_not(None))
        ).scalar_one()  # fmt: skip
        forbidden = next(m for m in mismatches(connection) if m.verdict.verdict == "forbidden")
        where = connection.execute(
            select(Enterprise.longitude, Enterprise.latitude)
            .where(Enterprise.id == forbidden.enterprise_id)
        ).one()  # fmt: skip
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = log_in(browser, base_url, "admin")
    errors: list[str] = []
    elsewhere: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", lambda request: elsewhere.append(request.url)
            if urlsplit(request.url).hostname != "127.0.0.1" else None)  # fmt: skip
    page.goto(f"{base_url}/zoning")
    assert page.locator("#zoning-map svg path.unit").count() == units
    assert page.locator("#zoning-map svg circle.enterprise").count() == located
    assert page.locator("#zoning-map svg circle.enterprise.forbidden").count() >= 1
    box = page.locator("#zoning-map svg").bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 300
    assert page.locator(f'#mismatch-table tr[data-enterprise="{forbidden.enterprise_id}"]').count()
    # A planned project at the forbidden enterprise's place, in its industry.
    page.fill("#precheck-form input[name=lon]", str(where.longitude))
    page.fill("#precheck-form input[name=lat]", str(where.latitude))
    page.fill("#precheck-form input[name=industry]", forbidden.industry_code)
    page.click("#precheck-form button[type=submit]")
    page.wait_for_url("**/zoning?lon=*")
    answer = page.locator("#precheck-answer")
    assert answer.get_attribute("data-verdict") == "forbidden"
    assert forbidden.unit.name in answer.inner_text()
    clauses = page.locator("#precheck-answer ul.clauses li")
    assert clauses.count() >= 1
    assert forbidden.verdict.clauses[0].text in clauses.first.inner_text()
    assert page.locator("#project-point").count() == 1
    # The same project given as its site's polygon around that place: drawn, same verdict.
    x, y, d = where.longitude, where.latitude, 0.002
    site = f"{x - d},{y - d};{x + d},{y - d};{x + d},{y + d};{x - d},{y + d}"
    page.fill("#precheck-form input[name=lon]", "")
    page.fill("#precheck-form input[name=lat]", "")
    page.fill("#precheck-form textarea[name=polygon]", site)
    page.click("#precheck-form button[type=submit]")
    page.wait_for_selector("#project-polygon")
    answer = page.locator("#precheck-answer")
    assert answer.get_attribute("data-verdict") == "forbidden"
    assert forbidden.unit.name in answer.inner_text()
    assert (
        forbidden.verdict.clauses[0].text
        in page.locator("#precheck-answer ul.clauses").inner_text()
    )
    assert page.locator("#project-point").count() == 0
    page.screenshot(path=str(SCREENSHOTS / "zoning.png"), full_page=True)
    # The enterprise's own page shows its unit and the clause it breaks.
    page.goto(f"{base_url}/enterprises/{forbidden.enterprise_id}")
    shown = page.inner_text("main")
    assert forbidden.unit.name in shown and forbidden.verdict.clauses[0].text in shown
    # The dashboard map carries the same layers, switched off and on offline.
    page.goto(f"{base_url}/")
    assert page.locator("#map svg path.unit").count() == units
    assert page.locator("#map svg circle.enterprise").count() == located
    assert page.locator("#map svg path.unit").first.is_visible()
    page.uncheck("#layer-units")
    assert not page.locator("#map svg path.unit").first.is_visible()
    assert page.locator("#map svg circle.enterprise").first.is_visible()
    page.uncheck("#layer-enterprises")
    assert not page.locator("#map svg circle.enterprise").first.is_visible()
    page.check("#layer-units")
    assert page.locator("#map svg path.unit").first.is_visible()
    # An administrator adds a line to enterprise 1's emergency list on its page
    # (a bad measure is named first), then deletes it.
    page.goto(f"{base_url}/enterprises/1#emergency-list")
    form = page.locator("#line-form")
    form.locator("input[name=season]").fill("2027-2028")
    form.locator("input[name=valid_from]").fill("2027-10-01")
    form.locator("input[name=valid_until]").fill("2028-03-16")
    form.locator("input[name=name]").fill("浏览器生产线")
    form.locator("select[name=meters]").select_option(index=0)
    form.locator("input[name=orange]").fill("减半")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#line-status.error")
    assert "减半" in page.inner_text("#line-status")
    form.locator("input[name=orange]").fill("限产30%+运输管控")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    added = page.locator("tr", has_text="浏览器生产线")
    assert added.count() == 1 and "限产30%＋运输管控" in added.inner_text()
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        added.locator("button.delete-line").click()
    assert page.locator("tr", has_text="浏览器生产线").count() == 0
    # A bad industry code is named, not an error page.
    page.goto(f"{base_url}/zoning?lon=116&lat=36.4&industry=abc")
    assert page.locator("#precheck-problem").count() == 1
    assert errors == []
    assert elsewhere == []
    page.close()
