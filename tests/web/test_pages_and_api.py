"""The web platform over real HTTP on SQLite and PostgreSQL: login with
lockout, sessions and CSRF; the alert API's authorisation by role and scope;
the pages (map, inbox, alert with its actions, enterprise) in Chinese and
English, every asset served locally; live updates by server-sent events."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select, update

from envwatch.alerts.desk import AlertDesk
from envwatch.demo.seed import DEMO_PASSWORD
from envwatch.store.schema import AppUser, Enterprise, MonitoringPoint
from envwatch.web.mapsvg import county_map
from tests.alerts.test_desk import DATA_T0, NOW, store_finding
from tests.electricity.test_http_batch import base_url
from tests.web.server import form_login

__all__ = ["base_url"]


def points_in_two_counties(engine: Engine) -> tuple[tuple[str, str, int], tuple[str, str, int]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(MonitoringPoint.mn, Enterprise.county_code, Enterprise.id)
            .join(Enterprise, MonitoringPoint.enterprise_id == Enterprise.id)
            .where(MonitoringPoint.mn.not_like("%E%"))
            .order_by(Enterprise.id, MonitoringPoint.mn)
        ).all()
    first = next(r for r in rows if r.id == 1)
    other = next(r for r in rows if r.county_code != first.county_code)
    return (first.mn, first.county_code, first.id), (other.mn, other.county_code, other.id)


@pytest.fixture
def alerts(base_url: str, engine: Engine) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two alerts: enterprise 1's and one in another county."""
    (mn_a, county_a, ent_a), (mn_b, county_b, ent_b) = points_in_two_counties(engine)
    store_finding(engine, mn_a, DATA_T0)
    store_finding(engine, mn_b, DATA_T0)
    AlertDesk(engine).run_once(NOW)
    return ({"mn": mn_a, "county": county_a, "enterprise": ent_a, "id": 1},
            {"mn": mn_b, "county": county_b, "enterprise": ent_b, "id": 2})  # fmt: skip


def session(base_url: str, username: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=base_url)
    response = client.post("/api/v1/session", json={"username": username,
                                                    "password": DEMO_PASSWORD})  # fmt: skip
    assert response.status_code == 200, response.text
    return client, response.json()["csrf"]


@pytest.fixture
def clients(base_url: str) -> Iterator[dict[str, tuple[httpx.Client, str]]]:
    made: dict[str, tuple[httpx.Client, str]] = {}
    yield made
    for client, _ in made.values():
        client.close()


def test_logins_lock_after_repeated_failures(base_url: str, engine: Engine) -> None:
    wrong = {"username": "supervisor", "password": "guess"}
    for _ in range(5):
        response = httpx.post(f"{base_url}/api/v1/session", json=wrong)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "bad_credentials"
    locked = httpx.post(f"{base_url}/api/v1/session",
                        json={"username": "supervisor", "password": DEMO_PASSWORD})  # fmt: skip
    assert locked.status_code == 423 and locked.json()["error"]["code"] == "locked"
    unknown = httpx.post(f"{base_url}/api/v1/session", json={"username": "x", "password": "y"})
    assert unknown.json()["error"]["code"] == "bad_credentials"  # not "no such user"
    bad = httpx.post(f"{base_url}/api/v1/session", json={"username": "supervisor"})
    assert bad.status_code == 422
    with engine.connect() as connection:
        stored = connection.execute(
            select(AppUser.password_hash).where(AppUser.username == "admin")
        ).scalar_one()
    assert stored is not None and stored.startswith("scrypt$") and DEMO_PASSWORD not in stored


def test_each_role_sees_and_acts_within_its_scope(
    base_url: str, engine: Engine, alerts: tuple[dict[str, Any], dict[str, Any]],
    clients: dict[str, tuple[httpx.Client, str]],
) -> None:  # fmt: skip
    mine, theirs = alerts
    assert httpx.get(f"{base_url}/api/v1/alerts").status_code == 401
    expected_visible = {
        "supervisor": {1, 2}, "viewer": {1, 2}, "enforcer": {1, 2}, "admin": {1, 2},
        f"county-{mine['county']}": {1}, f"county-{theirs['county']}": {2},
        "enterprise-1": {1}, "contractor-1": {1},
    }  # fmt: skip
    for username, visible in expected_visible.items():
        client, _ = clients.setdefault(username, session(base_url, username))
        listing = client.get("/api/v1/alerts").json()
        assert {item["id"] for item in listing["items"]} == visible, username
        assert listing["total"] == len(visible)
        for alert_id in (1, 2):
            status = client.get(f"/api/v1/alerts/{alert_id}").status_code
            assert status == (200 if alert_id in visible else 404), (username, alert_id)
    officer, csrf = clients[f"county-{mine['county']}"]
    no_csrf = officer.post("/api/v1/alerts/1/actions", json={"action": "acknowledge"})
    assert no_csrf.status_code == 403 and no_csrf.json()["error"]["code"] == "csrf_failed"
    other = officer.post("/api/v1/alerts/2/actions", json={"action": "acknowledge"},
                         headers={"X-CSRF-Token": csrf})  # fmt: skip
    assert other.status_code == 404
    done = officer.post("/api/v1/alerts/1/actions", json={"action": "acknowledge", "note": "收到"},
                        headers={"X-CSRF-Token": csrf})  # fmt: skip
    assert done.json() == {"id": 1, "state": "acknowledged"}
    viewer, viewer_csrf = clients["viewer"]
    refused = viewer.post("/api/v1/alerts/2/actions", json={"action": "acknowledge"},
                          headers={"X-CSRF-Token": viewer_csrf})  # fmt: skip
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "role_not_allowed"
    detail = officer.get("/api/v1/alerts/1").json()
    assert detail["allowed_actions"] == ["handle", "merge", "comment"]
    assert [e["action"] for e in detail["events"]] == ["dispatch", "acknowledge"]


