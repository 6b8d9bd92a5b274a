"""Import of registry rows from CSV or XLSX, all or nothing.

``read_table`` turns a file into header-keyed rows (CSV in UTF-8, with or
without BOM, or GBK as Chinese Excel writes it; XLSX, first sheet). Headers
may be the English field names or the Chinese column names below.
``validate`` checks every row against its kind's schema and against the
registry and the file itself (unknown county, duplicate MN, ...), and
reports every problem as (row, column, reason). ``import_file`` writes only
when there is no problem at all, in one transaction.

A long import reports its progress (rows checked so far) through a
``progress`` callback, and a caller may add its own writes (an audit entry)
to the import's transaction with ``before_commit``. An XLSX file with a sheet
named after the kind (``points`` or ``监测点位``) is read from that sheet, so
one exported workbook can be imported kind by kind.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, TypeVar

from openpyxl import load_workbook
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from sqlalchemy import Connection, Engine, select

from envwatch.audit.log import Actor
from envwatch.errors import PeerError
from envwatch.glossary import factor
from envwatch.hj212 import ProtocolVersion
from envwatch.hj212.codes import now_cst
from envwatch.ledger.positive import follow_flag
from envwatch.registry.limits import AveragingPeriod
from envwatch.rules.shifts import format_shifts, parse_shifts
from envwatch.spreadsheet import cell_text
from envwatch.store.schema import (
    AirStation,
    County,
    Enterprise,
    Meter,
    MeterLink,
    MonitoringPoint,
    Outlet,
    PermitLimit,
    PointFactor,
    WaterSection,
)

MAX_ROWS = 100_000
KEY_CATEGORIES = frozenset({"air", "water", "chemical_park", "acid", "hazardous_waste", "medical"})
"""Key-enterprise categories (重点排污单位类别)."""

MN_PATTERN = r"^(?:[0-9A-Za-z]{14}|[0-9A-Za-z]{24})$"
"""An MN: 24 characters in HJ 212-2017, 14 in HJ/T 212-2005."""
PW_PATTERN = r"^[^;,&=\s]{6,32}$"
"""A device password: 6 characters or more, no separator of the data segment in it."""

Progress = Callable[[int, int], None]
"""Called with (rows done, rows in all) while a file is checked."""


class ImportKind(StrEnum):
    ENTERPRISES = "enterprises"
    OUTLETS = "outlets"
    POINTS = "points"
    LIMITS = "limits"
    METERS = "meters"
    STATIONS = "stations"
    SECTIONS = "sections"


def _yes_no(value: object) -> object:
    return {"是": True, "否": False}.get(value, value) if isinstance(value, str) else value


class _Row(BaseModel):
    model_config = ConfigDict(
        populate_by_name=True, str_strip_whitespace=True, extra="forbid", frozen=True
    )

    @field_validator("*", mode="before")
    @classmethod
    def _printable(cls, value: object) -> object:
        # Control characters have no place in a registry (and PostgreSQL refuses NUL).
        if isinstance(value, str) and any(ord(c) < 32 for c in value.strip()):
            raise ValueError("control characters are not allowed")
        return value


class EnterpriseRow(_Row):
    name: str = Field(alias="企业名称", min_length=2, max_length=200)
    credit_code: str = Field(alias="统一社会信用代码", pattern=r"^[0-9A-HJ-NPQRTUWXY]{18}$")
    county_code: str = Field(alias="区县代码", pattern=r"^\d{6}$")
    industry_code: str = Field(default="", alias="行业代码", pattern=r"^(\d{2,4})?$")
    key_categories: str = Field(default="", alias="重点类别")
    longitude: float | None = Field(default=None, alias="经度", ge=73, le=136)
    latitude: float | None = Field(default=None, alias="纬度", ge=3, le=54)
    positive_list: bool = Field(default=False, alias="正面清单")
    performance_grade: Literal["", "A+", "A", "B", "C", "D"] = Field(default="", alias="绩效分级")
    emergency_exempt: bool = Field(default=False, alias="应急豁免")
    work_shifts: str = Field(default="", alias="生产班次", max_length=64)
    """Declared production hours, e.g. ``08:00-16:00,22:00-06:00``."""

    @field_validator("work_shifts")
    @classmethod
    def _shifts(cls, value: str) -> str:
        return format_shifts(parse_shifts(value))

    @field_validator("key_categories")
    @classmethod
    def _known_categories(cls, value: str) -> str:
        parts = [p.strip() for p in value.replace("，", ",").split(",") if p.strip()]
        unknown = sorted(set(parts) - KEY_CATEGORIES)
        if unknown:
            raise ValueError(f"unknown categories {unknown}; known: {sorted(KEY_CATEGORIES)}")
        return ",".join(parts)

    positive_yes_no = field_validator("positive_list", "emergency_exempt", mode="before")(_yes_no)


class OutletRow(_Row):
    credit_code: str = Field(alias="统一社会信用代码")
    code: str = Field(alias="排放口编号", pattern=r"^D[AW]\d{3}$")
    name: str = Field(alias="排放口名称", min_length=1, max_length=100)
    kind: Literal["air", "water"] = Field(alias="类型")
    height_m: float | None = Field(default=None, alias="高度", gt=0, le=400)
    reheated: bool = Field(default=False, alias="脱硫后烟气再热")
    """Flue gas reheated after wet desulfurisation (MGGH): it leaves hot."""

    reheated_yes_no = field_validator("reheated", mode="before")(_yes_no)
    longitude: float | None = Field(default=None, alias="经度", ge=73, le=136)
    latitude: float | None = Field(default=None, alias="纬度", ge=3, le=54)


class PointRow(_Row):
    mn: str = Field(alias="MN", pattern=MN_PATTERN)
    pw: str = Field(alias="PW", pattern=PW_PATTERN)
    credit_code: str = Field(alias="统一社会信用代码")
    outlet_code: str = Field(default="", alias="排放口编号")
    """Empty for the HJ 212 device of an electricity meter, which has no outlet."""
    st: str = Field(default="32", alias="ST", pattern=r"^[0-9A-Z]{2}$")
    protocol_version: ProtocolVersion = Field(default=ProtocolVersion.HJ212_2017, alias="协议版本")
    lenient: bool = Field(default=True, alias="宽松解析")
    factors: str = Field(default="", alias="监测因子")
    """Comma-separated HJ 212-2017 codes; each in its glossary unit."""

    lenient_yes_no = field_validator("lenient", mode="before")(_yes_no)

    @field_validator("factors")
    @classmethod
    def _known_factors(cls, value: str) -> str:
        parts = [p.strip() for p in value.replace("，", ",").split(",") if p.strip()]
        unknown = [code for code in parts if factor(code) is None]
        if unknown:
            raise ValueError(f"{', '.join(unknown)}: not HJ 212-2017 factor codes")
        if len(set(parts)) != len(parts):
            raise ValueError("a factor is listed twice")
        return ",".join(parts)


class LimitRow(_Row):
    credit_code: str = Field(alias="统一社会信用代码")
    outlet_code: str = Field(alias="排放口编号")
    pollutant: str = Field(alias="污染物编码")
    limit_value: float = Field(alias="限值", gt=0)
    lower_value: float | None = Field(default=None, alias="下限", ge=0)
    """The lower bound of a two-sided limit (pH 6-9: 6)."""
    averaging_period: AveragingPeriod | None = Field(default=None, alias="平均时间")
    """1h, 24h or instant; empty: the outlet kind's usual period."""
    unit: str = Field(alias="单位", min_length=1)
    reference_o2: float | None = Field(default=None, alias="基准氧含量", ge=0, lt=21)
    basis: str = Field(default="", alias="依据")
    annual_tonnes: float | None = Field(default=None, alias="年许可排放量", ge=0)
    valid_from: date = Field(alias="生效日期")
    valid_to: date | None = Field(default=None, alias="失效日期")

    @field_validator("pollutant")
    @classmethod
    def _known_pollutant(cls, value: str) -> str:
        if factor(value) is None:
            raise ValueError(f"{value} is not an HJ 212-2017 factor code")
        return value

    @model_validator(mode="after")
    def _range(self) -> LimitRow:
        if self.lower_value is not None and self.lower_value >= self.limit_value:
            raise ValueError("下限 (lower bound) must be below 限值")
        return self


