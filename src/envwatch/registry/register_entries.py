"""What an entry of each bottom-line register holds, checked the same way
whether it comes from the API (JSON, English field names) or from a CSV/XLSX
import (a row, English or Chinese column names, lists and quantities as text:
``HW08,HW49``, ``HW08:12.5,HW49:3``, ``硫酸:50``, 是/否).

The import (``import_register``) is the registry import's, all or nothing:
``read_table`` and ``validate_rows`` of ``registry/importing.py``, then the
references (county, enterprise by credit code, unit, park, duplicates), every
problem as (row, column, reason), nothing written unless there is none.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import Connection, select

from envwatch.registry.importing import RowError, _Row, read_table, validate_rows
from envwatch.registry.registers import PLOT_STATUSES, code_of, vocabulary
from envwatch.store.schema import (
    ChemicalEnterprise,
    ChemicalPark,
    ContaminatedPlot,
    County,
    Enterprise,
    HazardousWasteUnit,
    HeavyMetalEnterprise,
    MedicalInstitution,
    WasteTransfer,
)

CREDIT_CODE = r"^[0-9A-HJ-NPQRTUWXY]{18}$"
ROLES = {"producer": "产生单位", "disposer": "经营单位"}
_SEPARATORS = re.compile(r"[,，、;；\s]+")


def col(name: str, name_zh: str, **kwargs: Any) -> Any:
    """A field read by its English name (API, English headers) or its Chinese column."""
    return Field(validation_alias=AliasChoices(name, name_zh), **kwargs)


def _parts(value: object) -> list[str] | object:
    if isinstance(value, str):
        return [part for part in _SEPARATORS.split(value.strip()) if part]
    return value


def _codes(values: list[str], names: Mapping[str, str], what: str) -> list[str]:
    codes = []
    for value in values:
        code = code_of(value.strip(), names) or code_of(value.strip().upper(), names) \
            or code_of(value.strip().capitalize(), names)  # fmt: skip
        if code is None:
            raise ValueError(f"unknown {what} {value!r}; known: {', '.join(names)}")
        codes.append(code)
    if len(set(codes)) != len(codes):
        raise ValueError(f"a {what} is listed twice")
    return codes


def _quantities(value: object, names: Mapping[str, str], what: str) -> dict[str, float]:
    """``{code: t}`` from a mapping or ``CODE:t,CODE:t`` (codes or Chinese names)."""
    if isinstance(value, str):
        pairs: list[tuple[str, object]] = []
        for part in _SEPARATORS.split(value.strip()):
            if not part:
                continue
            name, colon, amount = part.replace("：", ":").partition(":")
            if not colon:
                raise ValueError(f"{part!r}: write {what}:tonnes, e.g. {next(iter(names))}:10")
            pairs.append((name, amount))
    elif isinstance(value, Mapping):
        pairs = list(value.items())
    else:
        raise ValueError(f"{what}s with their tonnes")
    codes = _codes([str(name) for name, _ in pairs], names, what)
    out: dict[str, float] = {}
    for code, (_, amount) in zip(codes, pairs, strict=True):
        try:
            tonnes = float(amount)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ValueError(f"{code}: {amount!r} is not a quantity in tonnes") from None
        if not math.isfinite(tonnes) or not 0 <= tonnes <= 1e7:
            raise ValueError(f"{code}: the quantity must be 0 to 10 000 000 t")
        out[code] = tonnes
    return out


def _yes_no(value: object) -> object:
    return {"是": True, "否": False}.get(value, value) if isinstance(value, str) else value


class _Entry(_Row):
    model_config = ConfigDict(allow_inf_nan=False)


class _Place(_Entry):
    address: str = col("address", "地址", default="", max_length=300)
    longitude: float | None = col("longitude", "经度", default=None, ge=73, le=136)
    latitude: float | None = col("latitude", "纬度", default=None, ge=3, le=54)


# ---- hazardous waste ---------------------------------------------------------


class UnitEntry(_Place):
    """A hazardous-waste producer or licensed disposal unit (API and import)."""

    name: str = col("name", "单位名称", min_length=2, max_length=200)
    credit_code: str = col("credit_code", "统一社会信用代码", pattern=CREDIT_CODE)
    role: Literal["producer", "disposer"] = col("role", "类型")
    county_code: str = col("county_code", "区县代码", pattern=r"^\d{6}$")
    licence_no: str = col("licence_no", "许可证编号", default="", max_length=64)
    licence_valid_until: date | None = col("licence_valid_until", "许可证有效期至", default=None)
    licensed_categories: list[str] = col("licensed_categories", "许可类别", default_factory=list,
                                         max_length=50)  # fmt: skip
    licensed_capacity_t: float | None = col("licensed_capacity_t", "许可年经营规模",
                                            default=None, gt=0, le=1e7)  # fmt: skip
    declared: dict[str, float] = col("declared", "年申报产生量", default_factory=dict)

    @field_validator("role", mode="before")
    @classmethod
    def _role(cls, value: object) -> object:
        words = {"产生单位": "producer", "经营单位": "disposer", "处置单位": "disposer"}
        return words.get(value, value) if isinstance(value, str) else value

    @field_validator("licensed_categories", mode="before")
    @classmethod
    def _categories(cls, value: object) -> object:
        parts = _parts(value)
        if isinstance(parts, list):
            return _codes([str(p) for p in parts], vocabulary().hazardous_waste.categories,
                          "HW category")  # fmt: skip
        return parts

    @field_validator("declared", mode="before")
    @classmethod
    def _declared(cls, value: object) -> object:
        return _quantities(value, vocabulary().hazardous_waste.categories, "HW category")

    @model_validator(mode="after")
    def _licence(self) -> UnitEntry:
        if self.role == "disposer" and not (self.licence_no and self.licensed_categories):
            raise ValueError("a licensed disposal unit needs its licence number and categories")
        if self.role == "producer" and (self.licensed_categories or self.licensed_capacity_t):
            raise ValueError("a producer holds no disposal licence: register it as a disposer")
        return self


class _Transfer(_Entry):
    receiver_credit_code: str = col("receiver_credit_code", "接收单位信用代码",
                                    pattern=CREDIT_CODE)  # fmt: skip
    receiver_name: str = col("receiver_name", "接收单位名称", default="", max_length=200)
    hw_code: str = col("hw_code", "废物类别")
    quantity_t: float = col("quantity_t", "数量", gt=0, le=1e6)
    transferred_on: date = col("transferred_on", "转移日期")
    transport: str = col("transport", "运输单位", default="", max_length=200)

    @field_validator("hw_code", mode="before")
    @classmethod
    def _hw(cls, value: object) -> object:
        if isinstance(value, str):
            return _codes([value], vocabulary().hazardous_waste.categories, "HW category")[0]
        return value


class TransferEntry(_Transfer):
    """A manifest from the API: its producer by id."""

    manifest_no: str = col("manifest_no", "联单编号", pattern=r"^[0-9A-Za-z\-]{4,32}$")
    producer_id: int = Field(ge=1, le=2**31 - 1)


class TransferRow(_Transfer):
    """A manifest from a file: its producer by credit code."""

    manifest_no: str = col("manifest_no", "联单编号", pattern=r"^[0-9A-Za-z\-]{4,32}$")
    producer_credit_code: str = col("producer_credit_code", "产生单位信用代码",
                                    pattern=CREDIT_CODE)  # fmt: skip


# ---- medical institutions -----------------------------------------------------


class _Medical(_Place):
    name: str = col("name", "机构名称", min_length=2, max_length=200)
    county_code: str = col("county_code", "区县代码", pattern=r"^\d{6}$")
    grade: str = col("grade", "等级")
    beds: int = col("beds", "床位数", default=0, ge=0, le=100_000)
    has_wastewater_facility: bool = col("has_wastewater_facility", "污水处理设施", default=False)
    disinfection: str = col("disinfection", "消毒工艺", default="none")
    online_monitoring: bool = col("online_monitoring", "在线监测", default=False)
    waste_contract_no: str = col("waste_contract_no", "医废处置合同编号", default="",
                                 max_length=64)  # fmt: skip
    waste_contract_until: date | None = col("waste_contract_until", "合同有效期至", default=None)

    yes_no = field_validator("has_wastewater_facility", "online_monitoring", mode="before")(_yes_no)

    @field_validator("grade", mode="before")
    @classmethod
    def _grade(cls, value: object) -> object:
        if isinstance(value, str):
            return _codes([value], vocabulary().medical.grades, "grade")[0]
        return value

    @field_validator("disinfection", mode="before")
    @classmethod
    def _disinfection(cls, value: object) -> object:
        if isinstance(value, str):
            return _codes([value], vocabulary().medical.disinfection, "disinfection method")[0]
        return value


class MedicalEntry(_Medical):
    enterprise_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    waste_unit_id: int | None = Field(default=None, ge=1, le=2**31 - 1)


class MedicalRow(_Medical):
    credit_code: str | None = col("credit_code", "统一社会信用代码", default=None,
                                  pattern=CREDIT_CODE)  # fmt: skip
    waste_unit_credit_code: str | None = col("waste_unit_credit_code", "医废处置单位信用代码",
                                             default=None, pattern=CREDIT_CODE)  # fmt: skip


# ---- chemical parks and enterprises ------------------------------------------------


def _boundary(value: object) -> object:
    """A ring from ``lon lat;lon lat;...`` (or ``lon,lat;...``) or a list of pairs."""
    if isinstance(value, str):
        pairs = []
        for part in re.split(r"[;；]", value):
            numbers = [n for n in re.split(r"[,，\s]+", part.strip()) if n]
            if not numbers:
                continue
            if len(numbers) != 2:
                raise ValueError(f"{part.strip()!r}: a point is 'longitude latitude'")
            try:
                pairs.append([float(numbers[0]), float(numbers[1])])
            except ValueError:
                raise ValueError(f"{part.strip()!r}: not numbers") from None
        value = pairs
    if not isinstance(value, list):
        return value
    if len(value) < 3:
        raise ValueError("a boundary needs at least three points")
    if len(value) > 2000:
        raise ValueError("a boundary has at most 2000 points")
    for point in value:
        if not (isinstance(point, list | tuple) and len(point) == 2):
            raise ValueError("each point is [longitude, latitude]")
        lon, lat = point
        if not (isinstance(lon, int | float) and isinstance(lat, int | float)
                and 73 <= lon <= 136 and 3 <= lat <= 54):  # fmt: skip
            raise ValueError(f"{point}: outside China's longitudes and latitudes")
    ring = [[float(lon), float(lat)] for lon, lat in value]
    return ring if ring[0] == ring[-1] else [*ring, ring[0]]


class ParkEntry(_Entry):
    name: str = col("name", "园区名称", min_length=2, max_length=200)
    county_code: str = col("county_code", "区县代码", pattern=r"^\d{6}$")
    level: str = col("level", "认定级别", default="")
    longitude: float | None = col("longitude", "中心经度", default=None, ge=73, le=136)
    latitude: float | None = col("latitude", "中心纬度", default=None, ge=3, le=54)
    boundary: list[list[float]] | None = col("boundary", "边界", default=None)
    area_km2: float | None = col("area_km2", "面积", default=None, gt=0, le=10_000)

    ring = field_validator("boundary", mode="before")(_boundary)

    @field_validator("level", mode="before")
    @classmethod
    def _level(cls, value: object) -> object:
        if isinstance(value, str) and value:
            return _codes([value], vocabulary().chemical.park_levels, "park level")[0]
        return value


class _Chemical(_Entry):
    kind: str = col("kind", "类型")
    acids: dict[str, float] = col("acids", "用酸及贮存量", default_factory=dict)

    @field_validator("kind", mode="before")
    @classmethod
    def _kind(cls, value: object) -> object:
        if isinstance(value, str):
            return _codes([value], vocabulary().chemical.kinds, "kind")[0]
        return value

    @field_validator("acids", mode="before")
    @classmethod
    def _acids(cls, value: object) -> object:
        return _quantities(value, vocabulary().chemical.acids, "acid")


class ChemicalEntry(_Chemical):
    enterprise_id: int = Field(ge=1, le=2**31 - 1)
    park_id: int | None = Field(default=None, ge=1, le=2**31 - 1)


class ChemicalRow(_Chemical):
    credit_code: str = col("credit_code", "统一社会信用代码", pattern=CREDIT_CODE)
    park: str = col("park", "所在园区", default="", max_length=200)


class _Metals(_Entry):
    metals: list[str] = col("metals", "重金属", min_length=1, max_length=20)
    industry: str = col("industry", "行业", default="", max_length=100)
    key_supervision: bool = col("key_supervision", "重点监管", default=False)

    yes_no = field_validator("key_supervision", mode="before")(_yes_no)

    @field_validator("metals", mode="before")
    @classmethod
    def _metals(cls, value: object) -> object:
        parts = _parts(value)
        if isinstance(parts, list):
            return _codes([str(p) for p in parts], vocabulary().heavy_metals, "metal")
        return parts


class MetalsEntry(_Metals):
    enterprise_id: int = Field(ge=1, le=2**31 - 1)


class MetalsRow(_Metals):
    credit_code: str = col("credit_code", "统一社会信用代码", pattern=CREDIT_CODE)


# ---- contaminated plots ------------------------------------------------------------


class PlotRow(_Place):
    """A contaminated plot from a file (``web/api_registers.py`` has the API's)."""

    name: str = col("name", "地块名称", min_length=2, max_length=200)
    county_code: str = col("county_code", "区县代码", pattern=r"^\d{6}$")
    area_m2: float | None = col("area_m2", "面积", default=None, gt=0, le=1e9)
    former_use: str = col("former_use", "原用途", default="", max_length=100)
    status: str = col("status", "状态", default="suspected")
    credit_code: str | None = col("credit_code", "统一社会信用代码", default=None,
                                  pattern=CREDIT_CODE)  # fmt: skip
    responsible: str = col("responsible", "责任单位", default="", max_length=200)

    @field_validator("status", mode="before")
    @classmethod
    def _status(cls, value: object) -> object:
        if isinstance(value, str):
            return _codes([value], PLOT_STATUSES, "status")[0]
        return value


# ---- import ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _References:
    counties: set[str]
    enterprises: dict[str, int]
    units: dict[tuple[str, str], int]
    parks: dict[str, int]
    manifests: set[str]
    chemical: set[int]
    metals: set[int]


def _references(connection: Connection) -> _References:
    return _References(
        counties=set(connection.execute(select(County.code)).scalars()),
        enterprises=dict(connection.execute(select(Enterprise.credit_code, Enterprise.id)).all()),
        units={(credit, role): unit for credit, role, unit in connection.execute(
            select(HazardousWasteUnit.credit_code, HazardousWasteUnit.role,
                   HazardousWasteUnit.id))},
        parks=dict(connection.execute(select(ChemicalPark.name, ChemicalPark.id)).all()),
        manifests=set(connection.execute(select(WasteTransfer.manifest_no)).scalars()),
        chemical=set(connection.execute(select(ChemicalEnterprise.enterprise_id)).scalars()),
        metals=set(connection.execute(select(HeavyMetalEnterprise.enterprise_id)).scalars()),
    )  # fmt: skip


Problems = list[RowError]


def _column(schema: type[BaseModel], name: str, header: Mapping[str, str] | None) -> str:
    """The column a field was read from: its Chinese name unless the file used English."""
    alias = schema.model_fields[name].validation_alias
    choices = alias.choices if isinstance(alias, AliasChoices) else [name]
    if header is not None and name in header:
        return name
    return str(choices[-1])


def _county(number: int, code: str, refs: _References, errors: Problems, column: str) -> None:
    if code not in refs.counties:
        errors.append(RowError(number, column, f"unknown county {code}"))


def _enterprise(
    number: int, credit: str | None, refs: _References, errors: Problems, column: str
) -> int | None:
    if credit is None:
        return None
    found = refs.enterprises.get(credit)
    if found is None:
        errors.append(RowError(number, column, f"no registered enterprise {credit}"))
    return found


@dataclass(frozen=True, slots=True)
class RegisterImport:
    """How one register's file is read, checked and written."""

    kind: str
    table: Any
    schema: type[BaseModel]
    resolve: Callable[[Any, int, _References, Problems, Callable[[str], str]], dict[str, Any]]
    """A row's column values (references resolved), its problems appended."""
    key: Callable[[Any], object]
    """What two rows of one file may not share."""


def _unit(row: UnitEntry, number: int, refs: _References, errors: Problems,
          column: Callable[[str], str]) -> dict[str, Any]:  # fmt: skip
    _county(number, row.county_code, refs, errors, column("county_code"))
    if (row.credit_code, row.role) in refs.units:
        errors.append(RowError(number, column("credit_code"), f"this {row.role} is already "
                               "registered"))  # fmt: skip
    return {**row.model_dump(), "enterprise_id": refs.enterprises.get(row.credit_code)}


def _transfer(row: TransferRow, number: int, refs: _References, errors: Problems,
              column: Callable[[str], str]) -> dict[str, Any]:  # fmt: skip
    values = row.model_dump()
    producer = refs.units.get((values.pop("producer_credit_code"), "producer"))
    if producer is None:
        errors.append(RowError(number, column("producer_credit_code"),
                               f"no registered producer {row.producer_credit_code}"))  # fmt: skip
    if row.manifest_no in refs.manifests:
        errors.append(RowError(number, column("manifest_no"), "manifest already imported"))
    return {**values, "producer_id": producer}


def _medical(row: MedicalRow, number: int, refs: _References, errors: Problems,
             column: Callable[[str], str]) -> dict[str, Any]:  # fmt: skip
    _county(number, row.county_code, refs, errors, column("county_code"))
    values = row.model_dump()
    values["enterprise_id"] = _enterprise(number, values.pop("credit_code"), refs, errors,
                                          column("credit_code"))  # fmt: skip
    unit_credit = values.pop("waste_unit_credit_code")
    values["waste_unit_id"] = None
    if unit_credit is not None:
        values["waste_unit_id"] = refs.units.get((unit_credit, "disposer"))
        if values["waste_unit_id"] is None:
            errors.append(RowError(number, column("waste_unit_credit_code"),
                                   f"no licensed disposal unit {unit_credit}"))  # fmt: skip
    return values


def _park(row: ParkEntry, number: int, refs: _References, errors: Problems,
          column: Callable[[str], str]) -> dict[str, Any]:  # fmt: skip
    _county(number, row.county_code, refs, errors, column("county_code"))
    if row.name in refs.parks:
        errors.append(RowError(number, column("name"), "park already registered"))
    return row.model_dump()


def _chemical(row: ChemicalRow, number: int, refs: _References, errors: Problems,
              column: Callable[[str], str]) -> dict[str, Any]:  # fmt: skip
    values = row.model_dump()
    enterprise = _enterprise(number, values.pop("credit_code"), refs, errors,
                             column("credit_code"))  # fmt: skip
    if enterprise in refs.chemical:
        errors.append(RowError(number, column("credit_code"), "enterprise already registered "
                               "as chemical or acid-using"))  # fmt: skip
    park = values.pop("park")
    values["park_id"] = refs.parks.get(park) if park else None
    if park and values["park_id"] is None:
        errors.append(RowError(number, column("park"), f"no chemical park {park!r}"))
    return {**values, "enterprise_id": enterprise}


def _metal(row: MetalsRow, number: int, refs: _References, errors: Problems,
           column: Callable[[str], str]) -> dict[str, Any]:  # fmt: skip
    values = row.model_dump()
    enterprise = _enterprise(number, values.pop("credit_code"), refs, errors,
                             column("credit_code"))  # fmt: skip
    if enterprise in refs.metals:
        errors.append(RowError(number, column("credit_code"), "enterprise already registered "
                               "as a heavy-metal enterprise"))  # fmt: skip
    return {**values, "enterprise_id": enterprise}


def _plot(row: PlotRow, number: int, refs: _References, errors: Problems,
          column: Callable[[str], str]) -> dict[str, Any]:  # fmt: skip
    _county(number, row.county_code, refs, errors, column("county_code"))
    values = row.model_dump()
    values["enterprise_id"] = _enterprise(number, values.pop("credit_code"), refs, errors,
                                          column("credit_code"))  # fmt: skip
    return values


IMPORTS: Mapping[str, RegisterImport] = {
    one.kind: one
    for one in (
        RegisterImport("hazardous_waste_unit", HazardousWasteUnit, UnitEntry, _unit,
                       lambda row: (row.credit_code, row.role)),
        RegisterImport("waste_transfer", WasteTransfer, TransferRow, _transfer,
                       lambda row: row.manifest_no),
        RegisterImport("medical_institution", MedicalInstitution, MedicalRow, _medical,
                       lambda row: (row.name, row.county_code)),
        RegisterImport("chemical_park", ChemicalPark, ParkEntry, _park, lambda row: row.name),
        RegisterImport("chemical_enterprise", ChemicalEnterprise, ChemicalRow, _chemical,
                       lambda row: row.credit_code),
        RegisterImport("heavy_metal_enterprise", HeavyMetalEnterprise, MetalsRow, _metal,
                       lambda row: row.credit_code),
        RegisterImport("contaminated_plot", ContaminatedPlot, PlotRow, _plot,
                       lambda row: (row.name, row.county_code)),
    )
}  # fmt: skip
"""The registers a CSV/XLSX file fills, by kind."""


def columns_of(kind: str) -> list[str]:
    """The Chinese column names of ``kind``'s file, in order."""
    schema = IMPORTS[kind].schema
    return [
        str(info.validation_alias.choices[-1])
        if isinstance(info.validation_alias, AliasChoices) else name
        for name, info in schema.model_fields.items()
    ]  # fmt: skip


def import_register(
    connection: Connection, kind: str, name: str, content: bytes
) -> tuple[list[int], list[RowError]]:
    """Store the rows of a CSV/XLSX file in ``kind``'s register in the caller's
    transaction: (their ids, []) or, with any problem, ([], every problem) and
    nothing stored. Raises ``ImportFileError`` when the file is not a table."""
    spec = IMPORTS[kind]
    records = read_table(name, content)
    header = records[0] if records else None
    parsed: list[tuple[int, Any]] = []
    errors: Problems = []
    for number, record in enumerate(records, start=2):
        one, problems = validate_rows(spec.schema, [record], first_row=number)
        parsed += [(number, row) for row in one]
        errors += problems
    refs = _references(connection)
    values: list[dict[str, Any]] = []
    seen: dict[object, int] = {}
    for number, row in parsed:
        values.append(spec.resolve(row, number, refs, errors,
                                   lambda field: _column(spec.schema, field, header)))  # fmt: skip
        key = spec.key(row)
        if key in seen:
            errors.append(RowError(number, "", f"repeats row {seen[key]} of this file"))
        seen.setdefault(key, number)
    if errors:
        errors.sort(key=lambda e: e.row)
        return [], errors
    table = spec.table.__table__
    ids = [
        int(connection.execute(table.insert().returning(table.c.id), one).scalar_one())
        for one in values
    ]
    return ids, []
