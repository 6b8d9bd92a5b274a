"""The bottom-line registers beside the contaminated plots (``api_registers.py``),
over the same generic CRUD layer (``web/crud.py``) under the registry prefix:
hazardous-waste producers and licensed disposal units with their transfer
manifests (转移联单), medical institutions, chemical parks, chemical and
acid-using enterprises, heavy-metal enterprises.

Reads are scoped by the one rule (``registry/registers.py``: county; an
enterprise's users see what is theirs); changes are the city administrator's,
each audited. Each register also takes a CSV/XLSX file
(``POST .../{register}/import``), all or nothing with row-level errors; and
the hazardous-waste checks' findings are served for a year.
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Connection, Select, String, cast, or_, select

from envwatch.alerts.queries import Viewer
from envwatch.audit.log import Actor, record
from envwatch.hj212.codes import now_cst
from envwatch.registry.hazardous_waste import Finding, summary
from envwatch.registry.importing import ImportFileError
from envwatch.registry.register_entries import (
    ChemicalEntry,
    MedicalEntry,
    MetalsEntry,
    ParkEntry,
    TransferEntry,
    UnitEntry,
    columns_of,
)
from envwatch.registry.registers import REGISTERS, vocabulary
from envwatch.registry.waste_checks import findings_for, findings_to_problems
from envwatch.store.schema import (
    ChemicalEnterprise,
    ChemicalPark,
    County,
    Enterprise,
    HazardousWasteUnit,
    HeavyMetalEnterprise,
    MedicalInstitution,
    WasteTransfer,
)
from envwatch.web.api_registers import PLOTS
from envwatch.web.api_registry import (
    PREFIX,
    IdFilter,
    RowId,
    Search,
    Writer,
    _file_name,
    _upload,
    registry_writer,
)
from envwatch.web.crud import ListFilter, Resource, View, invalid, mount
from envwatch.web.errors import ApiError
from envwatch.web.people import api_user, peer_of

router = APIRouter()
CountyFilter = Annotated[str | None, Query(pattern=r"^\d{6}$")]
HwFilter = Annotated[str | None, Query(pattern=r"^HW\d{2}$")]
MetalFilter = Annotated[str | None, Query(pattern=r"^[A-Z][a-z]?$")]


class _Patch(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)


def _revalidated(schema: type[BaseModel], before: View, values: dict[str, Any]) -> None:
    """A change checked as a whole entry: the row as it was with the change."""
    merged = {name: before.get(name) for name in schema.model_fields if name in before}
    merged = {name: value for name, value in merged.items() if value is not None}
    merged.update({name: value for name, value in values.items() if value is not None})
    try:
        schema.model_validate(merged)
    except ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(str(part) for part in problem["loc"]) or "body"
        raise invalid(f"body.{where}", problem["msg"], problem["msg"]) from None


def _exists(connection: Connection, column: Any, value: object, *where: Any,
            field: str, what: str, what_zh: str) -> None:  # fmt: skip
    if value is None:
        return
    if connection.execute(select(column).where(column == value, *where)).first() is None:
        raise invalid(f"body.{field}", f"no {what} {value}", f"没有{what_zh}{value}")


def _county(connection: Connection, code: str | None) -> None:
    _exists(connection, County.code, code, field="county_code", what="county", what_zh="区县")


def _enterprise(connection: Connection, enterprise: int | None) -> None:
    _exists(
        connection,
        Enterprise.id,
        enterprise,
        field="enterprise_id",
        what="enterprise",
        what_zh="企业",
    )


def _names(connection: Connection, ids: set[int]) -> dict[int, Any]:
    if not ids:
        return {}
    return {row.id: row for row in connection.execute(
        select(Enterprise.id, Enterprise.name, Enterprise.county_code, Enterprise.longitude,
               Enterprise.latitude).where(Enterprise.id.in_(sorted(ids))))}  # fmt: skip


# ---- hazardous-waste units -------------------------------------------------------------


class UnitUpdate(_Patch):
    name: str | None = Field(default=None, min_length=2, max_length=200)
    address: str | None = Field(default=None, max_length=300)
    longitude: float | None = Field(default=None, ge=73, le=136)
    latitude: float | None = Field(default=None, ge=3, le=54)
    licence_no: str | None = Field(default=None, max_length=64)
    licence_valid_until: date | None = None
    licensed_categories: list[str] | None = Field(default=None, max_length=50)
    licensed_capacity_t: float | None = Field(default=None, gt=0, le=1e7)
    declared: dict[str, float] | None = None


class UnitPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    credit_code: str
    role: str
    county_code: str
    enterprise_id: int | None
    address: str
    longitude: float | None
    latitude: float | None
    licence_no: str
    licence_valid_until: date | None
    licensed_categories: list[str]
    licensed_capacity_t: float | None
    declared: dict[str, float]


def _link_enterprise(connection: Connection, key: object, _values: dict[str, Any]) -> None:
    """A unit answers through the registered enterprise of its credit code (its users see it)."""
    credit = select(HazardousWasteUnit.credit_code).where(HazardousWasteUnit.id == key)
    enterprise = select(Enterprise.id).where(Enterprise.credit_code == credit.scalar_subquery())
    connection.execute(
        HazardousWasteUnit.__table__.update()  # type: ignore[attr-defined]
        .where(HazardousWasteUnit.id == key)
        .values(enterprise_id=enterprise.scalar_subquery())
    )


def _check_new_unit(connection: Connection, body: UnitEntry) -> None:
    _county(connection, body.county_code)
    taken = select(HazardousWasteUnit.id).where(
        HazardousWasteUnit.credit_code == body.credit_code, HazardousWasteUnit.role == body.role
    )
    if connection.execute(taken).first() is not None:
        raise ApiError(409, "unit_exists", f"{body.credit_code} is already registered as "
                       f"{body.role}", f"{body.credit_code}已登记为该类单位")  # fmt: skip


UNITS: Resource[UnitEntry, UnitUpdate] = Resource(
    name="hazardous_waste_unit", name_zh="危险废物单位", collection="/hazardous-waste-units",
    table=HazardousWasteUnit, key=HazardousWasteUnit.id, key_param="unit_id", key_type=RowId,
    public=UnitPublic, create=UnitEntry, update=UnitUpdate,
    scoped=REGISTERS["hazardous_waste_unit"].rows,
    filters=(
        ListFilter("q", Search,
                   condition=lambda q: HazardousWasteUnit.name.contains(q, autoescape=True)),
        ListFilter("role", Literal["producer", "disposer"] | None,
                   column=HazardousWasteUnit.role),
        ListFilter("county", CountyFilter, column=HazardousWasteUnit.county_code),
        ListFilter("hw_code", HwFilter, condition=lambda code: or_(
            cast(HazardousWasteUnit.licensed_categories, String).contains(f'"{code}"'),
            cast(HazardousWasteUnit.declared, String).contains(f'"{code}"'))),
    ),
    nullable=frozenset({"longitude", "latitude", "licence_valid_until", "licensed_capacity_t"}),
    check_create=_check_new_unit,
    check_update=lambda _connection, before, values: _revalidated(UnitEntry, before, values),
    after_write=_link_enterprise,
    holders=lambda key: {
        "transfers": WasteTransfer.producer_id == key,
        "medical_institutions": MedicalInstitution.waste_unit_id == key,
    },
    in_use_code="unit_in_use",
)  # fmt: skip


# ---- transfer manifests (转移联单) ------------------------------------------------------


class TransferUpdate(_Patch):
    receiver_credit_code: str | None = Field(default=None, pattern=r"^[0-9A-HJ-NPQRTUWXY]{18}$")
    receiver_name: str | None = Field(default=None, max_length=200)
    hw_code: str | None = None
    quantity_t: float | None = Field(default=None, gt=0, le=1e6)
    transferred_on: date | None = None
    transport: str | None = Field(default=None, max_length=200)


class TransferPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    manifest_no: str
    producer_id: int
    receiver_credit_code: str
    receiver_name: str
    hw_code: str
    quantity_t: float
    transferred_on: date
    transport: str


def _transfers_in_scope(user: Viewer) -> Select[Any]:
    units = REGISTERS["hazardous_waste_unit"]
    mine = units.rows(user).with_only_columns(HazardousWasteUnit.id)
    theirs = units.rows(user).with_only_columns(HazardousWasteUnit.credit_code)
    return select(WasteTransfer).where(
        or_(WasteTransfer.producer_id.in_(mine), WasteTransfer.receiver_credit_code.in_(theirs))
    )


def _unit_names(connection: Connection, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    query = select(HazardousWasteUnit.id, HazardousWasteUnit.name).where(
        HazardousWasteUnit.id.in_(sorted(ids))
    )
    return {row.id: row.name for row in connection.execute(query)}


def _named(public: type[BaseModel], field: str, shown_as: str) -> Any:
    """Rows with the name of the hazardous-waste unit in ``field`` as ``shown_as``."""

    def views(connection: Connection, _user: Viewer, rows: list[Any]) -> list[View]:
        names = _unit_names(connection, {getattr(row, field) for row in rows} - {None})
        return [{**public.model_validate(row).model_dump(mode="json"),
                 shown_as: names.get(getattr(row, field), "")} for row in rows]  # fmt: skip

    return views


def _check_new_transfer(connection: Connection, body: TransferEntry) -> None:
    _exists(connection, HazardousWasteUnit.id, body.producer_id,
            HazardousWasteUnit.role == "producer", field="producer_id", what="producer",
            what_zh="产生单位")  # fmt: skip
    taken = select(WasteTransfer.id).where(WasteTransfer.manifest_no == body.manifest_no)
    if connection.execute(taken).first() is not None:
        raise ApiError(409, "manifest_exists", f"manifest {body.manifest_no} is registered",
                       f"联单{body.manifest_no}已登记")  # fmt: skip


def _transfer_change(before: View, values: dict[str, Any]) -> None:
    entry = {**before, "transferred_on": str(before["transferred_on"])}
    _revalidated(TransferEntry, entry, values)


TRANSFERS: Resource[TransferEntry, TransferUpdate] = Resource(
    name="waste_transfer", name_zh="危险废物转移联单", collection="/waste-transfers",
    table=WasteTransfer, key=WasteTransfer.id, key_param="transfer_id", key_type=RowId,
    public=TransferPublic, create=TransferEntry, update=TransferUpdate,
    scoped=_transfers_in_scope,
    filters=(
        ListFilter("producer_id", IdFilter, column=WasteTransfer.producer_id),
        ListFilter("receiver", Annotated[str | None, Query(pattern=r"^[0-9A-Z]{18}$")],
                   column=WasteTransfer.receiver_credit_code),
        ListFilter("hw_code", HwFilter, column=WasteTransfer.hw_code),
        ListFilter("year", Annotated[int | None, Query(ge=2000, le=2199)],
                   condition=lambda year: WasteTransfer.transferred_on.between(
                       date(year, 1, 1), date(year, 12, 31))),
    ),
    views=_named(TransferPublic, "producer_id", "producer"),
    check_create=_check_new_transfer,
    check_update=lambda _connection, before, values: _transfer_change(before, values),
    holders=lambda key: {},
)  # fmt: skip


# ---- medical institutions ----------------------------------------------------------------


class MedicalUpdate(_Patch):
    name: str | None = Field(default=None, min_length=2, max_length=200)
    address: str | None = Field(default=None, max_length=300)
    longitude: float | None = Field(default=None, ge=73, le=136)
    latitude: float | None = Field(default=None, ge=3, le=54)
    grade: str | None = None
    beds: int | None = Field(default=None, ge=0, le=100_000)
    has_wastewater_facility: bool | None = None
    disinfection: str | None = None
    online_monitoring: bool | None = None
    enterprise_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    waste_unit_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    waste_contract_no: str | None = Field(default=None, max_length=64)
    waste_contract_until: date | None = None


class MedicalPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    county_code: str
    enterprise_id: int | None
    address: str
    longitude: float | None
    latitude: float | None
    grade: str
    beds: int
    has_wastewater_facility: bool
    disinfection: str
    online_monitoring: bool
    waste_unit_id: int | None
    waste_contract_no: str
    waste_contract_until: date | None


def _check_medical(connection: Connection, county: str | None, enterprise: int | None,
                   unit: int | None) -> None:  # fmt: skip
    _county(connection, county)
    _enterprise(connection, enterprise)
    _exists(connection, HazardousWasteUnit.id, unit, HazardousWasteUnit.role == "disposer",
            field="waste_unit_id", what="licensed disposal unit",
            what_zh="危险废物经营单位")  # fmt: skip


def _medical_change(connection: Connection, before: View, values: dict[str, Any]) -> None:
    _revalidated(MedicalEntry, before, values)
    _check_medical(connection, None, values.get("enterprise_id"), values.get("waste_unit_id"))


MEDICAL: Resource[MedicalEntry, MedicalUpdate] = Resource(
    name="medical_institution", name_zh="医疗机构", collection="/medical-institutions",
    table=MedicalInstitution, key=MedicalInstitution.id, key_param="institution_id",
    key_type=RowId, public=MedicalPublic, create=MedicalEntry, update=MedicalUpdate,
    scoped=REGISTERS["medical_institution"].rows,
    filters=(
        ListFilter("q", Search,
                   condition=lambda q: MedicalInstitution.name.contains(q, autoescape=True)),
        ListFilter("county", CountyFilter, column=MedicalInstitution.county_code),
        ListFilter("grade", Annotated[str | None, Query(pattern=r"^[a-z_]{1,16}$")],
                   column=MedicalInstitution.grade),
        ListFilter("online_monitoring", bool | None, column=MedicalInstitution.online_monitoring),
        ListFilter("has_wastewater_facility", bool | None,
                   column=MedicalInstitution.has_wastewater_facility),
    ),
    nullable=frozenset({"longitude", "latitude", "enterprise_id", "waste_unit_id",
                        "waste_contract_until"}),
    views=_named(MedicalPublic, "waste_unit_id", "waste_unit"),
    check_create=lambda connection, body: _check_medical(
        connection, body.county_code, body.enterprise_id, body.waste_unit_id),
    check_update=_medical_change,
    holders=lambda key: {},
)  # fmt: skip


# ---- chemical parks and chemical / acid-using enterprises ------------------------------------


class ParkUpdate(_Patch):
    name: str | None = Field(default=None, min_length=2, max_length=200)
    level: str | None = None
    longitude: float | None = Field(default=None, ge=73, le=136)
    latitude: float | None = Field(default=None, ge=3, le=54)
    boundary: list[list[float]] | None = None
    area_km2: float | None = Field(default=None, gt=0, le=10_000)


class ParkPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    county_code: str
    level: str
    longitude: float | None
    latitude: float | None
    boundary: list[list[float]] | None
    area_km2: float | None


def _check_new_park(connection: Connection, body: ParkEntry) -> None:
    _county(connection, body.county_code)
    if connection.execute(select(ChemicalPark.id).where(ChemicalPark.name == body.name)).first():
        raise ApiError(409, "park_exists", f"the park {body.name} is registered",
                       f"化工园区{body.name}已登记")  # fmt: skip


PARKS: Resource[ParkEntry, ParkUpdate] = Resource(
    name="chemical_park", name_zh="化工园区", collection="/chemical-parks",
    table=ChemicalPark, key=ChemicalPark.id, key_param="park_id", key_type=RowId,
    public=ParkPublic, create=ParkEntry, update=ParkUpdate,
    scoped=REGISTERS["chemical_park"].rows,
    filters=(
        ListFilter("q", Search, condition=lambda q: ChemicalPark.name.contains(q, autoescape=True)),
        ListFilter("county", CountyFilter, column=ChemicalPark.county_code),
    ),
    nullable=frozenset({"longitude", "latitude", "boundary", "area_km2"}),
    check_create=_check_new_park,
    check_update=lambda _connection, before, values: _revalidated(ParkEntry, before, values),
    holders=lambda key: {"enterprises": ChemicalEnterprise.park_id == key},
    in_use_code="park_in_use",
)  # fmt: skip


class ChemicalUpdate(_Patch):
    kind: str | None = None
    park_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    acids: dict[str, float] | None = None


class ChemicalPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    enterprise_id: int
    kind: str
    park_id: int | None
    acids: dict[str, float]


def _enterprise_views(public: type[BaseModel]) -> Any:
    """Rows with their enterprise's name, county and place."""

    def views(connection: Connection, _user: Viewer, rows: list[Any]) -> list[View]:
        names = _names(connection, {row.enterprise_id for row in rows})
        shown = []
        for row in rows:
            firm = names.get(row.enterprise_id)
            shown.append({**public.model_validate(row).model_dump(mode="json"),
                          "enterprise": firm.name if firm else "",
                          "county_code": firm.county_code if firm else None,
                          "longitude": firm.longitude if firm else None,
                          "latitude": firm.latitude if firm else None})  # fmt: skip
        return shown

    return views


