"""The registry as one JSON document (``envwatch registry export``): every
device with what a logger needs to talk to the gateway, and every meter.

``registry_tables`` gives the registry in the import's own columns, and
``write_export`` writes it as CSV (one kind), XLSX (a sheet per kind) or JSON
(every kind, English field names), so an export imports back as it is.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from openpyxl import Workbook
from sqlalchemy import Connection, Engine, select

from envwatch.registry.importing import SCHEMAS, SHEET_NAMES, ImportKind
from envwatch.registry.limits import LimitInForce, limits_in_force
from envwatch.spreadsheet import safe_cell
from envwatch.store.schema import (
    AirStation,
    Enterprise,
    Meter,
    MeterLink,
    MonitoringPoint,
    Outlet,
    PermitLimit,
    PointFactor,
    WaterSection,
)

EXPORT_FORMATS: Final = ("json", "csv", "xlsx")
MEDIA_TYPES: Final = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def strictest(
    limits: Mapping[int, Mapping[str, tuple[LimitInForce, ...]]],
    outlet_id: int | None,
    code: str,
) -> float | None:
    in_force = limits.get(outlet_id, {}).get(code, ()) if outlet_id is not None else ()
    return in_force[0].value if in_force else None


def export_registry(
    engine: Engine, now: datetime, *, passwords: bool = False
) -> dict[str, list[dict[str, Any]]]:
    """``{"points": [...], "meters": [...]}``; ``now`` (China Standard Time, naive)
    picks the permit limits in force. A point's ``pw`` is null unless ``passwords``."""
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
                "pw": point.pw if passwords else None,
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


Table = list[dict[str, Any]]
"""Rows keyed by the import schema's field names (English)."""


def registry_tables(
    engine: Engine, kinds: Sequence[ImportKind] = tuple(ImportKind), *, passwords: bool = False
) -> dict[ImportKind, Table]:
    """The registry as the import reads it, kind by kind, in a stable order.
    Device passwords (PW) are left empty unless ``passwords`` (a city
    administrator's explicit, audited request): with MN and PW anyone could
    send data the gateway accepts. A file without them cannot register its
    points elsewhere (the import requires a PW)."""
    out: dict[ImportKind, Table] = {}
    with engine.connect() as connection:
        credit = dict(connection.execute(select(Enterprise.id, Enterprise.credit_code)).all())
        outlet_codes = dict(connection.execute(select(Outlet.id, Outlet.code)).all())
        for kind in kinds:
            if kind is ImportKind.ENTERPRISES:
                out[kind] = [
                    {"name": e.name, "credit_code": e.credit_code, "county_code": e.county_code,
                     "industry_code": e.industry_code, "key_categories": e.key_categories,
                     "longitude": e.longitude, "latitude": e.latitude,
                     "positive_list": e.positive_list, "performance_grade": e.performance_grade,
                     "emergency_exempt": e.emergency_exempt, "work_shifts": e.work_shifts}
                    for e in connection.execute(select(Enterprise).order_by(Enterprise.id))
                ]  # fmt: skip
            elif kind is ImportKind.OUTLETS:
                out[kind] = [
                    {"credit_code": credit[o.enterprise_id], "code": o.code, "name": o.name,
                     "kind": o.kind, "height_m": o.height_m, "reheated": o.reheated,
                     "longitude": o.longitude,
                     "latitude": o.latitude}
                    for o in connection.execute(select(Outlet).order_by(Outlet.id))
                ]  # fmt: skip
            elif kind is ImportKind.POINTS:
                factors: dict[str, list[str]] = {}
                for mn, code in connection.execute(
                    select(PointFactor.mn, PointFactor.pollutant).order_by(
                        PointFactor.mn, PointFactor.pollutant
                    )
                ):
                    factors.setdefault(mn, []).append(code)
                out[kind] = [
                    {"mn": p.mn, "pw": p.pw if passwords else "",
                     "credit_code": credit.get(p.enterprise_id, ""),
                     "outlet_code": outlet_codes.get(p.outlet_id, ""), "st": p.st,
                     "protocol_version": p.protocol_version, "lenient": p.lenient,
                     "factors": ",".join(factors.get(p.mn, []))}
                    for p in connection.execute(
                        select(MonitoringPoint)
                        .where(MonitoringPoint.mn.not_in(_site_loggers(connection)))
                        .order_by(MonitoringPoint.mn)
                    )
                ]  # fmt: skip
            elif kind is ImportKind.LIMITS:
                out[kind] = [
                    {"credit_code": credit[lim.enterprise_id],
                     "outlet_code": outlet_codes.get(lim.outlet_id, ""),
                     "pollutant": lim.pollutant, "limit_value": lim.limit_value,
                     "lower_value": lim.lower_value, "averaging_period": lim.averaging_period,
                     "unit": lim.unit, "reference_o2": lim.reference_o2, "basis": lim.basis,
                     "annual_tonnes": lim.annual_tonnes,
                     "valid_from": lim.valid_from.date().isoformat(),
                     "valid_to": None if lim.valid_to is None else lim.valid_to.date().isoformat()}
                    for lim in connection.execute(select(PermitLimit).order_by(PermitLimit.id))
                ]  # fmt: skip
            elif kind in (ImportKind.STATIONS, ImportKind.SECTIONS):
                out[kind] = _sites(connection, kind, passwords=passwords)
            else:
                names = dict(connection.execute(select(Meter.id, Meter.name)).all())
                serves: dict[int, list[str]] = {}
                for link in connection.execute(
                    select(MeterLink).order_by(
                        MeterLink.treatment_meter_id, MeterLink.production_meter_id
                    )
                ):
                    serves.setdefault(link.treatment_meter_id, []).append(
                        names[link.production_meter_id]
                    )
                out[kind] = [
                    {"credit_code": credit[m.enterprise_id], "name": m.name, "kind": m.kind,
                     "rated_kw": m.rated_kw, "mn": m.mn, "serves": ",".join(serves.get(m.id, []))}
                    for m in connection.execute(select(Meter).order_by(Meter.id))
                ]  # fmt: skip
    return out


