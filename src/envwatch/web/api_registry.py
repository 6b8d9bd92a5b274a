"""The registry API: enterprises, outlets, monitoring points and their factors,
permit limits, meters and operation contractors (read in scope; written by
city administrators, every change audited), registry imports and exports as
jobs with progress, and the coverage gaps (应装尽装、应联尽联) behind the counts.

Reads are for everyone logged in, within their scope (``scope_by``): what is
out of scope answers 404 as if it did not exist. Device passwords (PW) are
shown to city administrators only. Changes need a city administrator and the
session's CSRF token in ``X-CSRF-Token``; each is one transaction with its
audit entry (before and after; a PW is recorded as changed, never in clear).

Deleting never harms data: an enterprise, outlet or contractor that others
still refer to, a point that has sent data or a meter with readings answers
409 with a code naming why (``enterprise_in_use``, ``point_has_data``, ...)
and the counts of what holds it. A point with data is taken out of service
with ``PATCH {"active": false}`` instead, as a registry keeps its history.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    delete,
    insert,
    literal,
    or_,
    select,
)

from envwatch.alerts.queries import CITY_ROLES, Viewer, scope_by
from envwatch.audit.log import Actor
from envwatch.auth.sessions import SessionUser
from envwatch.glossary import factor
from envwatch.hj212 import ProtocolVersion
from envwatch.hj212.codes import now_cst
from envwatch.ledger.positive import follow_flag, forget_enterprise
from envwatch.registry.coverage import EnterpriseGap, PointGap, gaps
from envwatch.registry.export import EXPORT_FORMATS, MEDIA_TYPES
from envwatch.registry.importing import KEY_CATEGORIES, MN_PATTERN, PW_PATTERN, ImportKind
from envwatch.registry.jobs import (
    create_job,
    job_view,
    read_job,
    run_export,
    run_import,
    submit,
)
from envwatch.registry.limits import AveragingPeriod
from envwatch.rules.shifts import format_shifts, parse_shifts
from envwatch.settings import get_settings
from envwatch.store.schema import (
    MAX_ID,
    Alert,
    ApiToken,
    AppUser,
    ArchivedFrame,
    Contractor,
    County,
    ElectricityReading,
    EnforcementCase,
    Enterprise,
    FindingRecord,
    MaintenanceWindow,
    Measurement,
    Meter,
    MeterLink,
    MonitoringPoint,
    Outlet,
    PermitLimit,
    PointFactor,
    QuotaEntry,
    RectificationLink,
    RectificationProblem,
)
from envwatch.times import utc_as_cst_text
from envwatch.web.crud import ListFilter, Resource, View, counts_by, envelope, invalid, mount, page
from envwatch.web.errors import ApiError, csrf_failed
from envwatch.web.people import CSRF_HEADER, api_user, csrf_ok, peer_of

router = APIRouter()
PREFIX = "/api/v1/registry"
MAX_IMPORT_BYTES = 8 << 20
"""The largest import file [bytes]: 100 000 rows of CSV fit well below it."""
XLSX_TYPE = MEDIA_TYPES["xlsx"]

CREDIT_CODE = r"^[0-9A-HJ-NPQRTUWXY]{18}$"
"""The unified social credit code (统一社会信用代码, GB 32100): 18 characters, no I O Z S V."""
KeyCategory = Literal["air", "water", "chemical_park", "acid", "hazardous_waste", "medical"]
assert set(KeyCategory.__args__) == KEY_CATEGORIES  # type: ignore[attr-defined]

"""The largest id the databases' INTEGER holds: a larger one is an invalid request."""
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=MAX_ID)]
RowId = Annotated[int, Path(ge=1, le=MAX_ID)]
IdFilter = Annotated[int | None, Query(ge=1, le=MAX_ID)]
MnPath = Annotated[str, Path(pattern=r"^[0-9A-Za-z_\-]{1,32}$")]
"""An MN in a path, as loosely as the column holds it: devices registered before the
format was checked stay reachable."""
Search = Annotated[str | None, Query(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f]+$")]


# ---- errors ---------------------------------------------------------------


def unknown(entity: str, key: object) -> ApiError:
    names = {"job": "任务", "county": "区县"}
    return ApiError(404, f"unknown_{entity}", f"no {entity} {key}",
                    f"没有{names[entity]}{key}，或您无权查看")  # fmt: skip


# ---- who asks -------------------------------------------------------------


async def registry_writer(
    request: Request, user: Annotated[Viewer, Depends(api_user)]
) -> SessionUser:
    """A city administrator's session sending its CSRF token: who may change the registry."""
    if not isinstance(user, SessionUser) or user.role != "city_admin":
        raise ApiError(403, "forbidden", "only city administrators change the registry",
                       "仅市局管理员可修改基础名录")  # fmt: skip
    if not csrf_ok(user, request.headers.get(CSRF_HEADER)):
        raise csrf_failed()
    return user


Writer = Annotated[SessionUser, Depends(registry_writer)]


def _admin_reader(user: Viewer) -> None:
    if user.role != "city_admin":
        raise ApiError(403, "forbidden", "registry jobs are for city administrators",
                       "仅市局管理员可查看导入导出任务")  # fmt: skip


def _supervisor(user: Viewer) -> None:
    if user.role not in CITY_ROLES and user.role != "county_officer":
        raise ApiError(403, "forbidden", "coverage is for supervisors", "仅监管人员可查看")


def _actor(request: Request, user: SessionUser) -> Actor:
    return Actor(user.username, user.role, peer_of(request))


def _engine(request: Request) -> Any:
    return request.app.state.database()


# ---- schemas --------------------------------------------------------------


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)

    @field_validator("*", mode="after")
    @classmethod
    def _printable(cls, value: object) -> object:
        # Control characters have no place in a registry (and PostgreSQL refuses NUL).
        if isinstance(value, str) and any(ord(c) < 32 for c in value):
            raise ValueError("control characters are not allowed")
        return value


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def _known_factor(value: str) -> str:
    if factor(value) is None:
        raise ValueError(f"{value} is not an HJ 212-2017 factor code (envwatch/glossary.py)")
    return value