def _check_chemical(connection: Connection, enterprise: int | None, park: int | None) -> None:
    _enterprise(connection, enterprise)
    _exists(
        connection, ChemicalPark.id, park, field="park_id", what="chemical park", what_zh="化工园区"
    )


def _check_new_chemical(connection: Connection, body: ChemicalEntry) -> None:
    _check_chemical(connection, body.enterprise_id, body.park_id)
    taken = select(ChemicalEnterprise.id).where(
        ChemicalEnterprise.enterprise_id == body.enterprise_id
    )
    if connection.execute(taken).first() is not None:
        raise ApiError(409, "already_registered", "the enterprise is registered already",
                       "该企业已登记")  # fmt: skip


def _chemical_change(connection: Connection, before: View, values: dict[str, Any]) -> None:
    _revalidated(ChemicalEntry, before, values)
    _check_chemical(connection, None, values.get("park_id"))


CHEMICAL: Resource[ChemicalEntry, ChemicalUpdate] = Resource(
    name="chemical_enterprise", name_zh="化工/涉酸企业", collection="/chemical-enterprises",
    table=ChemicalEnterprise, key=ChemicalEnterprise.id, key_param="entry_id", key_type=RowId,
    public=ChemicalPublic, create=ChemicalEntry, update=ChemicalUpdate,
    scoped=REGISTERS["chemical_enterprise"].rows,
    filters=(
        ListFilter("q", Search, condition=lambda q: Enterprise.name.contains(q, autoescape=True)),
        ListFilter("county", CountyFilter, column=Enterprise.county_code),
        ListFilter("kind", Literal["chemical", "acid_using"] | None,
                   column=ChemicalEnterprise.kind),
        ListFilter("park_id", IdFilter, column=ChemicalEnterprise.park_id),
    ),
    views=_enterprise_views(ChemicalPublic),
    nullable=frozenset({"park_id"}),
    check_create=_check_new_chemical,
    check_update=_chemical_change,
    holders=lambda key: {},
)  # fmt: skip


