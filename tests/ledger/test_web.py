"""The positive lists, the ledger and carbon over real HTTP on the demo
registry (SQLite and PostgreSQL): who may change them, scope on reads, a
removal and re-admission kept as history, an allocation above the balance
refused in both languages, the carbon summary of the demo's data and the
pages; the CLI's carbon summary as JSON."""

from __future__ import annotations

import json

from sqlalchemy import Engine, select

from envwatch.demo.ledger import seed_ledger
from envwatch.demo.seed import seed_demo
from envwatch.hj212.codes import now_cst
from envwatch.store.db import make_engine
from envwatch.store.schema import Enterprise
from envwatch.web.people import CSRF_HEADER
from tests.electricity.test_http_batch import base_url
from tests.test_cli_contract import envwatch
from tests.web.test_pages_and_api import session

__all__ = ["base_url"]
SO2 = "a21026"


def _two_counties(engine: Engine) -> tuple[tuple[int, str], str]:
    with engine.connect() as connection:
        first = connection.execute(
            select(Enterprise.id, Enterprise.county_code).order_by(Enterprise.id).limit(1)
        ).one()
        other = connection.execute(
            select(Enterprise.county_code)
            .where(Enterprise.county_code != first.county_code)
            .limit(1)
        ).scalar_one()
    return (first.id, first.county_code), other


