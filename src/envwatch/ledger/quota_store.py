"""The total-quantity ledger in the store (总量指标台账): freed and allocated
entries per county and pollutant, the draws of each allocation, balances and
the history with its running balance. Every change is one transaction with
its audit entry; on PostgreSQL the county's row is locked first, so two
allocations never both take the last tonne."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from envwatch.audit.log import Actor, record
from envwatch.glossary import factor
from envwatch.ledger.quota import (
    FREED_CAUSES,
    LedgerError,
    Movement,
    Source,
    plan_draws,
    running_balance,
    text_t,
    tonnes,
)
from envwatch.store.schema import County, Enterprise, QuotaDraw, QuotaEntry


@dataclass(frozen=True, slots=True)
class Freed:
    county_code: str
    pollutant: str
    grams: int
    cause: str
    effective_on: date
    document_no: str
    enterprise_id: int
    note: str = ""


@dataclass(frozen=True, slots=True)
class Allocation:
    county_code: str
    pollutant: str
    grams: int
    effective_on: date
    document_no: str
    project: str
    enterprise_id: int | None = None
    sources: Mapping[int, int] | None = None
    """{freed entry: grams}; None: drawn oldest first."""
    note: str = ""


def _invalid(code: str, en: str, zh: str) -> LedgerError:
    return LedgerError(code, en, zh)


def _lock_county(connection: Connection, county: str) -> str:
    """The county's name; locks its row on PostgreSQL for the transaction."""
    name = connection.execute(
        select(County.name_zh).where(County.code == county).with_for_update()
    ).scalar()
    if name is None:
        raise _invalid("unknown_county", f"unknown county {county}", f"区县代码{county}不存在")
    return str(name)


def _check_pollutant(pollutant: str) -> str:
    known = factor(pollutant)
    if known is None:
        raise _invalid(
            "unknown_pollutant",
            f"{pollutant} is not an HJ 212-2017 factor code",
            f"{pollutant}不是HJ 212-2017污染物编码",
        )
    return known.name_zh


def _check_enterprise(connection: Connection, enterprise_id: int, county: str) -> None:
    found = connection.execute(
        select(Enterprise.county_code).where(Enterprise.id == enterprise_id)
    ).scalar()
    if found is None:
        raise _invalid(
            "unknown_enterprise",
            f"no enterprise {enterprise_id}",
            f"没有编号为{enterprise_id}的企业",
        )
    if found != county:
        raise _invalid(
            "enterprise_elsewhere",
            f"enterprise {enterprise_id} is not in county {county}",
            f"企业{enterprise_id}不在区县{county}",
        )


def _row(entry: Freed | Allocation, actor: Actor, kind: str, cause: str) -> dict[str, Any]:
    return {
        "county_code": entry.county_code,
        "pollutant": entry.pollutant,
        "kind": kind,
        "cause": cause,
        "grams": entry.grams,
        "effective_on": entry.effective_on,
        "document_no": entry.document_no,
        "enterprise_id": entry.enterprise_id,
        "project": getattr(entry, "project", ""),
        "note": entry.note,
        "recorded_by": actor.name,
        "recorded_at": datetime.now(UTC),
        "cancel_reason": "",
    }


def record_freed(connection: Connection, entry: Freed, actor: Actor) -> int:
    """Record capacity freed by a closure or an upgrade; its id."""
    _lock_county(connection, entry.county_code)
    _check_pollutant(entry.pollutant)
    if entry.cause not in FREED_CAUSES:
        raise _invalid(
            "bad_cause",
            f"{entry.cause!r} is not closure or upgrade",
            f"{entry.cause!r}不是关停或提标改造",
        )
    _check_enterprise(connection, entry.enterprise_id, entry.county_code)
    entry_id = int(
        connection.execute(
            insert(QuotaEntry)
            .values(**_row(entry, actor, "freed", entry.cause))
            .returning(QuotaEntry.id)
        ).scalar_one()
    )
    record(
        connection,
        actor,
        "quota.freed",
        "quota_entry",
        entry_id,
        after={**_plain(entry), "id": entry_id},
    )
    return entry_id


