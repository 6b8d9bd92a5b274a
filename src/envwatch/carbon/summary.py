"""Carbon beside pollutants per enterprise and county, per month and year
(``envwatch carbon summary``, ``/api/v1/carbon/summary``, ``/carbon``).

What is read (the edge): pollutant tonnes from the permits' hourly table
(``hourly_emission``, every accounting method, summed per month in SQL);
flue-gas CO2 from the same table's valid measured hours of the CO2 factor
(concentration in the device's unit × the hour's volume, ``core.cems_hour_t``);
electricity per month from a declaration (``energy_declaration``: the bill)
where there is one, else from the enterprise's meters (the total meter's
register if it has one, else its circuits'; a meter without a register by
its power readings). What is computed is pure (``months_of``, ``year_view``,
``compare``): tonnes, CO2 = MWh × the grid factor of the year, intensities per
MWh of production electricity and per unit of output, the change on the
previous year and the synergy class."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from envwatch.carbon.core import (
    CarbonData,
    GridFactor,
    cems_hour_t,
    change,
    co2_from_electricity_t,
    intensity,
    synergy,
    total,
)
from envwatch.electricity.emergency import hourly_energy
from envwatch.errors import UsageError
from envwatch.glossary import factor
from envwatch.store.schema import (
    County,
    ElectricityReading,
    EmissionDeclaration,
    EnergyDeclaration,
    Enterprise,
    EnterpriseOutput,
    HourlyEmission,
    Meter,
    PointFactor,
)

KG_PER_TONNE = 1000.0
KWH_PER_MWH = 1000.0
Key = tuple[int, int]
"""(enterprise id, month 1-12)."""


@dataclass
class Facts:
    """What the store holds for one year, by (enterprise, month)."""

    pollutants_kg: dict[Key, dict[str, float]] = field(default_factory=dict)
    """Accounted from monitoring (the permits' hourly table)."""
    declared_t: dict[Key, dict[str, float]] = field(default_factory=dict)
    """As the execution report declares (where nothing was accounted)."""
    cems_co2_t: dict[Key, float] = field(default_factory=dict)
    declared_mwh: dict[Key, tuple[float, float | None]] = field(default_factory=dict)
    """(total, production) as billed or declared."""
    metered_mwh: dict[Key, tuple[float, float | None]] = field(default_factory=dict)
    """(total, production) from the meters."""
    output: dict[int, tuple[float, str]] = field(default_factory=dict)
    """The year's output and its unit, by enterprise."""


def _month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    start = datetime(year, month, 1)
    end = datetime(year + (month == 12), month % 12 + 1, 1)
    return start, end


def read_facts(
    connection: Connection, year: int, enterprise_ids: Sequence[int], data: CarbonData
) -> Facts:
    """The year's facts of ``enterprise_ids`` (the edge: SQL only)."""
    facts = Facts()
    if not enterprise_ids:
        return facts
    ids = list(enterprise_ids)
    for month in range(1, 13):
        start, end = _month_bounds(year, month)
        for row in connection.execute(
            select(
                HourlyEmission.enterprise_id,
                HourlyEmission.pollutant,
                func.sum(HourlyEmission.emission_kg),
            )
            .where(
                HourlyEmission.hour >= start,
                HourlyEmission.hour < end,
                HourlyEmission.enterprise_id.in_(ids),
                HourlyEmission.emission_kg.is_not(None),
                HourlyEmission.pollutant != data.co2_code,
            )
            .group_by(HourlyEmission.enterprise_id, HourlyEmission.pollutant)
        ):
            enterprise_id, pollutant, kg = row
            if enterprise_id is not None and kg is not None:
                facts.pollutants_kg.setdefault((enterprise_id, month), {})[pollutant] = float(kg)
    for declared in connection.execute(
        select(EmissionDeclaration).where(
            EmissionDeclaration.enterprise_id.in_(ids),
            EmissionDeclaration.month >= date(year, 1, 1),
            EmissionDeclaration.month < date(year + 1, 1, 1),
            EmissionDeclaration.pollutant != data.co2_code,
        )
    ):
        key = (declared.enterprise_id, declared.month.month)
        facts.declared_t.setdefault(key, {})[declared.pollutant] = declared.tonnes
    _read_cems(connection, year, ids, data, facts)
    for bill in connection.execute(
        select(EnergyDeclaration).where(
            EnergyDeclaration.enterprise_id.in_(ids),
            EnergyDeclaration.month >= date(year, 1, 1),
            EnergyDeclaration.month < date(year + 1, 1, 1),
        )
    ):
        facts.declared_mwh[(bill.enterprise_id, bill.month.month)] = (
            bill.total_mwh,
            bill.production_mwh,
        )
    _read_meters(connection, year, ids, data, facts)
    for output in connection.execute(
        select(EnterpriseOutput).where(
            EnterpriseOutput.enterprise_id.in_(ids), EnterpriseOutput.year == year
        )
    ):
        facts.output[output.enterprise_id] = (output.quantity, output.unit)
    return facts


def _read_cems(
    connection: Connection, year: int, ids: list[int], data: CarbonData, facts: Facts
) -> None:
    """Valid measured hours of the CO2 factor: concentration × the hour's volume."""
    default_unit = known.unit if (known := factor(data.co2_code)) else "mg/m³"
    rows = connection.execute(
        select(
            HourlyEmission.enterprise_id,
            HourlyEmission.hour,
            HourlyEmission.concentration,
            HourlyEmission.flow_m3,
            PointFactor.unit,
        )
        .outerjoin(
            PointFactor,
            (PointFactor.mn == HourlyEmission.mn)
            & (PointFactor.pollutant == HourlyEmission.pollutant),
        )
        .where(
            HourlyEmission.pollutant == data.co2_code,
            HourlyEmission.enterprise_id.in_(ids),
            HourlyEmission.hour >= datetime(year, 1, 1),
            HourlyEmission.hour < datetime(year + 1, 1, 1),
            HourlyEmission.validity == "valid",
            HourlyEmission.concentration.is_not(None),
            HourlyEmission.flow_m3.is_not(None),
        )
    )
    for enterprise_id, hour, concentration, flow, unit in rows:
        if enterprise_id is None or concentration is None or flow is None:
            continue  # excluded by the query; for the type checker
        key = (enterprise_id, hour.month)
        t = cems_hour_t(concentration, unit or default_unit, flow, data)
        facts.cems_co2_t[key] = facts.cems_co2_t.get(key, 0.0) + t


def _read_meters(
    connection: Connection, year: int, ids: list[int], data: CarbonData, facts: Facts
) -> None:
    meters = connection.execute(
        select(Meter.id, Meter.enterprise_id, Meter.kind).where(Meter.enterprise_id.in_(ids))
    ).all()
    if not meters:
        return
    by_id = {m.id: m for m in meters}
    max_gap = timedelta(minutes=data.max_gap_minutes)
    for month in range(1, 13):
        start, end = _month_bounds(year, month)
        kwh: dict[int, float] = {}
        no_register: list[int] = []
        for meter_id, low, high, count in connection.execute(
            select(
                ElectricityReading.meter_id,
                func.min(ElectricityReading.energy_kwh),
                func.max(ElectricityReading.energy_kwh),
                func.count(),
            )
            .where(
                ElectricityReading.meter_id.in_(list(by_id)),
                ElectricityReading.time >= start,
                ElectricityReading.time < end,
            )
            .group_by(ElectricityReading.meter_id)
        ):
            if low is not None and high is not None and count > 1:
                kwh[meter_id] = float(high) - float(low)
            else:
                no_register.append(meter_id)
        for meter_id in no_register:
            readings = [
                (t, p)
                for t, p in connection.execute(
                    select(ElectricityReading.time, ElectricityReading.power_kw)
                    .where(
                        ElectricityReading.meter_id == meter_id,
                        ElectricityReading.time >= start,
                        ElectricityReading.time < end,
                        ElectricityReading.power_kw.is_not(None),
                    )
                    .order_by(ElectricityReading.time)
                )
                if p is not None
            ]
            hours = hourly_energy(readings, max_gap)
            if hours:
                kwh[meter_id] = sum(hours.values())
        facts.metered_mwh.update(
            enterprise_energy(
                {
                    meter_id: (by_id[meter_id].enterprise_id, by_id[meter_id].kind, value)
                    for meter_id, value in kwh.items()
                },
                month,
            )
        )


def enterprise_energy(
    meters: Mapping[int, tuple[int, str, float]], month: int
) -> dict[Key, tuple[float, float | None]]:
    """An enterprise's (total, production) MWh of a month from its meters'
    kWh (meter: (enterprise, kind, kWh)): the total meters where any reported,
    else the sum of its circuits; production the production circuits'."""
    totals: dict[int, float] = {}
    circuits: dict[int, float] = {}
    production: dict[int, float] = {}
    for enterprise_id, kind, kwh in meters.values():
        mwh = kwh / KWH_PER_MWH
        if kind == "total":
            totals[enterprise_id] = totals.get(enterprise_id, 0.0) + mwh
        else:
            circuits[enterprise_id] = circuits.get(enterprise_id, 0.0) + mwh
        if kind == "production":
            production[enterprise_id] = production.get(enterprise_id, 0.0) + mwh
    return {
        (enterprise_id, month): (
            totals.get(enterprise_id, circuits.get(enterprise_id, 0.0)),
            production.get(enterprise_id),
        )
        for enterprise_id in set(totals) | set(circuits)
    }


def _month_view(
    facts: Facts, enterprise_id: int, month: int, grid: GridFactor | None, data: CarbonData
) -> dict[str, Any]:
    key = (enterprise_id, month)
    kg = facts.pollutants_kg.get(key, {})
    declared = facts.declared_t.get(key, {})
    pollutants = {code: value / KG_PER_TONNE for code, value in kg.items()}
    sources = dict.fromkeys(pollutants, "accounted")
    for code, t in declared.items():
        if code not in pollutants:
            pollutants[code], sources[code] = t, "declared"
    pollutants = dict(sorted(pollutants.items()))
    main = [pollutants[code] for code in data.main_pollutants if code in pollutants]
    if key in facts.declared_mwh:
        source, (mwh, production) = "declared", facts.declared_mwh[key]
    elif key in facts.metered_mwh:
        source, (mwh, production) = "metered", facts.metered_mwh[key]
    else:
        source, mwh, production = "none", None, None
    from_power = None if mwh is None or grid is None else co2_from_electricity_t(mwh, grid)
    cems = facts.cems_co2_t.get(key)
    return {
        "month": month,
        "pollutants_t": pollutants,
        "pollutant_sources": dict(sorted(sources.items())),
        "main_pollutants_t": sum(main) if main else None,
        "electricity_mwh": mwh,
        "production_mwh": production,
        "electricity_source": source,
        "co2_electricity_t": from_power,
        "co2_cems_t": cems,
        "co2_t": total([from_power, cems]),
    }


def months_of(
    facts: Facts, enterprise_id: int, grid: GridFactor | None, data: CarbonData
) -> list[dict[str, Any]]:
    """The enterprise's twelve months (pure)."""
    return [_month_view(facts, enterprise_id, month, grid, data) for month in range(1, 13)]


def year_view(
    months: Sequence[Mapping[str, Any]], output: tuple[float, str] | None
) -> dict[str, Any]:
    """A year's totals and intensities from its months (pure)."""
    pollutants: dict[str, float] = {}
    for month in months:
        for code, t in month["pollutants_t"].items():
            pollutants[code] = pollutants.get(code, 0.0) + t

    def summed(name: str) -> float | None:
        return total([month[name] for month in months])

    main, co2 = summed("main_pollutants_t"), summed("co2_t")
    production = summed("production_mwh")
    quantity, unit = output if output is not None else (None, "")
    return {
        "pollutants_t": dict(sorted(pollutants.items())),
        "main_pollutants_t": main,
        "electricity_mwh": summed("electricity_mwh"),
        "production_mwh": production,
        "co2_electricity_t": summed("co2_electricity_t"),
        "co2_cems_t": summed("co2_cems_t"),
        "co2_t": co2,
        "output": quantity,
        "output_unit": unit,
        "pollutants_t_per_mwh": intensity(main or 0.0, production) if main is not None else None,
        "co2_t_per_mwh": intensity(co2 or 0.0, production) if co2 is not None else None,
        "pollutants_t_per_output": intensity(main or 0.0, quantity) if main is not None else None,
        "co2_t_per_output": intensity(co2 or 0.0, quantity) if co2 is not None else None,
    }


COMPARED = (
    "main_pollutants_t",
    "co2_t",
    "electricity_mwh",
    "pollutants_t_per_mwh",
    "co2_t_per_mwh",
    "pollutants_t_per_output",
    "co2_t_per_output",
)


def compare(
    current: Mapping[str, Any], previous: Mapping[str, Any], data: CarbonData
) -> dict[str, Any]:
    """The change on the previous year of each compared figure and the synergy
    class of main pollutants against CO2 (pure)."""
    changes = {name: change(current[name], previous[name]) for name in COMPARED}
    return {
        "change": changes,
        "synergy": str(synergy(changes["main_pollutants_t"], changes["co2_t"], data.flat_share)),
    }


def grid_factor(data: CarbonData, year: int) -> GridFactor | None:
    """The year's grid factor; None before the first one the data hold (no
    CO2 from electricity is counted then: no factor is made up)."""
    try:
        return data.factor_for(year)
    except UsageError:
        return None


def _factor_json(grid: GridFactor | None) -> dict[str, Any] | None:
    if grid is None:
        return None
    return {
        "id": grid.id,
        "region": grid.region,
        "factor_t_per_mwh": grid.factor_t_per_mwh,
        "data_year": grid.data_year,
        "source": grid.source,
        "tag": grid.tag,
    }


def _has_data(year: Mapping[str, Any]) -> bool:
    return any(
        year[name] is not None for name in ("main_pollutants_t", "co2_t", "electricity_mwh")
    ) or bool(year["pollutants_t"])


def summary(
    connection: Connection,
    year: int,
    enterprises: Iterable[Any],
    data: CarbonData,
    *,
    through: int = 12,
    keep_empty: bool = False,
) -> dict[str, Any]:
    """The year's carbon beside pollutants of ``enterprises`` (rows with ``id``,
    ``name``, ``county_code``) and of their counties, against the same months
    of the previous year: January to ``through`` (12: the whole year; the
    current year: to its current month). Intensities per unit of output only
    for a whole year (output is annual)."""
    listed = list(enterprises)
    whole = through >= 12
    ids = [row.id for row in listed]
    grid, grid_before = grid_factor(data, year), grid_factor(data, year - 1)
    now, before = (
        read_facts(connection, year, ids, data),
        read_facts(connection, year - 1, ids, data),
    )
    shown: list[dict[str, Any]] = []
    by_county: dict[str, list[tuple[list[dict[str, Any]], list[dict[str, Any]]]]] = {}
    for row in listed:
        months = months_of(now, row.id, grid, data)
        months_before = months_of(before, row.id, grid_before, data)
        current = year_view(months[:through], now.output.get(row.id) if whole else None)
        previous = year_view(months_before[:through], before.output.get(row.id) if whole else None)
        if not keep_empty and not (_has_data(current) or _has_data(previous)):
            continue
        by_county.setdefault(row.county_code, []).append(
            (months[:through], months_before[:through])
        )
        shown.append(
            {
                "id": row.id,
                "name": row.name,
                "county": row.county_code,
                "months": months,
                "year": current,
                "previous": previous,
                **compare(current, previous, data),
            }
        )
    names = dict(connection.execute(select(County.code, County.name_zh)).all())
    counties = []
    for code, parts in sorted(by_county.items()):
        current = year_view([m for months, _ in parts for m in months], None)
        previous = year_view([m for _, months in parts for m in months], None)
        counties.append(
            {
                "code": code,
                "name": names.get(code, code),
                "enterprises": len(parts),
                "year": current,
                "previous": previous,
                **compare(current, previous, data),
            }
        )
    return {
        "year": year,
        "through_month": through,
        "factor": _factor_json(grid),
        "previous_factor": _factor_json(grid_before),
        "enterprises": shown,
        "counties": counties,
    }


def enterprises_of(
    connection: Connection, condition: Any, enterprise_id: int | None = None
) -> list[Any]:
    """The enterprises (id, name, county_code) meeting ``condition`` (a scope)."""
    query = select(Enterprise.id, Enterprise.name, Enterprise.county_code).where(condition)
    if enterprise_id is not None:
        query = query.where(Enterprise.id == enterprise_id)
    return list(connection.execute(query.order_by(Enterprise.id)).all())


def months_to_compare(year: int, today: date) -> int:
    """The months of ``year`` compared with the previous year's: all of a past
    year, January to the current month of the current one."""
    if year < today.year:
        return 12
    return today.month if year == today.year else 0