class MeterRow(_Row):
    credit_code: str = Field(alias="统一社会信用代码")
    name: str = Field(alias="电表名称", min_length=1, max_length=100)
    kind: Literal["production", "treatment", "total"] = Field(alias="类型")
    rated_kw: float | None = Field(default=None, alias="额定功率", gt=0)
    mn: str | None = Field(default=None, alias="MN", pattern=MN_PATTERN)
    serves: str = Field(default="", alias="服务生产设施")
    """A treatment meter's production meters (产治关联): their names, comma-separated."""

    @property
    def served_names(self) -> list[str]:
        return [p.strip() for p in self.serves.replace("，", ",").split(",") if p.strip()]


CONTROL_LEVELS = {"国控": "national", "省控": "provincial", "县控": "county", "市控": "city"}


def _control_level(value: object) -> object:
    return CONTROL_LEVELS.get(value, value) if isinstance(value, str) else value


def _water_class(value: object) -> object:
    if not isinstance(value, str):
        return value
    roman = {"Ⅰ": "I", "Ⅱ": "II", "Ⅲ": "III", "Ⅳ": "IV", "Ⅴ": "V"}
    cleaned = value.strip().replace("类", "")
    return roman.get(cleaned, cleaned)


class _SiteRow(_Row):
    """What air stations and river sections share: where they are and their logger."""

    code: str = Field(alias="编码", pattern=r"^[0-9A-Za-z_\-]{1,32}$")
    county_code: str = Field(alias="区县代码", pattern=r"^\d{6}$")
    longitude: float | None = Field(default=None, alias="经度", ge=73, le=136)
    latitude: float | None = Field(default=None, alias="纬度", ge=3, le=54)
    mn: str | None = Field(default=None, alias="MN", pattern=MN_PATTERN)
    pw: str | None = Field(default=None, alias="PW", pattern=PW_PATTERN)
    """With an MN not yet registered: its logger's password (the point is created)."""

    @model_validator(mode="after")
    def _pw_needs_mn(self) -> _SiteRow:
        if self.pw is not None and self.mn is None:
            raise ValueError("PW needs an MN")
        return self


