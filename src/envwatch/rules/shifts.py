"""Declared production hours (班次) of an enterprise, as the registry holds them:
``08:00-16:00,16:00-24:00`` (a shift may run past midnight: ``22:00-06:00``)."""

from __future__ import annotations

import re
from typing import Final

Shift = tuple[int, int]
"""[start, end) in minutes after midnight; end may exceed 1440 for a night shift."""

_SHIFT: Final = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])-([01][0-9]|2[0-4]):([0-5][0-9])")
DAY_MINUTES: Final = 1440


def parse_shifts(text: str) -> tuple[Shift, ...]:
    """The shifts of ``text``; ValueError naming what is wrong."""
    shifts: list[Shift] = []
    for part in filter(None, (p.strip() for p in text.replace("，", ",").split(","))):
        match = _SHIFT.fullmatch(part)
        if match is None:
            raise ValueError(f"{part!r} is not a shift HH:MM-HH:MM")
        start = int(match[1]) * 60 + int(match[2])
        end = int(match[3]) * 60 + int(match[4])
        if end > DAY_MINUTES:
            raise ValueError(f"{part!r} ends after 24:00")
        if end <= start:
            end += DAY_MINUTES  # past midnight
        shifts.append((start, end))
    return tuple(shifts)


def format_shifts(shifts: tuple[Shift, ...]) -> str:
    """The registry's text of ``shifts`` (``parse_shifts`` reads it back)."""

    def clock(minute: int) -> str:
        return f"{minute // 60:02d}:{minute % 60:02d}"

    return ",".join(
        f"{clock(start)}-{clock(end if end <= DAY_MINUTES else end - DAY_MINUTES)}"
        for start, end in shifts
    )


def declared_minutes(shifts: tuple[Shift, ...], start: int, end: int) -> int:
    """How many minutes of the daily window [start, end) (minutes after midnight,
    ``end <= start`` for a window past midnight) the shifts cover."""
    if end <= start:
        end += DAY_MINUTES
    window = set(range(start, end))
    covered: set[int] = set()
    for first, last in shifts:
        for minute in range(first, last):
            covered.add(minute % DAY_MINUTES)
            covered.add(minute % DAY_MINUTES + DAY_MINUTES)
    return len(window & covered)
