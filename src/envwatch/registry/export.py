"""The registry as one JSON document (``envwatch registry export``): every
device with what a logger needs to talk to the gateway, and every meter."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from envwatch.registry.limits import LimitInForce, limits_in_force
from envwatch.store.schema import Enterprise, Meter, MonitoringPoint, PointFactor


def strictest(
    limits: Mapping[int, Mapping[str, tuple[LimitInForce, ...]]],
    outlet_id: int | None,
    code: str,
) -> float | None:
    in_force = limits.get(outlet_id, {}).get(code, ()) if outlet_id is not None else ()
    return in_force[0].value if in_force else None


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
        limits = limits_in_force(connection, now)
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
                        "limit": strictest(limits, point.outlet_id, code),
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