def sources_of(connection: Connection, county: str, pollutant: str) -> list[Source]:
    """The county's freed entries of ``pollutant`` not cancelled, oldest first,
    with what each still holds after the draws of allocations not cancelled."""
    freed = connection.execute(
        select(QuotaEntry.id, QuotaEntry.grams)
        .where(
            QuotaEntry.county_code == county,
            QuotaEntry.pollutant == pollutant,
            QuotaEntry.kind == "freed",
            QuotaEntry.cancelled_on.is_(None),
        )
        .order_by(QuotaEntry.effective_on, QuotaEntry.id)
    ).all()
    drawn = _drawn(connection, [row.id for row in freed])
    return [Source(row.id, row.grams - drawn.get(row.id, 0)) for row in freed]


def _drawn(connection: Connection, source_ids: Sequence[int]) -> dict[int, int]:
    if not source_ids:
        return {}
    out: dict[int, int] = {}
    for source_id, grams in connection.execute(
        select(QuotaDraw.source_id, QuotaDraw.grams)
        .join(QuotaEntry, QuotaEntry.id == QuotaDraw.allocation_id)
        .where(QuotaDraw.source_id.in_(list(source_ids)), QuotaEntry.cancelled_on.is_(None))
    ):
        out[source_id] = out.get(source_id, 0) + grams
    return out


def record_allocation(connection: Connection, entry: Allocation, actor: Actor) -> int:
    """Record capacity allocated to a new project, drawn on the county's freed
    entries; ``LedgerError`` (nothing recorded) when it exceeds the balance."""
    county_name = _lock_county(connection, entry.county_code)
    pollutant_name = _check_pollutant(entry.pollutant)
    if entry.enterprise_id is not None:
        _check_enterprise(connection, entry.enterprise_id, entry.county_code)
    draws = plan_draws(
        entry.grams,
        sources_of(connection, entry.county_code, entry.pollutant),
        entry.sources,
        where=f"{county_name}({entry.county_code})",
        pollutant=pollutant_name,
    )
    entry_id = int(
        connection.execute(
            insert(QuotaEntry)
            .values(**_row(entry, actor, "allocated", "project"))
            .returning(QuotaEntry.id)
        ).scalar_one()
    )
    connection.execute(
        insert(QuotaDraw),
        [
            {"allocation_id": entry_id, "source_id": source_id, "grams": grams}
            for source_id, grams in draws.items()
        ],
    )
    record(
        connection,
        actor,
        "quota.allocated",
        "quota_entry",
        entry_id,
        after={**_plain(entry), "id": entry_id, "draws": {str(k): v for k, v in draws.items()}},
    )
    return entry_id


def cancel(connection: Connection, entry_id: int, reason: str, on: date, actor: Actor) -> None:
    """Cancel an entry recorded by mistake (it stays, no longer counted). A freed
    entry that allocations still draw on is refused."""
    row = connection.execute(select(QuotaEntry).where(QuotaEntry.id == entry_id)).first()
    if row is None:
        raise _invalid(
            "unknown_quota_entry", f"no ledger entry {entry_id}", f"没有编号为{entry_id}的台账条目"
        )
    _lock_county(connection, row.county_code)
    if row.cancelled_on is not None:
        raise _invalid(
            "already_cancelled", f"entry {entry_id} is already cancelled", f"条目{entry_id}已作废"
        )
    if row.kind == "freed" and (held := _drawn(connection, [entry_id]).get(entry_id, 0)):
        raise _invalid(
            "quota_entry_drawn",
            f"allocations draw {text_t(held)} t on entry {entry_id}: cancel them first",
            f"已有分配使用条目{entry_id}的{text_t(held)}吨，请先作废这些分配",
        )
    connection.execute(
        update(QuotaEntry)
        .where(QuotaEntry.id == entry_id)
        .values(cancelled_on=on, cancel_reason=reason)
    )
    record(
        connection,
        actor,
        "quota.cancel",
        "quota_entry",
        entry_id,
        before={"cancelled_on": None},
        after={"cancelled_on": on.isoformat(), "reason": reason},
    )


def _plain(entry: Freed | Allocation) -> dict[str, Any]:
    values = {name: getattr(entry, name) for name in entry.__slots__}
    values["effective_on"] = entry.effective_on.isoformat()
    values["tonnes"] = tonnes(entry.grams)
    if values.get("sources") is not None:
        values["sources"] = {str(k): v for k, v in values["sources"].items()}
    return values


