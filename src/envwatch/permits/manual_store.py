"""Manual monitoring results (手工监测) as stored data: their import from CSV
or XLSX, all or nothing (``registry/importing.py`` reads the file and checks
the rows; every problem is reported as row, column and reason and nothing is
written unless there is none), their list within a scope, and the hours they
account in ``hourly_emission`` (device ``manual:<outlet id>``, method
``manual``; ``manual.py`` says which), kept current when results are
imported and when the automatic data of their outlet change
(``materialise.py`` calls ``refresh_manual`` after each pass)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import Field, field_validator, model_validator
from sqlalchemy import ColumnElement, Connection, Engine, delete, func, insert, select

from envwatch.audit.log import Actor, record
from envwatch.hj212.codes import CHINA_STANDARD_TIME, now_cst
from envwatch.permits.accounting import Method
from envwatch.permits.manual import (
    OutletHour,
    Sample,
    Window,
    frequency_hours,
    in_pollutant_unit,
    manual_device,
    manual_hours,
    sample_flow,
    unit_of,
    windows,
)
from envwatch.permits.parameters import PermitParameters
from envwatch.permits.rollup import refresh_months
from envwatch.permits.store import MonitoringMethod, newest_versions
from envwatch.registry.importing import (
    RowError,
    _registered,  # the registry's own lookup of enterprises and outlets
    _Row,
    read_table,
    validate_rows,
)
from envwatch.rules.units import accounting_of
from envwatch.store.schema import (
    Enterprise,
    HourlyEmission,
    ManualResult,
    MonitoringPoint,
    Outlet,
    Permit,
    PermitMonitoring,
)

HOUR = timedelta(hours=1)


def _cst(moment: datetime) -> datetime:
    """A sampling time as naive China Standard Time."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(CHINA_STANDARD_TIME).replace(tzinfo=None)


class ManualRow(_Row):
    credit_code: str = Field(alias="统一社会信用代码")
    outlet_code: str = Field(alias="排放口编号")
    pollutant: str = Field(alias="污染物编码")
    sampled_from: datetime = Field(alias="采样开始时间")
    sampled_to: datetime | None = Field(default=None, alias="采样结束时间")
    concentration: float = Field(alias="浓度", ge=0, le=1e9)
    unit: str = Field(alias="单位", min_length=1, max_length=16)
    flow_m3h: float | None = Field(default=None, alias="流量", gt=0, le=1e12)
    """[m³/h] measured with the sample."""
    volume_m3: float | None = Field(default=None, alias="排放体积", gt=0, le=1e12)
    """[m³] over the sampling period (a day's wastewater)."""
    laboratory: str = Field(default="", alias="检测机构", max_length=100)
    report_number: str = Field(alias="报告编号", min_length=1, max_length=64)

    @field_validator("sampled_from", "sampled_to")
    @classmethod
    def _in_cst(cls, value: datetime | None) -> datetime | None:
        return None if value is None else _cst(value)

    @field_validator("pollutant")
    @classmethod
    def _accounted(cls, value: str) -> str:
        if accounting_of(value) is None:
            raise ValueError(f"{value} is not an HJ 212-2017 factor with a mass emission")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> ManualRow:
        if unit_of(self.unit) is None:
            raise ValueError(f"unknown unit {self.unit!r}: mg/m³, µg/m³, mg/L or µg/L")
        in_pollutant_unit(self.pollutant, self.concentration, self.unit)
        if self.sampled_to is not None and self.sampled_to <= self.sampled_from:
            raise ValueError("采样结束时间 must follow 采样开始时间")
        if self.volume_m3 is not None and self.sampled_to is None:
            raise ValueError("排放体积 needs 采样结束时间 (the period it was discharged in)")
        return self


def columns() -> list[str]:
    return [str(info.alias) for info in ManualRow.model_fields.values()]


