"""Rectification over real HTTP on SQLite and PostgreSQL, on the demo city's
imported feedback list: problems in several states; the API scoped by county
and enterprise; evidence uploaded, listed and downloaded only within scope
with its hash; the problem page's buttons for a county officer; an action from
the page; the public notice without login and without personal data."""

from __future__ import annotations

import hashlib
import json
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select

from envwatch.alerts.desk import AlertDesk
from envwatch.demo.rectification import seed_rectification
from envwatch.rectification.evidence import EvidenceError, Upload
from envwatch.store.schema import AppUser, Complaint, Enterprise, RectificationProblem
from tests.electricity.test_http_batch import base_url
from tests.rectification.helpers import PDF, as_csv, feedback_rows
from tests.web.test_case_pages import browser, csrf_of
from tests.web.test_pages_and_api import alerts, session

__all__ = ["alerts", "base_url"]

SRC = Path(__file__).resolve().parents[2] / "src" / "envwatch"
SUMMARY = "脱硫改造完成，达标排放"


@pytest.fixture
def problems(base_url: str, engine: Engine) -> dict[str, Any]:
    """The demo feedback list, imported and moved along; the problems by state."""
    assert seed_rectification(engine) == 8
    with engine.connect() as connection:
        rows = connection.execute(
            select(RectificationProblem.id, RectificationProblem.state,
                   RectificationProblem.county_code, RectificationProblem.enterprise_id)
            .order_by(RectificationProblem.id)
        ).all()  # fmt: skip
    return {"rows": rows, "by_state": {row.state: row for row in rows}}


def test_the_demo_has_problems_in_several_states(problems: dict[str, Any]) -> None:
    assert {"assigned", "rectifying", "applied", "checked", "notice", "closed",
            "reopened"} <= set(problems["by_state"])  # fmt: skip


def test_api_scope_evidence_and_download(base_url: str, problems: dict[str, Any]) -> None:
    rectifying = problems["by_state"]["rectifying"]
    county = rectifying.county_code
    other = next(r for r in problems["rows"] if r.county_code != county)
    officer, csrf = session(base_url, f"county-{county}")
    listed = officer.get("/api/v1/problems").json()
    assert {item["county"] for item in listed["items"]} == {county}
    assert listed["total"] == sum(1 for r in problems["rows"] if r.county_code == county)
    overdue = officer.get("/api/v1/problems?overdue=true").json()["items"]
    assert [item["id"] for item in overdue] == [rectifying.id]  # its deadline passed
    assert officer.get(f"/api/v1/problems/{other.id}").status_code == 404
    detail = officer.get(f"/api/v1/problems/{rectifying.id}").json()
    assert detail["allowed_actions"] == ["report", "apply", "link", "comment"]

    headers = {"X-CSRF-Token": csrf}
    bad = officer.post(f"/api/v1/evidence?problem={rectifying.id}&name=x.pdf",
                       content=b"MZ not a pdf", headers=headers)  # fmt: skip
    assert bad.status_code == 415 and bad.json()["error"]["code"] == "file_type_mismatch"
    elsewhere = officer.post(f"/api/v1/evidence?problem={other.id}&name=a.pdf",
                             content=PDF, headers=headers)  # fmt: skip
    assert elsewhere.status_code == 404
    uploaded = officer.post(f"/api/v1/evidence?problem={rectifying.id}&name=复测报告.pdf",
                            content=PDF, headers=headers)  # fmt: skip
    assert uploaded.status_code == 201, uploaded.text
    digest = uploaded.json()["sha256"]
    assert digest == hashlib.sha256(PDF).hexdigest()
    body = {"action": "apply", "note": "已完成",
            "evidence": [{"name": "复测报告.pdf", "sha256": digest}]}  # fmt: skip
    done = officer.post(f"/api/v1/problems/{rectifying.id}/actions", headers=headers, json=body)
    assert done.status_code == 200, done.text
    assert done.json() == {"id": rectifying.id, "state": "applied"}
    again = officer.post(f"/api/v1/problems/{rectifying.id}/actions", headers=headers,
                         json={"action": "sign"})  # fmt: skip
    assert again.status_code == 409 and again.json()["error"]["code"] == "action_not_allowed"

    href = f"/api/v1/problems/{rectifying.id}/files/{digest}"
    got = officer.get(href)
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["x-envwatch-sha256"] == digest
    # Another county's officer and the anonymous get nothing.
    stranger, _ = session(base_url, f"county-{other.county_code}")
    assert stranger.get(href).status_code == 404
    assert httpx.get(base_url + href).status_code == 401
    # The same file under another problem it does not back: not served there.
    assert officer.get(href.replace(f"/{rectifying.id}/", f"/{other.id}/")).status_code == 404
    case_file = officer.get(f"/api/v1/problems/{rectifying.id}/dossier?format=pdf")
    assert case_file.status_code == 200 and case_file.content.startswith(b"%PDF")
    assert case_file.headers["content-type"] == "application/pdf"
    assert stranger.get(f"/api/v1/problems/{rectifying.id}/dossier?format=pdf").status_code == 404
    assert officer.get(f"/api/v1/problems/{rectifying.id}/dossier?format=doc").status_code == 422
    progress = officer.get("/api/v1/rectification/progress").json()["items"]
    assert [row["county"] for row in progress] == [county]
    sheet = officer.get("/api/v1/rectification/progress?by=county,source&format=csv")
    assert sheet.status_code == 200 and sheet.headers["content-type"].startswith("text/csv")
    assert sheet.content.decode("utf-8-sig").splitlines()[0] == (
        "county,source,problems,open,overdue,closed,closed_on_time,reopened"
    )
    assert officer.get("/api/v1/rectification/progress?by=mayor").status_code == 422
    officer.close()
    stranger.close()


