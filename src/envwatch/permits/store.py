"""Permits as stored data (排污许可证): each change of a permit is a new
version (a new ``permit`` row with its limits, annual and monthly totals in
``permit_limit`` and its self-monitoring plan in ``permit_monitoring``); no
version is ever rewritten, so an audit of a past period reads the permit it
was made under. Only the newest version of a permit number is in force
(``registry/limits.py`` reads its limits)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Connection, exists, func, insert, select
from sqlalchemy.orm import aliased

from envwatch.audit.log import Actor, record
from envwatch.errors import PeerError
from envwatch.store.schema import Outlet, Permit, PermitLimit, PermitMonitoring


class Category(StrEnum):
    """Management category of a permit (排污许可分类管理)."""

    KEY = "key"  # 重点管理
    SIMPLIFIED = "simplified"  # 简化管理
    REGISTRATION = "registration"  # 登记管理


CATEGORY_NAMES_ZH = {Category.KEY: "重点管理", Category.SIMPLIFIED: "简化管理",
                     Category.REGISTRATION: "登记管理"}  # fmt: skip


class MonitoringMethod(StrEnum):
    AUTOMATIC = "automatic"  # 自动监测
    MANUAL = "manual"  # 手工监测


@dataclass(frozen=True, slots=True)
class PermitItem:
    """What a permit sets for one pollutant at one outlet."""

    outlet_id: int
    pollutant: str
    limit_value: float
    unit: str
    basis: str = ""
    reference_o2: float | None = None
    averaging_period: str | None = None
    lower_value: float | None = None
    annual_tonnes: float | None = None
    monthly_tonnes: float | None = None
    seasonal_tonnes: float | None = None
    """A cap [t] over the season ``season_from`` to ``season_to`` (MM-DD) of every year."""
    season_from: str | None = None
    season_to: str | None = None


@dataclass(frozen=True, slots=True)
class PlanItem:
    """An item of the self-monitoring plan (自行监测方案)."""

    outlet_id: int
    pollutant: str
    method: MonitoringMethod
    frequency: str
    untreated_concentration: float | None = None
    design_flow_m3h: float | None = None


@dataclass(frozen=True, slots=True)
class PermitVersion:
    """A permit as issued or changed: the content of one version."""

    number: str
    enterprise_id: int
    category: Category
    valid_from: datetime
    valid_to: datetime
    items: Sequence[PermitItem] = ()
    plan: Sequence[PlanItem] = ()
    note: str = ""


class PermitError(PeerError):
    pass


def newest_versions() -> ColumnElement[bool]:
    """The condition that a ``permit`` row is its number's newest version."""
    newer = aliased(Permit)
    return ~exists(select(newer.id).where(newer.number == Permit.number,
                                          newer.version > Permit.version))  # fmt: skip


def limit_in_force_version() -> ColumnElement[bool]:
    """The condition that a ``permit_limit`` row belongs to no permit or to a
    permit's newest version."""
    return PermitLimit.permit_id.is_(None) | PermitLimit.permit_id.in_(
        select(Permit.id).where(newest_versions())
    )


def check(connection: Connection, permit: PermitVersion) -> None:
    """Refuse a version whose content does not fit the registry."""
    if permit.valid_to <= permit.valid_from:
        raise PermitError("bad_permit_dates", "valid_to must follow valid_from",
                          "有效期止须晚于有效期起")  # fmt: skip
    holder = connection.execute(
        select(Permit.enterprise_id).where(Permit.number == permit.number).limit(1)
    ).scalar()
    if holder is not None and holder != permit.enterprise_id:
        raise PermitError("permit_holder_changed",
                          f"permit {permit.number} is held by enterprise {holder}",
                          f"许可证{permit.number}的持证单位是企业{holder}")  # fmt: skip
    outlets = set(connection.execute(
        select(Outlet.id).where(Outlet.enterprise_id == permit.enterprise_id)
    ).scalars())  # fmt: skip
    for outlet_id in [item.outlet_id for item in permit.items] + [p.outlet_id for p in permit.plan]:
        if outlet_id not in outlets:
            raise PermitError("unknown_outlet",
                              f"outlet {outlet_id} is not the holder's",
                              f"排放口{outlet_id}不属于持证单位")  # fmt: skip
    keys = [(item.outlet_id, item.pollutant) for item in permit.items]
    if len(set(keys)) != len(keys):
        raise PermitError("duplicate_permit_item", "an outlet and pollutant is listed twice",
                          "同一排放口和污染物重复")  # fmt: skip


