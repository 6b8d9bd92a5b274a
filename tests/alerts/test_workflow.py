"""The alert workflow's transition table: every allowed move by every role,
and every forbidden one refused with an error naming state, action and role
(pure). Then levels, deadlines, escalation and SLA figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from envwatch.alerts.policy import Deadlines, load_policy
from envwatch.alerts.sla import AlertTimes, sla_figures
from envwatch.alerts.workflow import ROLES_ZH, TransitionError, load_workflow
from envwatch.errors import ConfigError

WORKFLOW = load_workflow()
POLICY = load_policy()
T0 = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)

# The table as it must be, written out by hand: (state, action) -> (next, roles).
EXPECTED = {
    ("new", "dispatch"): ("dispatched", {"system", "city_admin", "city_supervisor"}),
    ("dispatched", "acknowledge"): ("acknowledged",
                                    {"county_officer", "enforcement_officer", "city_supervisor"}),
    ("acknowledged", "handle"): ("handled", {"county_officer", "enforcement_officer"}),
    ("handled", "review"): ("reviewed", {"city_supervisor"}),
    ("handled", "return"): ("acknowledged", {"city_supervisor"}),
    ("reviewed", "return"): ("acknowledged", {"city_supervisor"}),
    ("reviewed", "close"): ("closed", {"city_supervisor", "city_admin"}),
    ("closed", "reopen"): ("dispatched", {"city_supervisor", "city_admin"}),
    # A merge is undone by the city bureau only (issue 12 item 9).
    ("merged", "reopen"): ("dispatched", {"city_supervisor", "city_admin"}),
    **{(state, "merge"): ("merged", {"city_supervisor", "county_officer"})
       for state in ("new", "dispatched", "acknowledged")},
    **{(state, "explain"): (state, {"enterprise_user", "contractor"})
       for state in ("dispatched", "acknowledged")},
    **{(state, "comment"): (state, {"city_admin", "city_supervisor", "county_officer",
                                    "enforcement_officer"})
       for state in ("new", "dispatched", "acknowledged", "handled", "reviewed")},
}  # fmt: skip


def cases() -> list[tuple[str, str, str]]:
    return [(s, a, r) for s in WORKFLOW.states for a in WORKFLOW.actions for r in ROLES_ZH]


@pytest.mark.parametrize(("state", "action", "role"), cases())
def test_every_move_of_every_role(state: str, action: str, role: str) -> None:
    extra = {"outcome": "onsite_check", "target": 7}
    expected = EXPECTED.get((state, action))
    if expected is not None and role in expected[1]:
        assert WORKFLOW.apply(state, action, role, **extra) == expected[0]  # type: ignore[arg-type]
        assert action in WORKFLOW.allowed(state, role)
        return
    with pytest.raises(TransitionError) as refused:
        WORKFLOW.apply(state, action, role, **extra)  # type: ignore[arg-type]
    error = refused.value
    assert error.code == ("role_not_allowed" if expected else "action_not_allowed")
    for name in (state, action, role):
        assert repr(name) in error.message_en
    for name in (WORKFLOW.states[state], WORKFLOW.actions[action], ROLES_ZH[role]):
        assert name in error.message_zh
    assert action not in WORKFLOW.allowed(state, role)


def test_handling_needs_an_outcome_and_merging_a_target() -> None:
    with pytest.raises(TransitionError, match="outcome"):
        WORKFLOW.apply("acknowledged", "handle", "county_officer")
    with pytest.raises(TransitionError, match="outcome"):
        WORKFLOW.apply("acknowledged", "handle", "county_officer", outcome="guesswork")
    with pytest.raises(TransitionError, match="merge into"):
        WORKFLOW.apply("dispatched", "merge", "county_officer")
    with pytest.raises(TransitionError) as unknown:
        WORKFLOW.apply("new", "delete", "city_admin")
    assert unknown.value.code == "unknown_action"


def test_a_bad_workflow_file_names_the_key(tmp_path: Path) -> None:
    text = (Path(__file__).parents[2] / "src/envwatch/alerts/workflow.toml").read_text("utf-8")
    bad = tmp_path / "workflow.toml"
    bad.write_text(text.replace('to = "handled"', 'to = "done"'), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"transition\[2\]\.to.*'done'"):
        load_workflow(bad)
    bad.write_text(text.replace('roles = ["city_supervisor"]', 'roles = ["mayor"]', 1), "utf-8")
    with pytest.raises(ConfigError, match="roles"):
        load_workflow(bad)


def test_levels_rise_with_persistence() -> None:
    assert POLICY.level_for("warning", 1) == "warning"
    assert POLICY.level_for("warning", 3) == "alarm"
    assert POLICY.level_for("severe", 9) == "severe"
    assert POLICY.level_for("notice", 2) == "notice"


def test_deadlines_and_escalation() -> None:
    deadlines = POLICY.deadlines("alarm", T0)
    assert deadlines == Deadlines(T0 + timedelta(hours=1), T0 + timedelta(hours=24),
                                  T0 + timedelta(days=7))  # fmt: skip
    assert POLICY.deadlines("notice", T0) == Deadlines(None, None, None)
    assert deadlines.next_after("dispatched") == T0 + timedelta(hours=1)
    assert deadlines.next_after("acknowledged") == T0 + timedelta(hours=24)
    assert deadlines.next_after("closed") is None
    # In time: nothing. Past the acknowledgement: the county head.
    assert POLICY.escalation_due("dispatched", deadlines, 0, T0 + timedelta(minutes=59)) is None
    first = POLICY.escalation_due("dispatched", deadlines, 0, T0 + timedelta(minutes=61))
    assert first is not None
    assert (first.step, first.to, first.missed) == (1, "county_head", "acknowledge")
    assert POLICY.escalation_due("dispatched", deadlines, 1, T0 + timedelta(hours=2)) is None
    # Past the handling deadline: the city bureau, once.
    later = T0 + timedelta(hours=25)
    second = POLICY.escalation_due("acknowledged", deadlines, 1, later)
    assert second is not None and (second.to, second.missed) == ("city_bureau", "handle")
    assert POLICY.escalation_due("acknowledged", deadlines, 2, later) is None
    # Handled in time but not closed within 7 days.
    last = POLICY.escalation_due("handled", deadlines, 0, T0 + timedelta(days=8))
    assert last is not None and last.missed == "close"


def test_sla_figures_per_county_and_level() -> None:
    def times(county: str, ack_min: float | None) -> AlertTimes:
        acknowledged = None if ack_min is None else T0 + timedelta(minutes=ack_min)
        return AlertTimes(county, "alarm", T0, T0 + timedelta(seconds=1), acknowledged,
                          None, None)  # fmt: skip

    (a, b) = sla_figures([times("371502", 10), times("371502", 30), times("371502", None),
                          times("371521", 60)])  # fmt: skip
    assert (a["county"], a["level"], a["alerts"]) == ("371502", "alarm", 3)
    assert a["alerted"] == {"count": 3, "median_s": 1.0, "mean_s": 1.0}
    assert a["acknowledged"] == {"count": 2, "median_s": 1200.0, "mean_s": 1200.0}
    assert a["handled"] == {"count": 0, "median_s": None, "mean_s": None}
    assert b["acknowledged"]["median_s"] == 3600.0
