"""The rectification desk on SQLite and PostgreSQL: a feedback list imported
all or nothing into the right counties; one problem rectified, accepted,
noticed and closed by the users of each role, with evidence kept and verified;
scope; 举一反三 links; overdue problems escalated through the outbox."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, update

from envwatch.alerts.desk import AlertDesk
from envwatch.alerts.notify import Mail, Notifier
from envwatch.alerts.scope import UserScope
from envwatch.alerts.service import run_alert_loop
from envwatch.alerts.workflow import TransitionError
from envwatch.audit.log import verify
from envwatch.rectification import evidence
from envwatch.rectification.desk import ProblemError, RectificationDesk
from envwatch.rectification.evidence import EvidenceError, Upload
from envwatch.rectification.importing import import_problems
from envwatch.rectification.policy import deadline_moment
from envwatch.rectification.problems import problem_view
from envwatch.rectification.queries import problem_dossier, problem_dossier_pdf
from envwatch.store.schema import (
    AuditEntry,
    EvidenceFile,
    Notification,
    ProblemEvidence,
    RectificationEvent,
    RectificationLink,
    RectificationProblem,
)
from tests.pdftext import pdf_text, require_pdf_tools
from tests.rectification.helpers import (
    CREDIT_1,
    DONGCHANGFU,
    GUANXIAN,
    PDF,
    PNG,
    USERS,
    as_csv,
    feedback_rows,
    registry,
)

T0 = datetime(2027, 1, 4, 2, 0, tzinfo=UTC)


@pytest.fixture
def desk(engine: Engine) -> RectificationDesk:
    registry(engine)
    return RectificationDesk(engine)


def imported(desk: RectificationDesk) -> list[int]:
    ids, errors = import_problems(desk, "反馈清单.csv", as_csv(feedback_rows()), now=T0)
    assert errors == []
    return ids


def count(engine: Engine, table: type) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def test_a_feedback_list_becomes_assigned_problems_in_their_counties(
    desk: RectificationDesk,
) -> None:
    ids = imported(desk)
    with desk.engine.connect() as connection:
        problems = connection.execute(
            select(RectificationProblem).order_by(RectificationProblem.id)
        ).all()
        links = [
            tuple(r)
            for r in connection.execute(
                select(
                    RectificationLink.problem_id, RectificationLink.kind, RectificationLink.ref_id
                )
            )
        ]
        notified = [
            tuple(r)
            for r in connection.execute(
                select(Notification.problem_id, Notification.event).order_by(Notification.id)
            )
        ]
        assert verify(connection) is None
    assert [p.id for p in problems] == ids
    assert [(p.source, p.county_code, p.category, p.state) for p in problems] == [
        ("central", DONGCHANGFU, "air", "assigned"),
        ("central", GUANXIAN, "water", "assigned"),
        ("provincial", DONGCHANGFU, "noise", "assigned"),
    ]
    assert (problems[0].enterprise_id, problems[2].enterprise_id) == (1, None)
    assert sorted(links) == [(ids[0], "enterprise", 1), (ids[1], "enterprise", 2)]
    # The county officers of 东昌府区 hear of their two problems (冠县 has no target).
    assert notified == [(ids[0], "assigned"), (ids[2], "assigned")]
    view = problem_view(problems[0], T0)
    assert view["deadline"] == "2027-03-31" and view["overdue"] is False
    assert view["responsible"] == "东昌府区人民政府"


def test_a_bad_row_imports_nothing_and_names_row_column_reason(desk: RectificationDesk) -> None:
    rows = feedback_rows()
    rows[1][6] = "火星县"  # county
    rows[2][5] = "辐射"  # category
    rows[2][10] = "2027-02-30"  # no such day
    rows.append(list(rows[0]))  # the same item again
    rows.append([*rows[0][:2], "9", *rows[0][3:11], "91371500000000009X", "", ""])
    ids, errors = import_problems(desk, "bad.csv", as_csv(rows), now=T0)
    assert ids == []
    found = {(e.row, e.column) for e in errors}
    assert (4, "整改时限") in found
    assert count(desk.engine, RectificationProblem) == 0
    # With the date fixed, the references and duplicates are checked too.
    rows[2][10] = "2027-02-28"
    ids, errors = import_problems(desk, "bad.csv", as_csv(rows), now=T0)
    assert ids == []
    assert {(e.row, e.column) for e in errors} == {
        (3, "区县"),
        (4, "类别"),
        (5, ""),
        (6, "涉及企业"),
    }
    assert any("火星县" in e.reason for e in errors)
    assert count(desk.engine, RectificationProblem) == 0
    assert count(desk.engine, AuditEntry) == 0
    imported(desk)
    ids, errors = import_problems(desk, "again.csv", as_csv(feedback_rows()[:1]), now=T0)
    assert ids == [] and [(e.row, e.column) for e in errors] == [(2, "序号")]


def test_one_problem_from_assignment_to_closing_by_each_role(desk: RectificationDesk) -> None:
    first, second, _ = imported(desk)
    report = [Upload("脱硫改造验收报告.pdf", PDF), Upload("现场照片.png", PNG)]

    def act(action: str, user: str, at: timedelta, **extra: object) -> str:
        return desk.act(first, action, user, peer="test", now=T0 + at, **extra)  # type: ignore[arg-type]

    # Out of scope reads as unknown, for another county and another enterprise.
    for stranger in ("county-gx", "enterprise-2"):
        with pytest.raises(ProblemError) as hidden:
            act("start", stranger, timedelta(hours=1))
        assert hidden.value.code == "unknown_problem"
    assert act("start", "enterprise-1", timedelta(days=1), note="已停产检修脱硫塔") == "rectifying"
    with pytest.raises(TransitionError) as bare:
        act("apply", "county-dcf", timedelta(days=30))
    assert bare.value.code == "evidence_required"
    with pytest.raises(EvidenceError):
        act("apply", "county-dcf", timedelta(days=30), files=[Upload("x.pdf", b"not a pdf")])
    assert act("apply", "county-dcf", timedelta(days=30), files=report) == "applied"
    assert act("reject", "enforcer", timedelta(days=32), note="在线监测仍超标") == "rectifying"
    assert (
        act("apply", "enterprise-1", timedelta(days=40), files=[Upload("复测报告.pdf", PDF)])
        == "applied"
    )
    assert act("check", "enforcer", timedelta(days=41), note="现场核查合格") == "checked"
    with pytest.raises(TransitionError) as county_signs:
        act("sign", "county-dcf", timedelta(days=42))
    assert county_signs.value.code == "role_not_allowed"
    assert act("sign", "supervisor", timedelta(days=42)) == "signed"
    summary = "完成脱硫设施改造，二氧化硫达标排放"
    assert act("publish", "admin", timedelta(days=43), note=summary) == "notice"
    with pytest.raises(ProblemError) as early:
        act("close", "supervisor", timedelta(days=49))
    assert early.value.code == "notice_not_over"
    assert act("close", "supervisor", timedelta(days=50, hours=1)) == "closed"

    with desk.engine.connect() as connection:
        problem = connection.execute(
            select(RectificationProblem).where(RectificationProblem.id == first)
        ).one()
        files = connection.execute(
            select(ProblemEvidence.name, ProblemEvidence.sha256)
            .where(ProblemEvidence.problem_id == first)
            .order_by(ProblemEvidence.id)
        ).all()
        actions = connection.execute(
            select(RectificationEvent.action, RectificationEvent.role)
            .where(RectificationEvent.problem_id == first)
            .order_by(RectificationEvent.id)
        ).all()
        assert verify(connection) is None
        stored = evidence.get(connection, files[0].sha256)
    assert problem.summary == summary and problem.state == "closed"
    assert [f.name for f in files] == ["脱硫改造验收报告.pdf", "现场照片.png", "复测报告.pdf"]
    # The same PDF content twice: kept once (content-addressed).
    assert files[0].sha256 == files[2].sha256 == evidence.sha256_of(PDF)
    assert count(desk.engine, EvidenceFile) == 2
    assert stored is not None and stored.content == PDF and stored.media_type == "application/pdf"
    assert [a.action for a in actions] == [
        "assign",
        "start",
        "apply",
        "reject",
        "apply",
        "check",
        "sign",
        "publish",
        "close",
    ]
    assert {a.role for a in actions} == {
        "system",
        "enterprise_user",
        "county_officer",
        "enforcement_officer",
        "city_supervisor",
        "city_admin",
    }
    # 反弹: the county reopens it; the rectification starts again.
    assert act("rebound", "county-dcf", timedelta(days=90), note="群众再次投诉") == "reopened"
    with desk.engine.connect() as connection:
        deadline = connection.execute(
            select(RectificationProblem.deadline).where(RectificationProblem.id == first)
        ).scalar_one()
    # T0 + 90 days is 2027-04-04 in China: 30 more days to rectify.
    assert deadline.date() == date(2027, 5, 4)
    assert act("start", "county-dcf", timedelta(days=91)) == "rectifying"
    with desk.engine.begin() as connection:
        assert (
            connection.execute(
                select(RectificationProblem.reopened).where(RectificationProblem.id == first)
            ).scalar()
            == 1
        )
        # A stored file altered behind envwatch's back is refused on reading.
        connection.execute(
            update(EvidenceFile)
            .where(EvidenceFile.sha256 == files[1].sha256)
            .values(content=PNG[:-1] + b"\x01")
        )
    with desk.engine.connect() as connection, pytest.raises(EvidenceError) as corrupt:
        evidence.get(connection, files[1].sha256)
    assert corrupt.value.code == "evidence_corrupt"
    assert second  # untouched by all this


def test_similar_problems_are_linked_within_scope(desk: RectificationDesk) -> None:
    first, second, third = imported(desk)
    assert desk.act(first, "link", "county-dcf", peer="t", target=third, now=T0) == "assigned"
    with pytest.raises(ProblemError):
        desk.act(first, "link", "county-dcf", peer="t", target=second, now=T0)
    with pytest.raises(ProblemError):
        desk.act(first, "link", "county-dcf", peer="t", target=first, now=T0)
    with desk.engine.connect() as connection:
        links = connection.execute(
            select(RectificationLink.problem_id, RectificationLink.ref_id).where(
                RectificationLink.kind == "problem"
            )
        ).all()
    assert sorted(links) == sorted([(first, third), (third, first)])


def test_overdue_problems_escalate_once_per_step(desk: RectificationDesk) -> None:
    first, _, third = imported(desk)
    desk.act(third, "start", "county-dcf", peer="t", now=T0)
    desk.act(third, "apply", "county-dcf", peer="t", now=T0, files=[Upload("a.pdf", PDF)])
    end = deadline_moment(date(2027, 3, 31))
    assert desk.sweep(end - timedelta(minutes=1)) == 0
    assert desk.sweep(end + timedelta(hours=1)) == 2  # the two still owed; the applied one is not
    assert desk.sweep(end + timedelta(hours=2)) == 0
    assert desk.sweep(end + timedelta(days=31)) == 2
    with desk.engine.connect() as connection:
        notified = connection.execute(
            select(Notification.problem_id, Notification.event, Notification.payload)
            .where(Notification.event == "escalated")
            .order_by(Notification.id)
        ).all()
        escalations = connection.execute(
            select(RectificationProblem.id, RectificationProblem.escalation).order_by(
                RectificationProblem.id
            )
        ).all()
    assert [e for _, e in escalations] == [2, 2, 0]
    # 东昌府区's head for its problem, then the city bureau for both counties' problems.
    assert [n.problem_id for n in notified] == [first, first, first + 1]
    assert notified[0].payload["problem"]["county"] == DONGCHANGFU
    assert CREDIT_1  # the enterprise the first problem is about


def test_the_serve_loop_sweeps_problems_with_the_alerts(desk: RectificationDesk) -> None:
    ids, errors = import_problems(desk, "late.csv", as_csv(feedback_rows(date(2026, 1, 5))))
    assert errors == []

    async def scenario() -> None:
        stop = asyncio.Event()
        notifier = Notifier(desk.engine, Mail(None, 25, "envwatch@city.example"), timeout_s=1)
        loop = asyncio.create_task(
            run_alert_loop(AlertDesk(desk.engine), notifier, stop, interval_s=0.05,
                           sweepers=(desk.sweep,))
        )  # fmt: skip
        try:
            for _ in range(400):  # bounded: the first pass sweeps at once
                if escalated(desk.engine) == len(ids):
                    break
                await asyncio.sleep(0.05)
        finally:
            stop.set()
            await loop

    asyncio.run(scenario())
    assert escalated(desk.engine) == len(ids)


def escalated(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(
                select(func.count()).where(RectificationProblem.escalation > 0)
            ).scalar_one()
        )


def test_one_file_per_case(desk: RectificationDesk, tmp_path: Path) -> None:
    first, second, _ = imported(desk)
    desk.act(first, "start", "county-dcf", peer="t", now=T0)
    files = [Upload("报告.pdf", PDF), Upload("照片.png", PNG), Upload("报告.pdf", PDF + b" ")]
    desk.act(first, "apply", "county-dcf", peer="t", note="已完成", files=files, now=T0)
    with desk.engine.connect() as connection:
        archive = problem_dossier(connection, viewer("county-dcf"), first, desk.workflow, T0)
        hidden = problem_dossier(connection, viewer("county-gx"), first, desk.workflow, T0)
    assert archive is not None and hidden is None
    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        names = opened.namelist()
        evidence = ["evidence/001-报告.pdf", "evidence/002-照片.png", "evidence/003-报告.pdf"]
        assert names == ["problem.json", "案卷.txt", "案卷.pdf", *evidence, "SHA256SUMS"]
        case_file = opened.read("案卷.pdf")
        sums = opened.read("SHA256SUMS").decode().splitlines()
        for line in sums:
            digest, path = line.split("  ")
            assert hashlib.sha256(opened.read(path)).hexdigest() == digest
        record = json.loads(opened.read("problem.json"))
        text = opened.read("案卷.txt").decode()
    assert record["id"] == first and [e["action"] for e in record["events"]] == [
        "assign", "start", "apply"]  # fmt: skip
    assert "申请验收" in text and "整改中 → 申请验收" in text and "已完成" in text
    assert second
    require_pdf_tools()
    with desk.engine.connect() as connection:
        alone = problem_dossier_pdf(connection, viewer("county-dcf"), first, desk.workflow, T0)
        out = problem_dossier_pdf(connection, viewer("county-gx"), first, desk.workflow, T0)
    assert alone == case_file and out is None  # the same record, the same bytes
    printed = pdf_text(case_file, tmp_path)
    assert f"整改事项案卷 #{first}" in printed and record["title"] in printed
    assert "申请验收" in printed and "已完成" in printed  # the history
    for item in record["evidence"]:  # the evidence list, with the stored hashes
        assert item["sha256"][:20] in printed.replace("\n", "").replace(" ", "")


def viewer(username: str) -> UserScope:
    row = next(u for u in USERS if u[0] == username)
    return UserScope(row[1], row[3], None, row[2])
