"""The registry as one JSON document (``envwatch registry export``): every
device with what a logger needs to talk to the gateway, and every meter."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from envwatch.store.schema import Enterprise, Meter, MonitoringPoint, PermitLimit, PointFactor


def applicable_limit(
    limits: list[tuple[float, datetime, datetime | None]], now: datetime
) -> float | None:
    """The strictest limit in force at ``now`` (several may apply, e.g. a national
    standard and a stricter local one), or None."""
    in_force = [
        value
        for value, valid_from, valid_to in limits
        if valid_from <= now and (valid_to is None or now < valid_to)
    ]
    return min(in_force) if in_force else None


def export_registry(engine: Engine, now: datetime) -> dict[str, list[dict[str, Any]]]:
    """``{"points": [...], "meters": [...]}``; ``now`` (China Standard Time, naive)
    picks the permit limits in force."""
    with engine.connect() as connection:
        points = connection.execute(
            select(
                MonitoringPoint.mn,
                MonitoringPoint.pw,
                MonitoringPoint.st,
                MonitoringPoint.protocol_version,
                MonitoringPoint.outlet_id,
                MonitoringPoint.active,
                Enterprise.name,
                Enterprise.county_code,
            )
            .outerjoin(Enterprise, MonitoringPoint.enterprise_id == Enterprise.id)
            .order_by(MonitoringPoint.mn)
        ).all()
        factors: dict[str, list[tuple[str, str]]] = {}
        for mn, code, unit in connection.execute(
            select(PointFactor.mn, PointFactor.pollutant, PointFactor.unit).order_by(
                PointFactor.mn, PointFactor.pollutant
            )
        ):
            factors.setdefault(mn, []).append((code, unit))
        limits: dict[tuple[int | None, str], list[tuple[float, datetime, datetime | None]]] = {}
        for outlet_id, code, value, valid_from, valid_to in connection.execute(
            select(
                PermitLimit.outlet_id,
                PermitLimit.pollutant,
                PermitLimit.limit_value,
                PermitLimit.valid_from,
                PermitLimit.valid_to,
            ).where(PermitLimit.outlet_id.is_not(None))
        ):
            limits.setdefault((outlet_id, code), []).append((value, valid_from, valid_to))
        meters = connection.execute(
            select(
                Meter.id,
                Meter.name,
                Meter.kind,
                Meter.rated_kw,
                Meter.mn,
                Enterprise.name.label("enterprise"),
                Enterprise.county_code,
            )
            .join(Enterprise, Meter.enterprise_id == Enterprise.id)
            .order_by(Meter.id)
        ).all()
    return {
        "points": [
            {
                "mn": point.mn,
                "pw": point.pw,
                "st": point.st,
                "version": point.protocol_version,
                "enterprise": point.name,
                "county": point.county_code,
                "active": point.active,
                "pollutants": [
                    {
                        "code": code,
                        "unit": unit,
                        "limit": applicable_limit(limits.get((point.outlet_id, code), []), now)
                        if point.outlet_id is not None
                        else None,
                    }
                    for code, unit in factors.get(point.mn, [])
                ],
            }
            for point in points
        ],
        "meters": [
            {
                "id": meter.id,
                "name": meter.name,
                "kind": meter.kind,
                "rated_kw": meter.rated_kw,
                "mn": meter.mn,
                "enterprise": meter.enterprise,
                "county": meter.county_code,
            }
            for meter in meters
        ],
    }