PerformanceGrade = Literal["", "A+", "A", "B", "C", "D"]


def _declared_shifts(value: str | None) -> str | None:
    """Shifts as ``HH:MM-HH:MM`` separated by commas, written back tidy."""
    return None if value is None else format_shifts(parse_shifts(value))


class EnterpriseCreate(_In):
    name: str = Field(min_length=2, max_length=200)
    credit_code: str = Field(pattern=CREDIT_CODE)
    county_code: str = Field(pattern=r"^[0-9]{6}$")
    industry_code: str = Field(default="", pattern=r"^([0-9]{2,4})?$")
    """The national economy industry code (GB/T 4754), 2 to 4 digits."""
    key_categories: list[KeyCategory] = Field(default_factory=list, max_length=6)
    """Empty: not a key enterprise (重点排污单位)."""
    longitude: float | None = Field(default=None, ge=73, le=136)
    latitude: float | None = Field(default=None, ge=3, le=54)
    positive_list: bool = False
    performance_grade: PerformanceGrade = ""
    """Heavy-pollution-weather performance grade (绩效分级); empty: none."""
    emergency_exempt: bool = False
    """Exempt from heavy-pollution-weather cuts (民生保障类 and the like)."""
    work_shifts: str = Field(default="", max_length=64)
    """Declared production hours, e.g. ``08:00-16:00,22:00-06:00``."""

    _shifts = field_validator("work_shifts")(_declared_shifts)


class EnterpriseUpdate(_In):
    name: str | None = Field(default=None, min_length=2, max_length=200)
    credit_code: str | None = Field(default=None, pattern=CREDIT_CODE)
    county_code: str | None = Field(default=None, pattern=r"^[0-9]{6}$")
    industry_code: str | None = Field(default=None, pattern=r"^([0-9]{2,4})?$")
    key_categories: list[KeyCategory] | None = Field(default=None, max_length=6)
    longitude: float | None = Field(default=None, ge=73, le=136)
    latitude: float | None = Field(default=None, ge=3, le=54)
    positive_list: bool | None = None
    performance_grade: PerformanceGrade | None = None
    emergency_exempt: bool | None = None
    work_shifts: str | None = Field(default=None, max_length=64)

    _shifts = field_validator("work_shifts")(_declared_shifts)


