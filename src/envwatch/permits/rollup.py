"""Monthly totals of the hourly emissions (``emission_month``), kept current
with ``hourly_emission``: a year's totals of a city are a few hundred rows per
enterprise, not millions of hours.

A device and pollutant's months are recomputed from a month on whenever its
hours from some hour of that month on are rewritten (``refresh_months``), by
whatever writes them (the materialiser, direct discharge, the demo); each
month's sum is ``math.fsum`` of its hours, so the table equals a recomputation
from scratch (``rebuild_months``) whatever order the hours were written in
(a property test holds it). ``month_sums`` is the pure part.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from envwatch.store.schema import EmissionMonth, HourlyEmission

HourFacts = tuple[datetime, str, float | None, int | None, int | None]
"""An hour's (hour, method, emission_kg, enterprise_id, outlet_id)."""

_FACTS = (HourlyEmission.hour, HourlyEmission.method, HourlyEmission.emission_kg,
          HourlyEmission.enterprise_id, HourlyEmission.outlet_id)  # fmt: skip


def month_of(hour: datetime) -> datetime:
    return hour.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def month_sums(mn: str, pollutant: str, hours: Iterable[HourFacts]) -> list[dict[str, Any]]:
    """The ``emission_month`` rows of one device and pollutant's hours: per
    month, method and owner the sum of the emissions (None when no hour has
    one), how many hours, the newest."""
    groups: dict[tuple[int, int, str, int | None, int | None], list[Any]] = {}
    for hour, method, kg, enterprise_id, outlet_id in hours:
        key = (hour.year, hour.month, method, enterprise_id, outlet_id)
        group = groups.get(key)
        if group is None:
            group = groups[key] = [[], 0, hour]
        if kg is not None:
            group[0].append(kg)
        group[1] += 1
        group[2] = max(group[2], hour)
    return [
        {"mn": mn, "pollutant": pollutant, "month": datetime(year, month, 1), "method": method,
         "enterprise_id": enterprise_id, "outlet_id": outlet_id,
         "emission_kg": math.fsum(kgs) if kgs else None, "hours": count, "newest": newest}
        for (year, month, method, enterprise_id, outlet_id), (kgs, count, newest) in sorted(
            groups.items(), key=lambda item: (item[0][:3], item[0][3] or 0, item[0][4] or 0))
    ]  # fmt: skip


def refresh_months(
    connection: Connection,
    mn: str,
    pollutant: str,
    since: datetime,
    written: Sequence[HourFacts] | None = None,
) -> None:
    """Recompute the device and pollutant's months from ``since``'s on, after
    its hours from ``since`` on were rewritten. ``written``: those hours, as
    just written (so only the month's hours before ``since`` are read back);
    None: read them all."""
    first = month_of(since)
    connection.execute(delete(EmissionMonth).where(
        EmissionMonth.mn == mn, EmissionMonth.pollutant == pollutant, EmissionMonth.month >= first
    ))  # fmt: skip
    query = select(*_FACTS).where(HourlyEmission.mn == mn, HourlyEmission.pollutant == pollutant,
                                  HourlyEmission.hour >= first)  # fmt: skip
    if written is not None:
        query = query.where(HourlyEmission.hour < since)
    hours: list[Any] = list(connection.execute(query))
    if written is not None:
        hours += written
    rows = month_sums(mn, pollutant, hours)
    if rows:
        connection.execute(insert(EmissionMonth), rows)


def forget_months(connection: Connection, mn: str | None = None) -> None:
    """Drop the months of ``mn`` (of every device if None), as its hours were."""
    statement = delete(EmissionMonth)
    if mn is not None:
        statement = statement.where(EmissionMonth.mn == mn)
    connection.execute(statement)


def rebuild_months(connection: Connection) -> None:
    """Every month again from ``hourly_emission``, from scratch."""
    forget_months(connection)
    pairs = connection.execute(select(HourlyEmission.mn, HourlyEmission.pollutant).distinct()).all()
    for mn, pollutant in pairs:
        refresh_months(connection, mn, pollutant, datetime.min)


def months_table(connection: Connection) -> list[tuple[Any, ...]]:
    """The table's content in a fixed order, without ids (for comparisons)."""
    columns = [column for column in EmissionMonth.__table__.columns if column.name != "id"]
    return [tuple(row) for row in connection.execute(select(*columns).order_by(*columns))]