def _site_loggers(connection: Connection) -> list[str]:
    """The loggers of air stations and river sections: exported with their sites."""
    return [
        str(mn)
        for table in (AirStation, WaterSection)
        for mn in connection.execute(select(table.mn).where(table.mn.is_not(None))).scalars()
    ]


def _sites(connection: Connection, kind: ImportKind, *, passwords: bool) -> Table:
    pws = dict(connection.execute(select(MonitoringPoint.mn, MonitoringPoint.pw)).all())
    shared = ("code", "county_code", "longitude", "latitude", "mn")
    if kind is ImportKind.STATIONS:
        rows = connection.execute(select(AirStation).order_by(AirStation.code))
        extra: tuple[str, ...] = ("name", "level")
    else:
        rows = connection.execute(select(WaterSection).order_by(WaterSection.code))
        extra = ("name", "river", "level", "target_class", "lake")
    return [
        {**{name: getattr(row, name) for name in (*shared, *extra)},
         "pw": pws.get(row.mn, "") if passwords and row.mn else ""}
        for row in rows
    ]  # fmt: skip


def _cell(value: Any) -> Any:
    if isinstance(value, bool):
        return "是" if value else "否"
    return "" if value is None else safe_cell(value)


def write_export(
    tables: Mapping[ImportKind, Table],
    file_format: str,
    progress: Callable[[int, int], None] | None = None,
) -> bytes:
    """The file of ``tables``: CSV (exactly one kind, Chinese headers, UTF-8 with
    BOM as Chinese Excel opens it), XLSX (a sheet per kind, named in Chinese)
    or JSON (``{kind: [rows]}``, English field names)."""
    total = sum(len(rows) for rows in tables.values())
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    if file_format == "json":
        for rows in tables.values():
            for _ in rows:
                tick()
        document = {kind.value: rows for kind, rows in tables.items()}
        return json.dumps(document, ensure_ascii=False, indent=1).encode()
    if file_format == "csv":
        if len(tables) != 1:
            raise ValueError("a CSV export holds exactly one kind")
        ((kind, rows),) = tables.items()
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        fields = list(SCHEMAS[kind].model_fields)
        writer.writerow([SCHEMAS[kind].model_fields[name].alias for name in fields])
        for row in rows:
            writer.writerow([_cell(row[name]) for name in fields])
            tick()
        return text.getvalue().encode("utf-8-sig")
    if file_format == "xlsx":
        workbook = Workbook(write_only=True)
        for kind, rows in tables.items():
            sheet = workbook.create_sheet(SHEET_NAMES[kind])
            fields = list(SCHEMAS[kind].model_fields)
            sheet.append([SCHEMAS[kind].model_fields[name].alias for name in fields])
            for row in rows:
                sheet.append([_cell(row[name]) for name in fields])
                tick()
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()
    raise ValueError(f"unknown export format {file_format}")
