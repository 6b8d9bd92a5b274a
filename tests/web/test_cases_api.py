"""The enforcement-case and notification API over real HTTP on SQLite and
PostgreSQL: a case opened from an alert, recorded and closed, each step in
the audit log; who may open and see cases (404 out of scope, like unknown);
CSRF; bad payloads answered 422 with envwatch's error envelope; the
notification log by role, and its targets for city administrators."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, insert, select

from envwatch.alerts.desk import AlertDesk
from envwatch.store.schema import AuditEntry, NotificationTarget
from tests.alerts.test_desk import DATA_T0, NOW, store_finding
from tests.electricity.test_http_batch import base_url
from tests.web.test_pages_and_api import points_in_two_counties, session

__all__ = ["base_url"]


@pytest.fixture
def world(base_url: str, engine: Engine) -> dict[str, Any]:
    """Notification targets in two counties, then an alert of enterprise 1 (id
    1, county A, queued to A's target) and one in county B (id 2)."""
    (mn_a, county_a, ent_a), (mn_b, county_b, ent_b) = points_in_two_counties(engine)
    with engine.begin() as connection:
        for county in (county_a, county_b):
            connection.execute(insert(NotificationTarget).values(
                county_code=county, role="county_officer", channel="webhook",
                address=f"http://127.0.0.1:9/{county}", secret="s3cret", active=True))  # fmt: skip
    store_finding(engine, mn_a, DATA_T0)
    store_finding(engine, mn_b, DATA_T0)
    AlertDesk(engine).run_once(NOW)
    return {"a": {"mn": mn_a, "county": county_a, "enterprise": ent_a, "id": 1},
            "b": {"mn": mn_b, "county": county_b, "enterprise": ent_b, "id": 2}}  # fmt: skip


def audit(engine: Engine, prefix: str) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.execute(
            select(AuditEntry).where(AuditEntry.action.like(f"{prefix}%"))
            .order_by(AuditEntry.seq)
        ).all())  # fmt: skip


def error_code(response: httpx.Response) -> str:
    code: str = response.json()["error"]["code"]
    return code


def test_a_case_opens_from_an_alert_is_recorded_and_closed_with_audit_entries(
    base_url: str, engine: Engine, world: dict[str, Any]
) -> None:
    a, b = world["a"], world["b"]
    officer, csrf = session(base_url, f"county-{a['county']}")
    csrf_header = {"X-CSRF-Token": csrf}
    opened = officer.post("/api/v1/cases", json={"alert_ids": [a["id"]]}, headers=csrf_header)
    assert opened.status_code == 201, opened.text
    case = opened.json()
    assert opened.headers["location"] == f"/api/v1/cases/{case['id']}"
    # Enterprise 1 is not on the positive list: an on-site check by default.
    assert (case["kind"], case["state"], case["alerts"]) == ("onsite", "open", [a["id"]])
    assert case["enterprise_id"] == a["enterprise"] and case["county"] == a["county"]
    assert case["opened_by"] == f"county-{a['county']}" and case["opened_at"].endswith("+08:00")
    (entry,) = audit(engine, "case.")
    assert (entry.action, entry.actor, entry.entity_id) == ("case.open", case["opened_by"],
                                                             str(case["id"]))  # fmt: skip
    assert json.loads(entry.after)["alerts"] == [a["id"]]
    again = officer.post("/api/v1/cases", json={"alert_ids": [a["id"]]}, headers=csrf_header)
    assert again.status_code == 409 and error_code(again) == "alert_in_case"

    enforcer, enforcer_csrf = session(base_url, "enforcer")
    path = f"/api/v1/cases/{case['id']}"
    record = {"findings": "现场检查发现二氧化硫分析仪采样管路漏气",
              "legal_basis": "《中华人民共和国大气污染防治法》第二十四条"}  # fmt: skip
    recorded = enforcer.post(f"{path}/record", headers={"X-CSRF-Token": enforcer_csrf},
                             json=record)  # fmt: skip
    assert recorded.status_code == 200, recorded.text
    assert recorded.json()["state"] == "open"
    closing = {"penalty_reference": "聊环罚〔2026〕31号", "close": True}
    closed = enforcer.post(f"{path}/record", headers={"X-CSRF-Token": enforcer_csrf},
                           json=closing)  # fmt: skip
    assert closed.status_code == 200
    done = closed.json()
    assert done["state"] == "closed" and done["closed_at"] is not None
    assert (
        done["findings"].startswith("现场检查")
        and done["penalty_reference"] == "聊环罚〔2026〕31号"
    )
    late = enforcer.post(f"{path}/record", headers={"X-CSRF-Token": enforcer_csrf},
                         json={"findings": "补充"})  # fmt: skip
    assert late.status_code == 409 and error_code(late) == "case_closed"

    detail = officer.get(path).json()
    assert [alert["id"] for alert in detail["alerts"]] == [a["id"]]
    assert detail["alerts"][0]["mn"] == a["mn"]
    assert [f["alert_mn"] for f in detail["findings_of_alerts"]] == [a["mn"]]
    assert detail["findings_of_alerts"][0]["window_start"].endswith("+08:00")
    assert detail["legal_basis"].startswith("《中华人民共和国大气污染防治法》")
    assert [h["action"] for h in detail["history"]] == ["case.open", "case.record", "case.close"]
    assert [h["actor"] for h in detail["history"]][1:] == ["enforcer", "enforcer"]
    assert [e.action for e in audit(engine, "case.")] == ["case.open", "case.record",
                                                          "case.close"]  # fmt: skip
    # Listing and its filters.
    listing = officer.get("/api/v1/cases").json()
    assert [c["id"] for c in listing["items"]] == [case["id"]]
    assert (listing["total"], listing["limit"], listing["offset"]) == (1, 50, 0)
    filters = {"state=closed": 1, "state=open": 0, "kind=onsite": 1, "kind=offsite": 0,
               f"county={a['county']}": 1, f"enterprise_id={a['enterprise']}": 1,
               f"enterprise_id={b['enterprise']}": 0, "since=2000-01-01T00:00:00": 1,
               "until=2000-01-01T00:00:00%2B08:00": 0, "since=2099-01-01T00:00:00Z": 0,
               "limit=1&offset=1": 0}  # fmt: skip
    for query, count in filters.items():
        page = enforcer.get(f"/api/v1/cases?{query}").json()
        assert len(page["items"]) == count, query
    assert enforcer.get("/api/v1/cases?limit=1&offset=1").json()["total"] == 1
    for client in (officer, enforcer):
        client.close()


