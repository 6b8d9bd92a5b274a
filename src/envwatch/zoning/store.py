"""Control units and access lists in the database: import, pre-check and the
mismatches of registered enterprises (I/O around the pure ``geometry`` and
``access``).

Units come from GeoJSON (``import_units``: all or nothing, each problem naming
its feature); a unit whose code is already stored is replaced (its clauses
stay). Clauses come from CSV/XLSX keyed by unit code (``import_clauses``,
with the registry import's row-level errors); a file replaces the clauses of
every unit it names.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator
from sqlalchemy import ColumnElement, Connection, delete, select, true

from envwatch.alerts.scope import Viewer, scope_by
from envwatch.registry.importing import RowError, _Row, read_table, validate_rows
from envwatch.store.schema import AccessClause, ControlUnit, County, Enterprise, PermitLimit
from envwatch.zoning.access import (
    DIMENSIONS,
    EFFECT_WORDS,
    EFFECTS,
    UNIT_TYPES,
    Clause,
    Verdict,
    industry_prefix_problem,
    judge,
    pollutant_code,
)
from envwatch.zoning.geometry import (
    KM_PER_DEGREE_LON_EQUATOR,
    Area,
    UnitIndex,
    area_distance_km,
    area_of,
    distance_km,
)
from envwatch.zoning.units import FeatureProblem, read_units

SETTINGS_FILE = Path(__file__).with_name("zoning.toml")


@dataclass(frozen=True, slots=True)
class ZoningSettings:
    version: str
    nearby_km: float
    sensitive_types: tuple[str, ...]


@cache
def zoning_settings(path: Path = SETTINGS_FILE) -> ZoningSettings:
    """The zoning parameters (``zoning.toml``), checked."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    settings = ZoningSettings(str(data["version"]), float(data["nearby_km"]),
                              tuple(data["sensitive_types"]))  # fmt: skip
    unknown = set(settings.sensitive_types) - set(UNIT_TYPES)
    if unknown or not 0 < settings.nearby_km <= 50:
        raise ValueError(f"{path}: sensitive_types {sorted(unknown)} unknown, or nearby_km "
                         "not in (0, 50]")  # fmt: skip
    return settings


@dataclass(frozen=True, slots=True)
class Unit:
    code: str
    name: str
    unit_type: str
    county_code: str


def import_units(connection: Connection, content: bytes) -> tuple[int, list[FeatureProblem]]:
    """Store the units of a GeoJSON FeatureCollection: (how many, []) or, with
    any problem, (0, every problem) and nothing stored."""
    units, problems = read_units(content)
    counties: dict[str, str] = {}
    for code, name in connection.execute(select(County.code, County.name_zh)):
        counties[code] = code
        counties[name] = code
    for unit in units:
        if unit.county not in counties:
            problems.append(
                FeatureProblem(unit.number, unit.code, f"county {unit.county!r} is not registered")
            )
    if problems:
        problems.sort(key=lambda p: p.number)
        return 0, problems
    stored = set(connection.scalars(select(ControlUnit.code)))
    now = datetime.now(UTC)
    for unit in units:
        bounds = unit.area.bounds
        values: dict[str, Any] = {
            "name": unit.name,
            "unit_type": unit.unit_type,
            "county_code": counties[unit.county],
            "geometry": unit.geometry,
            "west": bounds.west,
            "south": bounds.south,
            "east": bounds.east,
            "north": bounds.north,
            "imported_at": now,
        }
        if unit.code in stored:
            connection.execute(
                ControlUnit.__table__.update()  # type: ignore[attr-defined]
                .where(ControlUnit.code == unit.code)
                .values(**values)
            )
        else:
            connection.execute(
                ControlUnit.__table__.insert(),  # type: ignore[attr-defined]
                {"code": unit.code, **values},
            )
    return len(units), []


