"""The city administrators' replay page (``/processing/replays``,
``web/pages_processing.py``) over real HTTP on SQLite with the real app: an
administrator starts a dry-run replay of a small stored window from the form
and sees the job listed with its report; a form with mistakes is answered
with each mistake named and the entries kept; other roles are refused as the
API refuses them. In a browser, the progress bar reaches done."""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, insert, select

from envwatch.auth.passwords import hash_password
from envwatch.demo.seed import DEMO_PASSWORD
from envwatch.store.db import make_engine, upgrade
from envwatch.store.schema import AppUser, FindingRecord
from tests.web.server import form_login, serving
from tests.web.test_browser import SCREENSHOTS, browser

sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))
from rules import START, store
from rules_fleet import fleet

__all__ = ["browser"]

DEVICES, MINUTES = 4, 600
SINCE, UNTIL = START - timedelta(days=1), START + timedelta(minutes=MINUTES + 1)
FORM_TIME = "%Y-%m-%dT%H:%M"
RULES = ["negative", "zero", "constant", "spike"]
PAGE = "/processing/replays"


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A small fleet's uploads on SQLite, the county, and a user of each role."""
    path = tmp_path_factory.mktemp("replay-page") / "envwatch.db"
    upgrade(f"sqlite:///{path}")
    engine = make_engine(f"sqlite:///{path}")
    store(engine, fleet(DEVICES, MINUTES), MINUTES)
    with engine.begin() as connection:
        connection.execute(insert(AppUser), [
            {"username": name, "display_name": name, "role": role, "county_codes": counties,
             "enterprise_id": enterprise, "active": True,
             "password_hash": hash_password(DEMO_PASSWORD), "failed_logins": 0}
            for name, role, counties, enterprise in (
                ("admin", "city_admin", "", None), ("officer", "county_officer", "371502", None),
                ("firm", "enterprise_user", "", 1))
        ])  # fmt: skip
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def base(stored: Engine) -> Iterator[str]:
    with serving(stored) as url:
        yield url


def logged_in(base: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=base)
    assert form_login(client, username, DEMO_PASSWORD).status_code == 303
    return client


def csrf_of(page: str) -> str:
    return page.split('name="csrf" value="')[1].split('"', maxsplit=1)[0]


def window(**more: Any) -> dict[str, Any]:
    return {"since": SINCE.strftime(FORM_TIME), "until": UNTIL.strftime(FORM_TIME),
            "rules": RULES, "county": "", **more}  # fmt: skip


def job_row(page: str, job_id: str) -> str:
    return page.split(f'data-job="{job_id}"')[1].split("</tr>", maxsplit=1)[0]


def test_an_administrator_starts_a_dry_run_and_sees_its_report(stored: Engine, base: str) -> None:
    admin = logged_in(base, "admin")
    page = admin.get(PAGE)
    assert page.status_code == 200 and "重新研判" in page.text
    assert 'href="/processing/replays"' in page.text  # the administrators' link
    assert "负值异常" in page.text  # the rules by their Chinese names
    started = admin.post(PAGE, data={**window(dry_run="1"), "csrf": csrf_of(page.text)})
    assert started.status_code == 303, started.text
    job_id = re.search(r"started=(\d+)", started.headers["location"]).group(1)  # type: ignore[union-attr]
    job = admin.get(f"/api/v1/processing/replays/{job_id}").json()
    deadline = time.monotonic() + 60
    while job["state"] not in {"done", "failed"}:
        assert time.monotonic() < deadline, job
        time.sleep(0.1)
        job = admin.get(f"/api/v1/processing/replays/{job_id}").json()
    assert job["state"] == "done" and job["steps_done"] == job["steps_total"] == DEVICES
    row = job_row(admin.get(PAGE).text, job_id)
    assert 'data-state="done"' in row and "admin" in row and "试运行" in row
    changes = job["result"]["changes"]
    assert f'<b class="new">{changes["new"]}</b>' in row and changes["new"] > 0
    assert f'<dd class="devices">{DEVICES}' in row
    assert "负值异常" in row  # the rules replayed column-wise, by name
    with stored.connect() as connection:  # a dry run writes nothing
        assert connection.execute(select(FindingRecord.id)).first() is None
    english = admin.get(PAGE + "?lang=en").text
    assert "Replay history" in english and "dry run" in job_row(english, job_id)
    admin.close()


def test_the_form_names_each_mistake_and_keeps_the_entries(base: str) -> None:
    admin = logged_in(base, "admin")
    csrf = csrf_of(admin.get(PAGE).text)
    bad = admin.post(PAGE, data={**window(since="2026-13-40T00:00", rules=["negative", "nonesuch"]),
                                 "csrf": csrf})  # fmt: skip
    assert bad.status_code == 422
    assert "开始时间格式不正确" in bad.text and "未知规则：nonesuch" in bad.text.replace(": ", "：")
    assert 'value="2026-13-40T00:00"' in bad.text  # kept as sent
    assert 'value="negative" checked' in bad.text
    turned = window(since=UNTIL.strftime(FORM_TIME), until=SINCE.strftime(FORM_TIME))
    backwards = admin.post(PAGE, data={**turned, "csrf": csrf})
    assert backwards.status_code == 422 and "结束时间须晚于开始时间" in backwards.text
    assert admin.post(PAGE, data=window()).status_code == 403  # no CSRF token
    admin.close()


@pytest.mark.parametrize("username", ["officer", "firm"])
def test_other_roles_are_refused_as_the_api_refuses_them(base: str, username: str) -> None:
    client = logged_in(base, username)
    page = client.get("/")
    assert 'href="/processing/replays"' not in page.text
    assert client.get(PAGE).status_code == 403
    assert client.post(PAGE, data={**window(), "csrf": csrf_of(page.text)}).status_code == 403
    assert client.get("/api/v1/processing/replays/1").status_code == 403
    client.close()
    assert httpx.get(base + PAGE).status_code == 303  # nobody: to the login


def test_an_administrator_watches_a_replay_reach_done_in_the_browser(
    base: str, browser: Any
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{base}/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form.login button[type=submit]")
    page.wait_for_url(f"{base}/")
    page.click("a[href='/processing/replays']")
    page.fill("input[name=since]", SINCE.strftime(FORM_TIME))
    page.fill("input[name=until]", UNTIL.strftime(FORM_TIME))
    page.check("input[name=rules][value=negative]")
    page.check("input[name=rules][value=spike]")
    page.click("#replay-form button[type=submit]")
    page.wait_for_url(re.compile(r"started=\d+"))
    job_id = re.search(r"started=(\d+)", page.url).group(1)  # type: ignore[union-attr]
    row = page.locator(f"tr[data-job='{job_id}']")
    # The bar moves as the page polls the job; once done, the page shows the report.
    page.locator(f"tr[data-job='{job_id}'][data-state='done'] dd.changes").wait_for(timeout=60_000)
    assert row.locator(".job-state").inner_text().startswith("已完成")
    assert row.locator("progress").evaluate("bar => bar.value === bar.max && bar.max > 0")
    assert row.locator(".steps").inner_text().startswith(f"{DEVICES}/{DEVICES}")
    assert "新增" in row.locator("dd.changes").inner_text()  # a dry run (the default)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "replays.png"), full_page=True)
    page.close()
