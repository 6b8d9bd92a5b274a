"""The zoning (三线一单) and emergency-list APIs: control units with their
access lists, the pre-check of a planned project, the registered enterprises
their unit's list forbids or restricts (scoped like the alerts), and the
daily compliance of emergency-list lines during a warning (scoped too)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select

from envwatch.auth.sessions import SessionUser
from envwatch.errors import PeerError
from envwatch.registry.emergency_lists import (
    FIRST_DAY,
    LAST_DAY,
    daily_compliance,
    daily_emissions,
    queue_warning_notices,
    warning_assessment,
)
from envwatch.registry.maintenance import (
    EMERGENCY_LEVELS,
    change_emergency,
    declare_emergency,
    declarer,
)
from envwatch.store.schema import MAX_ID, EmergencyPeriod
from envwatch.times import as_data_time
from envwatch.web.crud import invalid
from envwatch.web.errors import ApiError, csrf_failed
from envwatch.web.people import (
    CSRF_HEADER,
    Principal,
    api_person,
    api_user,
    csrf_ok,
    peer_of,
)
from envwatch.zoning.access import parse_emissions
from envwatch.zoning.store import (
    check_json,
    load_zoning,
    mismatch_json,
    mismatches,
    nearby_json,
)
from envwatch.zoning.units import parse_project_polygon

router = APIRouter()
INDUSTRY_CODE = r"^[A-Ta-t]?\d{2,4}$"
MAX_POLYGON_TEXT = 60_000


class UnitRef(BaseModel):
    code: str
    name: str
    type: str = Field(description="优先保护, 重点管控 or 一般管控")


class ClausePublic(BaseModel):
    dimension: str = Field(description="空间布局约束, 污染物排放管控, 环境风险防控 or 资源开发效率")
    text: str
    effect: str = Field(description="forbidden or restricted")


class UnitPublic(UnitRef):
    county: str
    geometry: dict[str, Any] = Field(description="GeoJSON Polygon or MultiPolygon")
    clauses: list[ClausePublic]


class UnitList(BaseModel):
    items: list[UnitPublic]
    total: int


class NearbyUnit(UnitRef):
    distance_km: float


class CheckPublic(BaseModel):
    units: list[UnitRef]
    verdict: str = Field(description="allowed, restricted or forbidden")
    clauses: list[ClausePublic]
    nearby: list[NearbyUnit] = Field(
        description="sensitive units (zoning.toml) near the point that do not hold it"
    )


class MismatchPublic(BaseModel):
    enterprise_id: int
    enterprise: str
    county: str
    industry: str
    unit: UnitRef
    verdict: str
    clauses: list[ClausePublic]


class MismatchList(BaseModel):
    items: list[MismatchPublic]
    total: int


class LineCompliancePublic(BaseModel):
    enterprise: str
    county: str
    grade: str
    line: str
    level: str
    required: str = Field(
        description="stop, cut:<share>, staggered, transport, one of the first three with "
        "+transport, or none"
    )
    measured: float | None = Field(description="kWh in the warning hours of the day")
    baseline: float | None = Field(description="kWh of the same hours, non-warning days")
    status: str = Field(
        description="complied, not_complied, no_data, exempt or not_measurable (a transport "
        "limit alone: not measurable by electricity)"
    )
    evidence: dict[str, Any]


class ComplianceList(BaseModel):
    items: list[LineCompliancePublic]
    total: int


@router.get("/api/v1/zoning/units")
async def zoning_units(request: Request, user: Annotated[Principal, Depends(api_user)]) -> UnitList:
    """Every control unit with its polygon and access list (the zoning plan is
    public to everyone logged in)."""

    def read() -> UnitList:
        with request.app.state.database().connect() as connection:
            zoning = load_zoning(connection)
        items = [
            UnitPublic(code=u.code, name=u.name, type=u.unit_type, county=u.county_code,
                       geometry=zoning.geometries[u.code],
                       clauses=[ClausePublic(dimension=c.dimension, text=c.text, effect=c.effect)
                                for c in zoning.clauses.get(u.code, ())])
            for u in sorted(zoning.units.values(), key=lambda unit: unit.code)
        ]  # fmt: skip
        return UnitList(items=items, total=len(items))

    return await asyncio.to_thread(read)


@router.get("/api/v1/zoning/check")
async def zoning_check(
    request: Request,
    *,
    user: Annotated[Principal, Depends(api_user)],
    industry: Annotated[str, Query(pattern=INDUSTRY_CODE, description="GB/T 4754 code")],
    lon: Annotated[
        float | None, Query(ge=-180, le=180, description="longitude, WGS 84 / CGCS2000")
    ] = None,
    lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
    polygon: Annotated[
        str | None,
        Query(
            max_length=MAX_POLYGON_TEXT,
            description="instead of a point, the project's site: 'lon,lat;lon,lat;...' (one "
            "ring) or a GeoJSON Polygon or MultiPolygon geometry",
        ),
    ] = None,
    emissions: Annotated[
        str | None,
        Query(
            max_length=500,
            description="the project's planned emissions, 'a21026:12.5,VOCs:3' (t/a) or just "
            "'SO2,NOx': clauses conditioned on pollutants then apply only to what it emits "
            "(without it, they are taken to apply)",
        ),
    ] = None,
) -> CheckPublic:
    """Pre-check of a planned project (环评与监管联动), at a point (``lon``,
    ``lat``) or over its site's polygon (``polygon``): the units it lies in
    or meets (on a border: each), the verdict (the strictest wins), the
    clauses that apply, and the sensitive units nearby."""
    if (polygon is None) == (lon is None or lat is None) or (lon is None) != (lat is None):
        raise ApiError(422, "point_or_polygon", "give either lon and lat, or a polygon",
                       "请给出经纬度或项目范围多边形（二选一）")  # fmt: skip
    area = None
    if polygon is not None:
        try:
            _, area = parse_project_polygon(polygon)
        except ValueError as error:
            raise invalid("query.polygon", str(error), f"项目范围无效：{error}") from None
    emitted = None
    if emissions is not None:
        try:
            emitted = set(parse_emissions(emissions))
        except ValueError as error:
            raise invalid("query.emissions", str(error), f"计划排放无效：{error}") from None

    def read() -> CheckPublic:
        with request.app.state.database().connect() as connection:
            zoning = load_zoning(connection)
        if area is not None:
            units, verdict = zoning.check_area(area, industry, emitted)
            nearby = nearby_json(zoning.nearby_area(area))
        else:
            assert lon is not None and lat is not None
            units, verdict = zoning.check(lon, lat, industry, emitted)
            nearby = nearby_json(zoning.nearby(lon, lat))
        return CheckPublic.model_validate({**check_json(units, verdict), "nearby": nearby})

    return await asyncio.to_thread(read)


@router.get("/api/v1/zoning/mismatches")
async def zoning_mismatches(
    request: Request, user: Annotated[Principal, Depends(api_user)]
) -> MismatchList:
    """Registered enterprises in the user's scope whose own unit forbids or
    restricts their industry, by county."""

    def read() -> MismatchList:
        with request.app.state.database().connect() as connection:
            found = mismatches(connection, user)
        items = [MismatchPublic.model_validate(mismatch_json(m)) for m in found]
        return MismatchList(items=items, total=len(items))

    return await asyncio.to_thread(read)


@router.get("/api/v1/emergency/compliance")
async def emergency_compliance(
    request: Request,
    user: Annotated[Principal, Depends(api_user)],
    day: Annotated[
        date, Query(ge=FIRST_DAY, le=LAST_DAY, description="YYYY-MM-DD, China Standard Time")
    ],
) -> ComplianceList:
    """Each emergency-list line in the user's scope under a warning on the day:
    electricity against its baseline and its required measure."""

    def read() -> ComplianceList:
        with request.app.state.database().connect() as connection:
            report = daily_compliance(connection, day, user)
        items = [LineCompliancePublic.model_validate(row.as_json()) for row in report]
        return ComplianceList(items=items, total=len(items))

    return await asyncio.to_thread(read)


class EmissionCompliancePublic(BaseModel):
    enterprise: str
    county: str
    grade: str
    pollutant: str = Field(description="HJ 212 code: a21026 SO2, a21002 NOx, a34013 PM, a24088")
    pollutant_name: str
    level: str
    required_cut: float = Field(description="the share the level requires cut of the grade")
    emission_kg: float | None = Field(description="kg in the warning hours of the day")
    baseline_kg: float | None = Field(description="kg in the same hours, non-warning days")
    achieved_cut: float | None
    status: str = Field(description="complied, not_complied, no_data or exempt")
    evidence: dict[str, Any]


class EmissionComplianceList(BaseModel):
    items: list[EmissionCompliancePublic]
    total: int


@router.get("/api/v1/emergency/emissions")
async def emergency_emissions(
    request: Request,
    user: Annotated[Principal, Depends(api_user)],
    day: Annotated[
        date, Query(ge=FIRST_DAY, le=LAST_DAY, description="YYYY-MM-DD, China Standard Time")
    ],
) -> EmissionComplianceList:
    """The emissions view of a warning day, beside the electricity one: each
    listed enterprise's hourly emissions of SO2, NOx, PM and VOCs in the
    warning hours against the same hours of non-warning days, and the cut its
    level requires (in the user's scope)."""

    def read() -> EmissionComplianceList:
        with request.app.state.database().connect() as connection:
            report = daily_emissions(connection, day, user)
        items = [EmissionCompliancePublic.model_validate(row.as_json()) for row in report]
        return EmissionComplianceList(items=items, total=len(items))

    return await asyncio.to_thread(read)


class AssessmentGroup(BaseModel):
    group: str = Field(description="a county code, a grade, or all")
    line_days: int
    complied: int
    not_complied: int
    no_data: int
    exempt: int
    not_measurable: int
    baseline_kwh: float
    measured_kwh: float
    required_reduction_kwh: float
    achieved_reduction_kwh: float
    achieved_share_of_required: float | None


class AssessedWarning(BaseModel):
    id: int
    level: str
    starts_at: str
    ends_at: str
    county_code: str | None
    reference: str


class AssessmentPublic(BaseModel):
    warning: AssessedWarning
    by_county: list[AssessmentGroup]
    by_grade: list[AssessmentGroup]
    total: list[AssessmentGroup]


@router.get("/api/v1/emergency/warnings/{warning_id}/assessment")
async def emergency_assessment(
    request: Request,
    user: Annotated[Principal, Depends(api_user)],
    warning_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> AssessmentPublic:
    """After a warning: reduction required against achieved, by county and by
    grade, over the lines in the user's scope."""

    def read() -> AssessmentPublic:
        with request.app.state.database().connect() as connection:
            document = warning_assessment(connection, warning_id, user)
        if document is None:
            raise ApiError(404, "unknown_warning", f"no warning period {warning_id}",
                           f"没有编号为{warning_id}的预警时段")  # fmt: skip
        return AssessmentPublic.model_validate(document)

    return await asyncio.to_thread(read)


class DeclareWarning(BaseModel):
    """A heavy-pollution-weather warning to declare (times China Standard Time)."""

    model_config = ConfigDict(extra="forbid")

    level: str = Field(description=" / ".join(EMERGENCY_LEVELS), max_length=16)
    starts_at: datetime
    ends_at: datetime
    county_code: str | None = Field(
        default=None, pattern=r"^\d{6}$", description="a county's warning; none: the city's"
    )
    reference: str = Field(
        default="",
        max_length=200,
        pattern=r"^[^\x00-\x1f]*$",
        description="the notice that declared it (文号)",
    )

    @field_validator("starts_at", "ends_at")
    @classmethod
    def _plausible(cls, value: datetime) -> datetime:
        if not FIRST_DAY.year <= value.year <= LAST_DAY.year:
            raise ValueError(f"a time between {FIRST_DAY.year} and {LAST_DAY.year}")
        return value


@router.post("/api/v1/emergency/warnings", status_code=201)
async def declare_warning(
    request: Request, body: DeclareWarning, user: Annotated[SessionUser, Depends(api_person)]
) -> Any:
    """Declare a warning (the city's: city supervisors and administrators; a
    county's: also its county officers; needs X-CSRF-Token). Each enterprise it
    covers is notified at once through the outbox, with its own measures:
    ``{"id", "notices"}``."""
    if not csrf_ok(user, request.headers.get(CSRF_HEADER)):
        raise csrf_failed()
    starts_at, ends_at = as_data_time(body.starts_at), as_data_time(body.ends_at)

    def change() -> dict[str, int]:
        with request.app.state.database().begin() as connection:
            actor = declarer(connection, user.username, peer_of(request),
                             county_code=body.county_code)  # fmt: skip
            period_id = declare_emergency(
                connection, level=body.level, starts_at=starts_at, ends_at=ends_at,
                county_code=body.county_code, reference=body.reference,
                declared_by=actor.name, actor=actor,
            )  # fmt: skip
            notices = queue_warning_notices(connection, period_id, datetime.now(UTC))
        return {"id": period_id, "notices": notices}

    try:
        created = await asyncio.to_thread(change)
    except PeerError as error:
        status = 403 if error.code == "not_allowed" else 422
        raise ApiError(status, error.code, error.message_en, error.message_zh) from None
    return JSONResponse(created, status_code=201)


class ChangeWarning(BaseModel):
    """From ``at`` on (China Standard Time), the warning is lifted (``level``
    null) or upgraded or downgraded to ``level``."""

    model_config = ConfigDict(extra="forbid")

    at: datetime
    level: str | None = Field(default=None, description=" / ".join(EMERGENCY_LEVELS) + " or null")

    @field_validator("at")
    @classmethod
    def _plausible(cls, value: datetime) -> datetime:
        if not FIRST_DAY.year <= value.year <= LAST_DAY.year:
            raise ValueError(f"a time between {FIRST_DAY.year} and {LAST_DAY.year}")
        return value


@router.post("/api/v1/emergency/warnings/{warning_id}/change")
async def change_warning(
    request: Request,
    warning_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    body: ChangeWarning,
    user: Annotated[SessionUser, Depends(api_person)],
) -> Any:
    """Upgrade, downgrade or lift a warning from a moment on (who may declare
    it may change it; needs X-CSRF-Token; audited). The period ends there; a
    new level continues as a new period, whose enterprises are notified with
    their measures at it: ``{"id": the new period or null, "notices"}``."""
    if not csrf_ok(user, request.headers.get(CSRF_HEADER)):
        raise csrf_failed()
    at = as_data_time(body.at)

    def change() -> dict[str, int | None]:
        with request.app.state.database().begin() as connection:
            found = connection.execute(
                select(EmergencyPeriod.county_code).where(EmergencyPeriod.id == warning_id)
            ).first()
            if found is None:
                raise PeerError("unknown_warning", f"no warning period {warning_id}",
                                f"没有编号为{warning_id}的预警时段")  # fmt: skip
            county = found.county_code
            actor = declarer(connection, user.username, peer_of(request), county_code=county)
            new_id = change_emergency(connection, warning_id, at=at, level=body.level,
                                      declared_by=actor.name, actor=actor)  # fmt: skip
            notices = (queue_warning_notices(connection, new_id, datetime.now(UTC))
                       if new_id is not None else 0)  # fmt: skip
        return {"id": new_id, "notices": notices}

    try:
        return await asyncio.to_thread(change)
    except PeerError as error:
        status = {"not_allowed": 403, "unknown_warning": 404}.get(error.code, 422)
        raise ApiError(status, error.code, error.message_en, error.message_zh) from None
