"""Editions of the national air-quality standards as data (pure).

GB 3095 (limits), HJ 633 (AQI) and HJ 663 (statistics) changed together on
2026-03-01 (rules.md §6.6). Each edition is one ``[[edition]]`` table of
``air_editions.toml``; data are judged by the edition in force on their date
(``edition_for``), and a period spanning a change is cut into parts
(``parts_by_edition``).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any, Final

from envwatch.errors import UsageError

POLLUTANTS: Final = ("PM2_5", "PM10", "SO2", "NO2", "CO", "O3")
"""The six pollutants of the AQI, in the order reports list them."""

WINDOWS: Final = ("1h", "8h", "24h")


@dataclass(frozen=True, slots=True)
class BeyondRule:
    """What an indicator above its table's last breakpoint becomes: another
    indicator's IAQI (``use``), or a fixed IAQI (``iaqi``)."""

    use: str | None
    iaqi: int | None


@dataclass(frozen=True, slots=True)
class Level:
    """An AQI level of HJ 633: 1 (优) to 6 (严重污染)."""

    number: int
    upper: int
    category_zh: str
    category_en: str
    colour: str


@dataclass(frozen=True, slots=True)
class Validity:
    """How many values a statistic needs (GB 3095 Table 4, HJ 663)."""

    daily_min_hours: int
    window_8h_min_hours: int
    mda8_min_windows: int
    month_min_days: int
    february_min_days: int
    year_min_days: int

    def month_min(self, month: int) -> int:
        return self.february_min_days if month == 2 else self.month_min_days


@dataclass(frozen=True, slots=True)
class CompositeIndex:
    """The composite index (综合指数) Σ weight × C / divisor and the
    percentiles its CO and O3 statistics take."""

    divisors: Mapping[str, float]
    weights: Mapping[str, float]
    co_percentile: float
    o3_percentile: float


@dataclass(frozen=True, slots=True)
class Edition:
    """One edition of the air standards, in force from ``in_force_from``."""

    id: str
    standards: tuple[str, ...]
    in_force_from: date
    iaqi: tuple[int, ...]
    input_decimals: Mapping[str, int]
    missing_indicator: str
    beyond_top: str
    daily_indicators: tuple[str, ...]
    hourly_indicators: tuple[str, ...]
    breakpoints: Mapping[str, tuple[float, ...]]
    read_as: Mapping[str, str]
    beyond: Mapping[str, BeyondRule]
    limits: Mapping[str, float]
    validity: Validity
    composite: CompositeIndex

    def table_of(self, indicator: str) -> str | None:
        """The breakpoint row ``indicator`` is read against, or None when the
        edition has none for it (CO 8-h, say)."""
        row = self.read_as.get(indicator, indicator)
        return row if row in self.breakpoints else None


@dataclass(frozen=True, slots=True)
class Editions:
    version: str
    editions: tuple[Edition, ...]
    """Oldest first."""
    levels: tuple[Level, ...]

    def edition_for(self, day: date) -> Edition:
        """The edition in force on ``day`` (the oldest one before its start)."""
        chosen = self.editions[0]
        for edition in self.editions:
            if edition.in_force_from <= day:
                chosen = edition
        return chosen

    def by_id(self, edition_id: str) -> Edition:
        for edition in self.editions:
            if edition.id == edition_id:
                return edition
        raise UsageError(f"no air-standard edition {edition_id!r}")

    def level_of(self, aqi: int) -> Level:
        for level in self.levels:
            if aqi <= level.upper:
                return level
        return self.levels[-1]

    def parts_by_edition(self, first: date, last: date) -> list[tuple[Edition, date, date]]:
        """``first``..``last`` (inclusive) cut where the edition changes."""
        parts: list[tuple[Edition, date, date]] = []
        start = first
        for later in self.editions[1:]:
            if start <= later.in_force_from - timedelta(days=1) and later.in_force_from <= last:
                parts.append(
                    (self.edition_for(start), start, later.in_force_from - timedelta(days=1))
                )
                start = later.in_force_from
        parts.append((self.edition_for(start), start, last))
        return parts


def _edition(raw: Mapping[str, Any]) -> Edition:
    breakpoints = {key: tuple(float(v) for v in row) for key, row in raw["breakpoints"].items()}
    iaqi = tuple(int(v) for v in raw["iaqi"])
    for key, row in breakpoints.items():
        if list(row) != sorted(set(row)) or len(row) > len(iaqi):
            raise UsageError(
                f"edition {raw['id']}: breakpoints of {key} must rise, at most {len(iaqi)}"
            )
    beyond = {
        key: BeyondRule(rule.get("use"), rule.get("iaqi")) for key, rule in raw["beyond"].items()
    }
    for key, rule in beyond.items():
        if (rule.use is None) == (rule.iaqi is None):
            raise UsageError(f"edition {raw['id']}: beyond.{key} needs exactly one of use, iaqi")
    if raw["missing_indicator"] not in {"max_of_available", "na_unless_above_100"}:
        raise UsageError(f"edition {raw['id']}: unknown missing_indicator")
    composite = raw["composite_index"]
    return Edition(
        id=str(raw["id"]),
        standards=tuple(raw["standards"]),
        in_force_from=raw["in_force_from"],
        iaqi=iaqi,
        input_decimals=MappingProxyType(dict(raw["input_decimals"])),
        missing_indicator=raw["missing_indicator"],
        beyond_top=raw["beyond_top"],
        daily_indicators=tuple(raw["daily_indicators"]),
        hourly_indicators=tuple(raw["hourly_indicators"]),
        breakpoints=MappingProxyType(breakpoints),
        read_as=MappingProxyType(dict(raw["read_as"])),
        beyond=MappingProxyType(beyond),
        limits=MappingProxyType({k: float(v) for k, v in raw["limits"].items()}),
        validity=Validity(**raw["validity"]),
        composite=CompositeIndex(
            divisors=MappingProxyType({k: float(v) for k, v in composite["divisors"].items()}),
            weights=MappingProxyType({k: float(v) for k, v in composite["weights"].items()}),
            co_percentile=float(composite["co_percentile"]),
            o3_percentile=float(composite["o3_percentile"]),
        ),
    )


def load_editions(text: str) -> Editions:
    """Read an editions file (the format of ``air_editions.toml``)."""
    raw = tomllib.loads(text)
    editions = tuple(sorted((_edition(e) for e in raw["edition"]), key=lambda e: e.in_force_from))
    levels = tuple(Level(**level) for level in raw["level"])
    return Editions(str(raw["version"]), editions, levels)


@cache
def air_editions() -> Editions:
    """The editions envwatch ships (``quality/air_editions.toml``)."""
    text = resources.files("envwatch.quality").joinpath("air_editions.toml").read_text("utf-8")
    return load_editions(text)
