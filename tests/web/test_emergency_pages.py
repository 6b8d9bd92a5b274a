"""The emergency compliance report as a page and over the API, on the demo
city's orange warning, scoped: the city sees every county, a county officer
only theirs, an enterprise user only its own lines. SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, update

from envwatch.demo.emergency_week import WARNING_DAY
from envwatch.demo.seed import seed_demo
from envwatch.registry.emergency_lists import daily_compliance
from envwatch.store.schema import AppUser
from tests.web.server import serving
from tests.web.test_pages_and_api import session


@pytest.fixture
def emergency_url(engine: Engine) -> Iterator[str]:
    seed_demo(engine, emergency=True)
    with serving(engine) as url:
        yield url


def test_the_compliance_report_is_shown_per_county_within_scope(
    emergency_url: str, engine: Engine
) -> None:
    with engine.connect() as connection:
        report = daily_compliance(connection, WARNING_DAY)
    failing = next(row for row in report if row.verdict.status == "not_complied")
    admin, _ = session(emergency_url, "admin")
    page = admin.get("/emergency")  # the newest warning's day by default
    assert page.status_code == 200
    assert WARNING_DAY.isoformat() in page.text
    assert page.text.count('class="status not_complied"') == sum(
        row.verdict.status == "not_complied" for row in report)  # fmt: skip
    assert failing.enterprise in page.text
    api = admin.get("/api/v1/emergency/compliance", params={"day": WARNING_DAY.isoformat()})
    assert api.status_code == 200 and api.json()["total"] == len(report)
    county, _ = session(emergency_url, f"county-{failing.county_code}")
    mine = county.get("/api/v1/emergency/compliance", params={"day": WARNING_DAY.isoformat()})
    assert {item["county"] for item in mine.json()["items"]} == {failing.county_code}
    shown = county.get(f"/emergency?day={WARNING_DAY.isoformat()}")
    others = {row.enterprise for row in report if row.county_code != failing.county_code}
    assert failing.enterprise in shown.text
    assert not any(name in shown.text for name in others)
    with engine.begin() as connection:  # the demo's enterprise user, of the failing enterprise
        connection.execute(update(AppUser).where(AppUser.username == "enterprise-1")
                           .values(enterprise_id=failing.enterprise_id))  # fmt: skip
    enterprise, _ = session(emergency_url, "enterprise-1")
    own = enterprise.get("/api/v1/emergency/compliance", params={"day": WARNING_DAY.isoformat()})
    assert {item["enterprise"] for item in own.json()["items"]} == {failing.enterprise}
    # After the warning: the reduction required against achieved, in scope.
    assessed = admin.get("/api/v1/emergency/warnings/1/assessment").json()
    assert assessed["warning"]["level"] == "orange"
    (total,) = assessed["total"]
    assert total["line_days"] == len(report)
    assert total["not_complied"] == sum(r.verdict.status == "not_complied" for r in report)
    counties = county.get("/api/v1/emergency/warnings/1/assessment").json()["by_county"]
    assert [group["group"] for group in counties] == [failing.county_code]
    for client in (admin, county, enterprise):
        client.close()
