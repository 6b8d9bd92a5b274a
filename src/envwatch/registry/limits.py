"""Permit limits in force (排污许可): the one query every reader of limits uses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from envwatch.store.schema import PermitLimit


@dataclass(frozen=True, slots=True)
class LimitInForce:
    value: float
    unit: str
    basis: str
    reference_o2: float | None


def limits_in_force(
    connection: Connection, now: datetime
) -> Mapping[int, Mapping[str, tuple[LimitInForce, ...]]]:
    """By outlet and pollutant, the limits in force at ``now`` (China Standard
    Time, naive), strictest first: a national standard, a stricter local one
    and the permit may all apply; the strictest is judged, the others shown."""
    found: dict[int, dict[str, list[LimitInForce]]] = {}
    for row in connection.execute(
        select(PermitLimit).where(PermitLimit.outlet_id.is_not(None), PermitLimit.valid_from <= now)
    ):
        if row.valid_to is not None and row.valid_to <= now:
            continue
        found.setdefault(row.outlet_id, {}).setdefault(row.pollutant, []).append(
            LimitInForce(row.limit_value, row.unit, row.basis, row.reference_o2)
        )
    return {
        outlet: {
            code: tuple(sorted(limits, key=lambda limit: limit.value))
            for code, limits in by_code.items()
        }
        for outlet, by_code in found.items()
    }
