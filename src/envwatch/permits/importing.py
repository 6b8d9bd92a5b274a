"""Import of permits from CSV or XLSX, all or nothing (``registry/importing.py``
reads the file and checks rows the same way): one row per outlet and
pollutant of a permit, the permit's own columns repeated on each of its
rows; each permit number in the file becomes that permit's next version
(``store.record_version``). Every problem is reported as (row, column,
reason) and nothing is written unless there is none."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from pydantic import Field, field_validator, model_validator
from sqlalchemy import Connection, Engine, select

from envwatch.audit.log import Actor
from envwatch.glossary import factor
from envwatch.permits.caps import SEASON_DAY, checked_season_day
from envwatch.permits.store import (
    Category,
    MonitoringMethod,
    PermitItem,
    PermitVersion,
    PlanItem,
    record_version,
)
from envwatch.registry.importing import (
    RowError,
    _registered,  # the registry's own lookup of enterprises and outlets
    _Row,
    read_table,
    validate_rows,
)
from envwatch.registry.limits import AveragingPeriod
from envwatch.store.schema import Permit

CATEGORY_WORDS = {"重点管理": "key", "简化管理": "simplified", "登记管理": "registration"}
METHOD_WORDS = {
    "自动": "automatic",
    "自动监测": "automatic",
    "手工": "manual",
    "手工监测": "manual",
}
FREQUENCY_PATTERN = r"^(continuous|\d{1,3}/(hour|day|week|month|quarter|halfyear|year))$"


class PermitRow(_Row):
    number: str = Field(alias="许可证编号", min_length=4, max_length=32, pattern=r"^[0-9A-Za-z-]+$")
    credit_code: str = Field(alias="统一社会信用代码")
    category: Category = Field(alias="管理类别")
    valid_from: date = Field(alias="有效期起")
    valid_to: date = Field(alias="有效期止")
    outlet_code: str = Field(alias="排放口编号")
    pollutant: str = Field(alias="污染物编码")
    limit_value: float = Field(alias="限值", gt=0)
    unit: str = Field(alias="单位", min_length=1, max_length=16)
    averaging_period: AveragingPeriod | None = Field(default=None, alias="平均时间")
    reference_o2: float | None = Field(default=None, alias="基准氧含量", ge=0, lt=21)
    basis: str = Field(default="", alias="依据", max_length=64)
    annual_tonnes: float | None = Field(default=None, alias="年许可排放量", ge=0)
    monthly_tonnes: float | None = Field(default=None, alias="月许可排放量", ge=0)
    seasonal_tonnes: float | None = Field(default=None, alias="时段许可排放量", ge=0)
    season_from: str | None = Field(default=None, alias="时段起", pattern=SEASON_DAY.pattern)
    season_to: str | None = Field(default=None, alias="时段止", pattern=SEASON_DAY.pattern)
    monitoring: MonitoringMethod | None = Field(default=None, alias="监测方式")
    frequency: str | None = Field(default=None, alias="监测频次", pattern=FREQUENCY_PATTERN)
    untreated_concentration: float | None = Field(default=None, alias="产生浓度", ge=0)
    design_flow_m3h: float | None = Field(default=None, alias="设计流量", gt=0)

    _season_days = field_validator("season_from", "season_to")(checked_season_day)

    @field_validator("category", mode="before")
    @classmethod
    def _category(cls, value: object) -> object:
        return CATEGORY_WORDS.get(value, value) if isinstance(value, str) else value

    @field_validator("monitoring", mode="before")
    @classmethod
    def _method(cls, value: object) -> object:
        return METHOD_WORDS.get(value, value) if isinstance(value, str) else value

    @field_validator("pollutant")
    @classmethod
    def _known_pollutant(cls, value: str) -> str:
        if factor(value) is None:
            raise ValueError(f"{value} is not an HJ 212-2017 factor code")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> PermitRow:
        if self.valid_to <= self.valid_from:
            raise ValueError("有效期止 must follow 有效期起")
        if (self.monitoring is None) != (self.frequency is None):
            raise ValueError("监测方式 and 监测频次 go together")
        if (
            self.monthly_tonnes is not None
            and self.annual_tonnes is not None
            and (self.monthly_tonnes > self.annual_tonnes)
        ):
            raise ValueError("月许可排放量 exceeds 年许可排放量")
        if (self.seasonal_tonnes is None) != (self.season_from is None) or (
            self.season_from is None
        ) != (self.season_to is None):
            raise ValueError("时段许可排放量, 时段起 and 时段止 go together")
        return self


PERMIT_COLUMNS = ("number", "credit_code", "category", "valid_from", "valid_to")
"""The permit's own columns: equal on every row of one permit."""