@dataclass(frozen=True, slots=True)
class ManualImport:
    """An import's outcome: its row errors (nothing written), or what it wrote."""

    errors: list[RowError]
    imported: int = 0
    enterprises: tuple[int, ...] = ()
    accounted_hours: int = 0
    manual_kg: float = 0.0

    def summary(self, file_name: str) -> dict[str, Any]:
        return {"file": file_name, "imported": self.imported,
                "enterprises": list(self.enterprises), "accounted_hours": self.accounted_hours,
                "manual_kg": round(self.manual_kg, 6)}  # fmt: skip


def validate(
    connection: Connection, records: Sequence[dict[str, str]], now: datetime
) -> tuple[list[dict[str, Any]], list[RowError]]:
    """The file's results as ``manual_result`` rows, and every problem of its rows."""
    enterprises, outlets = _registered(connection)
    seen: dict[tuple[int, str, datetime], int] = {}
    values: list[dict[str, Any]] = []
    errors: list[RowError] = []
    for number, cells in enumerate(records, start=2):  # the header is row 1
        parsed, problems = validate_rows(ManualRow, [cells], first_row=number)
        errors += problems
        if not parsed:
            continue
        row = parsed[0]
        if row.credit_code not in enterprises:
            errors.append(RowError(number, "credit_code", f"unknown enterprise {row.credit_code}"))
            continue
        outlet_id = outlets.get((row.credit_code, row.outlet_code))
        if outlet_id is None:
            errors.append(RowError(number, "outlet_code",
                                   f"no outlet {row.outlet_code} at this enterprise"))  # fmt: skip
            continue
        if row.sampled_from > now:
            errors.append(RowError(number, "sampled_from", "sampling lies in the future"))
        key = (outlet_id, row.pollutant, row.sampled_from)
        if key in seen:
            errors.append(RowError(
                number, "sampled_from", f"repeats row {seen[key]} (outlet, pollutant and time)"
            ))  # fmt: skip
        seen.setdefault(key, number)
        values.append({
            "enterprise_id": enterprises[row.credit_code], "outlet_id": outlet_id,
            "pollutant": row.pollutant, "sampled_from": row.sampled_from,
            "sampled_to": row.sampled_to, "concentration": row.concentration,
            "unit": unit_of(row.unit), "flow_m3h": row.flow_m3h, "volume_m3": row.volume_m3,
            "laboratory": row.laboratory, "report_number": row.report_number, "_row": number,
        })  # fmt: skip
    if values:
        stored = {(row.outlet_id, row.pollutant, row.sampled_from) for row in connection.execute(
            select(ManualResult.outlet_id, ManualResult.pollutant, ManualResult.sampled_from)
            .where(ManualResult.outlet_id.in_({v["outlet_id"] for v in values}))
        )}  # fmt: skip
        for value in values:
            if (value["outlet_id"], value["pollutant"], value["sampled_from"]) in stored:
                errors.append(RowError(value["_row"], "sampled_from",
                                       "this outlet's result of this pollutant and time is "
                                       "already recorded"))  # fmt: skip
    if errors:
        errors.sort(key=lambda e: e.row)
        return [], errors
    return [{k: v for k, v in value.items() if k != "_row"} for value in values], []