class ClauseRow(_Row):
    unit_code: str = Field(alias="单元编码", min_length=1, max_length=32)
    dimension: str = Field(alias="维度")
    effect: str = Field(alias="效力")
    industries: str = Field(alias="行业代码", min_length=1, max_length=200)
    """GB/T 4754 code prefixes, comma-separated, or ``*``."""
    text: str = Field(alias="条款", min_length=2, max_length=2000)
    pollutants: str = Field(default="", alias="污染物", max_length=200)
    """Optional: the clause applies only to what emits one of these (codes or names)."""

    @field_validator("pollutants")
    @classmethod
    def _pollutants(cls, value: str) -> str:
        words = [w.strip() for w in value.replace("，", ",").split(",") if w.strip()]
        return ",".join(dict.fromkeys(pollutant_code(word) for word in words))

    @field_validator("dimension")
    @classmethod
    def _dimension(cls, value: str) -> str:
        if value not in DIMENSIONS:
            raise ValueError(f"not one of {' / '.join(DIMENSIONS)}")
        return value

    @field_validator("effect")
    @classmethod
    def _effect(cls, value: str) -> str:
        effect = EFFECT_WORDS.get(value, value)
        if effect not in EFFECTS:
            raise ValueError("not one of 禁止 / 限制 (forbidden / restricted)")
        return effect

    @field_validator("industries")
    @classmethod
    def _industries(cls, value: str) -> str:
        prefixes = [p.strip() for p in value.replace("，", ",").split(",") if p.strip()]
        for prefix in prefixes:
            problem = industry_prefix_problem(prefix)
            if problem:
                raise ValueError(problem)
        if not prefixes:
            raise ValueError("no industry code prefix")
        return ",".join(prefixes)


def import_clauses(connection: Connection, name: str, content: bytes) -> tuple[int, list[RowError]]:
    """Store the clauses of a CSV/XLSX file (columns 单元编码, 维度, 效力,
    行业代码, 条款, optionally 污染物, or their English field names): (how many, []) or, with
    any problem, (0, every problem) and nothing stored. Raises
    ``ImportFileError`` when the file is not a table at all."""
    rows = read_table(name, content)
    parsed, errors = validate_rows(ClauseRow, rows, first_row=2)
    units = set(connection.scalars(select(ControlUnit.code)))
    for number, record in enumerate(rows, start=2):
        code = record.get("单元编码") or record.get("unit_code") or ""
        if code and code not in units:
            errors.append(RowError(number, "单元编码", f"no control unit with code {code!r}"))
    if errors:
        errors.sort(key=lambda e: e.row)
        return 0, errors
    named = sorted({row.unit_code for row in parsed})
    connection.execute(delete(AccessClause).where(AccessClause.unit_code.in_(named)))
    if parsed:
        connection.execute(
            AccessClause.__table__.insert(),  # type: ignore[attr-defined]
            [row.model_dump() for row in parsed],
        )
    return len(parsed), []