def test_cases_are_seen_and_opened_within_scope_only(
    base_url: str, engine: Engine, world: dict[str, Any]
) -> None:
    a, b = world["a"], world["b"]
    elsewhere, elsewhere_csrf = session(base_url, f"county-{b['county']}")
    # Another county's alert reads as unknown.
    refused = elsewhere.post("/api/v1/cases", json={"alert_ids": [a["id"]]},
                             headers={"X-CSRF-Token": elsewhere_csrf})  # fmt: skip
    assert refused.status_code == 404 and error_code(refused) == "unknown_alert"
    supervisor, supervisor_csrf = session(base_url, "supervisor")
    mixed = supervisor.post("/api/v1/cases", json={"alert_ids": [a["id"], b["id"]]},
                            headers={"X-CSRF-Token": supervisor_csrf})  # fmt: skip
    assert mixed.status_code == 422 and error_code(mixed) == "mixed_enterprises"
    opened = supervisor.post("/api/v1/cases", json={"alert_ids": [a["id"]], "kind": "offsite"},
                             headers={"X-CSRF-Token": supervisor_csrf})  # fmt: skip
    assert opened.status_code == 201 and opened.json()["kind"] == "offsite"
    case_id = opened.json()["id"]
    seen = {}
    for username in ("admin", "viewer", f"county-{a['county']}", f"county-{b['county']}",
                     "enterprise-1", "contractor-1"):  # fmt: skip
        client, client_csrf = session(base_url, username)
        seen[username] = (client.get("/api/v1/cases").json()["total"],
                          client.get(f"/api/v1/cases/{case_id}").status_code)  # fmt: skip
        if username in {"enterprise-1", "contractor-1", "viewer"}:
            nope = client.post("/api/v1/cases", json={"alert_ids": [a["id"]]},
                               headers={"X-CSRF-Token": client_csrf})  # fmt: skip
            assert nope.status_code == 403 and error_code(nope) == "role_not_allowed", username
        if username == "enterprise-1":
            nope = client.post(f"/api/v1/cases/{case_id}/record", json={"findings": "x"},
                               headers={"X-CSRF-Token": client_csrf})  # fmt: skip
            assert nope.status_code == 403 and error_code(nope) == "role_not_allowed"
        if username == f"county-{b['county']}":
            nope = client.post(f"/api/v1/cases/{case_id}/record", json={"findings": "x"},
                               headers={"X-CSRF-Token": client_csrf})  # fmt: skip
            assert nope.status_code == 404 and error_code(nope) == "unknown_case"
        client.close()
    # Enterprises see their own cases; a contractor runs devices, not cases.
    assert seen == {"admin": (1, 200), "viewer": (1, 200), f"county-{a['county']}": (1, 200),
                    f"county-{b['county']}": (0, 404), "enterprise-1": (1, 200),
                    "contractor-1": (0, 404)}  # fmt: skip
    unknown = supervisor.get("/api/v1/cases/999999")
    assert unknown.status_code == 404 and error_code(unknown) == "unknown_case"
    assert httpx.get(f"{base_url}/api/v1/cases").status_code == 401
    supervisor.close()
    elsewhere.close()