def balances(connection: Connection, counties: Iterable[str] | None) -> list[dict[str, Any]]:
    """Freed, allocated and balance [t] per county and pollutant (cancelled
    entries left out); ``counties`` None: every county."""
    query = select(
        QuotaEntry.county_code, QuotaEntry.pollutant, QuotaEntry.kind, QuotaEntry.grams
    ).where(QuotaEntry.cancelled_on.is_(None))
    if counties is not None:
        query = query.where(QuotaEntry.county_code.in_(sorted(counties)))
    sums: dict[tuple[str, str], dict[str, int]] = {}
    for county, pollutant, kind, grams in connection.execute(query):
        bucket = sums.setdefault((county, pollutant), {"freed": 0, "allocated": 0})
        bucket[kind] += grams
    names = dict(connection.execute(select(County.code, County.name_zh)).all())
    out = []
    for (county, pollutant), bucket in sorted(sums.items()):
        known = factor(pollutant)
        out.append(
            {
                "county": county,
                "county_name": names.get(county, county),
                "pollutant": pollutant,
                "pollutant_name": known.name_zh if known else pollutant,
                "pollutant_name_en": known.name_en if known else pollutant,
                "freed_t": tonnes(bucket["freed"]),
                "allocated_t": tonnes(bucket["allocated"]),
                "balance_t": tonnes(bucket["freed"] - bucket["allocated"]),
            }
        )
    return out


def entries(
    connection: Connection,
    condition: Any,
    county: str | None = None,
    pollutant: str | None = None,
) -> list[dict[str, Any]]:
    """The ledger's entries meeting ``condition`` (a scope), in order of their
    dates, each with its draws (or what draws on it) and the running balance
    of its county and pollutant (over the entries shown)."""
    query = (
        select(QuotaEntry, Enterprise.name.label("enterprise_name"))
        .outerjoin(Enterprise, Enterprise.id == QuotaEntry.enterprise_id)
        .where(condition)
    )
    if county is not None:
        query = query.where(QuotaEntry.county_code == county)
    if pollutant is not None:
        query = query.where(QuotaEntry.pollutant == pollutant)
    rows = connection.execute(
        query.order_by(
            QuotaEntry.county_code, QuotaEntry.pollutant, QuotaEntry.effective_on, QuotaEntry.id
        )
    ).all()
    ids = [row.id for row in rows]
    draws: dict[int, list[dict[str, Any]]] = {}
    drawn_by: dict[int, list[dict[str, Any]]] = {}
    if ids:
        for allocation, source, grams in connection.execute(
            select(QuotaDraw.allocation_id, QuotaDraw.source_id, QuotaDraw.grams).where(
                QuotaDraw.allocation_id.in_(ids) | QuotaDraw.source_id.in_(ids)
            )
        ):
            draws.setdefault(allocation, []).append({"source": source, "tonnes": tonnes(grams)})
            drawn_by.setdefault(source, []).append(
                {"allocation": allocation, "tonnes": tonnes(grams)}
            )
    out: list[dict[str, Any]] = []
    groups: dict[tuple[str, str], list[Movement]] = {}
    for row in rows:
        e = row
        if e.cancelled_on is None:
            groups.setdefault((e.county_code, e.pollutant), []).append(
                Movement(e.id, e.kind, e.grams)
            )
    after: dict[int, int] = {}
    for movements in groups.values():
        for movement, balance in zip(movements, running_balance(movements), strict=True):
            after[movement.id] = balance
    for row in rows:
        e = row
        out.append(
            {
                "id": e.id,
                "county": e.county_code,
                "pollutant": e.pollutant,
                "kind": e.kind,
                "cause": e.cause,
                "tonnes": tonnes(e.grams),
                "effective_on": e.effective_on.isoformat(),
                "document_no": e.document_no,
                "enterprise_id": e.enterprise_id,
                "enterprise": row.enterprise_name,
                "project": e.project,
                "note": e.note,
                "recorded_by": e.recorded_by,
                "cancelled_on": None if e.cancelled_on is None else e.cancelled_on.isoformat(),
                "cancel_reason": e.cancel_reason,
                "draws": draws.get(e.id, []) if e.kind == "allocated" else [],
                "drawn_by": drawn_by.get(e.id, []) if e.kind == "freed" else [],
                "balance_after_t": tonnes(after[e.id]) if e.id in after else None,
            }
        )
    return out
