"""Surface-water quality classes of GB 3838 (pure), single-factor method.

An item's class is the best class whose limit it meets (a value equal to a
limit belongs to that class; DO is a lower bound; pH must lie in 6–9 for any
class); a section's class is the worst of its assessed items, worse than V
being 劣V (rules.md §6.2). Monthly values are the mean of the month's
samples, annual values the mean of the monthly values, classified after
averaging. The limits are data (``water_classes.toml``).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

from envwatch.quality.aqi import QualityInputError


@dataclass(frozen=True, slots=True)
class ItemRule:
    item: str
    kind: str
    """``upper`` (≤ limit), ``lower`` (≥ limit, DO) or ``range`` (pH)."""
    limits: tuple[float, ...]
    lake_limits: tuple[float, ...] | None
    low: float | None
    high: float | None
    river: bool
    lake: bool

    def limits_for(self, lake: bool) -> tuple[float, ...]:
        return self.lake_limits if lake and self.lake_limits else self.limits


@dataclass(frozen=True, slots=True)
class WaterStandard:
    version: str
    standard: str
    classes: tuple[str, ...]
    """I..V, best first."""
    worse_than_last: str
    index_class: str
    items: Mapping[str, ItemRule]
    words: Mapping[str, str]
    colours: Mapping[str, str]
    names_zh: Mapping[str, str]

    def name_zh(self, item: str) -> str:
        return self.names_zh.get(item, item)

    @property
    def all_classes(self) -> tuple[str, ...]:
        return (*self.classes, self.worse_than_last)

    def rank(self, water_class: str) -> int:
        """1 for I … 6 for 劣V."""
        return self.all_classes.index(water_class) + 1

    def worst(self, classes: Iterable[str]) -> str | None:
        ranked = [self.rank(c) for c in classes]
        return self.all_classes[max(ranked) - 1] if ranked else None

    def parse_class(self, text: str) -> str:
        """A class as users write it: ``III``, ``3``, ``劣V``, ``劣Ⅴ``, ``Ⅲ``."""
        roman = {"Ⅰ": "I", "Ⅱ": "II", "Ⅲ": "III", "Ⅳ": "IV", "Ⅴ": "V"}
        cleaned = text.strip()
        for glyph, plain in roman.items():
            cleaned = cleaned.replace(glyph, plain)
        cleaned = cleaned.upper().replace("类", "")
        if cleaned.isdigit() and 1 <= int(cleaned) <= len(self.classes):
            return self.classes[int(cleaned) - 1]
        if cleaned in {"劣V", "6", "WORSE THAN V"}:
            return self.worse_than_last
        if cleaned in self.classes:
            return cleaned
        raise QualityInputError(
            "bad_water_class",
            f"{text!r} is not a water class (I–V, 劣V)",
            f"{text!r} 不是水质类别（I–V、劣V）",
        )


def _rule(item: str, raw: Mapping[str, Any]) -> ItemRule:
    lake_limits = raw.get("lake_limits")
    return ItemRule(
        item=item,
        kind=raw["kind"],
        limits=tuple(float(v) for v in raw.get("limits", ())),
        lake_limits=None if lake_limits is None else tuple(float(v) for v in lake_limits),
        low=raw.get("low"),
        high=raw.get("high"),
        river=bool(raw["river"]),
        lake=bool(raw["lake"]),
    )


def load_water_standard(text: str) -> WaterStandard:
    raw = tomllib.loads(text)
    return WaterStandard(
        version=raw["version"],
        standard=raw["standard"],
        classes=tuple(raw["classes"]),
        worse_than_last=raw["worse_than_v"],
        index_class=raw["index_class"],
        items=MappingProxyType({k: _rule(k, v) for k, v in raw["item"].items()}),
        words=MappingProxyType(dict(raw["words"])),
        colours=MappingProxyType(dict(raw["colours"])),
        names_zh=MappingProxyType(dict(raw["names_zh"])),
    )


@cache
def water_standard() -> WaterStandard:
    """GB 3838-2002 as envwatch ships it (``quality/water_classes.toml``)."""
    text = resources.files("envwatch.quality").joinpath("water_classes.toml").read_text("utf-8")
    return load_water_standard(text)


def _rule_of(standard: WaterStandard, item: str) -> ItemRule:
    rule = standard.items.get(item)
    if rule is None:
        known = " ".join(standard.items)
        raise QualityInputError(
            "unknown_water_item",
            f"{item!r} is not an assessed item of {standard.standard} ({known})",
            f"{item!r} 不是 {standard.standard} 的评价项目（{known}）",
        )
    return rule


def item_class(standard: WaterStandard, item: str, value: float, *, lake: bool = False) -> str:
    """The class of one item's value."""
    rule = _rule_of(standard, item)
    if rule.kind == "range":
        assert rule.low is not None and rule.high is not None
        inside = rule.low <= value <= rule.high
        return standard.classes[0] if inside else standard.worse_than_last
    for water_class, limit in zip(standard.classes, rule.limits_for(lake), strict=True):
        if (value <= limit) if rule.kind == "upper" else (value >= limit):
            return water_class
    return standard.worse_than_last