@dataclass(frozen=True, slots=True)
class Zoning:
    """The stored units, their index and their clauses, loaded once."""

    units: Mapping[str, Unit]
    geometries: Mapping[str, dict[str, Any]]
    """Each unit's GeoJSON geometry, as imported."""
    areas: Mapping[str, Area]
    index: UnitIndex
    clauses: Mapping[str, tuple[Clause, ...]]

    def nearby(self, lon: float, lat: float) -> list[tuple[Unit, float]]:
        """The sensitive units (``zoning.toml``) near (lon, lat) that do not
        hold it, nearest first, with their distance in km."""
        settings = zoning_settings()
        reach = settings.nearby_km
        found = []
        for code, unit in self.units.items():
            if unit.unit_type not in settings.sensitive_types:
                continue
            area = self.areas[code]
            box = area.bounds
            # A cheap first test: the box grown by the reach (a degree of
            # longitude is never more than a degree of latitude here).
            margin = reach / KM_PER_DEGREE_LON_EQUATOR / max(math.cos(math.radians(lat)), 0.1)
            if not (box.west - margin <= lon <= box.east + margin
                    and box.south - margin <= lat <= box.north + margin):  # fmt: skip
                continue
            distance = distance_km(area, (lon, lat))
            if 0 < distance <= reach:
                found.append((unit, round(distance, 3)))
        return sorted(found, key=lambda item: (item[1], item[0].code))

    def check(
        self, lon: float, lat: float, industry_code: str, emitted: Collection[str] | None = None
    ) -> tuple[list[Unit], Verdict]:
        """The units at (lon, lat) and the verdict on ``industry_code`` there
        (emitting ``emitted``, HJ 212 codes, when the project says)."""
        codes = self.index.units_at((lon, lat))
        clauses = [clause for code in codes for clause in self.clauses.get(code, ())]
        return [self.units[code] for code in codes], judge(clauses, industry_code, emitted)

    def check_area(
        self, area: Area, industry_code: str, emitted: Collection[str] | None = None
    ) -> tuple[list[Unit], Verdict]:
        """The units a planned project's polygon meets (touching counts) and the
        verdict on ``industry_code`` over all of them (the strictest wins)."""
        codes = self.index.units_meeting(area)
        clauses = [clause for code in codes for clause in self.clauses.get(code, ())]
        return [self.units[code] for code in codes], judge(clauses, industry_code, emitted)

    def nearby_area(self, area: Area) -> list[tuple[Unit, float]]:
        """The sensitive units (``zoning.toml``) near a planned project's polygon
        that it does not meet, nearest first, with their distance in km."""
        settings = zoning_settings()
        reach = settings.nearby_km
        box = area.bounds
        lat = (box.south + box.north) / 2
        margin = reach / KM_PER_DEGREE_LON_EQUATOR / max(math.cos(math.radians(lat)), 0.1)
        found = []
        for code, unit in self.units.items():
            if unit.unit_type not in settings.sensitive_types:
                continue
            near = self.areas[code].bounds
            apart_x = near.west > box.east + margin or near.east < box.west - margin
            if apart_x or near.south > box.north + margin or near.north < box.south - margin:
                continue
            distance = area_distance_km(self.areas[code], area)
            if 0 < distance <= reach:
                found.append((unit, round(distance, 3)))
        return sorted(found, key=lambda item: (item[1], item[0].code))


def load_zoning(connection: Connection, counties: Iterable[str] | None = None) -> Zoning:
    """The units (of ``counties`` only, when given) with their clauses."""
    where: ColumnElement[bool] = (
        ControlUnit.county_code.in_(sorted(counties)) if counties is not None else true()
    )
    units: dict[str, Unit] = {}
    geometries: dict[str, dict[str, Any]] = {}
    areas: dict[str, Area] = {}
    for row in connection.execute(
        select(ControlUnit.code, ControlUnit.name, ControlUnit.unit_type,
               ControlUnit.county_code, ControlUnit.geometry).where(where)
    ):  # fmt: skip
        units[row.code] = Unit(row.code, row.name, row.unit_type, row.county_code)
        geometries[row.code] = row.geometry
        areas[row.code] = area_of(row.geometry)
    clauses: dict[str, list[Clause]] = {}
    for clause in connection.execute(
        select(AccessClause.unit_code, AccessClause.dimension, AccessClause.effect,
               AccessClause.industries, AccessClause.text, AccessClause.pollutants)
        .order_by(AccessClause.id)
    ):  # fmt: skip
        if clause.unit_code in units:
            clauses.setdefault(clause.unit_code, []).append(
                Clause(clause.unit_code, clause.dimension, clause.effect,
                       tuple(clause.industries.split(",")), clause.text,
                       tuple(p for p in (clause.pollutants or "").split(",") if p))
            )  # fmt: skip
    return Zoning(
        units,
        geometries,
        areas,
        UnitIndex(areas.items()),
        {code: tuple(found) for code, found in clauses.items()},
    )


