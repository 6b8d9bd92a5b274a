"""User administration over real HTTP on SQLite and PostgreSQL: city
administrators add accounts (checked for their role's scope), deactivate
them (their sessions end), end lockouts and reset passwords; everyone
changes their own password with the current one; every change is audited;
the pages do the same with forms."""

from __future__ import annotations

import re
from typing import Any

import httpx
from sqlalchemy import Engine, select

from envwatch.demo.seed import DEMO_PASSWORD
from envwatch.store.schema import AuditEntry
from tests.electricity.test_http_batch import base_url
from tests.web.server import form_login
from tests.web.test_pages_and_api import session

__all__ = ["base_url"]


def audited(engine: Engine, action: str) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.execute(select(AuditEntry).where(AuditEntry.action == action)))


def logs_in(base_url: str, username: str, password: str) -> int:
    return httpx.post(f"{base_url}/api/v1/session",
                      json={"username": username, "password": password}).status_code  # fmt: skip


def test_administrators_keep_the_accounts(base_url: str, engine: Engine) -> None:
    admin, csrf = session(base_url, "admin")
    write = {"X-CSRF-Token": csrf}
    officer = {"username": "zhang.wei", "display_name": "张伟", "role": "county_officer",
               "counties": ["371502", "371521"], "password": "changeme-2026"}  # fmt: skip
    created = admin.post("/api/v1/users", json=officer, headers=write)
    assert created.status_code == 201, created.text
    made = created.json()
    assert (made["role"], made["counties"], made["active"], made["locked"]) == (
        "county_officer", ["371502", "371521"], True, False)  # fmt: skip
    assert logs_in(base_url, "zhang.wei", "changeme-2026") == 200
    assert [e.entity_id for e in audited(engine, "user.add")][-1] == str(made["id"])
    listed = admin.get("/api/v1/users?county=371521&role=county_officer").json()
    assert "zhang.wei" in {u["username"] for u in listed["items"]}
    assert "password_hash" not in listed["items"][0]

    refusals = [
        ({**officer, "username": "x1", "counties": []}, 422, "counties_required"),
        ({**officer, "username": "x2", "counties": ["999999"]}, 422, "unknown_county"),
        ({**officer, "username": "x3", "role": "enterprise_user", "counties": []}, 422,
         "enterprise_required"),
        ({**officer, "username": "x4", "role": "overlord"}, 422, "unknown_role"),
        (officer, 409, "duplicate_username"),
        ({**officer, "username": "x5", "password": "short"}, 422, "invalid_request"),
        ({**officer, "username": "bad name"}, 422, "invalid_request"),
    ]  # fmt: skip
    for payload, status, code in refusals:
        answer = admin.post("/api/v1/users", json=payload, headers=write)
        assert (answer.status_code, answer.json()["error"]["code"]) == (status, code), payload
    assert admin.post("/api/v1/users", json=officer).status_code == 403  # no CSRF

    boss, boss_csrf = session(base_url, "supervisor")
    assert boss.get("/api/v1/users").status_code == 403
    assert boss.post("/api/v1/users", json={**officer, "username": "y"},
                     headers={"X-CSRF-Token": boss_csrf}).status_code == 403  # fmt: skip

    # Deactivating ends the user's sessions at once.
    zhang, _ = session_with(base_url, "zhang.wei", "changeme-2026")
    assert zhang.get("/api/v1/me").status_code == 200
    off = admin.patch(f"/api/v1/users/{made['id']}", json={"active": False}, headers=write)
    assert off.status_code == 200 and off.json()["active"] is False
    assert zhang.get("/api/v1/me").status_code == 401
    assert logs_in(base_url, "zhang.wei", "changeme-2026") == 401
    me = admin.get("/api/v1/me").json()
    own = admin.patch(f"/api/v1/users/{me['id']}", json={"active": False}, headers=write)
    assert own.status_code == 409 and own.json()["error"]["code"] == "own_account"
    unknown = admin.patch("/api/v1/users/99999", json={"active": False}, headers=write)
    assert unknown.status_code == 404

    # A lockout after repeated failures, ended by an administrator.
    viewer_id = next(u["id"] for u in admin.get("/api/v1/users?q=viewer").json()["items"]
                     if u["username"] == "viewer")  # fmt: skip
    for _ in range(5):
        assert logs_in(base_url, "viewer", "wrong-guess") == 401
    assert logs_in(base_url, "viewer", DEMO_PASSWORD) == 423
    locked = admin.get("/api/v1/users?q=viewer").json()["items"]
    assert any(u["username"] == "viewer" and u["locked"] for u in locked)
    assert admin.post(f"/api/v1/users/{viewer_id}/unlock", headers=write).status_code == 200
    assert logs_in(base_url, "viewer", DEMO_PASSWORD) == 200

    reset = admin.post(f"/api/v1/users/{viewer_id}/password",
                       json={"password": "new-viewer-pass"}, headers=write)  # fmt: skip
    assert reset.status_code == 200
    assert logs_in(base_url, "viewer", DEMO_PASSWORD) == 401
    assert logs_in(base_url, "viewer", "new-viewer-pass") == 200
    assert {"user.update", "user.unlock", "user.password"} <= {
        e.action for e in audited(engine, "user.update") + audited(engine, "user.unlock")
        + audited(engine, "user.password")}  # fmt: skip
    for client in (admin, boss, zhang):
        client.close()