def test_problem_page_shows_evidence_and_the_officers_buttons(
    base_url: str, problems: dict[str, Any]
) -> None:
    applied = problems["by_state"]["applied"]
    rectifying = problems["by_state"]["rectifying"]
    with browser(base_url, f"county-{applied.county_code}") as officer:
        page = officer.get(f"/problems/{applied.id}")
        assert page.status_code == 200
        assert "整改报告.pdf" in page.text  # the evidence of its application
        assert f"/api/v1/problems/{applied.id}/files/" in page.text
        buttons = re.findall(r'name="button" value="([a-z]+)"', page.text)
        assert buttons == ["link", "comment"]  # acceptance is the reviewers'
        listing = officer.get("/problems?state=applied")
        assert f'href="/problems/{applied.id}"' in listing.text
    with browser(base_url, f"county-{rectifying.county_code}") as officer:
        page = officer.get(f"/problems/{rectifying.id}")
        buttons = re.findall(r'name="button" value="([a-z]+)"', page.text)
        assert buttons == ["report", "apply", "link", "comment"]
        assert 'type="file"' in page.text
        posted = officer.post(f"/problems/{rectifying.id}/act",
                              data={"csrf": csrf_of(page.text), "action": "comment",
                                    "note": "督促加快进度", "evidence": ""})  # fmt: skip
        assert posted.status_code == 303
        assert "督促加快进度" in officer.get(f"/problems/{rectifying.id}").text
        refused = officer.post(f"/problems/{rectifying.id}/act",
                               data={"csrf": csrf_of(page.text), "action": "apply"})  # fmt: skip
        assert refused.status_code == 409 and "佐证材料" in refused.text
    with browser(base_url, "supervisor") as supervisor:
        page = supervisor.get(f"/problems/{applied.id}")
        buttons = re.findall(r'name="button" value="([a-z]+)"', page.text)
        assert buttons == ["check", "reject", "link", "comment"]