def test_positive_lists_ledger_and_carbon_over_http(base_url: str, engine: Engine) -> None:
    (eid, county), elsewhere = _two_counties(engine)
    seed_ledger(engine)
    supervisor, csrf = session(base_url, "supervisor")
    write = {CSRF_HEADER: csrf}
    viewer, viewer_csrf = session(base_url, "viewer")
    officer, _ = session(base_url, f"county-{elsewhere}")
    mine, _ = session(base_url, f"county-{county}")
    listing = {
        "enterprise_id": eid,
        "kind": "eia",
        "criteria": ["commitment_approval"],
        "reason": "告知承诺制",
        "added_on": "2026-01-05",
        "decided_by": "审批科",
    }
    refused = viewer.post(
        "/api/v1/positive-lists", json=listing, headers={CSRF_HEADER: viewer_csrf}
    )
    assert refused.status_code == 403
    bad = supervisor.post(
        "/api/v1/positive-lists", headers=write, json={**listing, "criteria": ["nonsense"]}
    )
    assert bad.status_code == 422
    assert "环评审批正面清单无此标准" in bad.json()["error"]["fields"][0]["reason_zh"]
    # The demo lists some enterprises already: start from the enterprise off the list.
    for entry in supervisor.get(f"/api/v1/positive-lists?enterprise={eid}&open=true").json()[
        "items"
    ]:
        supervisor.patch(
            f"/api/v1/positive-lists/{entry['id']}",
            headers=write,
            json={"removed_on": "2026-01-04", "removal_reason": "重置", "removed_by": "测试"},
        )
    first = supervisor.post("/api/v1/positive-lists", json=listing, headers=write)
    assert first.status_code == 201, first.text
    again = supervisor.post("/api/v1/positive-lists", json=listing, headers=write)
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_listed"
    removed = supervisor.patch(
        f"/api/v1/positive-lists/{first.json()['id']}",
        headers=write,
        json={"removed_on": "2026-03-01", "removal_reason": "违法排污", "removed_by": "局务会"},
    )
    assert removed.status_code == 200 and removed.json()["open"] is False
    closed = supervisor.patch(
        f"/api/v1/positive-lists/{first.json()['id']}", headers=write, json={"reason": "改写历史"}
    )
    assert closed.status_code == 409 and closed.json()["error"]["code"] == "entry_closed"
    second = supervisor.post(
        "/api/v1/positive-lists", headers=write, json={**listing, "added_on": "2026-06-01"}
    )
    assert second.status_code == 201
    history = supervisor.get(f"/api/v1/positive-lists?enterprise={eid}&kind=eia").json()
    assert [(e["added_on"], e["removed_on"]) for e in history["items"]][-2:] == [
        ("2026-01-05", "2026-03-01"),
        ("2026-06-01", None),
    ]
    assert officer.get(f"/api/v1/positive-lists/{second.json()['id']}").status_code == 404
    assert mine.get(f"/api/v1/positive-lists/{second.json()['id']}").status_code == 200

    # The ledger: 3 t freed, 2 t allocated, then 1.5 t refused with nothing recorded.
    freed = supervisor.post(
        "/api/v1/quota/freed",
        headers=write,
        json={
            "county_code": county,
            "pollutant": SO2,
            "cause": "upgrade",
            "tonnes": "3",
            "effective_on": "2026-04-01",
            "document_no": "测试〔2026〕1号",
            "enterprise_id": eid,
        },
    )
    assert freed.status_code == 201, freed.text
    before = {
        b["pollutant"]: b["balance_t"]
        for b in supervisor.get(f"/api/v1/quota/balances?county={county}").json()["items"]
    }
    allocation = {
        "county_code": county,
        "pollutant": SO2,
        "tonnes": str(before[SO2] - 1),
        "effective_on": "2026-05-01",
        "document_no": "测试〔2026〕2号",
        "project": "测试项目",
    }
    made = supervisor.post("/api/v1/quota/allocations", headers=write, json=allocation)
    assert made.status_code == 201, made.text
    assert made.json()["balance_after_t"] == 1.0
    over = supervisor.post(
        "/api/v1/quota/allocations", headers=write, json={**allocation, "tonnes": "1.5"}
    )
    assert over.status_code == 409
    assert over.json()["error"]["code"] == "quota_exceeded"
    assert "余额1吨" in over.json()["error"]["message_zh"]
    assert "exceeds the balance of 1 t" in over.json()["error"]["message"]
    after = {
        b["pollutant"]: b["balance_t"]
        for b in supervisor.get(f"/api/v1/quota/balances?county={county}").json()["items"]
    }
    assert after[SO2] == 1.0
    assert officer.get(f"/api/v1/quota/balances?county={county}").json()["items"] == []

    # Carbon: the demo's billed electricity and declared emissions, scoped.
    year = now_cst().year
    body = mine.get(f"/api/v1/carbon/summary?year={year}&enterprise={eid}").json()
    (one,) = body["enterprises"]
    assert body["factor"]["factor_t_per_mwh"] == 0.5703
    assert one["year"]["co2_electricity_t"] > 0 and one["synergy"] != "unknown"
    assert officer.get(f"/api/v1/carbon/summary?enterprise={eid}").status_code == 404
    for path, text in (
        ("/positive-lists", "监督执法正面清单"),
        ("/quota", "总量指标台账"),
        (f"/carbon?year={year}", "减污降碳协同"),
    ):
        page = mine.get(path)
        assert page.status_code == 200 and text in page.text, path
    spells = mine.get(f"/positive-lists?enterprise={eid}&kind=eia").text
    assert "违法排污" in spells and "2026-06-01" in spells  # both spells, the history
    assert f'href="/positive-lists?enterprise={eid}"' in mine.get(f"/enterprises/{eid}").text
    for client in (supervisor, viewer, officer, mine):
        client.close()


def test_carbon_summary_cli(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    seed_demo(engine)
    seed_ledger(engine, 2026)
    engine.dispose()
    result = envwatch(
        "carbon", "summary", "--db", sqlite_url, "--year", "2026", "--enterprise", "1", "--json"
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["year"] == 2026 and [e["id"] for e in document["enterprises"]] == [1]
    month = document["enterprises"][0]["months"][0]
    assert (
        month["co2_electricity_t"] == round(month["electricity_mwh"] * 0.5703, 9)
        or abs(month["co2_electricity_t"] - month["electricity_mwh"] * 0.5703) < 1e-6
    )
    missing = envwatch(
        "carbon", "summary", "--db", sqlite_url, "--year", "2026", "--enterprise", "999999"
    )
    assert missing.returncode == 1