class EnterprisePublic(_Out):
    id: int
    name: str
    credit_code: str
    county_code: str
    industry_code: str
    key_categories: list[str]
    longitude: float | None
    latitude: float | None
    positive_list: bool
    performance_grade: str
    emergency_exempt: bool
    work_shifts: str

    @field_validator("key_categories", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return [p for p in value.split(",") if p] if isinstance(value, str) else value


class OutletCreate(_In):
    enterprise_id: int = Field(gt=0, le=MAX_ID)
    code: str = Field(pattern=r"^D[AW][0-9]{3}$")
    """DA001 (air) or DW001 (water), as the discharge permit numbers it."""
    name: str = Field(min_length=1, max_length=100)
    kind: Literal["air", "water"]
    longitude: float | None = Field(default=None, ge=73, le=136)
    latitude: float | None = Field(default=None, ge=3, le=54)
    height_m: float | None = Field(default=None, gt=0, le=400)
    reheated: bool = False
    """Flue gas reheated after wet desulfurisation (MGGH): it leaves hot."""


class OutletUpdate(_In):
    code: str | None = Field(default=None, pattern=r"^D[AW][0-9]{3}$")
    name: str | None = Field(default=None, min_length=1, max_length=100)
    kind: Literal["air", "water"] | None = None
    longitude: float | None = Field(default=None, ge=73, le=136)
    latitude: float | None = Field(default=None, ge=3, le=54)
    height_m: float | None = Field(default=None, gt=0, le=400)
    reheated: bool | None = None


class OutletPublic(_Out):
    id: int
    enterprise_id: int
    code: str
    name: str
    kind: str
    longitude: float | None
    latitude: float | None
    height_m: float | None
    reheated: bool


class FactorIn(_In):
    code: str = Field(min_length=1, max_length=16)
    unit: str | None = Field(default=None, max_length=16)
    """None: the glossary's unit of the factor."""

    _known = field_validator("code")(_known_factor)


class FactorPublic(BaseModel):
    code: str
    unit: str
    name_zh: str
    name_en: str


def _unique_factors(value: list[FactorIn] | None) -> list[FactorIn] | None:
    if value is not None and len({f.code for f in value}) != len(value):
        raise ValueError("a factor is listed twice")
    return value


class PointCreate(_In):
    mn: str = Field(pattern=MN_PATTERN)
    pw: str = Field(pattern=PW_PATTERN)
    enterprise_id: int = Field(gt=0, le=MAX_ID)
    outlet_id: int | None = Field(default=None, gt=0, le=MAX_ID)
    """None for the HJ 212 device of an electricity meter."""
    st: str = Field(default="32", pattern=r"^[0-9A-Z]{2}$")
    protocol_version: ProtocolVersion = ProtocolVersion.HJ212_2017
    lenient: bool = True
    verify_crc: bool = True
    verify_length: bool = True
    active: bool = True
    contractor_id: int | None = Field(default=None, gt=0, le=MAX_ID)
    factors: list[FactorIn] = Field(default_factory=list, max_length=64)

    _unique = field_validator("factors")(_unique_factors)


class PointUpdate(_In):
    pw: str | None = Field(default=None, pattern=PW_PATTERN)
    outlet_id: int | None = Field(default=None, gt=0, le=MAX_ID)
    st: str | None = Field(default=None, pattern=r"^[0-9A-Z]{2}$")
    protocol_version: ProtocolVersion | None = None
    lenient: bool | None = None
    verify_crc: bool | None = None
    verify_length: bool | None = None
    active: bool | None = None
    contractor_id: int | None = Field(default=None, gt=0, le=MAX_ID)
    factors: list[FactorIn] | None = Field(default=None, max_length=64)
    """The point's factors, all of them: the list replaces the stored one."""

    _unique = field_validator("factors")(_unique_factors)


class PointPublic(BaseModel):
    mn: str
    pw: str | None
    """Shown to city administrators only."""
    enterprise_id: int | None
    outlet_id: int | None
    st: str
    protocol_version: str
    lenient: bool
    verify_crc: bool
    verify_length: bool
    active: bool
    contractor_id: int | None
    factors: list[FactorPublic]


class LimitCreate(_In):
    enterprise_id: int = Field(gt=0, le=MAX_ID)
    outlet_id: int | None = Field(default=None, gt=0, le=MAX_ID)
    pollutant: str = Field(min_length=1, max_length=16)
    limit_value: float = Field(gt=0)
    """The upper bound (pH 6-9: 9)."""
    lower_value: float | None = Field(default=None, ge=0)
    """The lower bound of a two-sided limit (pH 6-9: 6)."""
    averaging_period: AveragingPeriod | None = None
    """What the limit is judged on: 1h, 24h or instant; null: the outlet kind's
    usual period (air 1h, water 24h)."""
    unit: str = Field(min_length=1, max_length=16)
    reference_o2: float | None = Field(default=None, ge=0, lt=21)
    """Reference O2 of flue-gas limits [%]."""
    basis: str = Field(default="", max_length=64)
    annual_tonnes: float | None = Field(default=None, ge=0)
    valid_from: date
    valid_to: date | None = None

    _known = field_validator("pollutant")(_known_factor)

    @model_validator(mode="after")
    def _period(self) -> LimitCreate:
        if self.valid_to is not None and self.valid_to <= self.valid_from:
            raise ValueError("valid_to must follow valid_from")
        if self.lower_value is not None and self.lower_value >= self.limit_value:
            raise ValueError("lower_value must be below limit_value")
        return self


class LimitUpdate(_In):
    limit_value: float | None = Field(default=None, gt=0)
    lower_value: float | None = Field(default=None, ge=0)
    averaging_period: AveragingPeriod | None = None
    unit: str | None = Field(default=None, min_length=1, max_length=16)
    reference_o2: float | None = Field(default=None, ge=0, lt=21)
    basis: str | None = Field(default=None, max_length=64)
    annual_tonnes: float | None = Field(default=None, ge=0)
    valid_from: date | None = None
    valid_to: date | None = None


class LimitPublic(_Out):
    id: int
    enterprise_id: int
    outlet_id: int | None
    pollutant: str
    limit_value: float
    lower_value: float | None
    averaging_period: AveragingPeriod | None
    unit: str
    reference_o2: float | None
    basis: str
    annual_tonnes: float | None
    valid_from: date
    valid_to: date | None

    @field_validator("valid_from", "valid_to", mode="before")
    @classmethod
    def _day(cls, value: object) -> object:
        return value.date() if isinstance(value, datetime) else value


class MeterCreate(_In):
    enterprise_id: int = Field(gt=0, le=MAX_ID)
    name: str = Field(min_length=1, max_length=100)
    kind: Literal["production", "treatment", "total"]
    rated_kw: float | None = Field(default=None, gt=0)
    mn: str | None = Field(default=None, pattern=MN_PATTERN)
    """Set when the meter reports over HJ 212 (its device is a monitoring point)."""
    outlet_id: int | None = Field(default=None, gt=0, le=MAX_ID)
    serves: list[Annotated[int, Field(gt=0, le=MAX_ID)]] = Field(default_factory=list,
                                                                 max_length=64)  # fmt: skip
    """A treatment meter's production meters (产治关联), of the same enterprise;
    empty: it serves every production circuit of its enterprise."""


class MeterUpdate(_In):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    kind: Literal["production", "treatment", "total"] | None = None
    rated_kw: float | None = Field(default=None, gt=0)
    mn: str | None = Field(default=None, pattern=MN_PATTERN)
    outlet_id: int | None = Field(default=None, gt=0, le=MAX_ID)
    serves: list[Annotated[int, Field(gt=0, le=MAX_ID)]] | None = Field(default=None,
                                                                        max_length=64)  # fmt: skip
    """The production meters it serves, all of them: the list replaces the stored one."""


class MeterPublic(_Out):
    id: int
    enterprise_id: int
    name: str
    kind: str
    rated_kw: float | None
    mn: str | None
    outlet_id: int | None
    serves: list[int] = Field(default_factory=list)


class ContractorCreate(_In):
    name: str = Field(min_length=2, max_length=200)
    credit_code: str = Field(pattern=CREDIT_CODE)


class ContractorUpdate(_In):
    name: str | None = Field(default=None, min_length=2, max_length=200)
    credit_code: str | None = Field(default=None, pattern=CREDIT_CODE)


class ContractorPublic(_Out):
    id: int
    name: str
    credit_code: str


# ---- scope and checks -----------------------------------------------------


def _in_scope(user: Viewer) -> ColumnElement[bool]:
    return scope_by(user, Enterprise.county_code, Enterprise.id)


def _point_scope(user: Viewer) -> ColumnElement[bool]:
    # A contractor sees the devices it runs (the device column of the scope rule).
    return scope_by(user, Enterprise.county_code, Enterprise.id, MonitoringPoint.mn)  # type: ignore[call-arg,unused-ignore]


def _of_enterprises_in_scope(table: Any) -> Callable[[Viewer], Select[Any]]:
    """The rows of ``table`` whose enterprise the viewer may see."""

    def scoped(user: Viewer) -> Select[Any]:
        return (
            select(table)
            .join(Enterprise, table.enterprise_id == Enterprise.id)
            .where(_in_scope(user))
        )

    return scoped


def _county_exists(connection: Connection, code: str) -> None:
    if connection.execute(select(County.code).where(County.code == code)).scalar() is None:
        raise invalid("body.county_code", f"unknown county {code}", f"区县代码{code}不存在")


def _credit_code_free(
    connection: Connection, table: Any, code: str, own_id: int | None = None
) -> None:
    holder = connection.execute(select(table.id).where(table.credit_code == code)).scalar()
    if holder is not None and holder != own_id:
        raise ApiError(409, "duplicate_credit_code", f"credit code {code} is registered already",
                       f"统一社会信用代码{code}已登记", holder=holder)  # fmt: skip


def _enterprise_exists(connection: Connection, enterprise_id: int) -> None:
    if connection.execute(select(Enterprise.id).where(Enterprise.id == enterprise_id)).scalar():
        return
    raise invalid("body.enterprise_id", f"no enterprise {enterprise_id}",
                  f"没有编号为{enterprise_id}的企业")  # fmt: skip


def _outlet_of(connection: Connection, outlet_id: int | None, enterprise_id: int | None) -> None:
    if outlet_id is None:
        return
    owner = connection.execute(select(Outlet.enterprise_id).where(Outlet.id == outlet_id)).scalar()
    if owner is None or owner != enterprise_id:
        raise invalid("body.outlet_id", f"no outlet {outlet_id} at enterprise {enterprise_id}",
                      f"该企业没有编号为{outlet_id}的排放口")  # fmt: skip


def _contractor_exists(connection: Connection, contractor_id: int | None) -> None:
    if contractor_id is None:
        return
    if connection.execute(select(Contractor.id).where(Contractor.id == contractor_id)).scalar():
        return
    raise invalid("body.contractor_id", f"no contractor {contractor_id}",
                  f"没有编号为{contractor_id}的运维单位")  # fmt: skip


# ---- enterprises ----------------------------------------------------------


def _categories(values: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(values)
    out.pop("positive_list", None)  # no column: the register's (ledger/positive.py)
    if out.get("key_categories") is not None:
        out["key_categories"] = ",".join(out["key_categories"])
    return out


def enterprise_counts(connection: Connection, ids: list[int]) -> dict[int, dict[str, int]]:
    """Outlets, points (monitors, not meters' devices) and meters of each enterprise."""
    meter_mns = select(Meter.mn).where(Meter.mn.is_not(None))
    outlets = counts_by(connection, Outlet.enterprise_id, ids)
    points = counts_by(connection, MonitoringPoint.enterprise_id, ids,
                       MonitoringPoint.mn.not_in(meter_mns))  # fmt: skip
    meters = counts_by(connection, Meter.enterprise_id, ids)
    return {i: {"outlets": outlets.get(i, 0), "points": points.get(i, 0),
                "meters": meters.get(i, 0)} for i in ids}  # fmt: skip


@dataclass(frozen=True, slots=True)
class EnterpriseFilter:
    """The filters of the enterprise list, as SQL conditions (pure)."""

    county: str | None = None
    industry: str | None = None
    key_category: str | None = None
    q: str | None = None
    positive_list: bool | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.county:
            found.append(Enterprise.county_code == self.county)
        if self.industry:
            found.append(Enterprise.industry_code.startswith(self.industry, autoescape=True))
        if self.key_category == "any":
            found.append(Enterprise.key_categories != "")
        elif self.key_category == "none":
            found.append(Enterprise.key_categories == "")
        elif self.key_category:
            listed = literal(",") + Enterprise.key_categories + literal(",")
            found.append(listed.contains(f",{self.key_category},", autoescape=True))
        if self.q:
            found.append(
                or_(
                    Enterprise.name.contains(self.q, autoescape=True),
                    Enterprise.credit_code.contains(self.q.upper(), autoescape=True),
                )
            )
        if self.positive_list is not None:
            found.append(Enterprise.positive_list.is_(self.positive_list))
        return found


def _enterprise_views(connection: Connection, _user: Viewer, rows: list[Any]) -> list[View]:
    counts = enterprise_counts(connection, [row.id for row in rows])
    return [{**EnterprisePublic.model_validate(row).model_dump(), **counts[row.id]}
            for row in rows]  # fmt: skip


def _enterprises_in_scope(user: Viewer) -> Select[Any]:
    return select(Enterprise).where(_in_scope(user))


def list_enterprises(
    connection: Connection, user: Viewer, where: EnterpriseFilter, limit: int, offset: int
) -> dict[str, Any]:
    """The enterprise list of the API and the registry page, with counts."""
    query = _enterprises_in_scope(user).where(*where.conditions())
    rows, total = page(connection, query, [Enterprise.id], limit, offset)
    return envelope(_enterprise_views(connection, user, rows), total, limit, offset)


def _follow_positive_flag(connection: Connection, key: object, values: dict[str, Any]) -> None:
    """The ``positive_list`` flag sent makes or closes an entry of the enforcement
    positive list's register, whose open entry the flag is read from."""
    if values.get("positive_list") is not None:
        follow_flag(connection, int(str(key)), bool(values["positive_list"]), now_cst().date(),
                    Actor("registry", "system", "api"))  # fmt: skip


def _check_new_enterprise(connection: Connection, body: EnterpriseCreate) -> None:
    _county_exists(connection, body.county_code)
    _credit_code_free(connection, Enterprise, body.credit_code)


def _check_enterprise_change(connection: Connection, before: View, values: dict[str, Any]) -> None:
    if "county_code" in values:
        _county_exists(connection, values["county_code"])
    if "credit_code" in values:
        _credit_code_free(connection, Enterprise, values["credit_code"], before["id"])


County6 = Annotated[str | None, Query(pattern=r"^[0-9]{6}$")]
KeyCategoryFilter = Annotated[
    str | None, Query(pattern=r"^(air|water|chemical_park|acid|hazardous_waste|medical|any|none)$")
]

ENTERPRISES: Resource[EnterpriseCreate, EnterpriseUpdate] = Resource(
    name="enterprise", name_zh="企业", collection="/enterprises",
    table=Enterprise, key=Enterprise.id, key_param="enterprise_id", key_type=RowId,
    public=EnterprisePublic, create=EnterpriseCreate, update=EnterpriseUpdate,
    scoped=_enterprises_in_scope,
    filters=(
        ListFilter("county", County6),
        ListFilter("industry", Annotated[str | None, Query(pattern=r"^[0-9]{1,4}$")]),
        ListFilter("key_category", KeyCategoryFilter),
        ListFilter("q", Search),
        ListFilter("positive_list", bool | None),
    ),
    where=lambda given: EnterpriseFilter(**given).conditions(),
    list_doc="Enterprises in scope with counts of outlets, points and meters: ``county``, "
    "``industry`` (code prefix), ``key_category`` (a category, ``any`` or ``none``), "
    "``q`` (in the name or credit code), ``positive_list``.",
    nullable=frozenset({"longitude", "latitude"}),
    views=_enterprise_views,
    row_values=_categories,
    after_write=_follow_positive_flag,
    check_create=_check_new_enterprise,
    check_update=_check_enterprise_change,
    holders=lambda key: {
        "outlets": Outlet.enterprise_id == key,
        "points": MonitoringPoint.enterprise_id == key,
        "meters": Meter.enterprise_id == key,
        "limits": PermitLimit.enterprise_id == key,
        "users": AppUser.enterprise_id == key,
        "tokens": ApiToken.enterprise_id == key,
        "alerts": Alert.enterprise_id == key,
        "cases": EnforcementCase.enterprise_id == key,
        # Rectification problems about the enterprise (集中整改), named or linked.
        "problems": RectificationProblem.enterprise_id == key,
        "problem_links": (RectificationLink.kind == "enterprise")
        & (RectificationLink.ref_id == key),
        # A county's total-quantity ledger (ledger/quota_store.py) never changes silently.
        "quota_entries": QuotaEntry.enterprise_id == key,
    },
    in_use_code="enterprise_in_use",
    cleanup=lambda connection, key: forget_enterprise(connection, int(str(key))),
)  # fmt: skip


# ---- outlets --------------------------------------------------------------


def _outlet_code_free(
    connection: Connection, enterprise_id: int, code: str, own_id: int | None = None
) -> None:
    holder = connection.execute(
        select(Outlet.id).where(Outlet.enterprise_id == enterprise_id, Outlet.code == code)
    ).scalar()
    if holder is not None and holder != own_id:
        raise ApiError(409, "duplicate_outlet", f"the enterprise has an outlet {code} already",
                       f"该企业已有排放口{code}", holder=holder)  # fmt: skip


def _check_new_outlet(connection: Connection, body: OutletCreate) -> None:
    _enterprise_exists(connection, body.enterprise_id)
    _outlet_code_free(connection, body.enterprise_id, body.code)


def _check_outlet_change(connection: Connection, before: View, values: dict[str, Any]) -> None:
    if "code" in values:
        _outlet_code_free(connection, before["enterprise_id"], values["code"], before["id"])


OUTLETS: Resource[OutletCreate, OutletUpdate] = Resource(
    name="outlet", name_zh="排放口", collection="/outlets",
    table=Outlet, key=Outlet.id, key_param="outlet_id", key_type=RowId,
    public=OutletPublic, create=OutletCreate, update=OutletUpdate,
    scoped=_of_enterprises_in_scope(Outlet),
    filters=(
        ListFilter("enterprise_id", IdFilter, Outlet.enterprise_id),
        ListFilter("county", County6, Enterprise.county_code),
        ListFilter("kind", Literal["air", "water"] | None, Outlet.kind),
    ),
    nullable=frozenset({"longitude", "latitude", "height_m"}),
    check_create=_check_new_outlet,
    check_update=_check_outlet_change,
    holders=lambda key: {
        "points": MonitoringPoint.outlet_id == key,
        "limits": PermitLimit.outlet_id == key,
        "meters": Meter.outlet_id == key,
    },
    in_use_code="outlet_in_use",
)  # fmt: skip


# ---- monitoring points ----------------------------------------------------


def _points_in_scope(user: Viewer) -> Select[Any]:
    return (
        select(MonitoringPoint)
        .outerjoin(Enterprise, MonitoringPoint.enterprise_id == Enterprise.id)
        .where(_point_scope(user))
    )


def _point_views(connection: Connection, user: Viewer, points: list[Any]) -> list[View]:
    mns = [p.mn for p in points]
    factors: dict[str, list[FactorPublic]] = {}
    for mn, code, unit in connection.execute(
        select(PointFactor.mn, PointFactor.pollutant, PointFactor.unit)
        .where(PointFactor.mn.in_(mns))
        .order_by(PointFactor.mn, PointFactor.pollutant)
    ):
        known = factor(code)
        factors.setdefault(mn, []).append(
            FactorPublic(
                code=code,
                unit=unit,
                name_zh=known.name_zh if known else "",
                name_en=known.name_en if known else "",
            )
        )
    return [
        PointPublic(
            mn=p.mn, pw=p.pw, enterprise_id=p.enterprise_id,  # Resource.show masks it
            outlet_id=p.outlet_id, st=p.st, protocol_version=p.protocol_version,
            lenient=p.lenient, verify_crc=p.verify_crc, verify_length=p.verify_length,
            active=p.active, contractor_id=p.contractor_id, factors=factors.get(p.mn, []),
        ).model_dump()
        for p in points
    ]  # fmt: skip


def _point_columns(values: dict[str, Any]) -> dict[str, Any]:
    """A point's own columns: its factors are rows of their own."""
    out = {name: value for name, value in values.items() if name != "factors"}
    if isinstance(out.get("protocol_version"), ProtocolVersion):
        out["protocol_version"] = out["protocol_version"].value
    return out


def _write_factors(connection: Connection, mn: object, values: dict[str, Any]) -> None:
    """The point's factors, all of them, replaced by those the body lists."""
    if "factors" not in values:
        return
    connection.execute(delete(PointFactor).where(PointFactor.mn == mn))
    rows = []
    for item in values["factors"] or []:
        known = factor(item["code"])
        unit = item["unit"] if item["unit"] is not None else (known.unit if known else "")
        rows.append({"mn": mn, "pollutant": item["code"], "unit": unit})
    if rows:
        connection.execute(insert(PointFactor), rows)


def _check_new_point(connection: Connection, body: PointCreate) -> None:
    _enterprise_exists(connection, body.enterprise_id)
    _outlet_of(connection, body.outlet_id, body.enterprise_id)
    _contractor_exists(connection, body.contractor_id)
    taken = connection.execute(
        select(MonitoringPoint.mn).where(MonitoringPoint.mn == body.mn)
    ).scalar()
    if taken is not None:
        raise ApiError(409, "duplicate_mn", f"MN {body.mn} is registered already",
                       f"MN {body.mn} 已登记")  # fmt: skip


def _check_point_change(connection: Connection, before: View, values: dict[str, Any]) -> None:
    if "outlet_id" in values:
        _outlet_of(connection, values["outlet_id"], before["enterprise_id"])
    if "contractor_id" in values:
        _contractor_exists(connection, values["contractor_id"])


POINTS: Resource[PointCreate, PointUpdate] = Resource(
    name="point", name_zh="监测点位", collection="/points",
    table=MonitoringPoint, key=MonitoringPoint.mn, key_param="mn", key_type=MnPath,
    public=PointPublic, create=PointCreate, update=PointUpdate,
    scoped=_points_in_scope,
    filters=(
        ListFilter("enterprise_id", IdFilter, MonitoringPoint.enterprise_id),
        ListFilter("county", County6, Enterprise.county_code),
        ListFilter("outlet_id", IdFilter, MonitoringPoint.outlet_id),
        ListFilter("contractor_id", IdFilter, MonitoringPoint.contractor_id),
        ListFilter("active", bool | None, MonitoringPoint.active),
        ListFilter("q", Annotated[str | None, Query(pattern=r"^[0-9A-Za-z]{1,24}$")],
                   condition=lambda q: MonitoringPoint.mn.contains(q, autoescape=True)),
    ),
    list_doc="Monitoring points in scope with their factors; ``q`` is part of an MN.",
    nullable=frozenset({"outlet_id", "contractor_id"}),
    secrets=frozenset({"pw"}),
    views=_point_views,
    row_values=_point_columns,
    check_create=_check_new_point,
    check_update=_check_point_change,
    after_write=_write_factors,
    holders=lambda mn: {
        "frames": or_(ArchivedFrame.mn == mn, ArchivedFrame.chain == mn),
        "measurements": Measurement.mn == mn,
        "findings": FindingRecord.mn == mn,
        "alerts": Alert.mn == mn,
        "maintenance_windows": MaintenanceWindow.mn == mn,
        "meters": Meter.mn == mn,
    },
    in_use_code="point_has_data",
    in_use_hint=('take it out of service instead: PATCH {"active": false}',
                 "有数据的点位不删除，请改为停用（active=false）"),
    cleanup=lambda connection, mn: _write_factors(connection, mn, {"factors": []}),
)  # fmt: skip


# ---- permit limits --------------------------------------------------------


def _limit_values(values: dict[str, Any]) -> dict[str, Any]:
    out = dict(values)
    if isinstance(out.get("averaging_period"), AveragingPeriod):
        out["averaging_period"] = out["averaging_period"].value
    for name in ("valid_from", "valid_to"):
        if isinstance(out.get(name), date):
            out[name] = datetime.combine(out[name], datetime.min.time())
    return out


def _check_new_limit(connection: Connection, body: LimitCreate) -> None:
    _enterprise_exists(connection, body.enterprise_id)
    _outlet_of(connection, body.outlet_id, body.enterprise_id)


def _check_limit_change(_connection: Connection, before: View, values: dict[str, Any]) -> None:
    start = values.get("valid_from", date.fromisoformat(before["valid_from"]))
    end = values["valid_to"] if "valid_to" in values else before["valid_to"]
    end = date.fromisoformat(end) if isinstance(end, str) else end
    if end is not None and end <= start:
        raise invalid("body.valid_to", "valid_to must follow valid_from", "失效日期须晚于生效日期")
    lower = values["lower_value"] if "lower_value" in values else before["lower_value"]
    upper = values.get("limit_value", before["limit_value"])
    if lower is not None and lower >= upper:
        raise invalid("body.lower_value", "lower_value must be below limit_value",
                      "下限须低于限值")  # fmt: skip


LIMITS: Resource[LimitCreate, LimitUpdate] = Resource(
    name="limit", name_zh="许可限值", collection="/limits",
    table=PermitLimit, key=PermitLimit.id, key_param="limit_id", key_type=RowId,
    public=LimitPublic, create=LimitCreate, update=LimitUpdate,
    scoped=_of_enterprises_in_scope(PermitLimit),
    filters=(
        ListFilter("enterprise_id", IdFilter, PermitLimit.enterprise_id),
        ListFilter("outlet_id", IdFilter, PermitLimit.outlet_id),
        ListFilter("county", County6, Enterprise.county_code),
        ListFilter("pollutant", Annotated[str | None, Query(pattern=r"^[0-9A-Za-z]{1,16}$")],
                   PermitLimit.pollutant),
    ),
    nullable=frozenset({"reference_o2", "annual_tonnes", "valid_to", "lower_value",
                        "averaging_period"}),
    row_values=_limit_values,
    check_create=_check_new_limit,
    check_update=_check_limit_change,
    # A limit holds nothing: findings carry the limit they judged in their evidence,
    # and the audit entry keeps the deleted limit.
    holders=lambda key: {},
)  # fmt: skip


# ---- meters ---------------------------------------------------------------


def _meter_views(connection: Connection, _user: Viewer, rows: list[Any]) -> list[View]:
    serves: dict[int, list[int]] = {}
    for link in connection.execute(
        select(MeterLink.treatment_meter_id, MeterLink.production_meter_id)
        .where(MeterLink.treatment_meter_id.in_([row.id for row in rows]))
        .order_by(MeterLink.production_meter_id)
    ):
        serves.setdefault(link.treatment_meter_id, []).append(link.production_meter_id)
    return [MeterPublic.model_validate(row).model_dump() | {"serves": serves.get(row.id, [])}
            for row in rows]  # fmt: skip


def _served_production(
    connection: Connection, enterprise_id: int, kind: str, serves: list[int]
) -> None:
    """Links only from a treatment meter, to production meters of its enterprise."""
    if not serves:
        return
    if kind != "treatment":
        raise invalid("body.serves", "only a treatment meter serves production meters",
                      "只有治污设施电表可关联所服务的生产设施")  # fmt: skip
    found = set(connection.execute(
        select(Meter.id).where(Meter.id.in_(serves), Meter.enterprise_id == enterprise_id,
                               Meter.kind == "production")
    ).scalars())  # fmt: skip
    missing = sorted(set(serves) - found)
    if missing:
        raise invalid("body.serves", f"no production meters {missing} at this enterprise",
                      f"该企业没有编号为{missing}的生产设施电表")  # fmt: skip


def _check_new_meter(connection: Connection, body: MeterCreate) -> None:
    _enterprise_exists(connection, body.enterprise_id)
    _outlet_of(connection, body.outlet_id, body.enterprise_id)
    _served_production(connection, body.enterprise_id, body.kind, body.serves)


def _check_meter_change(connection: Connection, before: View, values: dict[str, Any]) -> None:
    if "outlet_id" in values:
        _outlet_of(connection, values["outlet_id"], before["enterprise_id"])
    kind = str(values.get("kind", before["kind"]))
    serves = values["serves"] if "serves" in values else before["serves"]
    _served_production(connection, before["enterprise_id"], kind, serves)


def _write_links(connection: Connection, meter_id: object, values: dict[str, Any]) -> None:
    """The treatment meter's links, replaced by those the body lists."""
    if "serves" not in values:
        return
    connection.execute(delete(MeterLink).where(MeterLink.treatment_meter_id == meter_id))
    if values["serves"]:
        connection.execute(insert(MeterLink), [
            {"treatment_meter_id": meter_id, "production_meter_id": production}
            for production in sorted(set(values["serves"]))
        ])  # fmt: skip


METERS: Resource[MeterCreate, MeterUpdate] = Resource(
    name="meter", name_zh="电表", collection="/meters",
    table=Meter, key=Meter.id, key_param="meter_id", key_type=RowId,
    public=MeterPublic, create=MeterCreate, update=MeterUpdate,
    scoped=_of_enterprises_in_scope(Meter),
    filters=(
        ListFilter("enterprise_id", IdFilter, Meter.enterprise_id),
        ListFilter("county", County6, Enterprise.county_code),
        ListFilter("kind", Literal["production", "treatment", "total"] | None, Meter.kind),
    ),
    nullable=frozenset({"rated_kw", "mn", "outlet_id"}),
    views=_meter_views,
    row_values=lambda values: {k: v for k, v in values.items() if k != "serves"},
    check_create=_check_new_meter,
    check_update=_check_meter_change,
    after_write=_write_links,
    holders=lambda key: {
        "readings": ElectricityReading.meter_id == key,
        "treatment_meters": MeterLink.production_meter_id == key,
    },
    in_use_code="meter_has_readings",
    cleanup=lambda connection, key: _write_links(connection, key, {"serves": []}),
)  # fmt: skip


# ---- operation contractors ------------------------------------------------


def _contractors_in_scope(user: Viewer) -> Select[Any]:
    """Every contractor for supervisors; for the supervised, the contractors
    running devices they see (a contractor's name and credit code are public)."""
    query = select(Contractor)
    if user.role in CITY_ROLES or user.role == "county_officer":
        return query
    running = (
        select(MonitoringPoint.contractor_id)
        .outerjoin(Enterprise, MonitoringPoint.enterprise_id == Enterprise.id)
        .where(_point_scope(user))
    )
    return query.where(Contractor.id.in_(running))


def _contractor_views(connection: Connection, _user: Viewer, rows: list[Any]) -> list[View]:
    points = counts_by(connection, MonitoringPoint.contractor_id, [row.id for row in rows])
    return [{**ContractorPublic.model_validate(row).model_dump(), "points": points.get(row.id, 0)}
            for row in rows]  # fmt: skip


def _check_contractor_change(connection: Connection, before: View, values: dict[str, Any]) -> None:
    if "credit_code" in values:
        _credit_code_free(connection, Contractor, values["credit_code"], before["id"])


CONTRACTORS: Resource[ContractorCreate, ContractorUpdate] = Resource(
    name="contractor", name_zh="运维单位", collection="/contractors",
    table=Contractor, key=Contractor.id, key_param="contractor_id", key_type=RowId,
    public=ContractorPublic, create=ContractorCreate, update=ContractorUpdate,
    scoped=_contractors_in_scope,
    filters=(ListFilter("q", Search,
                        condition=lambda q: Contractor.name.contains(q, autoescape=True)),),
    views=_contractor_views,
    check_create=lambda connection, body: _credit_code_free(connection, Contractor,
                                                            body.credit_code),
    check_update=_check_contractor_change,
    holders=lambda key: {
        "points": MonitoringPoint.contractor_id == key,
        "users": AppUser.contractor_id == key,
    },
    in_use_code="contractor_in_use",
)  # fmt: skip

for _resource in (ENTERPRISES, OUTLETS, POINTS, LIMITS, METERS, CONTRACTORS):
    mount(router, PREFIX, _resource, registry_writer)


# ---- imports and exports as jobs ------------------------------------------


async def _upload(request: Request) -> bytes:
    """The request body, refused with 413 past MAX_IMPORT_BYTES (before reading
    it all when Content-Length says so)."""
    too_large = ApiError(413, "import_too_large", f"the file exceeds {MAX_IMPORT_BYTES} bytes",
                         f"文件超过{MAX_IMPORT_BYTES}字节，请拆分后分批导入")  # fmt: skip
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_IMPORT_BYTES:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_IMPORT_BYTES:
            raise too_large
    return bytes(body)


def _file_name(name: str | None, media_type: str, content: bytes) -> str:
    """A name whose suffix tells the reader the format: the given name, else
    by media type, else an XLSX by its ZIP signature."""
    if name and name.lower().endswith((".csv", ".xlsx")):
        return name
    if media_type == XLSX_TYPE or content.startswith(b"PK\x03\x04"):
        return (name or "upload") + ".xlsx"
    if media_type in {"text/csv", "text/plain", "application/csv", ""}:
        return (name or "upload") + ".csv"
    raise ApiError(415, "unsupported_media_type", "send a CSV (text/csv) or XLSX file",
                   "请上传CSV（text/csv）或XLSX文件")  # fmt: skip


@router.post(PREFIX + "/imports", status_code=202)
async def start_import(
    request: Request,
    kind: ImportKind,
    user: Writer,
    name: Annotated[str | None, Query(pattern=r"^[^\x00-\x1f/\\]{1,200}$")] = None,
) -> dict[str, Any]:
    """Import the body (a CSV or XLSX file) as ``kind``, all or nothing, as a job:
    poll ``GET /api/v1/registry/imports/{id}`` for its progress and row errors."""
    content = await _upload(request)
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    file_name = _file_name(name, media_type, content)
    if not content:
        raise ApiError(422, "empty_file", "the file is empty", "文件为空")
    engine = _engine(request)
    actor = _actor(request, user)
    job_id = await asyncio.to_thread(
        create_job, engine, direction="import", kind=kind.value,
        file_format=file_name.rsplit(".", 1)[-1].lower(), file_name=file_name,
        owner=user.username,
    )  # fmt: skip
    submit(engine, job_id, lambda: run_import(engine, job_id, kind, file_name, content,
                                              actor=actor))  # fmt: skip
    return {"id": job_id, "state": "queued", "href": f"{PREFIX}/imports/{job_id}"}


async def _job(request: Request, user: Viewer, job_id: int, direction: str) -> Any:
    _admin_reader(user)
    job = await asyncio.to_thread(read_job, _engine(request), job_id)
    if job is None or job.direction != direction:
        raise unknown("job", job_id)
    return job


@router.get(PREFIX + "/imports/{job_id}")
async def get_import(
    request: Request, job_id: RowId, user: Annotated[Viewer, Depends(api_user)]
) -> dict[str, Any]:
    """An import job: state (queued, running, done, failed), rows done of rows in
    all, the count imported, and every row/column error of a refused file."""
    return job_view(await _job(request, user, job_id, "import"))


@router.post(PREFIX + "/exports", status_code=202)
async def start_export(
    request: Request,
    user: Writer,
    file_format: Annotated[Literal["json", "csv", "xlsx"], Query(alias="format")] = "json",
    kind: ImportKind | None = None,
    passwords: bool = False,
) -> dict[str, Any]:
    """Export the registry as a job: JSON or XLSX of every kind (or ``kind``), CSV
    of one ``kind``, in the columns the import reads. Device passwords (PW) are
    empty unless asked for with ``passwords`` (audited): only such a file
    registers its points in another system."""
    assert file_format in EXPORT_FORMATS
    if file_format == "csv" and kind is None:
        raise invalid("query.kind", "a CSV export holds one kind: give kind",
                      "CSV导出只含一类名录，请指定kind")  # fmt: skip
    kinds = tuple(ImportKind) if kind is None else (kind,)
    engine = _engine(request)
    actor = _actor(request, user)
    job_id = await asyncio.to_thread(
        create_job, engine, direction="export", kind=kind.value if kind else "all",
        file_format=file_format, file_name="", owner=user.username,
    )  # fmt: skip
    submit(engine, job_id, lambda: run_export(engine, job_id, kinds, file_format, actor=actor,
                                              passwords=passwords))  # fmt: skip
    return {"id": job_id, "state": "queued", "href": f"{PREFIX}/exports/{job_id}"}


@router.get(PREFIX + "/exports/{job_id}")
async def get_export(
    request: Request, job_id: RowId, user: Annotated[Viewer, Depends(api_user)]
) -> dict[str, Any]:
    return job_view(await _job(request, user, job_id, "export"))


@router.get(PREFIX + "/exports/{job_id}/file")
async def get_export_file(
    request: Request, job_id: RowId, user: Annotated[Viewer, Depends(api_user)]
) -> Response:
    job = await _job(request, user, job_id, "export")
    if job.state != "done" or job.content is None:
        raise ApiError(409, "job_not_done", f"export {job_id} is {job.state}",
                       f"导出任务{job_id}尚未完成（{job.state}）")  # fmt: skip
    stamp = utc_as_cst_text(job.finished_at) or ""
    name = f"envwatch-registry-{job.kind}-{stamp[:10]}-{job_id}.{job.file_format}"
    return Response(job.content, media_type=MEDIA_TYPES[job.file_format],
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})  # fmt: skip


# ---- coverage gaps ---------------------------------------------------------


def _enterprise_gap(gap: EnterpriseGap) -> dict[str, Any]:
    return {"id": gap.id, "name": gap.name, "county": gap.county_code,
            "key_categories": [p for p in gap.key_categories.split(",") if p]}  # fmt: skip


def _point_gap(gap: PointGap) -> dict[str, Any]:
    seen = None if gap.last_seen is None else gap.last_seen.replace(tzinfo=UTC)
    return {"mn": gap.mn, "enterprise_id": gap.enterprise_id, "enterprise": gap.enterprise,
            "county": gap.county_code, "last_seen": utc_as_cst_text(seen)}  # fmt: skip


def coverage_gaps(engine: Any, user: Viewer, county: str | None) -> dict[str, Any]:
    """The drill-down lists of coverage the user may see (API and page)."""
    with engine.connect() as connection:
        known = set(connection.execute(select(County.code)).scalars())
    visible = known if user.role in CITY_ROLES else known & user.counties
    if county is not None:
        if county not in visible:
            raise unknown("county", county)
        visible = {county}
    found = gaps(engine, datetime.now(UTC), timedelta(seconds=get_settings().offline_after_s),
                 visible)  # fmt: skip

    def listed(items: list[dict[str, Any]]) -> dict[str, Any]:
        return {"items": items, "total": len(items)}

    return {
        "county": county,
        "without_monitor": listed([_enterprise_gap(g) for g in found.without_monitor]),
        "without_meter": listed([_enterprise_gap(g) for g in found.without_meter]),
        "never_connected": listed([_point_gap(g) for g in found.never_connected]),
        "offline": listed([_point_gap(g) for g in found.offline]),
    }


@router.get("/api/v1/coverage/gaps")
async def get_coverage_gaps(
    request: Request,
    user: Annotated[Viewer, Depends(api_user)],
    county: Annotated[str | None, Query(pattern=r"^[0-9]{6}$")] = None,
) -> dict[str, Any]:
    """Who makes the coverage figures short: key enterprises without a monitor or
    a meter, points never connected, points offline with when they were last
    seen (longest first), in the user's counties (supervisors only)."""
    _supervisor(user)
    return await asyncio.to_thread(coverage_gaps, _engine(request), user, county)
