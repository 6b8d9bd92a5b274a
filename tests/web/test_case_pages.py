"""The enforcement-case pages over real HTTP on SQLite and PostgreSQL: the
empty list explaining how a case is opened; opening a case from the alert
page (kind defaulting as enforcement/cases.py does), recording and closing
it; the alert page linking its case and showing the enterprise's
explanation with attachments; scope, CSRF, Chinese and English, and no
address of another site in any page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import httpx
from sqlalchemy import Engine, select

from envwatch.alerts.desk import AlertDesk
from envwatch.audit.log import Actor
from envwatch.demo.seed import DEMO_PASSWORD
from envwatch.ledger.positive import follow_flag
from envwatch.store.schema import AuditEntry
from tests.electricity.test_http_batch import base_url
from tests.web.server import form_login
from tests.web.test_pages_and_api import alerts

__all__ = ["alerts", "base_url"]

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@contextmanager
def browser(base_url: str, username: str) -> Iterator[httpx.Client]:
    """A person logged in through the login page (the session in its cookie)."""
    with httpx.Client(base_url=base_url) as client:
        login = form_login(client, username, DEMO_PASSWORD)
        assert login.status_code == 303, login.text
        yield client


def csrf_of(page: str) -> str:
    found = CSRF.search(page)
    assert found is not None
    return found.group(1)


def no_other_site(page: str) -> None:
    assert "http://" not in page and "https://" not in page


def test_a_case_opened_from_the_alert_page_is_recorded_and_closed(
    base_url: str, engine: Engine, alerts: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    mine, _ = alerts
    # The enterprise explains first, with an attachment (as the CLI's --attach records it).
    attachment = "检修记录.pdf sha256:ab12"
    AlertDesk(engine).act(mine["id"], "explain", "enterprise-1", peer="test",
                          note="停炉检修，已报备", attachments=[attachment])  # fmt: skip
    with browser(base_url, f"county-{mine['county']}") as officer:
        empty = officer.get("/cases")
        assert (
            empty.status_code == 200 and "暂无执法案件" in empty.text and "立案检查" in empty.text
        )
        no_other_site(empty.text)
        page = officer.get(f"/alerts/{mine['id']}")
        assert page.status_code == 200
        no_other_site(page.text)
        assert "企业（运维单位）说明" in page.text and "停炉检修，已报备" in page.text
        assert "检修记录.pdf sha256:ab12" in page.text
        # Enterprise 1 is not on the positive list: on-site is preselected.
        assert 'action="/cases"' in page.text
        assert '<option value="onsite" selected>现场检查</option>' in page.text
        csrf = csrf_of(page.text)
        forged = officer.post("/cases", data={"csrf": "forged", "alert_id": str(mine["id"])})
        assert forged.status_code == 403
        opened = officer.post("/cases", data={"csrf": csrf, "alert_id": str(mine["id"]),
                                              "kind": "offsite"})  # fmt: skip
        assert opened.status_code == 303
        case_path = opened.headers["location"]
        assert re.fullmatch(r"/cases/\d+", case_path)
        case = officer.get(case_path)
        assert case.status_code == 200 and "非现场检查" in case.text and "办理中" in case.text
        assert f'href="/alerts/{mine["id"]}"' in case.text and 'name="findings"' in case.text
        no_other_site(case.text)
        # The alert page now links its case instead of offering to open one.
        linked = officer.get(f"/alerts/{mine['id']}").text
        assert f'href="{case_path}"' in linked and 'action="/cases"' not in linked
        twice = officer.post("/cases", data={"csrf": csrf, "alert_id": str(mine["id"])})
        assert twice.status_code == 409
        recorded = officer.post(f"{case_path}/record", data={
            "csrf": csrf, "findings": "现场核查：检修属实", "legal_basis": "排污许可管理条例",
            "penalty_reference": "聊环罚〔2026〕7号", "close": "1"})  # fmt: skip
        assert recorded.status_code == 303 and recorded.headers["location"] == case_path
        closed = officer.get(case_path).text
        assert (
            "已结案" in closed and "现场核查：检修属实" in closed and "聊环罚〔2026〕7号" in closed
        )
        assert 'name="findings"' not in closed  # a closed case takes no more records
        listing = officer.get("/cases?state=closed").text
        assert f'href="{case_path}"' in listing
        assert "没有符合筛选条件的案件" in officer.get("/cases?state=open").text
        english = officer.get(f"{case_path}?lang=en").text
        assert "Enforcement cases" in english and "closed" in english and "Legal basis" in english
        no_other_site(english)
    with engine.connect() as connection:
        actions = [
            row.action
            for row in connection.execute(
                select(AuditEntry.action)
                .where(AuditEntry.entity == "case")
                .order_by(AuditEntry.seq)
            )
        ]
    assert actions == ["case.open", "case.close"]


def test_case_pages_follow_scope_and_role(
    base_url: str, engine: Engine, alerts: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    mine, theirs = alerts
    with engine.begin() as connection:
        # On the positive list, an off-site check comes first (监督执法正面清单).
        follow_flag(connection, theirs["enterprise"], True, date(2026, 1, 1),
                    Actor("test", "city_admin", "test"))  # fmt: skip
    with browser(base_url, "supervisor") as supervisor:
        page = supervisor.get(f"/alerts/{theirs['id']}").text
        assert '<option value="offsite" selected>非现场检查</option>' in page
        assert "企业尚未提交说明" in page
        opened = supervisor.post("/cases", data={"csrf": csrf_of(page),
                                                 "alert_id": str(theirs["id"])})  # fmt: skip
        assert opened.status_code == 303
        case_path = opened.headers["location"]
        assert "非现场检查" in supervisor.get(case_path).text
        bad = supervisor.post("/cases", data={"csrf": csrf_of(page), "alert_id": "x"})
        assert bad.status_code == 422
    with browser(base_url, f"county-{mine['county']}") as elsewhere:
        assert elsewhere.get(case_path).status_code == 404
        assert "暂无执法案件" in elsewhere.get("/cases").text
        csrf = csrf_of(elsewhere.get("/cases").text)
        refused = elsewhere.post(f"{case_path}/record", data={"csrf": csrf, "findings": "x"})
        assert refused.status_code == 404
    with browser(base_url, "enterprise-1") as owner:
        page = owner.get(f"/alerts/{mine['id']}").text
        assert 'action="/cases"' not in page  # enterprises do not open cases
        assert owner.get(case_path).status_code == 404  # nor see another's
    with browser(base_url, "viewer") as viewer:
        text = viewer.get(case_path).text
        assert "非现场检查" in text and 'name="findings"' not in text
        csrf = csrf_of(text)
        refused = viewer.post(f"{case_path}/record", data={"csrf": csrf, "findings": "x"})
        assert refused.status_code == 403
        assert 'action="/cases"' not in viewer.get(f"/alerts/{mine['id']}").text
    with httpx.Client(base_url=base_url) as anonymous:
        assert anonymous.get("/cases").headers["location"] == "/login"
        assert anonymous.get(case_path).status_code == 303