def test_pages_in_chinese_and_english_with_local_assets_only(
    base_url: str, engine: Engine, alerts: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    mine, theirs = alerts
    with httpx.Client(base_url=base_url) as browser:
        assert "登录" in browser.get("/").text
        wrong = form_login(browser, "enterprise-1", "nope")
        assert wrong.status_code == 401 and "用户名或密码错误" in wrong.text
        login = form_login(browser, f"county-{mine['county']}", DEMO_PASSWORD)
        assert login.status_code == 303
        dashboard = browser.get("/")
        assert dashboard.text.count('class="county heat') == 8
        assert f'data-county="{mine["county"]}"' in dashboard.text
        inbox = browser.get("/alerts").text
        assert "/alerts/1" in inbox and "/alerts/2" not in inbox
        page = browser.get("/alerts/1")
        assert 'value="acknowledge"' in page.text and "已派发" in page.text
        csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
        assert browser.post("/alerts/1/act", data={"action": "acknowledge"}).status_code == 403
        acted = browser.post("/alerts/1/act", data={"action": "acknowledge", "csrf": csrf})
        assert acted.status_code == 303
        assert "已响应" in browser.get("/alerts/1").text
        assert browser.get("/alerts/2").status_code == 404
        english = browser.get("/alerts/1?lang=en").text
        assert "acknowledged" in english and "Log out" in english
        for path in ("/", "/alerts", "/alerts/1"):
            text = browser.get(path).text
            assert "http://" not in text and "https://" not in text, path
        for asset in ("/static/envwatch.css", "/static/live.js",
                      "/static/liaocheng-counties.geojson"):  # fmt: skip
            assert browser.get(asset).status_code == 200, asset
    with httpx.Client(base_url=base_url) as enterprise:
        form_login(enterprise, "enterprise-1", DEMO_PASSWORD)
        assert enterprise.get(f"/enterprises/{mine['enterprise']}").status_code == 200
        assert enterprise.get(f"/enterprises/{theirs['enterprise']}").status_code == 404


def test_new_alerts_are_pushed_as_server_sent_events(
    base_url: str, engine: Engine, alerts: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    client, _ = session(base_url, "supervisor")
    with client.stream("GET", "/api/v1/alerts/stream", timeout=10) as stream:
        for line in stream.iter_lines():
            if line.startswith("data: "):
                assert json.loads(line[6:]) == {"newest": 2}
                break
    client.close()


def test_the_alert_stream_ends_when_its_session_does(
    base_url: str, alerts: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    client, csrf = session(base_url, "supervisor")
    lines = []
    with client.stream("GET", "/api/v1/alerts/stream", timeout=20) as stream:
        for line in stream.iter_lines():
            lines.append(line)
            if line.startswith('data: {"newest"'):
                # Logged out elsewhere (the same session): the stream must not go on.
                with httpx.Client(base_url=base_url, cookies=client.cookies) as other:
                    ended = other.delete("/api/v1/session", headers={"X-CSRF-Token": csrf})
                    assert ended.status_code == 200
    assert "event: ended" in lines
    client.close()


def test_the_county_map_is_drawn_from_the_shipped_geojson() -> None:
    areas, height = county_map()
    assert len(areas) == 8 and {a.name_zh for a in areas} >= {"东昌府区", "临清市"}
    assert 300 < height < 1200
    for area in areas:
        assert area.path.startswith("M") and area.path.endswith("Z")
        assert 0 <= area.label_x <= 600 and 0 <= area.label_y <= height


def test_a_deactivated_user_loses_the_session(base_url: str, engine: Engine) -> None:
    client, _ = session(base_url, "viewer")
    assert client.get("/api/v1/alerts").status_code == 200
    with engine.begin() as connection:
        connection.execute(update(AppUser).where(AppUser.username == "viewer").values(active=False))
    assert client.get("/api/v1/alerts").status_code == 401
    client.close()
