"""Machine tokens with the ``read`` scope over real HTTP (SQLite and
PostgreSQL): every GET of /api/v1 within the token's scope (an
enterprise's, or the city's read-only view), never a change, never a page;
revoked tokens are refused; reads leave the audit log alone."""

from __future__ import annotations

import json
from typing import Any

import httpx
from sqlalchemy import Engine, func, select

from envwatch.auth.tokens import create_token, revoke_token
from envwatch.store.schema import AuditEntry
from tests.electricity.test_http_batch import base_url, bearer
from tests.test_cli_contract import envwatch
from tests.web.test_pages_and_api import alerts, session

__all__ = ["alerts", "base_url"]


def audit_entries(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(AuditEntry)).scalar_one())


def test_a_read_token_lists_alerts_findings_and_cases_in_its_scope(
    base_url: str, engine: Engine, alerts: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    mine, theirs = alerts
    _, city = create_token(engine, "city dashboard", ["read"])
    _, bound = create_token(engine, "enterprise 1 platform", ["read"], mine["enterprise"])
    before = audit_entries(engine)
    with httpx.Client(base_url=base_url) as http:
        listing = http.get("/api/v1/alerts", headers=bearer(city)).json()
        assert {item["id"] for item in listing["items"]} == {1, 2}
        findings = http.get("/api/v1/findings", headers=bearer(city)).json()
        assert {f["mn"] for f in findings["items"]} == {mine["mn"], theirs["mn"]}
        assert http.get("/api/v1/sla", headers=bearer(city)).status_code == 200
        assert http.get("/api/v1/coverage", headers=bearer(city)).status_code == 200
        assert http.get("/api/v1/cases", headers=bearer(city)).json()["total"] == 0
        # The audit log and notification targets are for people of the right role.
        assert http.get("/api/v1/audit", headers=bearer(city)).status_code == 403
        assert http.get("/api/v1/notification-targets", headers=bearer(city)).status_code == 403

        listing = http.get("/api/v1/alerts", headers=bearer(bound)).json()
        assert [item["id"] for item in listing["items"]] == [mine["id"]]
        assert listing["total"] == 1
        assert http.get("/api/v1/alerts/1", headers=bearer(bound)).status_code == 200
        out = http.get(f"/api/v1/alerts/{theirs['id']}", headers=bearer(bound))
        assert out.status_code == 404 and out.json()["error"]["code"] == "unknown_alert"
        findings = http.get("/api/v1/findings", headers=bearer(bound)).json()
        assert {f["mn"] for f in findings["items"]} == {mine["mn"]}
        assert http.get("/api/v1/coverage", headers=bearer(bound)).status_code == 403
        assert http.get("/api/v1/notifications", headers=bearer(bound)).status_code == 403
    assert audit_entries(engine) == before  # reads are not audited


def test_a_token_never_writes_nor_opens_pages(
    base_url: str, engine: Engine, alerts: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    _, token = create_token(engine, "dashboard", ["read"])
    _, meters = create_token(engine, "collector", ["electricity:write"])
    before = audit_entries(engine)
    with httpx.Client(base_url=base_url) as http:
        writes = [
            ("POST", "/api/v1/alerts/1/actions", {"action": "comment", "note": "x"}),
            ("POST", "/api/v1/cases", {"alert_ids": [1]}),
            ("POST", "/api/v1/cases/1/record", {"close": True}),
            ("DELETE", "/api/v1/session", None),
        ]
        for method, path, body in writes:
            refused = http.request(method, path, json=body,
                                   headers=bearer(token, **{"X-CSRF-Token": "x"}))  # fmt: skip
            assert refused.status_code == 403, (method, path)
            assert refused.json()["error"]["code"] == "token_read_only", (method, path)
            assert refused.json()["error"]["message_zh"]
        # Pages are for people: a token is nobody there.
        page = http.get("/alerts", headers=bearer(token), follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"] == "/login"
        # A token without the read scope reads nothing.
        wrong = http.get("/api/v1/alerts", headers=bearer(meters))
        assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "insufficient_scope"
        garbage = http.get("/api/v1/alerts", headers=bearer("ew_not-a-token"))
        assert garbage.status_code == 401 and garbage.headers["www-authenticate"] == "Bearer"
    assert audit_entries(engine) == before


def test_a_revoked_token_is_refused_and_the_cli_makes_read_tokens(
    base_url: str, engine: Engine, database_url: str,
    alerts: tuple[dict[str, Any], dict[str, Any]],
) -> None:  # fmt: skip
    made = envwatch("token", "create", "--db", database_url, "--name", "bureau screen",
                    "--scope", "read")  # fmt: skip
    assert made.returncode == 0, made.stderr
    record = json.loads(made.stdout)
    with httpx.Client(base_url=base_url) as http:
        assert http.get("/api/v1/alerts", headers=bearer(record["token"])).json()["total"] == 2
        assert revoke_token(engine, record["id"])
        revoked = http.get("/api/v1/alerts", headers=bearer(record["token"]))
        assert revoked.status_code == 401
        assert revoked.json()["error"]["code"] == "unauthenticated"
        # A person's session still works beside tokens.
        person, _ = session(base_url, "viewer")
        assert person.get("/api/v1/alerts").json()["total"] == 2
        person.close()
    unknown = envwatch("token", "create", "--db", database_url, "--name", "x", "--scope", "admin")
    assert unknown.returncode == 2 and "unknown scope" in unknown.stderr
