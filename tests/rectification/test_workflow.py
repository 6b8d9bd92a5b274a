"""The rectification workflow table (rules.md §4.2): every state × action ×
role, allowed or refused with an error naming all three; the one loader both
tables go through; the policy's deadlines, escalation and progress (pure)."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from envwatch.alerts.workflow import ROLES_ZH, TransitionError, load_workflow
from envwatch.errors import ConfigError
from envwatch.rectification.desk import DEFAULT_WORKFLOW_FILE, load_rectification_workflow
from envwatch.rectification.policy import deadline_moment, load_policy, overdue
from envwatch.rectification.problems import (
    PROGRESS_KEYS,
    ProblemTimes,
    closed_on_time,
    progress_by,
    progress_by_county,
    progress_table,
    table_file,
)

WORKFLOW = load_rectification_workflow()
POLICY = load_policy()

SUPERVISORS = {"city_admin", "city_supervisor", "county_officer", "enforcement_officer"}
NOT_CLOSED = ("new", "assigned", "rectifying", "applied", "checked", "signed", "notice", "reopened")
# The table as it must be, written out by hand: (state, action) -> (next, roles).
EXPECTED = {
    ("new", "assign"): ("assigned", {"system", "city_admin", "city_supervisor"}),
    ("assigned", "start"): ("rectifying", {"county_officer", "enterprise_user"}),
    ("reopened", "start"): ("rectifying", {"county_officer", "enterprise_user"}),
    ("rectifying", "report"): ("rectifying", {"county_officer", "enterprise_user"}),
    ("rectifying", "apply"): ("applied", {"county_officer", "enterprise_user"}),
    ("applied", "check"): ("checked", {"enforcement_officer", "city_supervisor"}),
    ("checked", "sign"): ("signed", {"city_supervisor"}),
    **{
        (state, "reject"): ("rectifying", {"enforcement_officer", "city_supervisor"})
        for state in ("applied", "checked", "signed", "notice")
    },
    ("signed", "publish"): ("notice", {"city_supervisor", "city_admin"}),
    ("notice", "close"): ("closed", {"city_supervisor", "city_admin"}),
    ("closed", "rebound"): (
        "reopened",
        {"city_supervisor", "county_officer", "enforcement_officer"},
    ),
    **{
        (state, "link"): (state, {"city_supervisor", "county_officer", "enforcement_officer"})
        for state in NOT_CLOSED
    },
    **{(state, "comment"): (state, SUPERVISORS) for state in (*NOT_CLOSED, "closed")},
}


def cases() -> list[tuple[str, str, str]]:
    return [(s, a, r) for s in WORKFLOW.states for a in WORKFLOW.actions for r in ROLES_ZH]


def test_the_table_has_the_states_of_the_domain() -> None:
    names = "待交办 已交办 整改中 申请验收 现场核查 审核签字 公示中 已销号 反弹重启"
    assert list(WORKFLOW.states.values()) == names.split()
    assert len(cases()) == 9 * 12 * 8


@pytest.mark.parametrize(("state", "action", "role"), cases())
def test_every_move_of_every_role(state: str, action: str, role: str) -> None:
    expected = EXPECTED.get((state, action))
    if expected is not None and role in expected[1]:
        assert WORKFLOW.apply(state, action, role, target=7, evidence=1) == expected[0]
        assert action in WORKFLOW.allowed(state, role)
        return
    with pytest.raises(TransitionError) as refused:
        WORKFLOW.apply(state, action, role, target=7, evidence=1)
    error = refused.value
    assert error.code == ("role_not_allowed" if expected else "action_not_allowed")
    for name in (state, action, role):
        assert repr(name) in error.message_en
    for name in (WORKFLOW.states[state], WORKFLOW.actions[action], ROLES_ZH[role]):
        assert name in error.message_zh
    assert action not in WORKFLOW.allowed(state, role)


def test_applying_needs_evidence_and_linking_a_problem() -> None:
    with pytest.raises(TransitionError) as bare:
        WORKFLOW.apply("rectifying", "apply", "county_officer")
    assert bare.value.code == "evidence_required"
    assert "申请验收" in bare.value.message_zh
    with pytest.raises(TransitionError) as no_target:
        WORKFLOW.apply("rectifying", "link", "county_officer")
    assert no_target.value.code == "target_required"
    assert "举一反三" in no_target.value.message_zh
    assert "similar problem" in no_target.value.message_en


def test_one_loader_for_both_tables(tmp_path: Path) -> None:
    alerts = load_workflow()
    assert alerts.target_en == "the alert to merge into" and alerts.outcomes
    assert load_workflow(DEFAULT_WORKFLOW_FILE) == WORKFLOW
    assert WORKFLOW.outcomes == {}
    text = DEFAULT_WORKFLOW_FILE.read_text("utf-8")
    bad = tmp_path / "workflow.toml"
    bad.write_text(text.replace("needs_evidence = true", "needs_outcome = true", 1), "utf-8")
    with pytest.raises(ConfigError, match=r"needs_outcome.*no \[outcomes\]"):
        load_workflow(bad)
    bad.write_text(text.replace('to = "closed"', 'to = "gone"'), "utf-8")
    with pytest.raises(ConfigError, match=r"transition\[8\]\.to.*'gone'"):
        load_workflow(bad)
    bad.write_text(text.replace("[target]", "[target]\nfr = 'x'"), "utf-8")
    with pytest.raises(ConfigError, match="target"):
        load_workflow(bad)


T0 = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)


def test_a_deadline_day_ends_at_midnight_china_time() -> None:
    # 2026-12-31 ends at 2027-01-01 00:00 +08:00, i.e. 2026-12-31 16:00 UTC.
    assert deadline_moment(date(2026, 12, 31)) == datetime(2026, 12, 31, 16, 0, tzinfo=UTC)
    end = datetime(2026, 12, 31, 16, 0, tzinfo=UTC)
    assert not overdue("rectifying", date(2026, 12, 31), end)
    assert overdue("rectifying", date(2026, 12, 31), end + timedelta(seconds=1))
    # Applied for acceptance in time: no longer the unit's delay.
    assert not overdue("applied", date(2026, 12, 31), end + timedelta(days=9))
    assert not overdue("closed", date(2026, 12, 31), end + timedelta(days=9))


def test_missed_deadlines_escalate_to_the_county_head_then_the_city() -> None:
    deadline = date(2026, 12, 1)
    end = deadline_moment(deadline)
    assert POLICY.escalation_due("rectifying", deadline, 0, end) is None
    first = POLICY.escalation_due("assigned", deadline, 0, end + timedelta(hours=1))
    assert first is not None and (first.step, first.to) == (1, "county_head")
    assert POLICY.escalation_due("rectifying", deadline, 1, end + timedelta(days=29)) is None
    second = POLICY.escalation_due("rectifying", deadline, 1, end + timedelta(days=31))
    assert second is not None and (second.step, second.to) == (2, "city_bureau")
    assert POLICY.escalation_due("rectifying", deadline, 2, end + timedelta(days=90)) is None
    assert POLICY.escalation_due("signed", deadline, 0, end + timedelta(days=90)) is None


def test_the_notice_period_and_the_vocabulary_are_data() -> None:
    assert POLICY.notice_days == 7
    assert POLICY.notice_until(T0) == T0 + timedelta(days=7)
    assert POLICY.source_code("中央生态环境保护督察") == "central"
    assert POLICY.source_code("central") == "central"
    assert POLICY.source_code("街道") is None
    assert POLICY.category_code("噪声") == "noise"


def test_progress_by_county() -> None:
    deadline = date(2026, 11, 30)
    in_time = deadline_moment(deadline) - timedelta(days=1)
    late = deadline_moment(deadline) + timedelta(days=1)
    problems = [
        ProblemTimes("371502", "closed", deadline, in_time, late, 0),
        ProblemTimes("371502", "closed", deadline, late, late, 1),
        ProblemTimes("371502", "rectifying", deadline, None, None, 0),
        ProblemTimes("371502", "applied", deadline, late, None, 0),
        ProblemTimes("371521", "assigned", date(2027, 6, 30), None, None, 0),
        ProblemTimes("371521", "rectifying", deadline, None, None, 2),
    ]
    now = late + timedelta(days=1)
    assert closed_on_time(problems[0]) and not closed_on_time(problems[1])
    assert progress_by_county(problems, now) == [
        {
            "county": "371502",
            "problems": 4,
            "open": 2,
            "overdue": 1,
            "closed": 2,
            "closed_on_time": 1,
            "reopened": 1,
        },
        {
            "county": "371521",
            "problems": 2,
            "open": 2,
            "overdue": 1,
            "closed": 0,
            "closed_on_time": 0,
            "reopened": 1,
        },
    ]


def test_progress_by_source_and_category_as_a_table() -> None:
    deadline = date(2026, 11, 30)
    late = deadline_moment(deadline) + timedelta(days=1)
    problems = [
        ProblemTimes("371502", "rectifying", deadline, None, None, 0, "central", "air"),
        ProblemTimes("371521", "closed", deadline, late, late, 0, "central", "air"),
        ProblemTimes("371502", "assigned", deadline, None, None, 0, "complaint", "=noise"),
    ]
    figures = progress_by(problems, late, ("source", "category"))
    assert [(f["source"], f["category"], f["problems"], f["overdue"]) for f in figures] == [
        ("central", "air", 2, 1), ("complaint", "=noise", 1, 1)]  # fmt: skip
    table = progress_table(figures, ("source", "category"))
    assert table[0] == ["source", "category", *PROGRESS_KEYS]
    assert table[2][:2] == ["complaint", "'=noise"]  # never a formula in a spreadsheet
    assert table_file(table, "csv").decode("utf-8-sig").splitlines()[1].startswith("central,air,2")
    book = load_workbook(io.BytesIO(table_file(table, "xlsx")))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert list(rows[1][:3]) == ["central", "air", 2]
