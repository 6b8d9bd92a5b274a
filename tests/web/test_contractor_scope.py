"""Operation contractors see the devices their contractor runs, across
enterprises, and nothing else: alerts, findings and a point's hours over
real HTTP, the desk's check before an action, and the command line that
registers contractors, hands them devices and adds their users (SQLite and
PostgreSQL)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select

from envwatch.alerts.desk import AlertDesk, AlertError
from envwatch.demo.seed import DEMO_PASSWORD
from envwatch.store.schema import Alert, AppUser, AuditEntry, Enterprise, Meter, MonitoringPoint
from tests.alerts.test_desk import DATA_T0, NOW, store_finding
from tests.electricity.test_http_batch import base_url
from tests.test_cli_contract import envwatch
from tests.web.test_pages_and_api import session

__all__ = ["base_url"]


def devices(engine: Engine) -> dict[str, Any]:
    """Demo devices: two analysers contractor 1 runs in two enterprises (1 and
    another), enterprise 1's meter (which no contractor runs), and an analyser
    of a third enterprise run by contractor 2."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(MonitoringPoint.mn, MonitoringPoint.enterprise_id, MonitoringPoint.contractor_id,
                   Enterprise.county_code)
            .join(Enterprise, MonitoringPoint.enterprise_id == Enterprise.id)
            .order_by(MonitoringPoint.enterprise_id, MonitoringPoint.mn)
        ).all()  # fmt: skip
        meter_mns = set(connection.execute(select(Meter.mn)).scalars())
    analysers = [r for r in rows if r.mn not in meter_mns]
    own = next(r for r in analysers if r.enterprise_id == 1)
    assert own.contractor_id == 1
    other = next(r for r in analysers if r.contractor_id == 1 and r.enterprise_id != 1)
    foreign = next(r for r in analysers if r.contractor_id == 2)
    meter = next(r for r in rows if r.mn in meter_mns and r.enterprise_id == 1)
    assert meter.contractor_id is None
    return {"own": own, "other": other, "foreign": foreign, "meter": meter}


@pytest.fixture
def contractor_alerts(base_url: str, engine: Engine) -> dict[str, Any]:
    """One alert per device of ``devices``, dispatched to their counties."""
    found = devices(engine)
    for name in ("own", "other", "foreign", "meter"):
        store_finding(engine, found[name].mn, DATA_T0)
    AlertDesk(engine).run_once(NOW)
    with engine.connect() as connection:
        ids = dict(connection.execute(select(Alert.mn, Alert.id)).all())
    return {name: {"mn": row.mn, "enterprise": row.enterprise_id, "id": ids[row.mn]}
            for name, row in found.items()}  # fmt: skip


def test_a_contractor_sees_the_alerts_and_findings_of_its_devices_in_several_enterprises(
    base_url: str, engine: Engine, contractor_alerts: dict[str, Any]
) -> None:
    mine = {contractor_alerts["own"]["id"], contractor_alerts["other"]["id"]}
    assert contractor_alerts["own"]["enterprise"] != contractor_alerts["other"]["enterprise"]
    client, _ = session(base_url, "contractor-1")
    listing = client.get("/api/v1/alerts").json()
    assert {item["id"] for item in listing["items"]} == mine
    assert listing["total"] == 2
    assert {item["enterprise_id"] for item in listing["items"]} == {
        contractor_alerts["own"]["enterprise"],
        contractor_alerts["other"]["enterprise"],
    }
    for name, alert in contractor_alerts.items():
        status = client.get(f"/api/v1/alerts/{alert['id']}").status_code
        # Enterprise 1's meter is enterprise 1's, not the contractor's device.
        assert status == (200 if name in {"own", "other"} else 404), name
    findings = client.get("/api/v1/findings").json()
    assert {f["mn"] for f in findings["items"]} == {
        contractor_alerts["own"]["mn"],
        contractor_alerts["other"]["mn"],
    }
    window = "pollutant=a21026&since=2026-11-29T00:00:00&until=2026-11-30T00:00:00"
    other_mn, foreign_mn = contractor_alerts["other"]["mn"], contractor_alerts["foreign"]["mn"]
    assert client.get(f"/api/v1/points/{other_mn}/hours?{window}").status_code == 200
    refused = client.get(f"/api/v1/points/{foreign_mn}/hours?{window}")
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "unknown_point"
    assert client.get("/api/v1/coverage").status_code == 403
    # The other demo contractor sees its own device only.
    second, _ = session(base_url, "contractor-2")
    theirs = {item["id"] for item in second.get("/api/v1/alerts").json()["items"]}
    assert theirs == {contractor_alerts["foreign"]["id"]}
    # The enterprise user still sees its enterprise, meter included.
    owner, _ = session(base_url, "enterprise-1")
    assert {item["id"] for item in owner.get("/api/v1/alerts").json()["items"]} == {
        contractor_alerts["own"]["id"],
        contractor_alerts["meter"]["id"],
    }
    for each in (client, second, owner):
        each.close()