def test_changes_need_csrf_and_bad_payloads_are_422(
    base_url: str, engine: Engine, world: dict[str, Any]
) -> None:
    enforcer, csrf = session(base_url, "enforcer")
    no_csrf = enforcer.post("/api/v1/cases", json={"alert_ids": [1]})
    assert no_csrf.status_code == 403 and error_code(no_csrf) == "csrf_failed"
    wrong_csrf = enforcer.post("/api/v1/cases", json={"alert_ids": [1]},
                               headers={"X-CSRF-Token": "forged"})  # fmt: skip
    assert wrong_csrf.status_code == 403
    assert audit(engine, "case.") == []
    header = {"X-CSRF-Token": csrf}
    bad_opens: list[Any] = [
        {}, {"alert_ids": []}, {"alert_ids": ["one"]}, {"alert_ids": [1], "kind": "raid"},
        {"alert_ids": [1], "note": "extra field"}, [1], "not an object",
        {"alert_ids": list(range(1, 200))}, {"alert_ids": [2**40]}, {"alert_ids": [0]},
    ]  # fmt: skip
    for body in bad_opens:
        response = enforcer.post("/api/v1/cases", json=body, headers=header)
        assert response.status_code == 422, body
        assert error_code(response) == "invalid_request" and response.json()["error"]["fields"]
    broken = enforcer.post("/api/v1/cases", content=b"{not json",
                           headers={**header, "content-type": "application/json"})  # fmt: skip
    assert broken.status_code == 422
    opened = enforcer.post("/api/v1/cases", json={"alert_ids": [1]}, headers=header)
    assert opened.status_code == 201
    path = f"/api/v1/cases/{opened.json()['id']}/record"
    bad_records: list[Any] = [
        {}, {"close": "maybe"}, {"findings": 3}, {"findings": "x" * 8001},
        {"penalty_reference": "x" * 201}, {"findings": "x", "state": "closed"},
        {"findings": "nul\x00byte"},
    ]  # fmt: skip
    for body in bad_records:
        response = enforcer.post(path, json=body, headers=header)
        assert response.status_code == 422, body
        assert error_code(response) == "invalid_request"
    no_csrf = enforcer.post(path, json={"close": True})
    assert no_csrf.status_code == 403 and error_code(no_csrf) == "csrf_failed"
    # Values beyond what the database holds are invalid requests, never a 500.
    for path in ("/api/v1/cases/1099511627776", "/api/v1/notifications?alert_id=1099511627776"):
        assert enforcer.get(path).status_code == 422, path
    huge = enforcer.post("/api/v1/cases/1099511627776/record", json={"close": True},
                         headers=header)  # fmt: skip
    assert huge.status_code == 422
    for query in ("state=lost", "kind=raid", "limit=0", "offset=-1", "since=yesterday",
                  "enterprise_id=one", "enterprise_id=1099511627776",
                  f"offset={2**70}", "county=%00", "since=1900-01-01T00:00:00",
                  "until=9999-12-31T23:59:59-12:00"):  # fmt: skip
        response = enforcer.get(f"/api/v1/cases?{query}")
        assert response.status_code == 422, query
        assert response.json()["error"]["message_zh"]
    assert [e.action for e in audit(engine, "case.")] == ["case.open"]
    enforcer.close()


def test_the_notification_log_by_role_and_its_targets_for_city_administrators(
    base_url: str, engine: Engine, world: dict[str, Any]
) -> None:
    a, b = world["a"], world["b"]
    expected = {"admin": {1, 2}, "supervisor": {1, 2}, "viewer": {1, 2},
                f"county-{a['county']}": {1}, f"county-{b['county']}": {2}}  # fmt: skip
    for username, alerts in expected.items():
        client, _ = session(base_url, username)
        log = client.get("/api/v1/notifications").json()
        assert {item["alert_id"] for item in log["items"]} == alerts, username
        assert log["total"] == len(alerts)
        assert all(item["event"] == "opened" and item["state"] == "pending"
                   for item in log["items"])  # fmt: skip
        assert all("secret" not in item["target"] for item in log["items"])
        # A webhook URL carries its access token: only city administrators see it.
        addresses = {item["target"]["address"] for item in log["items"]}
        assert (addresses != {None}) == (username == "admin"), username
        client.close()
    for username in ("enterprise-1", "contractor-1"):
        client, _ = session(base_url, username)
        refused = client.get("/api/v1/notifications")
        assert refused.status_code == 403 and error_code(refused) == "forbidden", username
        assert client.get("/api/v1/notification-targets").status_code == 403
        client.close()
    admin, _ = session(base_url, "admin")
    only_a = admin.get("/api/v1/notifications?alert_id=1").json()
    assert [item["target"]["county"] for item in only_a["items"]] == [a["county"]]
    assert admin.get("/api/v1/notifications?state=sent").json()["total"] == 0
    assert admin.get("/api/v1/notifications?state=lost").status_code == 422
    targets = admin.get("/api/v1/notification-targets").json()
    assert targets["total"] == 2
    assert {t["county"] for t in targets["items"]} == {a["county"], b["county"]}
    assert all(t["signed"] is True and "secret" not in t for t in targets["items"])
    assert "s3cret" not in json.dumps(targets)
    admin.close()
    supervisor, _ = session(base_url, "supervisor")
    assert supervisor.get("/api/v1/notification-targets").status_code == 403
    supervisor.close()