def columns() -> list[str]:
    return [str(info.alias) for info in PermitRow.model_fields.values()]


def _midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time())


def validate(
    connection: Connection, records: Sequence[dict[str, str]]
) -> tuple[list[PermitVersion], list[RowError]]:
    """The file's permits, one version each, and every problem of its rows."""
    rows, errors = validate_rows(PermitRow, records, first_row=2)
    if errors:
        return [], errors
    enterprises, outlets = _registered(connection)
    holders = {
        row.number: row.enterprise_id
        for row in connection.execute(select(Permit.number, Permit.enterprise_id))
    }
    firsts: dict[str, PermitRow] = {}
    seen: set[tuple[str, str, str]] = set()
    for number, row in enumerate(rows, start=2):
        if row.credit_code not in enterprises:
            errors.append(RowError(number, "credit_code", f"unknown enterprise {row.credit_code}"))
        elif (row.credit_code, row.outlet_code) not in outlets:
            errors.append(RowError(number, "outlet_code",
                                   f"no outlet {row.outlet_code} at this enterprise"))  # fmt: skip
        held_by = holders.get(row.number)
        if held_by is not None and held_by != enterprises.get(row.credit_code):
            errors.append(RowError(number, "number", f"permit {row.number} is held by "
                                   "another enterprise"))  # fmt: skip
        first = firsts.setdefault(row.number, row)
        for name in PERMIT_COLUMNS:
            if getattr(row, name) != getattr(first, name):
                errors.append(RowError(number, name, f"differs from the first row of permit "
                                       f"{row.number}"))  # fmt: skip
        key = (row.number, row.outlet_code, row.pollutant)
        if key in seen:
            errors.append(RowError(number, "", "repeats an earlier row of this permit"))
        seen.add(key)
    if errors:
        return [], errors
    permits: list[PermitVersion] = []
    for permit_number, first in firsts.items():
        mine = [row for row in rows if row.number == permit_number]
        outlet = {row.outlet_code: outlets[(row.credit_code, row.outlet_code)] for row in mine}
        permits.append(PermitVersion(
            permit_number, enterprises[first.credit_code], first.category,
            _midnight(first.valid_from), _midnight(first.valid_to),
            items=[PermitItem(
                outlet[row.outlet_code], row.pollutant, row.limit_value, row.unit, row.basis,
                row.reference_o2, None if row.averaging_period is None
                else str(row.averaging_period), None, row.annual_tonnes, row.monthly_tonnes,
                row.seasonal_tonnes, row.season_from, row.season_to,
            ) for row in mine],
            plan=[PlanItem(
                outlet[row.outlet_code], row.pollutant, row.monitoring, row.frequency,
                row.untreated_concentration, row.design_flow_m3h,
            ) for row in mine if row.monitoring is not None and row.frequency is not None],
        ))  # fmt: skip
    return permits, []


def import_file(engine: Engine, name: str, content: bytes, actor: Actor) -> list[RowError]:
    """Read and import a CSV/XLSX file of permits; nothing is written unless
    every row is right. ``ImportFileError`` if it is not a table."""
    records = read_table(name, content)
    with engine.begin() as connection:
        permits, errors = validate(connection, records)
        if errors:
            return errors
        for permit in permits:
            record_version(connection, permit, actor)
    return []
