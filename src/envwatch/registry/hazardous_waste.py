"""The hazardous-waste checks (危险废物): pure functions over the register's
units and transfer manifests (转移联单), each finding naming its rule, the
parameters' version and values, and its evidence.

* ``receiver_unlicensed``: a manifest's receiver holds no licence for that HW
  category (no licensed unit with its credit code, the category not licensed,
  or the licence expired by the transfer day);
* ``over_capacity``: a licensed unit received more in the year than its annual
  licensed capacity (plus the tolerance);
* ``not_transferred``: a finished year's transfers of a declared category are
  nothing (``never``) or under ``below_declared_share`` of the declaration;
* ``above_declared``: a year's transfers of a category exceed
  ``above_declared_ratio`` times its declaration (or it was never declared);
* ``storage_over_limit``: a declared category not transferred for longer than
  ``max_storage_days`` (counted from the last transfer, or from the start of
  the year checked when there was none).

Quantities in tonnes [t]; a declaration is annual [t/a].
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Literal

Role = Literal["producer", "disposer"]
RULES = ("receiver_unlicensed", "over_capacity", "not_transferred", "above_declared",
         "storage_over_limit")  # fmt: skip
RULE_NAMES_ZH: Mapping[str, str] = {
    "receiver_unlicensed": "接收单位无相应经营许可",
    "over_capacity": "超许可年经营规模接收",
    "not_transferred": "申报产生但未转移或转移明显偏少",
    "above_declared": "转移量明显超过申报产生量",
    "storage_over_limit": "贮存超过一年未转移",
}


@dataclass(frozen=True, slots=True)
class CheckParams:
    """The thresholds of ``registry/registers.toml`` ``[hazardous_waste.checks]``."""

    version: str
    max_storage_days: int
    """[d] stored longer than this without a transfer is a finding."""
    below_declared_share: float
    """A finished year's transfers under this share of the declaration."""
    above_declared_ratio: float
    """A year's transfers over this multiple of the declaration."""
    capacity_tolerance: float
    """Receipts over capacity × (1 + this) are a finding."""


@dataclass(frozen=True, slots=True)
class Unit:
    id: int
    name: str
    credit_code: str
    role: Role
    licensed_categories: frozenset[str] = frozenset()
    licensed_capacity_t: float | None = None
    """[t/a]"""
    licence_valid_until: date | None = None
    declared: Mapping[str, float] = field(default_factory=dict)
    """[t/a] by HW code."""


@dataclass(frozen=True, slots=True)
class Transfer:
    manifest_no: str
    producer_id: int
    receiver_credit_code: str
    hw_code: str
    quantity_t: float
    transferred_on: date


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    unit_id: int
    """The unit the finding is about (the producer; the receiver for capacity)."""
    hw_code: str | None
    version: str
    parameters: Mapping[str, Any]
    evidence: Mapping[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "rule_zh": RULE_NAMES_ZH[self.rule], "unit_id": self.unit_id,
                "hw_code": self.hw_code, "version": self.version,
                "parameters": dict(self.parameters), "evidence": dict(self.evidence)}  # fmt: skip


def _tonnes(value: float) -> float:
    return round(value, 3)


def _licence_problem(receiver: Unit | None, transfer: Transfer) -> str | None:
    if receiver is None:
        return "no_licence"
    if transfer.hw_code not in receiver.licensed_categories:
        return "category_not_licensed"
    if receiver.licence_valid_until is not None and (
        receiver.licence_valid_until < transfer.transferred_on
    ):
        return "licence_expired"
    return None


