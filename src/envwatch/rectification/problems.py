"""What a problem looks like to its readers (pure): the list's JSON, the
keys the CLI promises, and progress by county."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from envwatch.rectification.policy import CLOSED, deadline_moment, overdue
from envwatch.times import as_utc, utc_as_cst_text

LIST_KEYS = ("id", "source", "batch", "county", "title", "state", "deadline", "overdue",
             "responsible")  # fmt: skip
"""The keys of ``rectify list --json``, a contract other tools rely on."""


def problem_view(row: Any, now: datetime) -> dict[str, Any]:
    """A problem row as JSON (the list keys first, then the rest)."""
    deadline: date = row.deadline.date()
    view = {
        "id": row.id,
        "source": row.source,
        "batch": row.batch,
        "county": row.county_code,
        "title": row.title,
        "state": row.state,
        "deadline": deadline.isoformat(),
        "overdue": overdue(row.state, deadline, now),
        "responsible": row.lead_unit,
    }
    return view | {
        "item_no": row.item_no,
        "category": row.category,
        "description": row.description,
        "enterprise_id": row.enterprise_id,
        "cooperating_units": row.cooperating_units,
        "measures": row.measures,
        "escalation": row.escalation,
        "created_at": utc_as_cst_text(row.created_at),
        "applied_at": utc_as_cst_text(row.applied_at),
        "notice_until": utc_as_cst_text(row.notice_until),
        "closed_at": utc_as_cst_text(row.closed_at),
        "reopened": row.reopened,
    }


def list_view(row: Any, now: datetime) -> dict[str, Any]:
    view = problem_view(row, now)
    return {key: view[key] for key in LIST_KEYS}


@dataclass(frozen=True, slots=True)
class ProblemTimes:
    """What progress needs of a problem."""

    county: str
    state: str
    deadline: date
    applied_at: datetime | None
    closed_at: datetime | None
    reopened: int


def closed_on_time(problem: ProblemTimes) -> bool:
    """Closed, and applied for acceptance within the deadline (the unit's part
    was done in time; acceptance and notice are the bureau's)."""
    applied = as_utc(problem.applied_at)
    return (
        problem.state == CLOSED
        and applied is not None
        and applied <= deadline_moment(problem.deadline)
    )


def progress_by_county(problems: Iterable[ProblemTimes], now: datetime) -> list[dict[str, Any]]:
    """Per county: all, open, overdue, closed, closed on time, reopened (ever)."""
    counts: dict[str, dict[str, int]] = {}
    for problem in problems:
        row = counts.setdefault(problem.county, dict.fromkeys(PROGRESS_KEYS, 0))
        row["problems"] += 1
        closed = problem.state == CLOSED
        row["closed" if closed else "open"] += 1
        row["overdue"] += overdue(problem.state, problem.deadline, now)
        row["closed_on_time"] += closed_on_time(problem)
        row["reopened"] += problem.reopened > 0
    return [{"county": county, **counts[county]} for county in sorted(counts)]


PROGRESS_KEYS = ("problems", "open", "overdue", "closed", "closed_on_time", "reopened")


def times_of(row: Any) -> ProblemTimes:
    return ProblemTimes(row.county_code, row.state, row.deadline.date(), row.applied_at,
                        row.closed_at, row.reopened)  # fmt: skip
