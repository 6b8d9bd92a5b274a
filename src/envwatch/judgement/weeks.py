"""ISO weeks and quarters in China Standard Time (pure)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from envwatch.errors import PeerError

WEEK_PATTERN = re.compile(r"^(\d{4})-W(\d{2})$")
QUARTER_PATTERN = re.compile(r"^(\d{4})-Q([1-4])$")
MIN_YEAR, MAX_YEAR = 1900, 2999
"""The years a judgement can be about (a year earlier stays a calendar year)."""


class PeriodError(PeerError):
    """A week or quarter that is not ``YYYY-Www`` / ``YYYY-Qn``."""


def parse_week(text: str) -> date:
    """The Monday of ISO week ``YYYY-Www``."""
    match = WEEK_PATTERN.match(text)
    if match is None:
        raise PeriodError("bad_week", f"not an ISO week YYYY-Www: {text!r}",
                          f"不是ISO周（YYYY-Www）：{text}")  # fmt: skip
    year, week = int(match[1]), int(match[2])
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise PeriodError("bad_week", f"no week in {year}", f"{year}年超出范围")
    try:
        return date.fromisocalendar(year, week, 1)
    except ValueError:
        raise PeriodError("bad_week", f"no week {week} in {year}",
                          f"{year}年没有第{week}周") from None  # fmt: skip


def week_of(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_days(week: str) -> tuple[date, date]:
    """The first (Monday) and last (Sunday) day of the week."""
    first = parse_week(week)
    return first, first + timedelta(days=6)


def previous_week(week: str) -> str:
    return week_of(parse_week(week) - timedelta(days=7))


def last_ended_week(now_cst: datetime) -> str:
    """The newest week that has ended at ``now_cst`` (China Standard Time)."""
    return week_of(now_cst.date() - timedelta(days=7))


def weeks_between(first: str, last: str) -> list[str]:
    out = []
    day = parse_week(first)
    end = parse_week(last)
    while day <= end:
        out.append(week_of(day))
        day += timedelta(days=7)
    return out


def parse_quarter(text: str) -> tuple[date, date]:
    match = QUARTER_PATTERN.match(text)
    if match is None:
        raise PeriodError("bad_quarter", f"not a quarter YYYY-Qn: {text!r}",
                          f"不是季度（YYYY-Qn）：{text}")  # fmt: skip
    year, q = int(match[1]), int(match[2])
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise PeriodError("bad_quarter", f"no quarter in {year}", f"{year}年超出范围")
    first = date(year, 3 * q - 2, 1)
    last = date(year + (q == 4), (3 * q) % 12 + 1, 1) - timedelta(days=1)
    return first, last


def quarter_of(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def previous_quarter(quarter: str) -> str:
    first, _ = parse_quarter(quarter)
    return quarter_of(first - timedelta(days=1))
