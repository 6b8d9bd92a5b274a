"""The total-quantity ledger's arithmetic (总量指标, pure): amounts in whole
grams so a balance is exact; an allocation (腾笼换鸟) draws on freed entries
(关停 / 提标改造) of its county and pollutant, explicitly or oldest first, and
is refused when it exceeds what they still hold."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from envwatch.errors import PeerError

GRAMS_PER_TONNE = 1_000_000
FREED_CAUSES = ("closure", "upgrade")
"""关停 and 提标改造."""
CAUSE_WORDS = {
    "关停": "closure",
    "提标改造": "upgrade",
    "腾笼换鸟": "project",
    "新建项目": "project",
}


class LedgerError(PeerError):
    """A ledger change refused: nothing was recorded."""


def grams_of(tonnes: object) -> int:
    """Tonnes (a number or its text, at most six decimals) as whole grams > 0."""
    try:
        amount = Decimal(str(tonnes).strip())
    except InvalidOperation:
        raise LedgerError(
            "bad_amount", f"{tonnes!r} is not a number of tonnes", f"{tonnes!r}不是以吨计的数值"
        ) from None
    grams = amount * GRAMS_PER_TONNE
    if not amount.is_finite() or grams != grams.to_integral_value() or grams <= 0:
        raise LedgerError(
            "bad_amount",
            f"{tonnes} t: a positive amount with at most six decimals",
            f"{tonnes}吨：须为正数，最多六位小数",
        )
    if grams > 10**15:
        raise LedgerError("bad_amount", f"{tonnes} t is implausible", f"{tonnes}吨数值不合理")
    return int(grams)


def tonnes(grams: int) -> float:
    return grams / GRAMS_PER_TONNE


def text_t(grams: int) -> str:
    """Grams as tonnes, for messages: 3.2 t -> ``3.200000``."""
    return f"{Decimal(grams) / GRAMS_PER_TONNE:.6f}".rstrip("0").rstrip(".")


@dataclass(frozen=True, slots=True)
class Source:
    """A freed entry and what it still holds [g]."""

    id: int
    remaining: int


def plan_draws(
    wanted: int,
    sources: Sequence[Source],
    explicit: Mapping[int, int] | None = None,
    *,
    where: str = "",
    pollutant: str = "",
) -> dict[int, int]:
    """What an allocation of ``wanted`` grams takes from each source (oldest
    first, ``sources`` in that order), or ``explicit`` {source: grams} checked.
    ``LedgerError`` when it exceeds the balance or a source."""
    balance = sum(s.remaining for s in sources)
    if wanted > balance:
        raise LedgerError(
            "quota_exceeded",
            f"the allocation of {text_t(wanted)} t {pollutant} exceeds the balance of "
            f"{text_t(balance)} t in {where}: nothing recorded",
            f"分配量{text_t(wanted)}吨超过{where}{pollutant}总量指标余额{text_t(balance)}吨，未登记",
        )
    if explicit is None:
        draws: dict[int, int] = {}
        left = wanted
        for source in sources:
            if left == 0:
                break
            take = min(left, source.remaining)
            if take > 0:
                draws[source.id] = take
                left -= take
        return draws
    held = {s.id: s.remaining for s in sources}
    for source_id, grams in explicit.items():
        if source_id not in held:
            raise LedgerError(
                "unknown_source",
                f"entry {source_id} is no freed capacity of {pollutant} in {where}",
                f"条目{source_id}不是{where}{pollutant}的腾出指标",
            )
        if grams <= 0 or grams > held[source_id]:
            raise LedgerError(
                "source_exceeded",
                f"entry {source_id} holds {text_t(held[source_id])} t, not {text_t(grams)} t: "
                "nothing recorded",
                f"条目{source_id}仅余{text_t(held[source_id])}吨，不足{text_t(grams)}吨，未登记",
            )
    if sum(explicit.values()) != wanted:
        raise LedgerError(
            "sources_mismatch",
            f"the sources add up to {text_t(sum(explicit.values()))} t, the allocation is "
            f"{text_t(wanted)} t",
            f"来源合计{text_t(sum(explicit.values()))}吨，与分配量{text_t(wanted)}吨不符",
        )
    return dict(explicit)


@dataclass(frozen=True, slots=True)
class Movement:
    """An entry as the balance sees it: + freed, − allocated [g]."""

    id: int
    kind: str
    grams: int


def running_balance(movements: Sequence[Movement]) -> list[int]:
    """The balance after each movement, in order."""
    out: list[int] = []
    balance = 0
    for movement in movements:
        balance += movement.grams if movement.kind == "freed" else -movement.grams
        out.append(balance)
    return out