def import_manual(
    engine: Engine,
    name: str,
    content: bytes,
    actor: Actor,
    *,
    parameters: PermitParameters,
    now: datetime | None = None,
) -> ManualImport:
    """Read and import a CSV/XLSX file of manual results, all or nothing, and
    account them (with the enterprises' totals judged again, rules.md §5.2);
    ``ImportFileError`` if it is not a table."""
    from envwatch.permits.report import store_total_findings  # noqa: PLC0415 - report reads us

    now = now or now_cst().replace(tzinfo=None)
    records = read_table(name, content)
    stamp = datetime.now(UTC)
    with engine.begin() as connection:
        values, errors = validate(connection, records, now)
        if errors:
            return ManualImport(errors)
        source = name[-200:]
        if values:
            connection.execute(insert(ManualResult), [
                {**value, "source_file": source, "imported_by": actor.name[:64],
                 "imported_at": stamp} for value in values
            ])  # fmt: skip
        pairs = sorted({(v["outlet_id"], v["pollutant"]) for v in values})
        enterprises = tuple(sorted({v["enterprise_id"] for v in values}))
        record(connection, actor, "manual_result.import", "manual_result", source, after={
            "file": source, "rows": len(values), "enterprises": list(enterprises),
        })  # fmt: skip
        written = refresh_manual(connection, parameters, now, pairs=pairs)
        kg = connection.execute(
            select(func.coalesce(func.sum(HourlyEmission.emission_kg), 0.0)).where(
                HourlyEmission.mn.in_({manual_device(outlet) for outlet, _ in pairs}),
                HourlyEmission.method == str(Method.MANUAL))
        ).scalar_one()  # fmt: skip
        day = now.replace(hour=0, minute=0, second=0, microsecond=0)
        for enterprise_id in enterprises:
            store_total_findings(connection, enterprise_id, day, parameters)
    return ManualImport([], len(values), enterprises, written, float(kg or 0.0))


# ---- the accounting's edge ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Item:
    enterprise_id: int
    automatic: bool
    """A device at the outlet monitors the pollutant: only its missing hours are filled."""
    direct: bool
    """The plan requires automatic monitoring no device gives: direct discharge, not manual."""
    coverage_hours: int
    design_flow_m3h: float | None


def _item(
    connection: Connection, outlet_id: int, pollutant: str, parameters: PermitParameters
) -> _Item | None:
    enterprise_id = connection.execute(
        select(Outlet.enterprise_id).where(Outlet.id == outlet_id)
    ).scalar()
    if enterprise_id is None:
        return None
    devices = list(connection.execute(
        select(MonitoringPoint.mn).where(MonitoringPoint.outlet_id == outlet_id)
    ).scalars())  # fmt: skip
    automatic = bool(devices) and connection.execute(
        select(HourlyEmission.mn).where(HourlyEmission.mn.in_(devices),
                                        HourlyEmission.pollutant == pollutant).limit(1)
    ).first() is not None  # fmt: skip
    plan = connection.execute(
        select(PermitMonitoring.method, PermitMonitoring.frequency,
               PermitMonitoring.design_flow_m3h)
        .join(Permit, Permit.id == PermitMonitoring.permit_id)
        .where(newest_versions(), PermitMonitoring.outlet_id == outlet_id,
               PermitMonitoring.pollutant == pollutant)
        .order_by(PermitMonitoring.id)
    ).first()  # fmt: skip
    direct = (
        not automatic
        and plan is not None
        and plan.method == str(MonitoringMethod.AUTOMATIC)
        and connection.execute(
            select(HourlyEmission.mn).where(HourlyEmission.mn == f"outlet:{outlet_id}",
                                            HourlyEmission.pollutant == pollutant).limit(1)
        ).first() is not None
    )  # fmt: skip
    planned = None
    if plan is not None and plan.method == str(MonitoringMethod.MANUAL) and not automatic:
        planned = frequency_hours(plan.frequency)
    return _Item(int(enterprise_id), automatic, direct, planned or parameters.manual.coverage_hours,
                 None if plan is None else plan.design_flow_m3h)  # fmt: skip


def _samples(connection: Connection, outlet_id: int, pollutant: str) -> list[Sample]:
    return [
        Sample(row.sampled_from, in_pollutant_unit(pollutant, row.concentration, row.unit),
               sample_flow(row.flow_m3h, row.volume_m3, row.sampled_from, row.sampled_to),
               row.report_number)
        for row in connection.execute(
            select(ManualResult).where(ManualResult.outlet_id == outlet_id,
                                       ManualResult.pollutant == pollutant)
            .order_by(ManualResult.sampled_from)
        )
    ]  # fmt: skip