def record_version(
    connection: Connection, permit: PermitVersion, actor: Actor, now: datetime | None = None
) -> int:
    """Store ``permit`` as its number's next version (1 for a new number), in
    the caller's transaction, with its audit entry; the new row's id."""
    check(connection, permit)
    now = now or datetime.now(UTC)
    version = (connection.execute(
        select(func.max(Permit.version)).where(Permit.number == permit.number)
    ).scalar() or 0) + 1  # fmt: skip
    permit_id = connection.execute(
        insert(Permit).values(
            number=permit.number, version=version, enterprise_id=permit.enterprise_id,
            category=str(permit.category), valid_from=permit.valid_from,
            valid_to=permit.valid_to, recorded_by=actor.name, recorded_at=now, note=permit.note,
        ).returning(Permit.id)
    ).scalar_one()  # fmt: skip
    if permit.items:
        connection.execute(insert(PermitLimit), [
            {**asdict(item), "enterprise_id": permit.enterprise_id, "permit_id": permit_id,
             "valid_from": permit.valid_from, "valid_to": permit.valid_to}
            for item in permit.items
        ])  # fmt: skip
    if permit.plan:
        connection.execute(insert(PermitMonitoring), [
            {**asdict(item), "method": str(item.method), "permit_id": permit_id}
            for item in permit.plan
        ])  # fmt: skip
    record(connection, actor, "permit.version", "permit", permit_id, after={
        "number": permit.number, "version": version, "enterprise_id": permit.enterprise_id,
        "category": str(permit.category), "valid_from": permit.valid_from,
        "valid_to": permit.valid_to, "items": len(permit.items), "plan": len(permit.plan),
    })  # fmt: skip
    return int(permit_id)


def permit_view(connection: Connection, permit: Any) -> dict[str, Any]:
    """A stored permit version with its items and plan, as JSON types."""
    limits = connection.execute(
        select(PermitLimit).where(PermitLimit.permit_id == permit.id).order_by(PermitLimit.id)
    ).all()
    plan = connection.execute(
        select(PermitMonitoring).where(PermitMonitoring.permit_id == permit.id)
        .order_by(PermitMonitoring.id)
    ).all()  # fmt: skip
    newest = connection.execute(
        select(func.max(Permit.version)).where(Permit.number == permit.number)
    ).scalar()
    return {
        "id": permit.id, "number": permit.number, "version": permit.version,
        "current": permit.version == newest, "enterprise_id": permit.enterprise_id,
        "category": permit.category, "valid_from": permit.valid_from.date().isoformat(),
        "valid_to": permit.valid_to.date().isoformat(), "recorded_by": permit.recorded_by,
        "recorded_at": permit.recorded_at.isoformat(), "note": permit.note,
        "items": [{
            "outlet_id": row.outlet_id, "pollutant": row.pollutant,
            "limit_value": row.limit_value, "lower_value": row.lower_value, "unit": row.unit,
            "reference_o2": row.reference_o2, "averaging_period": row.averaging_period,
            "basis": row.basis, "annual_tonnes": row.annual_tonnes,
            "monthly_tonnes": row.monthly_tonnes, "seasonal_tonnes": row.seasonal_tonnes,
            "season_from": row.season_from, "season_to": row.season_to,
        } for row in limits],
        "plan": [{
            "outlet_id": row.outlet_id, "pollutant": row.pollutant, "method": row.method,
            "frequency": row.frequency, "untreated_concentration": row.untreated_concentration,
            "design_flow_m3h": row.design_flow_m3h,
        } for row in plan],
    }  # fmt: skip


def current_permits(connection: Connection, enterprise_id: int | None = None) -> list[Any]:
    """The newest version of every permit (of one enterprise)."""
    query = select(Permit).where(newest_versions())
    if enterprise_id is not None:
        query = query.where(Permit.enterprise_id == enterprise_id)
    return list(connection.execute(query.order_by(Permit.number)).all())


def versions_of(connection: Connection, number: str) -> list[Any]:
    return list(connection.execute(
        select(Permit).where(Permit.number == number).order_by(Permit.version)
    ).all())  # fmt: skip
