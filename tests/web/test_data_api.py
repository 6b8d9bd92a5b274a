"""The read APIs over real HTTP on SQLite and PostgreSQL, each role against
each resource, in and out of its scope."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import Engine

from envwatch.store.archive import Archive, MeasurementRow, ReceivedFrame
from tests.electricity.test_http_batch import base_url
from tests.hj212.conftest import EXAMPLES
from tests.rules.test_hours import series
from tests.web.test_pages_and_api import alerts, session

__all__ = ["alerts", "base_url"]


def get(client: httpx.Client, path: str) -> tuple[int, Any]:
    response = client.get(path)
    return response.status_code, response.json()


def test_findings_coverage_sla_and_audit_by_role(
    base_url: str, engine: Engine, alerts: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    mine, theirs = alerts
    assert httpx.get(f"{base_url}/api/v1/findings").status_code == 401
    officer, _ = session(base_url, f"county-{mine['county']}")
    owner, _ = session(base_url, "enterprise-1")
    boss, _ = session(base_url, "supervisor")
    admin, _ = session(base_url, "admin")
    people = (("officer", officer), ("owner", owner), ("boss", boss))
    seen = {name: {f["mn"] for f in get(client, "/api/v1/findings")[1]["items"]}
            for name, client in people}  # fmt: skip
    assert seen == {"officer": {mine["mn"]}, "owner": {mine["mn"]},
                    "boss": {mine["mn"], theirs["mn"]}}  # fmt: skip
    status, body = get(officer, "/api/v1/coverage")
    assert status == 200 and [c["county"] for c in body["items"]] == [mine["county"]]
    assert get(owner, "/api/v1/coverage")[0] == 403
    assert len(get(boss, "/api/v1/coverage")[1]["items"]) == 11  # 8 counties, 3 zones
    counties = {row["county"] for row in get(boss, "/api/v1/sla")[1]["items"]}
    assert counties == {mine["county"], theirs["county"]}
    assert {row["county"] for row in get(officer, "/api/v1/sla")[1]["items"]} == {mine["county"]}
    assert get(boss, "/api/v1/audit")[0] == 403
    status, body = get(admin, "/api/v1/audit")
    assert status == 200 and body["total"] >= 4
    assert {"alert.open", "auth.login"} <= {entry["action"] for entry in body["items"]}
    for client in (officer, owner, boss, admin):
        client.close()


def test_a_points_hours_within_scope(
    base_url: str, engine: Engine, alerts: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    mine, theirs = alerts
    frames = [
        ReceivedFrame(datetime.now(UTC), "test", b"##", "accepted", mn=mine["mn"], cn=u.cn,
                      measurements=tuple(MeasurementRow(mine["mn"], u.cn, u.data_time, code,
                                                        avg=v.avg, cou=v.cou, flag=v.flag)
                                         for code, v in u.values.items()))
        for u in series()
    ]  # fmt: skip
    Archive(engine).write_batch(frames)
    window = "pollutant=a21026&since=2026-11-29T00:00:00&until=2026-11-30T00:00:00"
    officer, _ = session(base_url, f"county-{mine['county']}")
    elsewhere, _ = session(base_url, f"county-{theirs['county']}")
    status, body = get(officer, f"/api/v1/points/{mine['mn']}/hours?{window}")
    # Every clock hour, the one without any upload missing; α is the quarter's
    # (the device silent since, below 75 %: the table does not cover it).
    assert status == 200 and len(body["items"]) == 24
    assert (body["items"][23]["source"], body["items"][23]["cause"]) == ("none", "missing")
    assert (body["items"][20]["validity"], body["items"][20]["cause"]) == ("invalid", "fault")
    assert body["items"][20]["substituted_kg"] is None
    assert "unusable" in body["items"][20]["substitution"]
    assert body["limit"]["value"] > 0
    assert get(elsewhere, f"/api/v1/points/{mine['mn']}/hours?{window}")[0] == 404
    too_long = "pollutant=a21026&since=2026-10-01T00:00:00&until=2026-11-30T00:00:00"
    status, body = get(officer, f"/api/v1/points/{mine['mn']}/hours?{too_long}")
    assert status == 422 and body["error"]["code"] == "bad_window"
    invalid = officer.get(f"/api/v1/points/{mine['mn']}/hours?since=x")
    assert invalid.status_code == 422
    error = invalid.json()["error"]
    assert error["code"] == "invalid_request"
    assert {f["field"] for f in error["fields"]} >= {
        "query.since",
        "query.until",
        "query.pollutant",
    }
    officer.close()
    elsewhere.close()


def test_the_openapi_schema_is_served_and_no_page_loads_from_a_cdn(base_url: str) -> None:
    schema = httpx.get(f"{base_url}/openapi.json").json()
    assert {"/api/v1/alerts", "/api/v1/findings", "/api/v1/points/{mn}/hours"} <= set(
        schema["paths"]
    )
    # FastAPI's own ReDoc page would load its script from a CDN: not served.
    assert httpx.get(f"{base_url}/redoc").status_code == 404
    docs = httpx.get(f"{base_url}/docs")
    assert docs.status_code == 200 and "/static/vendor/swagger-ui/swagger-ui-bundle.js" in docs.text
    assert "http://" not in docs.text and "https://" not in docs.text


def test_the_audit_log_filters_by_actor_action_entity_and_time(
    base_url: str, alerts: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    boss, _ = session(base_url, "supervisor")
    admin, _ = session(base_url, "admin")

    def entries(query: str) -> list[dict[str, Any]]:
        status, body = get(admin, f"/api/v1/audit?{query}")
        assert status == 200, body
        assert body["total"] == len(body["items"])
        return list(body["items"])

    assert {e["action"] for e in entries("actor=supervisor")} == {"auth.login"}
    assert {e["actor"] for e in entries("action=auth.login")} == {"supervisor", "admin"}
    of_alerts = entries("action=alert.")  # a prefix ending in a dot
    assert {e["action"] for e in of_alerts} == {"alert.open", "alert.dispatch"}
    assert len(entries("action=alert.open")) == 2
    first = entries("entity=alert&entity_id=1")
    assert first and {e["entity_id"] for e in first} == {"1"}
    assert entries("since=2099-01-01T00:00:00%2B08:00") == []
    assert len(entries("until=2099-01-01T00:00:00Z")) == get(admin, "/api/v1/audit")[1]["total"]
    naive = admin.get("/api/v1/audit?since=2026-01-01T00:00:00")
    assert naive.status_code == 422 and "time zone" in naive.text
    for client in (boss, admin):
        client.close()


def test_a_logged_in_operator_decodes_a_loggers_frames(base_url: str) -> None:
    operator, _ = session(base_url, "supervisor")
    response = operator.post("/api/v1/hj212/decode", content=EXAMPLES[0].frame + b"junk")
    assert response.status_code == 200
    envelope = response.json()
    assert envelope["count"] == 2
    assert envelope["data"][0]["header"]["CN"] == "1062"
    assert envelope["data"][1]["error"]["code"] == "garbage"
    oversized = operator.post("/api/v1/hj212/decode", content=b"#" * (2 << 20))
    assert oversized.status_code == 413
    assert oversized.json()["error"]["code"] == "too_large"
    operator.close()