def _outlet_hours(
    connection: Connection, outlet_id: int, pollutant: str, window: Window
) -> dict[datetime, OutletHour]:
    """What the outlet's devices say of each hour of ``window``."""
    devices = select(MonitoringPoint.mn).where(MonitoringPoint.outlet_id == outlet_id)
    found: dict[datetime, OutletHour] = {}
    for row in connection.execute(
        select(HourlyEmission.hour, HourlyEmission.pollutant, HourlyEmission.method,
               HourlyEmission.validity, HourlyEmission.flow_m3)
        .where(HourlyEmission.mn.in_(devices), HourlyEmission.hour >= window.start,
               HourlyEmission.hour < window.end)
    ):  # fmt: skip
        known = found.get(row.hour, OutletHour(None, False, None))
        found[row.hour] = OutletHour(
            row.method if row.pollutant == pollutant else known.method,
            known.stopped or row.validity == "stopped",
            known.flow_m3 if known.flow_m3 is not None else row.flow_m3,
        )
    return found


def _rows(
    connection: Connection, outlet_id: int, pollutant: str, item: _Item, window: Window
) -> list[dict[str, Any]]:
    hours = manual_hours(outlet_id, pollutant, window, automatic=item.automatic,
                         outlet_hours=_outlet_hours(connection, outlet_id, pollutant, window),
                         design_flow_m3h=item.design_flow_m3h)  # fmt: skip
    return [{
        "mn": h.mn, "pollutant": h.pollutant, "hour": h.hour, "enterprise_id": item.enterprise_id,
        "outlet_id": outlet_id, "validity": h.validity, "cause": None,
        "concentration": h.concentration, "flow_m3": h.flow_m3, "measured_kg": h.measured_kg,
        "emission_kg": h.emission_kg, "method": str(h.method), "rule": h.rule,
    } for h in hours]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Changed:
    """What a pass of the materialiser changed of a device at an outlet."""

    rows_from: datetime
    """The device's rows were rewritten from here (a substituted pollutant's
    quarter: which hours are ``missing`` may change back to it)."""
    data_from: datetime
    """The first hour whose data arrived (flows and stops are the hour's own)."""


def refresh_pair(
    connection: Connection, outlet_id: int, pollutant: str, parameters: PermitParameters,
    now: datetime, *, changed: Iterable[Changed] | None = None,
) -> int:  # fmt: skip
    """Bring the manual hours of one outlet's pollutant up to date: the windows
    of its results from a ``changed`` hour of the outlet's automatic data on
    (all if None; for an item a device monitors from ``rows_from``, else from
    ``data_from``), and those not yet written to their end (new, or growing
    with ``now``); how many hours it wrote."""
    device = manual_device(outlet_id)
    item = _item(connection, outlet_id, pollutant, parameters)
    if item is None or item.direct:
        connection.execute(delete(HourlyEmission).where(
            HourlyEmission.mn == device, HourlyEmission.pollutant == pollutant))  # fmt: skip
        refresh_months(connection, device, pollutant, datetime.min)
        return 0
    found = windows(_samples(connection, outlet_id, pollutant), item.coverage_hours, now)
    if changed is None:  # wholly: no hour of an earlier, longer window stays behind
        connection.execute(delete(HourlyEmission).where(
            HourlyEmission.mn == device, HourlyEmission.pollutant == pollutant))  # fmt: skip
    else:
        starts = [c.rows_from if item.automatic else c.data_from for c in changed]
        newest = connection.execute(
            select(func.max(HourlyEmission.hour)).where(HourlyEmission.mn == device,
                                                        HourlyEmission.pollutant == pollutant)
        ).scalar()  # fmt: skip
        found = [w for w in found
                 if any(start < w.end for start in starts)
                 or newest is None or w.end > newest + HOUR]  # fmt: skip
    written = 0
    for window in found:
        connection.execute(delete(HourlyEmission).where(
            HourlyEmission.mn == device, HourlyEmission.pollutant == pollutant,
            HourlyEmission.hour >= window.start, HourlyEmission.hour < window.end,
        ))  # fmt: skip
        rows = _rows(connection, outlet_id, pollutant, item, window)
        for first in range(0, len(rows), 2000):
            connection.execute(insert(HourlyEmission), rows[first : first + 2000])
        written += len(rows)
    # The monthly sums follow the hours (emission_month, read by the year's totals).
    if changed is None:
        refresh_months(connection, device, pollutant, datetime.min)
    elif found:
        refresh_months(connection, device, pollutant, min(window.start for window in found))
    return written