class StationRow(_SiteRow):
    name: str = Field(alias="站点名称", min_length=1, max_length=100)
    level: Literal["national", "provincial", "county"] = Field(alias="级别")

    level_words = field_validator("level", mode="before")(_control_level)


class SectionRow(_SiteRow):
    name: str = Field(alias="断面名称", min_length=1, max_length=100)
    river: str = Field(alias="河流", min_length=1, max_length=64)
    level: Literal["national", "provincial", "city"] = Field(alias="控制级别")
    target_class: Literal["I", "II", "III", "IV", "V"] = Field(alias="目标类别")
    lake: bool = Field(default=False, alias="湖库")

    level_words = field_validator("level", mode="before")(_control_level)
    class_words = field_validator("target_class", mode="before")(_water_class)
    lake_yes_no = field_validator("lake", mode="before")(_yes_no)


SCHEMAS: Mapping[ImportKind, type[_Row]] = {
    ImportKind.ENTERPRISES: EnterpriseRow,
    ImportKind.OUTLETS: OutletRow,
    ImportKind.POINTS: PointRow,
    ImportKind.LIMITS: LimitRow,
    ImportKind.METERS: MeterRow,
    ImportKind.STATIONS: StationRow,
    ImportKind.SECTIONS: SectionRow,
}


@dataclass(frozen=True, slots=True)
class RowError:
    """A problem with one cell (or a whole row: ``column`` empty). Rows count
    from 2, as a spreadsheet shows them under the header row."""

    row: int
    column: str
    reason: str


class ImportFileError(PeerError):
    """The file cannot be read as a table at all."""

    def __init__(self, detail_en: str, detail_zh: str) -> None:
        super().__init__("bad_import_file", detail_en, detail_zh)


