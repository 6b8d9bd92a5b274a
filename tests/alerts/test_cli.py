"""The alert loop through the command line contract, as the demo city's users
(real processes, real SQLite and PostgreSQL): list, act to closing, open and
record an enforcement case, the enterprise's history, SLA figures, and the
audit chain."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Engine, select, text

from envwatch.demo.seed import seed_demo
from envwatch.store.schema import Enterprise
from tests.alerts.test_desk import DATA_T0, a_point, store_finding
from tests.test_cli_contract import envwatch

KEYS = {"id", "mn", "enterprise", "county", "pollutant", "rule", "level", "state",
        "opened_at", "deadline", "evidence"}  # fmt: skip


def run(*args: str) -> Any:
    done = envwatch(*args)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_demo_alerts_are_worked_through_to_closing_from_the_command_line(
    engine: Engine, database_url: str
) -> None:
    seed_demo(engine)
    mn, county, enterprise = a_point(engine)
    store_finding(engine, mn, DATA_T0, evidence={"frames": [], "value": 80.0})
    db = ("--db", database_url)
    run("notify", "add-target", *db, "--role", "county_officer", "--channel", "email",
        "--address", "officer@county.example", "--county", county)  # fmt: skip
    assert run("alerts", "process", *db) == [{"findings": 1}]
    # No mail server configured: the delivery waits, and the log says why.
    assert run("notify", "deliver", *db) == [{"sent": 0}]
    (note,) = run("notify", "list", *db)
    assert (note["event"], note["to"], note["state"]) == ("opened", "officer@county.example",
                                                          "pending")  # fmt: skip
    assert "ENVWATCH_SMTP_HOST" in note["last_error"]
    (listed,) = run("alerts", "list", *db, "--json")
    assert set(listed) == KEYS
    assert (listed["mn"], listed["county"], listed["state"]) == (mn, county, "dispatched")
    assert listed["evidence"]["value"] == 80.0 and listed["deadline"].endswith("+08:00")
    alert = str(listed["id"])
    # An officer of another county cannot see it; the demo enterprise user is scoped too.
    other = next(u["username"] for u in run("users", "list", *db)
                 if u["role"] == "county_officer" and u["counties"] != [county])  # fmt: skip
    refused = envwatch("alerts", "act", *db, alert, "acknowledge", "--user", other)
    assert refused.returncode == 1 and "unknown_alert" in refused.stderr
    officer = f"county-{county}"
    for action, user, extra in (
        ("acknowledge", officer, ()),
        ("handle", officer, ("--outcome", "offsite_check")),
        ("review", "supervisor", ()),
        ("close", "supervisor", ()),
    ):
        (result,) = run("alerts", "act", *db, alert, action, "--user", user,
                        "--note", f"{action} 备注", *extra)  # fmt: skip
        assert result["id"] == int(alert)
    assert run("alerts", "list", *db, "--json", "--state", "closed")[0]["id"] == int(alert)
    wrong = envwatch("alerts", "act", *db, alert, "comment", "--user", "supervisor")
    assert wrong.returncode == 1 and "action_not_allowed" in wrong.stderr
    # Enforcement: a case from the alert, recorded and closed, in the enterprise's history.
    (case,) = run("cases", "open", *db, "--alert", alert, "--user", "enforcer")
    with engine.connect() as connection:
        positive = connection.execute(
            select(Enterprise.positive_list).where(Enterprise.id == int(enterprise))
        ).scalar_one()
    assert case["kind"] == ("offsite" if positive else "onsite")
    run("cases", "record", *db, str(case["id"]), "--user", "enforcer", "--findings",
        "在线监测数据超标", "--legal-basis", "《大气污染防治法》第九十九条", "--penalty",
        "聊环罚〔2026〕12号", "--close")  # fmt: skip
    (history,) = run("cases", "history", *db, "--enterprise", str(enterprise))
    assert history["alerts"][0]["outcome"] == "offsite_check"
    assert history["cases"][0]["penalty_reference"] == "聊环罚〔2026〕12号"
    assert history["cases"][0]["alerts"] == [int(alert)]
    (sla,) = run("alerts", "sla", *db)
    assert sla["county"] == county and sla["closed"]["count"] == 1
    (audit,) = run("audit", "verify", *db)
    assert audit["intact"] is True and audit["entries"] >= 8
    with engine.begin() as connection:
        connection.execute(text("UPDATE audit_log SET actor = 'someone' WHERE seq = 3"))
    broken = envwatch("audit", "verify", *db)
    assert broken.returncode == 1 and json.loads(broken.stdout)["seq"] == 3