def refresh_manual(
    connection: Connection,
    parameters: PermitParameters,
    now: datetime,
    *,
    pairs: Iterable[tuple[int, str]] | None = None,
    changed: Mapping[int, Sequence[Changed]] | None = None,
) -> int:
    """Refresh the manual hours of ``pairs`` (outlet, pollutant) wholly, or of
    every outlet and pollutant with results: wholly when ``changed`` is None,
    else the windows the outlets' ``changed`` data reach and those
    still growing. How many hours it wrote."""
    if pairs is not None:
        return sum(refresh_pair(connection, outlet, code, parameters, now)
                   for outlet, code in pairs)  # fmt: skip
    every = connection.execute(
        select(ManualResult.outlet_id, ManualResult.pollutant).distinct()
        .order_by(ManualResult.outlet_id, ManualResult.pollutant)
    ).all()  # fmt: skip
    return sum(
        refresh_pair(connection, row.outlet_id, row.pollutant, parameters, now,
                     changed=None if changed is None else changed.get(row.outlet_id, ()))
        for row in every
    )  # fmt: skip


# ---- reading -----------------------------------------------------------------


def result_view(row: Any) -> dict[str, Any]:
    return {
        "id": row.id, "enterprise_id": row.enterprise_id, "outlet_id": row.outlet_id,
        "outlet": row.outlet_code, "pollutant": row.pollutant,
        "sampled_from": row.sampled_from.isoformat(),
        "sampled_to": None if row.sampled_to is None else row.sampled_to.isoformat(),
        "concentration": row.concentration, "unit": row.unit, "flow_m3h": row.flow_m3h,
        "volume_m3": row.volume_m3, "laboratory": row.laboratory,
        "report_number": row.report_number, "source_file": row.source_file,
        "imported_by": row.imported_by, "imported_at": row.imported_at.isoformat(),
    }  # fmt: skip


def list_results(
    connection: Connection,
    visible: ColumnElement[bool],
    *,
    enterprise_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 500,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """The results of the enterprises in ``visible``, newest sampling first,
    and how many there are in all."""
    conditions = [visible]
    if enterprise_id is not None:
        conditions.append(ManualResult.enterprise_id == enterprise_id)
    if since is not None:
        conditions.append(ManualResult.sampled_from >= since)
    if until is not None:
        conditions.append(ManualResult.sampled_from < until)
    base = (
        select(ManualResult, Outlet.code.label("outlet_code"))
        .join(Outlet, Outlet.id == ManualResult.outlet_id)
        .join(Enterprise, Enterprise.id == ManualResult.enterprise_id)
        .where(*conditions)
    )
    total = connection.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    rows = connection.execute(
        base.order_by(ManualResult.sampled_from.desc(), ManualResult.id.desc())
        .limit(limit).offset(offset)
    ).all()  # fmt: skip
    return [result_view(row) for row in rows], int(total)


def manual_samples(
    connection: Connection, outlet_id: int, pollutant: str, since: datetime, until: datetime
) -> int:
    """How many manual results of an outlet's pollutant were sampled in [since, until)."""
    return int(connection.execute(
        select(func.count()).select_from(ManualResult).where(
            ManualResult.outlet_id == outlet_id, ManualResult.pollutant == pollutant,
            ManualResult.sampled_from >= since, ManualResult.sampled_from < until)
    ).scalar_one())  # fmt: skip
