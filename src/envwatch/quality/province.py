"""The province's monthly figures (city composite index, PM2.5, good-day
ratio of each city and of the province, ``全省``), imported from the CSV or
XLSX the province publishes: every row checked, all or nothing, each problem
named by row and column (the registry import's machinery)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Connection, select

from envwatch.errors import PeerError
from envwatch.registry.importing import ImportFileError, read_table, validate_rows
from envwatch.store.schema import ProvinceMonthly

PROVINCE = "全省"
"""The area name of the province's own figures."""


class ProvinceRow(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid", frozen=True,
                              populate_by_name=True)  # fmt: skip
    month: str = Field(alias="月份", pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$")
    area: str = Field(alias="地区", min_length=1, max_length=32, pattern=r"^[^\x00-\x1f]+$")
    composite_index: float | None = Field(default=None, alias="综合指数", ge=0, le=50)
    pm2_5: float | None = Field(default=None, alias="PM2.5", ge=0, le=1000)
    good_day_ratio: float | None = Field(default=None, alias="优良天数比例", ge=0, le=100)

    @field_validator("month")
    @classmethod
    def _not_future(cls, value: str) -> str:
        if value > datetime.now(UTC).strftime("%Y-%m"):
            raise ValueError("a month still to come")
        return value


class ProvinceImportError(PeerError):
    def __init__(self, problems: list[dict[str, Any]]) -> None:
        super().__init__(
            "bad_province_file",
            f"{len(problems)} problems: nothing imported",
            f"{len(problems)} 处问题，未导入任何数据",
        )
        self.problems = problems


def parse_province(content: bytes, name: str = "province.csv") -> list[ProvinceRow]:
    """The rows of a province file; ``ProvinceImportError`` lists every problem."""
    try:
        records = read_table(name, content)
    except ImportFileError as error:
        raise ProvinceImportError([{"row": 0, "column": "", "reason": error.message_en}]) from None
    parsed, errors = validate_rows(ProvinceRow, records, first_row=2)
    problems = [{"row": e.row, "column": e.column, "reason": e.reason} for e in errors]
    seen: dict[tuple[str, str], int] = {}
    for number, row in enumerate(parsed, start=2):
        key = (row.month, row.area)
        if key in seen:
            reason = f"repeats row {seen[key]} ({row.month} {row.area})"
            problems.append({"row": number, "column": "", "reason": reason})
        seen[key] = number
    if not parsed and not problems:
        problems.append({"row": 0, "column": "", "reason": "the file has no rows"})
    if problems:
        raise ProvinceImportError(problems)
    return parsed


def import_province_csv(connection: Connection, content: bytes, name: str = "province.csv") -> int:
    """Store the rows of a province file (replacing the same month and area)."""
    rows = parse_province(content, name)
    now = datetime.now(UTC)
    for row in rows:
        month = date.fromisoformat(row.month + "-01")
        connection.execute(
            ProvinceMonthly.__table__.delete().where(  # type: ignore[attr-defined]
                ProvinceMonthly.month == month, ProvinceMonthly.area == row.area
            )
        )
        connection.execute(ProvinceMonthly.__table__.insert().values(  # type: ignore[attr-defined]
            month=month, area=row.area, composite_index=row.composite_index, pm2_5=row.pm2_5,
            good_day_ratio=row.good_day_ratio, imported_at=now,
        ))  # fmt: skip
    return len(rows)


def province_rows(connection: Connection, year: int) -> list[dict[str, Any]]:
    rows = connection.execute(
        select(ProvinceMonthly)
        .where(
            ProvinceMonthly.month >= date(year, 1, 1), ProvinceMonthly.month <= date(year, 12, 1)
        )
        .order_by(ProvinceMonthly.month, ProvinceMonthly.area)
    )
    return [
        {"month": r.month.strftime("%Y-%m"), "area": r.area, "composite_index": r.composite_index,
         "pm2_5": r.pm2_5, "good_day_ratio": r.good_day_ratio}
        for r in rows
    ]  # fmt: skip
