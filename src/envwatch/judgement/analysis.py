"""Analysis (分析研判), the pure part: periods and their buckets, slicing
facts by dimensions, trends, month-on-month and year-on-year, top-N. A fact
is one measured thing with its dimensions and (sum, n): counts and amounts
add their sums, means and rates divide sum by n."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from envwatch.errors import PeerError
from envwatch.judgement.weeks import parse_quarter, parse_week, week_of

DIMENSIONS = ("county", "industry", "enterprise", "pollutant", "kind")
GRAINS = ("day", "week", "month", "quarter", "year")


class AnalysisError(PeerError):
    """An analysis request that cannot be answered: unknown measure, dimension or period."""


@dataclass(frozen=True, slots=True)
class Fact:
    day: date
    county: str | None
    industry: str | None
    enterprise: int | None
    pollutant: str | None
    kind: str | None
    total: float
    n: float = 1.0


@dataclass(frozen=True, slots=True)
class Period:
    text: str
    first: date
    last: date
    grain: str

    def shifted(self, kind: str) -> Period:
        """The previous period (``mom``) or the same period a year earlier (``yoy``)."""
        if kind == "yoy":
            return period_of(_year_earlier(self.text, self.grain))
        before = self.first - timedelta(days=1)
        return period_of(bucket(before, self.grain))


def _year_earlier(text: str, grain: str) -> str:
    if grain == "week":
        year, week = text.split("-W")
        return f"{int(year) - 1}-W{week}"
    return f"{int(text[:4]) - 1}{text[4:]}"


def period_of(text: str) -> Period:
    """A period as typed: ``YYYY``, ``YYYY-Qn``, ``YYYY-MM``, ``YYYY-Www`` or ``YYYY-MM-DD``."""
    try:
        if re.fullmatch(r"\d{4}", text):
            year = int(text)
            return Period(text, date(year, 1, 1), date(year, 12, 31), "year")
        if re.fullmatch(r"\d{4}-Q[1-4]", text):
            return Period(text, *parse_quarter(text), "quarter")
        if re.fullmatch(r"\d{4}-\d{2}", text):
            first = date(int(text[:4]), int(text[5:]), 1)
            nxt = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
            return Period(text, first, nxt - timedelta(days=1), "month")
        if re.fullmatch(r"\d{4}-W\d{2}", text):
            first = parse_week(text)
            return Period(text, first, first + timedelta(days=6), "week")
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            day = date.fromisoformat(text)
            return Period(text, day, day, "day")
    except (ValueError, PeerError):
        pass
    raise AnalysisError("bad_period", f"not a period: {text!r} (YYYY, YYYY-Qn, YYYY-MM, "
                        "YYYY-Www, YYYY-MM-DD)", f"无法识别的时段：{text}")  # fmt: skip


def bucket(day: date, grain: str) -> str:
    if grain == "day":
        return day.isoformat()
    if grain == "week":
        return week_of(day)
    if grain == "month":
        return f"{day.year}-{day.month:02d}"
    if grain == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    return str(day.year)


def dimensions(text: str) -> tuple[str, ...]:
    parts = tuple(p for p in (x.strip() for x in text.split(",")) if p)
    for part in parts:
        if part not in DIMENSIONS and part not in GRAINS:
            known = ", ".join(DIMENSIONS + GRAINS)
            raise AnalysisError("bad_dimension", f"unknown dimension {part!r} (known: {known})",
                                f"未知维度：{part}")  # fmt: skip
    return parts


def key_of(fact: Fact, by: Sequence[str]) -> tuple[str, ...]:
    out = []
    for dim in by:
        if dim in GRAINS:
            out.append(bucket(fact.day, dim))
        else:
            value = getattr(fact, dim)
            out.append("" if value is None else str(value))
    return tuple(out)


def slice_facts(
    facts: Iterable[Fact], by: Sequence[str], aggregate: str, filters: Mapping[str, str]
) -> dict[tuple[str, ...], float | None]:
    """The value of each group of ``by`` among the facts passing ``filters``."""
    sums: dict[tuple[str, ...], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for fact in facts:
        if any(str(getattr(fact, dim) or "") != value for dim, value in filters.items()):
            continue
        cell = sums[key_of(fact, by)]
        cell[0] += fact.total
        cell[1] += fact.n
    return {key: value(total, n, aggregate) for key, (total, n) in sums.items()}


def value(total: float, n: float, aggregate: str) -> float | None:
    if aggregate == "sum":
        return round(total, 4)
    return None if n == 0 else round(total / n, 4)


def change(now: float | None, before: float | None) -> float | None:
    """(now − before) / before; None when either is missing or before is 0."""
    if now is None or before is None or before == 0:
        return None
    return round((now - before) / before, 4)


def rows_of(
    current: Mapping[tuple[str, ...], float | None],
    previous: Mapping[tuple[str, ...], float | None],
    year_earlier: Mapping[tuple[str, ...], float | None],
    by: Sequence[str],
    *,
    top: int | None = None,
) -> list[dict[str, object]]:
    """The table: one row per group with its value, mom and yoy; by value
    (highest first) when ``top`` is given, else by the groups' keys."""
    rows: list[dict[str, object]] = []
    for key, now in current.items():
        before = previous.get(_unshift(key, by, "mom"))
        earlier = year_earlier.get(_unshift(key, by, "yoy"))
        rows.append({**dict(zip(by, key, strict=True)), "value": now, "previous": before,
                     "mom": change(now, before), "year_earlier": earlier,
                     "yoy": change(now, earlier)})  # fmt: skip
    if top is not None:
        rows.sort(key=lambda r: (r["value"] is None, -(float(r["value"] or 0))))  # type: ignore[arg-type]
        return rows[:top]
    rows.sort(key=lambda r: tuple(str(r[d]) for d in by))
    return rows


def _unshift(key: tuple[str, ...], by: Sequence[str], kind: str) -> tuple[str, ...]:
    """The key of the same group in the compared period (time buckets shifted)."""
    out = []
    for dim, part in zip(by, key, strict=True):
        if dim in GRAINS and part:
            out.append(period_of(part).shifted(kind).text)
        else:
            out.append(part)
    return tuple(out)
