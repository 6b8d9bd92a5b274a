"""What a problem looks like to its readers (pure): the list's JSON, the
keys the CLI promises, and progress by county."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook

from envwatch.rectification.policy import CLOSED, deadline_moment, overdue
from envwatch.spreadsheet import safe_cell
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
    source: str = ""
    category: str = ""


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
    return progress_by(problems, now, ("county",))


GROUPS = ("county", "source", "category")


def progress_by(
    problems: Iterable[ProblemTimes], now: datetime, keys: tuple[str, ...]
) -> list[dict[str, Any]]:
    """The progress figures per combination of ``keys`` (of ``GROUPS``), sorted by them."""
    counts: dict[tuple[str, ...], dict[str, int]] = {}
    for problem in problems:
        group = tuple(str(getattr(problem, key)) for key in keys)
        row = counts.setdefault(group, dict.fromkeys(PROGRESS_KEYS, 0))
        row["problems"] += 1
        closed = problem.state == CLOSED
        row["closed" if closed else "open"] += 1
        row["overdue"] += overdue(problem.state, problem.deadline, now)
        row["closed_on_time"] += closed_on_time(problem)
        row["reopened"] += problem.reopened > 0
    return [dict(zip(keys, group, strict=True)) | counts[group] for group in sorted(counts)]


def progress_table(figures: list[dict[str, Any]], keys: tuple[str, ...]) -> list[list[Any]]:
    """The figures as a table (header first) for CSV or XLSX, in the keys' order;
    text cells made safe from formulas (``spreadsheet.safe_cell``)."""
    header = [*keys, *PROGRESS_KEYS]
    return [header, *([safe_cell(row[name]) for name in header] for row in figures)]


PROGRESS_KEYS = ("problems", "open", "overdue", "closed", "closed_on_time", "reopened")


def times_of(row: Any) -> ProblemTimes:
    return ProblemTimes(row.county_code, row.state, row.deadline.date(), row.applied_at,
                        row.closed_at, row.reopened, row.source, row.category)  # fmt: skip


def table_file(table: list[list[Any]], file_format: str, sheet: str = "整改进度") -> bytes:
    """A table as CSV (UTF-8 with BOM, as Chinese Excel opens it) or XLSX, like
    the registry's exports."""
    if file_format == "csv":
        text = io.StringIO()
        csv.writer(text, lineterminator="\n").writerows(table)
        return text.getvalue().encode("utf-8-sig")
    if file_format == "xlsx":
        workbook = Workbook(write_only=True)
        sheet_of = workbook.create_sheet(sheet)
        for row in table:
            sheet_of.append(row)
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()
    raise ValueError(f"unknown table format {file_format}")
