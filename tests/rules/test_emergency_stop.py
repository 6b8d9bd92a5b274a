"""The emergency list (应急减排清单) in the streaming rules: a listed line that
must stop but draws production power is found at once (``emergency_stop``);
a listed cut replaces the grade's flat cut (``emergency_consumption``)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from envwatch.rules.engine import RuleEngine, default_rule_set
from envwatch.rules.model import Finding, ListedLine, Period, PointContext, PollutionWarning
from tests.rules.test_electricity_scenarios import LINE_A, T0, minutes, power

DAY8 = T0 + timedelta(days=8)
WARNING = PollutionWarning(
    "orange", Period(DAY8, DAY8 + timedelta(hours=12)), "聊重污办〔2026〕3号"
)
SEASON = (date(2026, 10, 1), date(2027, 3, 16))


def listed(**measures: str) -> ListedLine:
    return ListedLine("1号烧结机", *SEASON, measures)


def week(context: PointContext, kw_during_warning: float) -> list[Finding]:
    """Seven days at 800 kW, then the warning (readings every 10 minutes)."""
    line = replace(context, emergencies=(WARNING,))
    engine = RuleEngine(default_rule_set(), {line.mn: line})
    found: list[Finding] = []
    for t in minutes(9 * 144, T0 + timedelta(days=1), step_s=600):
        found += engine.feed(power(line, t, kw_during_warning if t >= DAY8 else 800.0))
    return [f for f in found if f.rule in ("emergency_stop", "emergency_consumption")]


def test_a_line_that_must_stop_but_runs_is_found_on_the_confirming_reading() -> None:
    line = replace(LINE_A, performance_grade="C", emergency_lines=(listed(orange="stop"),))
    (found,) = week(line, 750.0)
    assert found.rule == "emergency_stop"
    assert (found.window_start, found.window_end) == (DAY8, DAY8 + timedelta(minutes=10))
    assert found.evidence["line"] == "1号烧结机" and found.evidence["measure"] == "stop"
    assert found.evidence["limit_kw"] == 100.0  # k_on 10 % of 1000 kW
    assert "停产" in found.explanation and "聊重污办〔2026〕3号" in found.explanation


def test_a_stopped_line_an_exempt_one_and_staggered_production() -> None:
    line = replace(LINE_A, emergency_lines=(listed(orange="stop"),))
    assert week(line, 20.0) == []
    assert week(replace(line, emergency_exempt=True), 750.0) == []
    staggered = replace(LINE_A, emergency_lines=(listed(orange="staggered"),))
    assert [f.rule for f in week(staggered, 750.0)] == ["emergency_stop"]


def test_the_listed_cut_replaces_the_grades_flat_cut() -> None:
    # Grade B's flat orange cut is 20 %: 640 kW of a 800 kW baseline passes.
    graded = replace(LINE_A, performance_grade="B")
    assert week(graded, 640.0) == []
    # Its list says 30 %: allowed 0.7 × 1.1 = 77 % of the baseline; 80 % is not.
    line = replace(graded, emergency_lines=(listed(orange="cut:0.3"),))
    (found,) = week(line, 640.0)
    assert found.rule == "emergency_consumption"
    assert found.evidence["required_cut"] == 0.3
    assert found.evidence["listed_line"] == "1号烧结机"


def test_a_list_out_of_force_leaves_the_grade_to_judge() -> None:
    old = ListedLine("1号烧结机", date(2025, 10, 1), date(2026, 3, 16), {"orange": "stop"})
    line = replace(LINE_A, performance_grade="B", emergency_lines=(old,))
    (found,) = week(line, 750.0)
    assert found.rule == "emergency_consumption"
    assert found.evidence["listed_line"] is None


def test_the_streaming_rules_judge_only_the_production_part_of_a_measure() -> None:
    # 停产+运输管控: the stop is judged; 运输管控 alone asks nothing of electricity.
    stop = replace(LINE_A, emergency_lines=(listed(orange="stop+transport"),))
    (found,) = week(stop, 750.0)
    assert found.rule == "emergency_stop" and found.evidence["measure"] == "stop"
    transport = replace(LINE_A, emergency_lines=(listed(orange="transport"),))
    assert week(transport, 750.0) == []