def check(
    units: Iterable[Unit],
    transfers: Iterable[Transfer],
    year: int,
    today: date,
    params: CheckParams,
) -> list[Finding]:
    """Every finding of the checks for calendar ``year`` as known on ``today``
    (a year not yet over is judged on what can already be wrong), in a stable
    order: by rule, then unit, then HW code or manifest."""
    units = list(units)
    transfers = sorted(transfers, key=lambda t: (t.transferred_on, t.manifest_no))
    disposers = {u.credit_code: u for u in units if u.role == "disposer"}
    in_year = [t for t in transfers if t.transferred_on.year == year]
    p = asdict(params)
    p.pop("version")
    found: list[Finding] = []

    def finding(rule: str, unit: int, code: str | None, evidence: dict[str, Any]) -> None:
        names = {
            "receiver_unlicensed": (),
            "over_capacity": ("capacity_tolerance",),
            "not_transferred": ("below_declared_share",),
            "above_declared": ("above_declared_ratio",),
            "storage_over_limit": ("max_storage_days",),
        }[rule]
        found.append(Finding(rule, unit, code, params.version, {n: p[n] for n in names},
                             evidence))  # fmt: skip

    for transfer in in_year:
        receiver = disposers.get(transfer.receiver_credit_code)
        problem = _licence_problem(receiver, transfer)
        if problem is not None:
            finding("receiver_unlicensed", transfer.producer_id, transfer.hw_code, {
                "manifest_no": transfer.manifest_no, "reason": problem,
                "receiver_credit_code": transfer.receiver_credit_code,
                "receiver_id": receiver.id if receiver else None,
                "quantity_t": transfer.quantity_t,
                "transferred_on": transfer.transferred_on.isoformat(),
            })  # fmt: skip

    received: dict[str, float] = defaultdict(float)
    for transfer in in_year:
        received[transfer.receiver_credit_code] += transfer.quantity_t
    for credit, unit in sorted(disposers.items(), key=lambda item: item[1].id):
        capacity = unit.licensed_capacity_t
        if capacity is None or credit not in received:
            continue
        if received[credit] > capacity * (1 + params.capacity_tolerance):
            finding("over_capacity", unit.id, None, {
                "year": year, "received_t": _tonnes(received[credit]), "capacity_t": capacity,
            })  # fmt: skip

    moved: dict[tuple[int, str], float] = defaultdict(float)
    last: dict[tuple[int, str], date] = {}
    for transfer in transfers:
        key = (transfer.producer_id, transfer.hw_code)
        if transfer.transferred_on <= today:
            last[key] = transfer.transferred_on
        if transfer.transferred_on.year == year:
            moved[key] += transfer.quantity_t
    year_over = today > date(year, 12, 31)
    producers = sorted((u for u in units if u.role == "producer"), key=lambda u: u.id)
    for unit in producers:
        codes = sorted(set(unit.declared) | {c for (i, c) in moved if i == unit.id})
        for code in codes:
            declared = unit.declared.get(code, 0.0)
            quantity = moved.get((unit.id, code), 0.0)
            facts = {"year": year, "declared_t": declared, "transferred_t": _tonnes(quantity)}
            if year_over and declared > 0 and quantity < declared * params.below_declared_share:
                finding("not_transferred", unit.id, code,
                        {**facts, "never": quantity == 0})  # fmt: skip
            if quantity > declared * params.above_declared_ratio:
                finding("above_declared", unit.id, code, {**facts, "undeclared": declared == 0})
    for unit in producers:
        for code in sorted(c for c, q in unit.declared.items() if q > 0):
            since = last.get((unit.id, code))
            start = since if since is not None else date(year, 1, 1)
            days = (today - start).days
            if days > params.max_storage_days:
                finding("storage_over_limit", unit.id, code, {
                    "last_transfer": since.isoformat() if since else None,
                    "counted_from": start.isoformat(), "days": days,
                })  # fmt: skip
    order = {rule: n for n, rule in enumerate(RULES)}
    return sorted(found, key=lambda f: (order[f.rule], f.unit_id, f.hw_code or "",
                                        str(f.evidence.get("manifest_no", ""))))  # fmt: skip


def summary(findings: Sequence[Finding]) -> dict[str, int]:
    """How many findings of each rule."""
    counts = dict.fromkeys(RULES, 0)
    for one in findings:
        counts[one.rule] += 1
    return counts