# ---- heavy-metal enterprises ---------------------------------------------------------------


class MetalsUpdate(_Patch):
    metals: list[str] | None = Field(default=None, min_length=1, max_length=20)
    industry: str | None = Field(default=None, max_length=100)
    key_supervision: bool | None = None


class MetalsPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    enterprise_id: int
    metals: list[str]
    industry: str
    key_supervision: bool


def _check_new_metals(connection: Connection, body: MetalsEntry) -> None:
    _enterprise(connection, body.enterprise_id)
    taken = select(HeavyMetalEnterprise.id).where(
        HeavyMetalEnterprise.enterprise_id == body.enterprise_id
    )
    if connection.execute(taken).first() is not None:
        raise ApiError(409, "already_registered", "the enterprise is registered already",
                       "该企业已登记")  # fmt: skip


METALS: Resource[MetalsEntry, MetalsUpdate] = Resource(
    name="heavy_metal_enterprise", name_zh="涉重金属企业",
    collection="/heavy-metal-enterprises", table=HeavyMetalEnterprise,
    key=HeavyMetalEnterprise.id, key_param="entry_id", key_type=RowId,
    public=MetalsPublic, create=MetalsEntry, update=MetalsUpdate,
    scoped=REGISTERS["heavy_metal_enterprise"].rows,
    filters=(
        ListFilter("q", Search, condition=lambda q: Enterprise.name.contains(q, autoescape=True)),
        ListFilter("county", CountyFilter, column=Enterprise.county_code),
        ListFilter("metal", MetalFilter, condition=lambda metal: cast(
            HeavyMetalEnterprise.metals, String).contains(f'"{metal}"')),
        ListFilter("key_supervision", bool | None, column=HeavyMetalEnterprise.key_supervision),
    ),
    views=_enterprise_views(MetalsPublic),
    check_create=_check_new_metals,
    check_update=lambda _connection, before, values: _revalidated(MetalsEntry, before, values),
    holders=lambda key: {},
)  # fmt: skip