SHEET_NAMES: Mapping[ImportKind, str] = {
    ImportKind.ENTERPRISES: "企业",
    ImportKind.OUTLETS: "排放口",
    ImportKind.POINTS: "监测点位",
    ImportKind.LIMITS: "许可限值",
    ImportKind.METERS: "电表",
    ImportKind.STATIONS: "空气站点",
    ImportKind.SECTIONS: "水质断面",
}
"""The Chinese sheet name of each kind in a workbook (the English one is the kind's value)."""


def columns(kind: ImportKind) -> list[str]:
    """The file's column names of ``kind``, Chinese, in the schema's order."""
    return [str(info.alias) for info in SCHEMAS[kind].model_fields.values()]


def read_table(name: str, content: bytes, kind: ImportKind | None = None) -> list[dict[str, str]]:
    """The rows of a CSV or XLSX file, keyed by the header row. In a workbook,
    the sheet named after ``kind`` if there is one, else the first."""
    suffix = Path(name).suffix.lower()
    if suffix == ".xlsx":
        return _read_xlsx(content, kind)
    if suffix == ".csv":
        return _read_csv(content)
    raise ImportFileError(
        f"{name}: only .csv and .xlsx files", f"{name}：只支持 .csv 和 .xlsx 文件"
    )


def _read_csv(content: bytes) -> list[dict[str, str]]:
    for encoding in ("utf-8-sig", "gbk"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportFileError("the CSV is neither UTF-8 nor GBK", "CSV文件既不是UTF-8也不是GBK编码")
    try:
        table = list(csv.reader(io.StringIO(text)))
    except csv.Error as error:  # a NUL byte, an unclosed quote at the end, ...
        raise ImportFileError(f"not a readable CSV file ({error})", "无法读取的CSV文件") from None
    return _rows(table)


def _read_xlsx(content: bytes, kind: ImportKind | None = None) -> list[dict[str, str]]:
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:
        raise ImportFileError(
            f"not a readable XLSX file ({type(error).__name__})", "无法读取的XLSX文件"
        ) from None
    try:
        named = {sheet.title: sheet for sheet in workbook.worksheets}
        wanted = (kind.value, SHEET_NAMES[kind]) if kind is not None else ()
        sheet = next((named[title] for title in wanted if title in named), workbook.worksheets[0])
        table = [
            ["" if cell is None else _cell_text(cell) for cell in row]
            for row in sheet.iter_rows(values_only=True)
        ]
    finally:
        workbook.close()
    return _rows(table)


def _cell_text(value: object) -> str:
    if isinstance(value, datetime):
        return (
            value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
        )
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _rows(table: list[list[str]]) -> list[dict[str, str]]:
    while table and not any(cell.strip() for cell in table[-1]):
        table.pop()
    if not table:
        raise ImportFileError("the file has no header row", "文件没有表头行")
    if len(table) - 1 > MAX_ROWS:
        raise ImportFileError(f"more than {MAX_ROWS} rows", f"超过{MAX_ROWS}行")
    header = [cell.strip() for cell in table[0]]
    if len(set(header)) != len(header):
        raise ImportFileError("the header repeats a column", "表头有重复的列")
    return [
        {
            name: (cell_text(row[i]).strip() if i < len(row) else "")
            for i, name in enumerate(header)
            if name
        }
        for row in table[1:]
    ]


_Model = TypeVar("_Model", bound=BaseModel)


def validate_rows(
    schema: type[_Model],
    records: Iterable[Mapping[str, Any]],
    first_row: int,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[_Model], list[RowError]]:
    """Each record as ``schema``, empty cells left out; every problem as a
    ``RowError``. ``progress`` hears the count of records checked so far."""
    parsed: list[_Model] = []
    errors: list[RowError] = []
    for done, (number, record) in enumerate(enumerate(records, start=first_row), start=1):
        if progress is not None:
            progress(done)
        values = {key: value for key, value in record.items() if value not in ("", None)}
        try:
            parsed.append(schema.model_validate(values))
        except ValidationError as error:
            for problem in error.errors():
                column = ".".join(str(part) for part in problem["loc"])
                errors.append(RowError(number, column, problem["msg"]))
    return parsed, errors


def _parse(
    kind: ImportKind, rows: list[dict[str, str]], progress: Progress | None = None
) -> tuple[list[_Row], list[RowError]]:
    total = len(rows)

    def checked(done: int) -> None:
        if progress is not None:
            progress(done, total)

    # Rows count from 2: the header is row 1.
    return validate_rows(SCHEMAS[kind], rows, first_row=2, progress=checked)


def _registered(connection: Connection) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
    """Enterprise ids by credit code, outlet ids by (credit code, outlet code)."""
    enterprises: dict[str, int] = {}
    for credit, enterprise_id in connection.execute(select(Enterprise.credit_code, Enterprise.id)):
        enterprises[credit] = enterprise_id
    outlets = {
        (credit, code): outlet_id
        for credit, code, outlet_id in connection.execute(
            select(Enterprise.credit_code, Outlet.code, Outlet.id).join(
                Enterprise, Outlet.enterprise_id == Enterprise.id
            )
        )
    }
    return enterprises, outlets


def validate(
    engine: Engine, kind: ImportKind, rows: list[dict[str, str]], progress: Progress | None = None
) -> tuple[list[_Row], list[RowError]]:
    """Every problem of ``rows`` as ``kind``: formats, then references and duplicates."""
    parsed, errors = _parse(kind, rows, progress)
    if errors:
        return parsed, errors
    with engine.connect() as connection:
        counties = set(connection.execute(select(County.code)).scalars())
        enterprises, outlets = _registered(connection)
        points = dict(
            connection.execute(select(MonitoringPoint.mn, MonitoringPoint.enterprise_id)).all()
        )
        mns = set(points)
        production = set(_production_meters(connection))
        sites = {
            kind: set(connection.execute(select(table.code)).scalars())
            for kind, table in (
                (ImportKind.STATIONS, AirStation),
                (ImportKind.SECTIONS, WaterSection),
            )
        }
        site_mns = {
            str(mn) for table in (AirStation, WaterSection)
            for mn in connection.execute(select(table.mn).where(table.mn.is_not(None))).scalars()
        }  # fmt: skip
    seen: set[Any] = set()
    for number, row in enumerate(parsed, start=2):
        key: Any = None
        if isinstance(row, EnterpriseRow):
            if row.county_code not in counties:
                errors.append(RowError(number, "county_code", f"unknown county {row.county_code}"))
            if row.credit_code in enterprises:
                errors.append(RowError(number, "credit_code", "enterprise already registered"))
            key = row.credit_code
        elif isinstance(row, _SiteRow):
            key = ("site", row.code)
            errors += _site_errors(number, row, counties, sites[kind], points, site_mns)
            if row.mn is not None:
                site_mns.add(row.mn)
        elif isinstance(row, OutletRow | PointRow | LimitRow | MeterRow):
            if row.credit_code not in enterprises:
                errors.append(
                    RowError(number, "credit_code", f"unknown enterprise {row.credit_code}")
                )
            known_outlet = (row.credit_code, getattr(row, "outlet_code", None)) in outlets
            if (
                isinstance(row, PointRow | LimitRow)
                and row.credit_code in enterprises
                and (not known_outlet)
                and (row.outlet_code or isinstance(row, LimitRow))
            ):
                errors.append(
                    RowError(
                        number, "outlet_code", f"no outlet {row.outlet_code} at this enterprise"
                    )
                )
            if isinstance(row, OutletRow):
                key = (row.credit_code, row.code)
                if key in outlets:
                    errors.append(RowError(number, "code", "outlet already registered"))
            if isinstance(row, PointRow):
                key = row.mn
                if row.mn in mns:
                    errors.append(RowError(number, "mn", f"MN {row.mn} already registered"))
            if isinstance(row, MeterRow):
                errors += _link_errors(number, row, production)
                if row.kind == "production":
                    production.add((row.credit_code, row.name))
        if key is not None:
            if key in seen:
                errors.append(RowError(number, "", "repeats an earlier row of this file"))
            seen.add(key)
    return parsed, errors


def _site_errors(  # noqa: PLR0917 (what the registry holds, each by name)
    number: int,
    row: _SiteRow,
    counties: set[str],
    registered: set[str],
    points: Mapping[str, int | None],
    site_mns: set[str],
) -> list[RowError]:
    """A station's or section's problems: its county, its code, its logger."""
    errors = []
    if row.county_code not in counties:
        errors.append(RowError(number, "county_code", f"unknown county {row.county_code}"))
    if row.code in registered:
        errors.append(RowError(number, "code", f"{row.code} already registered"))
    if row.mn is not None:
        if row.mn in site_mns:
            errors.append(RowError(number, "mn", f"MN {row.mn} already belongs to a site"))
        elif row.mn in points and points[row.mn] is not None:
            errors.append(RowError(number, "mn", f"MN {row.mn} is an enterprise's point"))
        elif row.mn not in points and row.pw is None:
            errors.append(RowError(number, "pw", "a new logger needs its password (PW)"))
    return errors


def _production_meters(connection: Connection) -> dict[tuple[str, str], int]:
    """Production meters' ids by (credit code, meter name)."""
    return {
        (credit, name): meter_id
        for credit, name, meter_id in connection.execute(
            select(Enterprise.credit_code, Meter.name, Meter.id)
            .join(Enterprise, Meter.enterprise_id == Enterprise.id)
            .where(Meter.kind == "production")
        )
    }


def _link_errors(number: int, row: MeterRow, production: set[tuple[str, str]]) -> list[RowError]:
    """A treatment meter may serve production meters of its enterprise, registered
    or in an earlier row of the file."""
    if not row.served_names:
        return []
    if row.kind != "treatment":
        return [RowError(number, "serves", "only a treatment meter serves production meters")]
    missing = [n for n in row.served_names if (row.credit_code, n) not in production]
    if missing:
        return [RowError(number, "serves", f"no production meter {', '.join(missing)} "
                         "at this enterprise")]  # fmt: skip
    return []


def _link_records(connection: Connection, rows: Iterable[_Row]) -> list[dict[str, int]]:
    """The links of the imported treatment meters, once they are written."""
    production = _production_meters(connection)
    treatment = {
        (credit, name): meter_id
        for credit, name, meter_id in connection.execute(
            select(Enterprise.credit_code, Meter.name, Meter.id)
            .join(Enterprise, Meter.enterprise_id == Enterprise.id)
            .where(Meter.kind == "treatment")
        )
    }
    return [
        {"treatment_meter_id": treatment[(row.credit_code, row.name)],
         "production_meter_id": production[(row.credit_code, name)]}
        for row in rows if isinstance(row, MeterRow)
        for name in dict.fromkeys(row.served_names)
    ]  # fmt: skip


def _records(
    kind: ImportKind,
    rows: Iterable[_Row],
    enterprises: Mapping[str, int],
    outlets: Mapping[Any, int],
) -> tuple[type[Any], list[dict[str, Any]]]:
    out: list[dict[str, Any]] = []
    for row in rows:
        values = row.model_dump()
        credit = values.pop("credit_code", None)
        if kind is ImportKind.ENTERPRISES:
            values.pop("positive_list")  # the register's (ledger/positive.py), after the insert
            out.append({**values, "credit_code": credit})
            continue
        if kind in (ImportKind.STATIONS, ImportKind.SECTIONS):
            values.pop("pw")
            out.append(values)
            continue
        values["enterprise_id"] = enterprises[credit]
        if "outlet_code" in values:
            code = values.pop("outlet_code")
            values["outlet_id"] = outlets[(credit, code)] if code else None
        if kind is ImportKind.POINTS:
            values["protocol_version"] = values["protocol_version"].value
            values.pop("factors")
        if kind is ImportKind.METERS:
            values.pop("serves")
        if kind is ImportKind.LIMITS:
            period = values["averaging_period"]
            values["averaging_period"] = None if period is None else period.value
            for name in ("valid_from", "valid_to"):
                if values[name] is not None:
                    values[name] = datetime.combine(values[name], datetime.min.time())
        out.append(values)
    table = {
        ImportKind.ENTERPRISES: Enterprise,
        ImportKind.OUTLETS: Outlet,
        ImportKind.POINTS: MonitoringPoint,
        ImportKind.LIMITS: PermitLimit,
        ImportKind.METERS: Meter,
        ImportKind.STATIONS: AirStation,
        ImportKind.SECTIONS: WaterSection,
    }[kind]
    return table, out


def _site_loggers(
    connection: Connection, kind: ImportKind, rows: Iterable[_Row]
) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """The monitoring points (no enterprise) and factors of the sites' new
    loggers, in the units of ``quality/factors.toml``."""
    from envwatch.quality.factors import site_logger  # noqa: PLC0415

    known = set(connection.execute(select(MonitoringPoint.mn)).scalars())
    medium = "air" if kind is ImportKind.STATIONS else "water"
    points: list[dict[str, Any]] = []
    factors: list[dict[str, str]] = []
    for row in rows:
        if not isinstance(row, _SiteRow) or row.mn is None or row.mn in known or row.pw is None:
            continue
        point, point_factors = site_logger(medium, row.mn, row.pw)
        points.append(point)
        factors += point_factors
    return points, factors


def _factor_records(rows: Iterable[_Row]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for row in rows:
        if isinstance(row, PointRow):
            for code in filter(None, row.factors.split(",")):
                known = factor(code)
                out.append({"mn": row.mn, "pollutant": code, "unit": known.unit if known else ""})
    return out


def _list_flagged(connection: Connection, rows: Iterable[_Row]) -> None:
    """Enterprises imported with 正面清单 = 是 enter the enforcement positive list's
    register (the flag follows from it, ``ledger/positive.py``)."""
    flagged = [row.credit_code for row in rows
               if isinstance(row, EnterpriseRow) and row.positive_list]  # fmt: skip
    if not flagged:
        return
    ids = connection.execute(
        select(Enterprise.id).where(Enterprise.credit_code.in_(flagged))
    ).scalars()  # fmt: skip
    actor = Actor("registry import", "system", "import")
    for enterprise_id in ids:
        follow_flag(connection, enterprise_id, True, now_cst().date(), actor)


BeforeCommit = Callable[[Connection, int], None]
"""Called inside the import's transaction with the count of rows written."""


def import_rows(
    engine: Engine,
    kind: ImportKind,
    rows: list[dict[str, str]],
    *,
    progress: Progress | None = None,
    before_commit: BeforeCommit | None = None,
) -> list[RowError]:
    """Validate ``rows``; write them in one transaction only if there is no error."""
    parsed, errors = validate(engine, kind, rows, progress)
    if errors:
        return errors
    with engine.begin() as connection:
        enterprises, outlets = _registered(connection)
        if kind in (ImportKind.STATIONS, ImportKind.SECTIONS):
            loggers, logger_factors = _site_loggers(connection, kind, parsed)
            if loggers:
                connection.execute(MonitoringPoint.__table__.insert(), loggers)  # type: ignore[attr-defined]
                connection.execute(PointFactor.__table__.insert(), logger_factors)  # type: ignore[attr-defined]
        table, records = _records(kind, parsed, enterprises, outlets)
        if records:
            connection.execute(table.__table__.insert(), records)
        if kind is ImportKind.ENTERPRISES:
            _list_flagged(connection, parsed)
        factors = _factor_records(parsed)
        if factors:
            connection.execute(PointFactor.__table__.insert(), factors)  # type: ignore[attr-defined]
        links = _link_records(connection, parsed) if kind is ImportKind.METERS else []
        if links:
            connection.execute(MeterLink.__table__.insert(), links)  # type: ignore[attr-defined]
        if before_commit is not None:
            before_commit(connection, len(records))
    return []


def import_file(
    engine: Engine,
    kind: ImportKind,
    name: str,
    content: bytes,
    *,
    progress: Progress | None = None,
    before_commit: BeforeCommit | None = None,
) -> list[RowError]:
    """Read and import a CSV/XLSX file; raises ``ImportFileError`` if it is not a table."""
    return import_rows(
        engine,
        kind,
        read_table(name, content, kind),
        progress=progress,
        before_commit=before_commit,
    )