@dataclass(frozen=True, slots=True)
class ItemJudgement:
    item: str
    value: float
    water_class: str


@dataclass(frozen=True, slots=True)
class SectionClass:
    """A section's class and the items that decide it."""

    water_class: str | None
    """None when no assessed item had a value."""
    items: tuple[ItemJudgement, ...]
    """Every assessed item with its class."""
    not_assessed: tuple[str, ...]
    """Items given but not assessed for this water body (TN of a river)."""

    @property
    def worst(self) -> tuple[ItemJudgement, ...]:
        return tuple(i for i in self.items if i.water_class == self.water_class)


def section_class(
    standard: WaterStandard, values: Mapping[str, float], *, lake: bool = False
) -> SectionClass:
    """The class of a section from its items' values (the worst assessed item)."""
    judged: list[ItemJudgement] = []
    skipped: list[str] = []
    for item, value in values.items():
        rule = _rule_of(standard, item)
        if not (rule.lake if lake else rule.river):
            skipped.append(item)
            continue
        judged.append(ItemJudgement(item, value, item_class(standard, item, value, lake=lake)))
    return SectionClass(
        standard.worst(j.water_class for j in judged), tuple(judged), tuple(skipped)
    )


def meets(standard: WaterStandard, water_class: str, target: str) -> bool:
    """Whether ``water_class`` is the ``target`` class or better."""
    return standard.rank(water_class) <= standard.rank(target)


def exceedance_multiple(
    standard: WaterStandard, item: str, value: float, target: str, *, lake: bool = False
) -> float | None:
    """How many times over the target class's limit the value is (超标倍数,
    (C − S)/S); None within the limit and for DO and pH, for which the
    assessment method computes none. [M]"""
    rule = _rule_of(standard, item)
    if rule.kind != "upper" or target not in standard.classes:
        return None
    limit = rule.limits_for(lake)[standard.classes.index(target)]
    return (value - limit) / limit if value > limit else None


def water_quality_index(
    standard: WaterStandard, values: Mapping[str, float], *, lake: bool = False
) -> float | None:
    """The section's water-quality index (CWQI [M]): Σ C/S over the assessed
    items, S the index class's limit; DO as S/C; pH as its distance from 7
    over the distance of the limit. Lower is cleaner."""
    index_position = standard.classes.index(standard.index_class)
    total = 0.0
    counted = 0
    for item, value in values.items():
        rule = _rule_of(standard, item)
        if not (rule.lake if lake else rule.river):
            continue
        if rule.kind == "range":
            assert rule.low is not None and rule.high is not None
            total += (7 - value) / (7 - rule.low) if value <= 7 else (value - 7) / (rule.high - 7)
        elif rule.kind == "lower":
            limit = rule.limits_for(lake)[index_position]
            total += limit / value if value > 0 else limit / 0.01
        else:
            total += value / rule.limits_for(lake)[index_position]
        counted += 1
    return total if counted else None


def monthly_values(samples: Mapping[str, Sequence[float]]) -> dict[str, float]:
    """A month's value of each item: the mean of its samples."""
    return month_values({item: (sum(values), len(values)) for item, values in samples.items()})


def month_values(sums: Mapping[str, tuple[float, int]]) -> dict[str, float]:
    """A month's value of each item, the mean of its samples, from their sum and count."""
    return {item: total / n for item, (total, n) in sums.items() if n}


def annual_values(months: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """A year's value of each item: the mean of its monthly values."""
    items: dict[str, list[float]] = {}
    for month in months:
        for item, value in month.items():
            items.setdefault(item, []).append(value)
    return {item: sum(v) / len(v) for item, v in items.items()}