RESOURCES = (UNITS, TRANSFERS, MEDICAL, PARKS, CHEMICAL, METALS)
"""The registers of this module, by the order of the page's tabs."""
BY_KIND: dict[str, Resource[Any, Any]] = {resource.name: resource for resource in RESOURCES}


# ---- imports ------------------------------------------------------------------------------


def _import_route(resource: Resource[Any, Any]) -> None:
    kind = resource.name

    async def import_file(
        request: Request,
        user: Writer,
        name: Annotated[str | None, Query(pattern=r"^[^\x00-\x1f/\\]{1,200}$")] = None,
    ) -> dict[str, Any]:
        content = await _upload(request)
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        file_name = _file_name(name, media_type, content)
        if not content:
            raise ApiError(422, "empty_file", "the file is empty", "文件为空")
        actor = Actor(user.username, user.role, peer_of(request))
        ids, errors = await asyncio.to_thread(
            import_entries, request.app.state.database(), kind, file_name, content, actor
        )
        if errors:
            rows = [{"row": e.row, "column": e.column, "reason": e.reason} for e in errors]
            raise ApiError(422, "import_rejected", f"{len(errors)} problems: nothing imported",
                           f"{len(errors)}处错误，未导入任何内容", rows=rows)  # fmt: skip
        return {"imported": len(ids), "ids": ids}

    import_file.__name__ = f"import_{resource.collection.strip('/').replace('-', '_')}"
    import_file.__doc__ = (
        f"Import a CSV or XLSX file of {resource.name}s, all or nothing: 422 "
        f"``import_rejected`` lists every (row, column, reason). Columns: "
        f"{', '.join(columns_of(kind))}."
    )
    router.add_api_route(PREFIX + resource.collection + "/import", import_file,
                         methods=["POST"])  # fmt: skip


