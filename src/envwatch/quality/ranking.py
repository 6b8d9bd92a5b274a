"""Ranking areas by their composite index, with year-on-year change (pure).

Lower is cleaner; areas rank ascending on the index rounded to two decimals,
as published; equal values share a rank (1, 2, 2, 4); an area whose index is
invalid is listed unranked (rules.md §4.3). The change is (I − I_last_year) /
I_last_year.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from envwatch.quality.air_statistics import PeriodStatistics

INDEX_DECIMALS = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class RankedArea:
    area: str
    statistics: PeriodStatistics
    previous: PeriodStatistics | None
    rank: int | None
    yoy_change: Decimal | None
    """(I − I_last_year) / I_last_year; None when either is invalid."""

    @property
    def index(self) -> Decimal | None:
        return published_index(self.statistics.composite_index)


def published_index(index: Decimal | None) -> Decimal | None:
    return None if index is None else index.quantize(INDEX_DECIMALS, rounding=ROUND_HALF_EVEN)


def rank_areas(
    current: Mapping[str, PeriodStatistics], previous: Mapping[str, PeriodStatistics]
) -> list[RankedArea]:
    """Areas in rank order (unranked last, by name)."""
    indexed = sorted(
        (published_index(s.composite_index), area)
        for area, s in current.items()
        if s.composite_index is not None
    )
    ranks: dict[str, int] = {}
    for position, (index, area) in enumerate(indexed, start=1):
        earlier = indexed[position - 2] if position > 1 else None
        ranks[area] = ranks[earlier[1]] if earlier and earlier[0] == index else position
    out = []
    for area in [a for _, a in indexed] + sorted(set(current) - set(ranks)):
        now = current[area]
        before = previous.get(area)
        change = None
        if (
            before is not None
            and before.composite_index is not None
            and now.composite_index is not None
            and before.composite_index != 0
        ):
            change = (now.composite_index - before.composite_index) / before.composite_index
        out.append(RankedArea(area, now, before, ranks.get(area), change))
    return out