def test_a_contractor_explains_its_own_devices_alert_and_is_refused_anothers(
    base_url: str, engine: Engine, contractor_alerts: dict[str, Any]
) -> None:
    client, csrf = session(base_url, "contractor-1")
    other = contractor_alerts["other"]["id"]
    done = client.post(f"/api/v1/alerts/{other}/actions", headers={"X-CSRF-Token": csrf},
                       json={"action": "explain", "note": "分析仪标定，已恢复"})  # fmt: skip
    assert done.status_code == 200, done.text
    assert done.json() == {"id": other, "state": "dispatched"}
    events = client.get(f"/api/v1/alerts/{other}").json()["events"]
    assert [(e["action"], e["actor"]) for e in events][-1] == ("explain", "contractor-1")
    for name in ("foreign", "meter"):
        alert_id = contractor_alerts[name]["id"]
        refused = client.post(f"/api/v1/alerts/{alert_id}/actions",
                              headers={"X-CSRF-Token": csrf},
                              json={"action": "explain", "note": "不是我们的设备"})  # fmt: skip
        assert refused.status_code == 404, name
        assert refused.json()["error"]["code"] == "unknown_alert"
    # The desk itself applies the same rule, whoever calls it.
    with pytest.raises(AlertError) as refusal:
        AlertDesk(engine).act(contractor_alerts["foreign"]["id"], "explain", "contractor-1",
                              peer="test", note="x")  # fmt: skip
    assert refusal.value.code == "unknown_alert"
    with engine.connect() as connection:
        explained = (
            connection.execute(
                select(AuditEntry.entity_id).where(AuditEntry.action == "alert.explain")
            )
            .scalars()
            .all()
        )
    assert explained == [str(other)]
    client.close()


def run(*args: str) -> Any:
    done = envwatch(*args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1]) if done.stdout.strip() else None


def test_contractors_users_and_devices_from_the_command_line(
    base_url: str, engine: Engine, database_url: str
) -> None:
    found = devices(engine)
    db = ("--db", database_url)
    made = run("contractors", "add", *db, "--name", "聊城示例在线监测服务有限公司",
               "--credit-code", "913715009000000077")  # fmt: skip
    contractor = made["id"]
    duplicate = envwatch("contractors", "add", *db, "--name", "又一家",
                         "--credit-code", "913715009000000077")  # fmt: skip
    assert duplicate.returncode == 1 and "duplicate_contractor" in duplicate.stderr
    assigned = run("contractors", "assign", *db, str(contractor), "--mn", found["foreign"].mn)
    assert assigned == {"contractor": contractor, "changed": [found["foreign"].mn]}
    unknown = envwatch("contractors", "assign", *db, str(contractor), "--mn", "NOSUCHMN")
    assert unknown.returncode == 1 and "unknown_device" in unknown.stderr
    no_contractor = envwatch("users", "add", *db, "--username", "ops-x", "--role", "contractor")
    assert no_contractor.returncode == 1 and "contractor_required" in no_contractor.stderr
    user = run("users", "add", *db, "--username", "ops-x", "--role", "contractor",
               "--contractor", str(contractor), "--name", "在线监测运维员")  # fmt: skip
    assert envwatch("users", "passwd", *db, "--username", "ops-x",
                    "--password", DEMO_PASSWORD).returncode == 0  # fmt: skip
    listed = {row["id"]: row for row in (json.loads(line) for line in envwatch(
        "contractors", "list", *db).stdout.splitlines())}  # fmt: skip
    assert listed[contractor]["devices"] == 1 and listed[contractor]["enterprises"] == 1
    assert listed[1]["enterprises"] >= 2
    with engine.connect() as connection:
        stored = connection.execute(select(AppUser).where(AppUser.id == user["id"])).one()
        actions = set(connection.execute(select(AuditEntry.action)).scalars())
    assert stored.contractor_id == contractor and stored.enterprise_id is None
    assert {"contractor.add", "contractor.assign", "user.add"} <= actions
    store_finding(engine, found["foreign"].mn, DATA_T0)
    store_finding(engine, found["own"].mn, DATA_T0)
    AlertDesk(engine).run_once(NOW)
    with httpx.Client(base_url=base_url) as client:
        login = client.post("/api/v1/session", json={"username": "ops-x",
                                                     "password": DEMO_PASSWORD})  # fmt: skip
        assert login.status_code == 200
        seen = {item["mn"] for item in client.get("/api/v1/alerts").json()["items"]}
    assert seen == {found["foreign"].mn}
    # Taken back: the device is nobody's, and the user sees nothing.
    assert run("contractors", "assign", *db, "--none", "--mn", found["foreign"].mn) == {
        "contractor": None,
        "changed": [found["foreign"].mn],
    }
    with httpx.Client(base_url=base_url) as client:
        client.post("/api/v1/session", json={"username": "ops-x", "password": DEMO_PASSWORD})
        assert client.get("/api/v1/alerts").json()["total"] == 0