def import_entries(
    engine: Any, kind: str, name: str, content: bytes, actor: Actor
) -> tuple[list[int], list[Any]]:
    """Import a file in one transaction, each entry audited as created by import."""
    from envwatch.registry.register_entries import import_register  # noqa: PLC0415

    try:
        with engine.begin() as connection:
            ids, errors = import_register(connection, kind, name, content)
            for key in ids:
                record(connection, actor, f"registry.{kind}.import", kind, key,
                       after={"file": name})  # fmt: skip
    except ImportFileError as error:
        raise ApiError(422, error.code, error.message_en, error.message_zh) from None
    return ids, errors


# ---- hazardous-waste findings -----------------------------------------------------------------


@router.get(PREFIX + "/hazardous-waste/findings")
async def get_waste_findings(
    request: Request,
    user: Annotated[Viewer, Depends(api_user)],
    year: Annotated[int | None, Query(ge=2000, le=2199)] = None,
) -> dict[str, Any]:
    """The hazardous-waste checks for a calendar year (by default the last one
    finished, as producers declare it): receivers unlicensed for the category or
    over their annual capacity, transfers far from the declaration, storage
    beyond the limit; each with its rule, parameters' version and evidence, for
    the units in the user's scope."""
    today = now_cst().date()
    asked = year if year is not None else today.year - 1

    def read() -> dict[str, Any]:
        with request.app.state.database().connect() as connection:
            found = findings_for(connection, user, asked, today)
        return _findings_json(asked, found)

    return await asyncio.to_thread(read)