def check_json(units: list[Unit], verdict: Verdict) -> dict[str, Any]:
    """The ``envwatch zoning check --json`` document."""
    return {
        "units": [{"code": u.code, "name": u.name, "type": u.unit_type} for u in units],
        "verdict": verdict.verdict,
        "clauses": [
            {"dimension": c.dimension, "text": c.text, "effect": c.effect} for c in verdict.clauses
        ],
    }


def nearby_json(nearby: list[tuple[Unit, float]]) -> list[dict[str, Any]]:
    """The sensitive units near a planned project, for the API and the page."""
    return [{"code": u.code, "name": u.name, "type": u.unit_type, "distance_km": distance}
            for u, distance in nearby]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Mismatch:
    """A registered enterprise its unit's access list forbids or restricts."""

    enterprise_id: int
    enterprise: str
    county_code: str
    industry_code: str
    unit: Unit
    verdict: Verdict


def mismatches(connection: Connection, viewer: Viewer | None = None) -> list[Mismatch]:
    """Every registered enterprise (in ``viewer``'s scope) with a location and
    an industry code whose own unit (``UnitIndex.home_unit``: on a border, the
    first by code) forbids or restricts its industry; by county, then name."""
    zoning = load_zoning(connection)
    where = (
        scope_by(viewer, Enterprise.county_code, Enterprise.id) if viewer is not None else true()
    )
    # What an enterprise emits, for clauses conditioned on pollutants: its permit's.
    emitted: dict[int, set[str]] = {}
    for enterprise_id, pollutant in connection.execute(
        select(PermitLimit.enterprise_id, PermitLimit.pollutant).distinct()
    ):
        emitted.setdefault(enterprise_id, set()).add(pollutant)
    found: list[Mismatch] = []
    for row in connection.execute(
        select(Enterprise.id, Enterprise.name, Enterprise.county_code, Enterprise.industry_code,
               Enterprise.longitude, Enterprise.latitude)
        .where(where, Enterprise.longitude.is_not(None), Enterprise.latitude.is_not(None),
               Enterprise.industry_code != "")
        .order_by(Enterprise.county_code, Enterprise.name, Enterprise.id)
    ):  # fmt: skip
        home = zoning.index.home_unit((row.longitude, row.latitude))
        if home is None:
            continue
        verdict = judge(zoning.clauses.get(home, ()), row.industry_code,
                        emitted.get(row.id, set()))  # fmt: skip
        if verdict.verdict != "allowed":
            found.append(Mismatch(row.id, row.name, row.county_code, row.industry_code,
                                  zoning.units[home], verdict))  # fmt: skip
    return found


def mismatch_json(mismatch: Mismatch) -> dict[str, Any]:
    return {
        "enterprise_id": mismatch.enterprise_id,
        "enterprise": mismatch.enterprise,
        "county": mismatch.county_code,
        "industry": mismatch.industry_code,
        "unit": {"code": mismatch.unit.code, "name": mismatch.unit.name,
                 "type": mismatch.unit.unit_type},
        **{key: value for key, value in check_json([], mismatch.verdict).items()
           if key != "units"},
    }  # fmt: skip


def enterprise_zoning(connection: Connection, enterprise_id: int) -> dict[str, Any] | None:
    """The units at an enterprise's location and the verdict on its industry
    there (the ``check_json`` document); None without a location."""
    row = connection.execute(
        select(Enterprise.longitude, Enterprise.latitude, Enterprise.industry_code).where(
            Enterprise.id == enterprise_id
        )
    ).one_or_none()
    if row is None or row.longitude is None or row.latitude is None:
        return None
    emitted = set(connection.scalars(
        select(PermitLimit.pollutant).where(PermitLimit.enterprise_id == enterprise_id)
    ))  # fmt: skip
    zoning = load_zoning(connection)
    units, verdict = zoning.check(row.longitude, row.latitude, row.industry_code, emitted)
    return check_json(units, verdict)