def test_public_notice_needs_no_login_and_shows_no_personal_data(
    base_url: str, engine: Engine, problems: dict[str, Any]
) -> None:
    page = httpx.get(base_url + "/notice")
    assert page.status_code == 200
    assert "整改公示" in page.text and "公示中" in page.text and "已销号" in page.text
    assert "完成脱硫系统改造" in page.text or "整改完成，达标排放" in page.text
    with engine.connect() as connection:
        people = connection.execute(select(AppUser.username, AppUser.display_name)).all()
    for username, display_name in people:
        assert f">{username}<" not in page.text and username + "（" not in page.text
        assert display_name not in page.text
    assert "enforcer" not in page.text and "supervisor" not in page.text
    english = httpx.get(base_url + "/notice?lang=en")
    assert english.status_code == 200 and "Public notice of rectification" in english.text


def test_an_alert_explanation_keeps_its_file_in_the_same_store(
    base_url: str, engine: Engine, alerts: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    mine, theirs = alerts
    AlertDesk(engine).act(mine["id"], "explain", "enterprise-1", peer="test", note="停炉检修",
                          files=[Upload("检修记录.pdf", PDF)])  # fmt: skip
    with pytest.raises(EvidenceError):
        AlertDesk(engine).act(mine["id"], "explain", "enterprise-1", peer="test",
                              files=[Upload("检修记录.pdf", b"not a pdf")])  # fmt: skip
    digest = hashlib.sha256(PDF).hexdigest()
    href = f"/api/v1/alerts/{mine['id']}/files/{digest}"
    with browser(base_url, f"county-{mine['county']}") as officer:
        page = officer.get(f"/alerts/{mine['id']}")
        assert f'href="{href}"' in page.text and "检修记录.pdf" in page.text
        got = officer.get(href)
        assert got.status_code == 200 and got.content == PDF
        assert got.headers["x-envwatch-sha256"] == digest
    with browser(base_url, f"county-{theirs['county']}") as stranger:
        assert stranger.get(href).status_code == 404

    # Over the API, as an enterprise's page does it: the file first, then the
    # action that names it; a name the store does not hold is refused.
    client, csrf = session(base_url, "enterprise-1")
    try:
        photo = PDF + b"\n% photo of the repair\n"
        upload = f"/api/v1/alert-evidence?alert={mine['id']}&name=现场照片.pdf"
        headers = {"X-CSRF-Token": csrf}
        wrong = client.post(upload, content=b"MZ\x90\x00 not a pdf", headers=headers)
        assert wrong.status_code == 415, wrong.text
        kept = client.post(upload, content=photo, headers=headers)
        assert kept.status_code == 201, kept.text
        assert kept.json()["sha256"] == hashlib.sha256(photo).hexdigest()
        action = f"/api/v1/alerts/{mine['id']}/actions"
        unknown = {"name": "x.pdf", "sha256": "0" * 64}
        refused = client.post(action, json={"action": "explain", "evidence": [unknown]},
                              headers=headers)  # fmt: skip
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "unknown_file"
        named = {"name": "现场照片.pdf", "sha256": kept.json()["sha256"]}
        explained = {"action": "explain", "note": "更换滤袋", "evidence": [named]}
        done = client.post(action, json=explained, headers=headers)
        assert done.status_code == 200, done.text
        shown = client.get(f"/api/v1/alerts/{mine['id']}/files/{kept.json()['sha256']}")
        assert shown.status_code == 200 and shown.content == photo
        elsewhere = f"/api/v1/alert-evidence?alert={theirs['id']}&name=a.pdf"
        assert client.post(elsewhere, content=photo, headers=headers).status_code == 404
    finally:
        client.close()


def test_a_feedback_list_is_imported_through_the_api(base_url: str, engine: Engine) -> None:
    client, csrf = session(base_url, "supervisor")
    headers = {"X-CSRF-Token": csrf, "content-type": "text/csv"}
    with engine.connect() as connection:
        credit = connection.execute(select(Enterprise.credit_code).where(Enterprise.id == 1))
        rows = feedback_rows()
        rows[0][11], rows[1][11] = credit.scalar_one(), ""
    bad = [list(row) for row in rows]
    bad[2][10] = "明年"
    refused = client.post("/api/v1/problems/imports?name=list.csv", content=as_csv(bad),
                          headers=headers)  # fmt: skip
    assert refused.status_code == 422
    assert refused.json()["error"]["rows"] == [
        {"row": 4, "column": "整改时限", "reason": refused.json()["error"]["rows"][0]["reason"]}
    ]
    done = client.post("/api/v1/problems/imports?name=list.csv", content=as_csv(rows),
                       headers=headers)  # fmt: skip
    assert done.status_code == 201 and done.json()["imported"] == 3
    officer, officer_csrf = session(base_url, "county-371502")
    theirs = {**headers, "X-CSRF-Token": officer_csrf}
    again = officer.post("/api/v1/problems/imports?name=list.csv", content=as_csv(rows),
                         headers=theirs)  # fmt: skip
    assert again.status_code == 403
    client.close()
    officer.close()


def test_the_complaints_page_maps_hotspots_and_takes_complaints(
    base_url: str, engine: Engine, problems: dict[str, Any]
) -> None:
    with browser(base_url, "supervisor") as supervisor:
        page = supervisor.get("/complaints")
        assert page.status_code == 200
        assert page.text.count('class="hotspot"') == 1  # the demo's night-noise hotspot
        assert page.text.count('class="complaint"') == 7
        form = {"csrf": csrf_of(page.text), "channel": "12345", "reference": "WEB-1",
                "received_at": "2026-12-01T21:30", "category": "odour", "county": "371502",
                "content": "小区附近夜间有刺鼻气味", "address": "东昌府区某路",
                "longitude": "", "latitude": "", "complainant": ""}  # fmt: skip
        taken = supervisor.post("/complaints", data=form)
        assert taken.status_code == 303
        with engine.connect() as connection:
            new = connection.execute(
                select(Complaint.id, Complaint.received_at).where(Complaint.reference == "WEB-1")
            ).one()
        assert new.received_at.isoformat() == "2026-12-01T21:30:00"
        again = supervisor.post("/complaints", data=form)
        assert again.status_code == 422 and "already imported" in again.text
        made = supervisor.post(f"/complaints/{new.id}/problem",
                               data={"csrf": form["csrf"], "lead_unit": "东昌府区城管局",
                                     "deadline": "2027-01-31"})  # fmt: skip
        assert made.status_code == 303 and made.headers["location"].startswith("/problems/")
        assert "小区附近夜间有刺鼻气味" in supervisor.get(made.headers["location"]).text
    with browser(base_url, "enterprise-1") as enterprise:
        page = enterprise.get("/complaints")
        assert page.status_code == 200 and 'class="complaint"' not in page.text
        assert "演示用户" not in page.text


def test_end_to_end_by_the_users_of_each_role_over_http(
    base_url: str, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A notice period of a tenth of a second (the policy is data), so closing can follow.
    policy = (SRC / "rectification" / "policy.toml").read_text("utf-8")
    short = tmp_path / "policy.toml"
    short.write_text(policy.replace("notice_days = 7 ", "notice_days = 0.000001 "), "utf-8")
    monkeypatch.setenv("ENVWATCH_RECTIFICATION_POLICY_FILE", str(short))
    people = {name: session(base_url, name) for name in
              ("supervisor", "admin", "enforcer", "county-371502")}  # fmt: skip

    def post(who: str, path: str, **kwargs: Any) -> httpx.Response:
        client, csrf = people[who]
        return client.post(path, headers={"X-CSRF-Token": csrf, **kwargs.pop("headers", {})},
                           **kwargs)  # fmt: skip

    csv_type = {"content-type": "text/csv"}
    imported = post("supervisor", "/api/v1/problems/imports?name=list.csv",
                    content=as_csv(feedback_rows()), headers=csv_type)  # fmt: skip
    assert imported.status_code == 201, imported.text
    first = imported.json()["ids"][0]  # 东昌府区's
    act = f"/api/v1/problems/{first}/actions"
    assert post("county-371502", act, json={"action": "start"}).json()["state"] == "rectifying"
    stored = post("county-371502", f"/api/v1/evidence?problem={first}&name=验收报告.pdf",
                  content=PDF).json()  # fmt: skip
    evidence = [{"name": stored["name"], "sha256": stored["sha256"]}]
    steps = [("county-371502", {"action": "apply", "evidence": evidence}, "applied"),
             ("enforcer", {"action": "check", "note": "现场核查合格"}, "checked"),
             ("supervisor", {"action": "sign"}, "signed"),
             ("admin", {"action": "publish", "note": SUMMARY}, "notice")]  # fmt: skip
    for who, body, state in steps:
        done = post(who, act, json=body)
        assert done.status_code == 200 and done.json()["state"] == state, (who, done.text)
    time.sleep(0.2)  # the notice period passes
    assert post("supervisor", act, json={"action": "close"}).json()["state"] == "closed"
    notice = httpx.get(base_url + "/notice").text
    assert SUMMARY in notice and "已销号" in notice
    detail = people["supervisor"][0].get(f"/api/v1/problems/{first}").json()
    assert [e["action"] for e in detail["events"]] == [
        "assign", "start", "apply", "check", "sign", "publish", "close"]  # fmt: skip
    assert {e["role"] for e in detail["events"]} >= {
        "county_officer", "enforcement_officer", "city_supervisor", "city_admin"}  # fmt: skip
    for client, _ in people.values():
        client.close()


def test_an_enterprise_with_problems_is_not_deleted(
    base_url: str, problems: dict[str, Any]
) -> None:
    firm = next(row.enterprise_id for row in problems["rows"] if row.enterprise_id)
    admin, csrf = session(base_url, "admin")
    held = admin.delete(f"/api/v1/registry/enterprises/{firm}", headers={"X-CSRF-Token": csrf})
    assert held.status_code == 409
    assert held.json()["error"]["dependants"]["problems"] >= 1
    assert held.json()["error"]["dependants"]["problem_links"] >= 1
    admin.close()


def test_the_demo_plots_register_with_status_and_history(
    base_url: str, problems: dict[str, Any]
) -> None:
    supervisor, _ = session(base_url, "supervisor")
    plots = supervisor.get("/api/v1/registry/contaminated-plots").json()["items"]
    assert len(plots) == 5
    assert {p["status"] for p in plots} == {"risk_control", "remediation", "safe_use",
                                            "suspected", "delisted"}  # fmt: skip
    safe = next(p for p in plots if p["status"] == "safe_use")
    changes = [entry["after"] for entry in safe["history"][1:]]
    assert [json.loads(change)["status"] for change in changes] == [
        "investigating", "remediation", "safe_use"]  # fmt: skip
    assert safe["status_zh"] == "安全利用"
    county = plots[0]["county_code"]
    officer, _ = session(base_url, f"county-{county}")
    mine = officer.get("/api/v1/registry/contaminated-plots").json()["items"]
    assert mine and {p["county_code"] for p in mine} == {county}
    enterprise, _ = session(base_url, "enterprise-1")
    assert enterprise.get("/api/v1/registry/contaminated-plots").json()["items"] == []
    for client in (supervisor, officer, enterprise):
        client.close()


def test_a_self_found_problem_is_registered_by_the_city_bureau(
    base_url: str, problems: dict[str, Any]
) -> None:
    supervisor, csrf = session(base_url, "supervisor")
    body = {"source": "自查发现", "batch": "2026年12月自查", "item_no": "3",
            "title": "河道排污口未设标识牌", "category": "水", "county": "冠县",
            "lead_unit": "冠县生态环境分局", "deadline": "2027-01-15"}  # fmt: skip
    made = supervisor.post("/api/v1/problems", json=body, headers={"X-CSRF-Token": csrf})
    assert made.status_code == 201, made.text
    shown = supervisor.get(f"/api/v1/problems/{made.json()['id']}").json()
    assert (shown["source"], shown["county"], shown["state"]) == ("self_found", "371525",
                                                                  "assigned")  # fmt: skip
    again = supervisor.post("/api/v1/problems", json=body, headers={"X-CSRF-Token": csrf})
    assert again.status_code == 422 and again.json()["error"]["code"] == "invalid_problem"
    supervisor.close()
