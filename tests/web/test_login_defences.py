"""Login CSRF and lockouts that no attacker can turn against an account's own
user (issue 12 item 14), over real HTTP and in the login transaction itself,
on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import Engine, select

from envwatch.auth.sessions import LoginError, login
from envwatch.auth.throttle import LoginPolicy, lockout_for
from envwatch.demo.seed import DEMO_PASSWORD
from envwatch.store.schema import AppUser, WebSession
from tests.electricity.test_http_batch import base_url

__all__ = ["base_url"]

POLICY = LoginPolicy()


def client_from(base_url: str, address: str) -> httpx.Client:
    """A client whose connections come from ``address`` (any 127.x.y.z is this machine)."""
    return httpx.Client(base_url=base_url,
                        transport=httpx.HTTPTransport(local_address=address))  # fmt: skip


def form_token(page: httpx.Response) -> str:
    found = re.search(r'name="login_csrf" value="([^"]+)"', page.text)
    assert found, page.text[:500]
    return found.group(1)


def test_the_login_form_needs_its_own_page_s_token(base_url: str) -> None:
    credentials = {"username": "admin", "password": DEMO_PASSWORD}
    # Another site's form: no token, or a token without its cookie.
    with httpx.Client(base_url=base_url) as attacker:
        forged = attacker.post("/login", data=credentials)
        assert forged.status_code == 403 and "envwatch_session" not in forged.headers.get(
            "set-cookie", ""
        )
        token = form_token(attacker.get("/login"))
    with httpx.Client(base_url=base_url) as victim:
        stolen = victim.post("/login", data={**credentials, "login_csrf": token})
        assert stolen.status_code == 403
        assert "登录页面已过期" in stolen.text
        # The page's own form: its token and cookie go together.
        page = victim.get("/login")
        cookie = page.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and "path=/login" in cookie
        done = victim.post("/login", data={**credentials, "login_csrf": form_token(page)})
        assert done.status_code == 303 and done.headers["location"] == "/"
        assert victim.get("/").status_code == 200 and "admin" in victim.get("/api/v1/me").text


def test_the_session_api_takes_only_json(base_url: str) -> None:
    # A cross-site form can send text/plain that looks like JSON; never a login.
    body = '{"username": "admin", "password": "' + DEMO_PASSWORD + '"}'
    sent = httpx.post(f"{base_url}/api/v1/session", content=body,
                      headers={"content-type": "text/plain"})  # fmt: skip
    assert sent.status_code in (415, 422) and "set-cookie" not in sent.headers


def test_an_attacker_elsewhere_cannot_lock_an_administrator_out(base_url: str) -> None:
    right = {"username": "admin", "password": DEMO_PASSWORD}
    wrong = {"username": "admin", "password": "not-the-password"}
    with (
        client_from(base_url, "127.0.0.2") as workstation,
        client_from(base_url, "127.0.0.3") as attacker,
        client_from(base_url, "127.0.0.7") as accomplice,
        client_from(base_url, "127.0.0.4") as elsewhere,
    ):
        assert workstation.post("/api/v1/session", json=right).status_code == 200
        answers = [
            guesser.post("/api/v1/session", json=wrong).status_code
            for guesser in (attacker, accomplice)
            for _ in range(POLICY.failures_per_account_and_address + 2)
        ]
        assert set(answers) == {401}  # never a 423: a wrong password learns nothing
        # Each guessing address is shut out, even with the right password ...
        assert attacker.post("/api/v1/session", json=right).status_code == 423
        # ... the account is locked for addresses it is not trusted from ...
        assert elsewhere.post("/api/v1/session", json=right).status_code == 423
        # ... but its own workstation still logs in.
        assert workstation.post("/api/v1/session", json=right).status_code == 200


def test_an_address_that_sprays_names_is_throttled(base_url: str) -> None:
    with client_from(base_url, "127.0.0.5") as sprayer:
        for index in range(POLICY.failures_per_address):
            answer = sprayer.post("/api/v1/session",
                                  json={"username": f"guess{index}", "password": "x"})  # fmt: skip
            assert answer.status_code == 401
        refused = sprayer.post("/api/v1/session", json={"username": "viewer",
                                                        "password": DEMO_PASSWORD})  # fmt: skip
        assert refused.status_code == 429 and refused.json()["error"]["code"] == "throttled"
    with client_from(base_url, "127.0.0.6") as neighbour:
        ok = neighbour.post("/api/v1/session", json={"username": "viewer",
                                                     "password": DEMO_PASSWORD})  # fmt: skip
        assert ok.status_code == 200


def attempt(engine: Engine, password: str, peer: str, now: datetime) -> str:
    with engine.begin() as connection:
        try:
            login(connection, "viewer", password, peer, now)
        except LoginError as error:
            return error.code
    return "ok"


def test_lockouts_back_off_and_end(base_url: str, engine: Engine) -> None:
    now = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
    assert lockout_for(1, POLICY) == timedelta(minutes=15)
    assert lockout_for(3, POLICY) == timedelta(hours=1)
    assert lockout_for(99, POLICY) == POLICY.longest_lockout
    peer = "10.0.0.9"
    for lockout in (1, 2, 3):
        for _ in range(POLICY.failures_per_account_and_address):
            assert attempt(engine, "wrong", peer, now) == "bad_credentials"
        length = lockout_for(lockout, POLICY)
        assert attempt(engine, DEMO_PASSWORD, peer, now + length - timedelta(seconds=1)) == (
            "locked"
        )
        now += length  # over: the next run of failures locks twice as long
    assert attempt(engine, DEMO_PASSWORD, peer, now) == "ok"
    # Success forgets the backoff: five failures lock for the first length again.
    for _ in range(POLICY.failures_per_account_and_address):
        attempt(engine, "wrong", peer, now)
    assert attempt(engine, DEMO_PASSWORD, peer, now + timedelta(minutes=15)) == "ok"
    with engine.connect() as connection:
        viewer = connection.execute(select(AppUser.id).where(AppUser.username == "viewer"))
        sessions = connection.execute(
            select(WebSession.id).where(WebSession.user_id == viewer.scalar_one())
        ).all()
    assert len(sessions) == 2


@pytest.mark.parametrize("failures", [4])
def test_failures_older_than_the_window_are_forgotten(engine: Engine, failures: int) -> None:
    from envwatch.demo.seed import seed_demo  # noqa: PLC0415

    seed_demo(engine)
    now = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
    for _ in range(failures):
        attempt(engine, "wrong", "10.0.0.8", now)
    later = now + POLICY.window + timedelta(seconds=1)
    for _ in range(failures):
        attempt(engine, "wrong", "10.0.0.8", later)
    assert attempt(engine, DEMO_PASSWORD, "10.0.0.8", later) == "ok"  # 4 + 4, never 5 in a window