def session_with(base_url: str, username: str, password: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=base_url)
    answer = client.post("/api/v1/session", json={"username": username, "password": password})
    assert answer.status_code == 200, answer.text
    return client, answer.json()["csrf"]


def test_people_change_their_own_password(base_url: str, engine: Engine) -> None:
    here, csrf = session(base_url, "enforcer")
    elsewhere, _ = session(base_url, "enforcer")
    assert here.get("/api/v1/me").json()["role"] == "enforcement_officer"
    wrong = here.post("/api/v1/me/password", headers={"X-CSRF-Token": csrf},
                      json={"current": "not-it", "new": "brand-new-pass"})  # fmt: skip
    assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "bad_credentials"
    assert len(audited(engine, "user.password_refused")) == 1  # kept despite the refusal
    changed = here.post("/api/v1/me/password", headers={"X-CSRF-Token": csrf},
                        json={"current": DEMO_PASSWORD, "new": "brand-new-pass"})  # fmt: skip
    assert changed.status_code == 200
    assert here.get("/api/v1/me").status_code == 200  # this session stays
    assert elsewhere.get("/api/v1/me").status_code == 401  # the other one ended
    assert logs_in(base_url, "enforcer", "brand-new-pass") == 200
    for client in (here, elsewhere):
        client.close()


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def test_the_account_pages(base_url: str, engine: Engine) -> None:
    admin, _ = session(base_url, "admin")
    page = admin.get("/users")
    assert page.status_code == 200 and 'data-user="county-371502"' in page.text
    assert "用户管理" in page.text and "http://" not in page.text and "https://" not in page.text
    csrf = csrf_of(page.text)
    added = admin.post("/users", follow_redirects=False, data={
        "csrf": csrf, "username": "li.na", "display_name": "李娜", "role": "enterprise_user",
        "enterprise_id": "1", "password": "page-made-pass"})  # fmt: skip
    assert added.status_code == 303
    assert logs_in(base_url, "li.na", "page-made-pass") == 200
    refused = admin.post("/users", data={"csrf": csrf, "username": "wang", "display_name": "王",
                                         "role": "county_officer"})  # fmt: skip
    assert refused.status_code == 422 and "区县监管人员须指定至少一个区县" in refused.text
    control = admin.post("/users", data={"csrf": csrf, "username": "nul", "display_name": "\x00",
                                         "role": "viewer"})  # fmt: skip
    assert control.status_code == 422 and "控制字符" in control.text
    li_id = next(u["id"] for u in admin.get("/api/v1/users?q=li.na").json()["items"])
    assert admin.post(f"/users/{li_id}", data={"action": "deactivate"}).status_code == 403
    off = admin.post(f"/users/{li_id}", follow_redirects=False,
                     data={"csrf": csrf, "action": "deactivate"})  # fmt: skip
    assert off.status_code == 303 and logs_in(base_url, "li.na", "page-made-pass") == 401
    assert "Users" in admin.get("/users?lang=en").text

    boss, _ = session(base_url, "supervisor")
    assert boss.get("/users").status_code == 404
    account = boss.get("/account")
    assert account.status_code == 200 and "市局监管人员" in account.text
    boss_csrf = csrf_of(account.text)
    change = {"csrf": boss_csrf, "current": DEMO_PASSWORD, "new": "abcdefgh1"}
    mismatch = boss.post("/account/password", data={**change, "confirm": "abcdefgh2"})
    assert mismatch.status_code == 422 and "不一致" in mismatch.text
    done = boss.post("/account/password", data={**change, "confirm": "abcdefgh1"})
    assert done.status_code == 200 and "密码已修改" in done.text
    assert logs_in(base_url, "supervisor", "abcdefgh1") == 200
    for client in (admin, boss):
        client.close()


def test_a_login_name_with_a_nul_is_simply_wrong(base_url: str) -> None:
    """PostgreSQL text holds no NUL: such a name must not reach the database."""
    answer = httpx.post(f"{base_url}/api/v1/session",
                        json={"username": "admin\u0000x", "password": DEMO_PASSWORD})  # fmt: skip
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "bad_credentials"
    with httpx.Client(base_url=base_url) as client:
        page = form_login(client, "a\x00", "x")
    assert page.status_code == 401 and "用户名或密码错误" in page.text