def _findings_json(year: int, found: list[tuple[Finding, Any]]) -> dict[str, Any]:
    items = [{**finding.as_json(), "unit": unit.name, "county_code": unit.county_code}
             for finding, unit in found]  # fmt: skip
    return {"year": year, "version": vocabulary().check_params.version, "items": items,
            "total": len(items), "summary": summary([f for f, _ in found])}  # fmt: skip


@router.post(PREFIX + "/hazardous-waste/findings/problems")
async def make_waste_problems(
    request: Request,
    user: Writer,
    year: Annotated[int | None, Query(ge=2000, le=2199)] = None,
) -> dict[str, Any]:
    """Make each of the year's findings (as ``GET .../findings``) a rectification
    problem (整改事项, source "register check"), assigned to its county with the
    unit as lead responsible unit; a finding made a problem before is left
    alone. All or none."""
    today = now_cst().date()
    asked = year if year is not None else today.year - 1
    actor = Actor(user.username, user.role, peer_of(request))
    desk = request.app.state.rectification_desk()
    ids, existing, errors = await asyncio.to_thread(
        findings_to_problems, desk, user, asked, today, actor
    )
    if errors:
        reasons = [f"{e.column}: {e.reason}" for e in errors]
        raise ApiError(422, "invalid_problem", "; ".join(reasons),
                       "整改事项有误：" + "；".join(reasons))  # fmt: skip
    return {"year": asked, "created": len(ids), "ids": ids, "existing": existing}


for _resource in RESOURCES:
    _import_route(_resource)
    mount(router, PREFIX, _resource, registry_writer)
_import_route(PLOTS)  # the contaminated plots' own routes are api_registers.py's
