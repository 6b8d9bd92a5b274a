"""The emergency compliance report as a page and over the API, on the demo
city's orange warning, scoped: the city sees every county, a county officer
only theirs, an enterprise user only its own lines. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, insert, select, update

from envwatch.alerts.notify import Mail, Notifier
from envwatch.demo.emergency_week import WARNING_DAY
from envwatch.demo.seed import seed_demo
from envwatch.hj212.codes import now_cst
from envwatch.registry.emergency_lists import daily_compliance, enterprise_lines
from envwatch.registry.maintenance import declare_emergency
from envwatch.store.schema import (
    AppUser,
    ControlUnit,
    EmergencyPeriod,
    Enterprise,
    NotificationTarget,
)
from envwatch.web.people import CSRF_HEADER
from tests.alerts.servers import Received, webhook_receiver
from tests.electricity.test_http_batch import base_url
from tests.web.server import serving
from tests.web.test_pages_and_api import session

__all__ = ["base_url"]


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
    # The emissions view beside it, the same day, the API giving the same rows.
    assert 'id="emission-report"' in page.text
    emitted = admin.get("/api/v1/emergency/emissions", params={"day": WARNING_DAY.isoformat()})
    assert emitted.status_code == 200 and emitted.json()["total"] >= 1
    assert page.text.count('class="emission-status not_complied"') == sum(
        item["status"] == "not_complied" for item in emitted.json()["items"])  # fmt: skip
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


def test_a_warning_declared_through_the_api_notifies_the_enterprises_it_covers(
    base_url: str, engine: Engine
) -> None:
    with engine.begin() as connection:
        county = connection.scalar(select(Enterprise.county_code).where(Enterprise.id == 1))
        lines = enterprise_lines(connection, 1)
    assert lines  # enterprise 1 of the demo has a listed line
    received = Received()
    with webhook_receiver(received) as url:
        with engine.begin() as connection:
            connection.execute(insert(NotificationTarget), [
                {"role": "enterprise_user", "channel": "webhook", "address": url,
                 "enterprise_id": 1, "active": True}])  # fmt: skip
        admin, csrf = session(base_url, "admin")
        warning = {"level": "red", "starts_at": "2026-12-10T00:00:00",
                   "ends_at": "2026-12-12T00:00:00", "county_code": county,
                   "reference": "聊重污办〔2026〕12号"}  # fmt: skip
        refused = admin.post("/api/v1/emergency/warnings", json={**warning, "level": "purple"},
                             headers={CSRF_HEADER: csrf})  # fmt: skip
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "unknown_level"
        done = admin.post("/api/v1/emergency/warnings", json=warning, headers={CSRF_HEADER: csrf})
        assert done.status_code == 201, done.text
        assert done.json()["notices"] == 1
        assert Notifier(engine, Mail(None, 25, "envwatch@city.example")).deliver_due() == 1
        # Downgraded to orange from noon of the first day: a new period, notified again;
        # then lifted; a county officer of another county may do neither.
        change = f"/api/v1/emergency/warnings/{done.json()['id']}/change"
        at = {"at": "2026-12-10T12:00:00"}
        with engine.connect() as connection:
            other = connection.scalar(
                select(AppUser.username).where(AppUser.role == "county_officer",
                                               AppUser.county_codes.not_like(f"%{county}%"))
            )  # fmt: skip
        outsider, their_csrf = session(base_url, str(other))
        refused = outsider.post(change, json={**at, "level": "orange"},
                                headers={CSRF_HEADER: their_csrf})  # fmt: skip
        assert refused.status_code == 403, refused.text
        outsider.close()
        same = admin.post(change, json={**at, "level": "red"}, headers={CSRF_HEADER: csrf})
        assert same.status_code == 422 and same.json()["error"]["code"] == "same_level"
        lowered = admin.post(change, json={**at, "level": "orange"}, headers={CSRF_HEADER: csrf})
        assert lowered.status_code == 200, lowered.text
        assert lowered.json()["notices"] == 1
        lifted = admin.post(f"/api/v1/emergency/warnings/{lowered.json()['id']}/change",
                            json={"at": "2026-12-11T06:00:00", "level": None},
                            headers={CSRF_HEADER: csrf})  # fmt: skip
        assert lifted.status_code == 200 and lifted.json() == {"id": None, "notices": 0}
        assert Notifier(engine, Mail(None, 25, "envwatch@city.example")).deliver_due() == 1
        with engine.connect() as connection:
            periods = connection.execute(
                select(EmergencyPeriod.level, EmergencyPeriod.starts_at, EmergencyPeriod.ends_at)
                .where(EmergencyPeriod.reference == "聊重污办〔2026〕12号")
                .order_by(EmergencyPeriod.starts_at)
            ).all()  # fmt: skip
        assert [(p.level, f"{p.starts_at:%d %H}", f"{p.ends_at:%d %H}") for p in periods] == [
            ("red", "10 00", "10 12"), ("orange", "10 12", "11 06")]  # fmt: skip
        admin.close()
    (_, body), (_, again) = received.requests
    assert json.loads(again)["warning"]["level"] == "orange"
    payload = json.loads(body)
    assert payload["warning"]["id"] == done.json()["id"] and payload["warning"]["level"] == "red"
    assert payload["enterprise"]["id"] == 1
    assert payload["measures"] == [
        {"line": line["name"], "measure": line["measures"].get("red", "none")} for line in lines
    ]


def test_the_dashboard_map_draws_units_enterprises_and_the_warnings_in_force(
    base_url: str, engine: Engine
) -> None:
    now = now_cst().replace(tzinfo=None)
    with engine.begin() as connection:
        county = connection.scalar(select(Enterprise.county_code).where(Enterprise.id == 1))
        units = connection.execute(select(func.count()).select_from(ControlUnit)).scalar_one()
        declare_emergency(connection, level="red", starts_at=now - timedelta(hours=1),
                          ends_at=now + timedelta(hours=5), county_code=county,
                          reference="聊重污办〔2026〕99号", declared_by="admin")  # fmt: skip
        declare_emergency(connection, level="yellow", starts_at=now - timedelta(days=3),
                          ends_at=now - timedelta(days=2), county_code=None,
                          reference="已解除", declared_by="admin")  # fmt: skip
        located = connection.execute(
            select(Enterprise.id).where(Enterprise.longitude.is_not(None),
                                        Enterprise.county_code == county)
        ).scalars().all()  # fmt: skip
    admin, _ = session(base_url, "admin")
    page = admin.get("/").text
    assert units > 0 and page.count('class="unit ') == units
    assert f'data-enterprise="{located[0]}"' in page
    # Only the county under the red warning in force is outlined; the lifted one is not.
    assert page.count('class="warned ') == 1
    assert f'class="warned red" data-warned="{county}"' in page
    assert "聊重污办〔2026〕99号" in page and "已解除" not in page
    officer, _ = session(base_url, f"county-{county}")
    mine = officer.get("/").text
    dots = set(re.findall(r'circle [^>]*data-enterprise="(\d+)"', mine))
    assert dots == {str(e) for e in located}
    for client in (admin, officer):
        client.close()
