"""``envwatch emergency declare`` and ``envwatch emergency list``: heavy-pollution-
weather warning periods (重污染天气预警), of the city or of one county."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Connection, select

from envwatch.cli.common import DbOption, cst_time, migrated_engine, peer, refuse
from envwatch.errors import PeerError
from envwatch.registry.emergency_lists import (
    daily_compliance,
    daily_emissions,
    import_lines,
    queue_warning_notices,
    warning_assessment,
)
from envwatch.registry.importing import ImportFileError
from envwatch.registry.maintenance import (
    EMERGENCY_LEVELS,
    Emergency,
    change_emergency,
    declare_emergency,
    declarer,
    list_emergencies,
)
from envwatch.store.schema import EmergencyPeriod
from envwatch.times import cst_text

emergency_app = typer.Typer(help="Heavy-pollution-weather warning periods (重污染天气预警).")


def emergency_json(period: Emergency) -> dict[str, Any]:
    return {
        "id": period.id,
        "level": period.level,
        "starts_at": cst_text(period.starts_at),
        "ends_at": cst_text(period.ends_at),
        "county_code": period.county_code,
        "reference": period.reference,
        "declared_by": period.declared_by,
        "declared_at": period.declared_at.isoformat(),
    }


@emergency_app.command("declare")
def declare_command(
    level: Annotated[
        str, typer.Option("--level", help=f"Warning level: {', '.join(EMERGENCY_LEVELS)}.")
    ],
    since: Annotated[str, typer.Option("--from", help="Start (China Standard Time).")],
    until: Annotated[str, typer.Option("--until", help="End, exclusive.")],
    by: Annotated[str, typer.Option("--by", help="Who declares it (a user of envwatch).")],
    county: Annotated[
        str | None, typer.Option("--county", help="Only this county (code); else the city.")
    ] = None,
    reference: Annotated[
        str, typer.Option("--reference", help="The notice that declared it (文号).")
    ] = "",
    db: DbOption = None,
) -> None:
    """Declare a warning period (times: ISO 8601 or YYYYMMDDhhmmss, China Standard Time).

    Exit status 0 when stored, 1 when it was refused (nothing stored).
    """
    starts_at, ends_at = cst_time(since), cst_time(until)
    engine = migrated_engine(db)
    try:
        with engine.begin() as connection:
            actor = declarer(connection, by, peer(), county_code=county)
            period_id = declare_emergency(
                connection,
                level=level,
                starts_at=starts_at,
                ends_at=ends_at,
                county_code=county,
                reference=reference,
                declared_by=actor.name,
                actor=actor,
            )
            notices = queue_warning_notices(connection, period_id, datetime.now(UTC))
    except PeerError as error:
        raise refuse(error) from None
    finally:
        engine.dispose()
    typer.echo(f"已登记预警时段 {period_id}，已排队通知企业 {notices} 条 / warning period "
               f"{period_id} declared, {notices} enterprise notices queued")  # fmt: skip


@emergency_app.command("list")
def list_command(
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines.")] = False,
) -> None:
    """The warning periods, earliest first: a table, or JSON lines {"id", "level",
    "starts_at", "ends_at", "county_code", "reference", "declared_by", "declared_at"}."""
    engine = migrated_engine(db)
    try:
        with engine.connect() as connection:
            periods = list_emergencies(connection)
    finally:
        engine.dispose()
    if as_json:
        for period in periods:
            typer.echo(json.dumps(emergency_json(period), ensure_ascii=False))
        return
    table = Table()
    for header in ("编号", "级别", "开始", "结束", "区县", "文号", "登记人", "登记时间"):
        table.add_column(header, overflow="fold")  # a reference must show whole
    for period in periods:
        table.add_row(
            str(period.id),
            period.level,
            f"{period.starts_at:%Y-%m-%d %H:%M}",
            f"{period.ends_at:%Y-%m-%d %H:%M}",
            period.county_code or "全市",
            period.reference,
            period.declared_by,
            f"{period.declared_at:%Y-%m-%d %H:%M}",
        )
    Console().print(table)


@emergency_app.command("lines")
def lines_command(
    path: Annotated[Path, typer.Argument(help="A .csv (UTF-8 or GBK) or .xlsx file.", exists=True)],
    db: DbOption = None,
) -> None:
    """Import emergency lists (应急减排清单) by production line: columns
    统一社会信用代码, 版本 (season, e.g. 2026-2027), 生效日期, 失效日期, 生产线,
    工序, 电表 (production meters by name), and the measure per level 蓝色,
    黄色, 橙色, 红色 (停产 / 限产30% / 错峰生产). A file replaces the lines of
    each enterprise and season it names.

    Exit status 0 when imported, 1 with each problem as row, column, reason.
    """
    engine = migrated_engine(db)
    try:
        with engine.begin() as connection:
            count, errors = import_lines(connection, path.name, path.read_bytes())
    except ImportFileError as error:
        raise refuse(error) from None
    finally:
        engine.dispose()
    for problem in errors:
        typer.echo(f"row {problem.row}, column {problem.column or '-'}: {problem.reason}", err=True)
    if errors:
        typer.echo(f"{len(errors)} problems: nothing imported", err=True)
        raise typer.Exit(1)
    typer.echo(f"imported {count} lines")


Line = TypeVar("Line")


def _day_report(
    judge: Callable[[Connection, date], list[Line]], day: str, db: str | None
) -> list[Line]:
    """``judge``'s rows for ``day`` (YYYY-MM-DD, refused as a bad parameter
    otherwise), read from the migrated database."""
    try:
        when = date.fromisoformat(day)
    except ValueError:
        raise typer.BadParameter(f"{day!r} is not a day (YYYY-MM-DD)") from None
    engine = migrated_engine(db)
    try:
        with engine.connect() as connection:
            return judge(connection, when)
    finally:
        engine.dispose()


@emergency_app.command("compliance")
def compliance_command(
    day: Annotated[str, typer.Option("--day", help="The day, YYYY-MM-DD (China Standard Time).")],
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines.")] = False,
) -> None:
    """Each listed line under a warning on the day: its electricity against its
    baseline and its required measure. JSON lines {"enterprise", "county",
    "grade", "line", "level", "required", "measured", "baseline", "status",
    "evidence"}; status complied, not_complied, no_data, exempt or not_measurable."""
    report = _day_report(daily_compliance, day, db)
    if as_json:
        for row in report:
            typer.echo(json.dumps(row.as_json(), ensure_ascii=False))
        return
    table = Table()
    for header in ("区县", "企业", "绩效", "生产线", "级别", "要求", "用电kWh", "基准kWh", "结论"):
        table.add_column(header, overflow="fold")
    for row in report:
        line = row.as_json()
        table.add_row(*(str("" if line[key] is None else line[key]) for key in (
            "county", "enterprise", "grade", "line", "level", "required", "measured",
            "baseline", "status")))  # fmt: skip
    Console().print(table)


@emergency_app.command("emissions")
def emissions_command(
    day: Annotated[str, typer.Option("--day", help="The day, YYYY-MM-DD (China Standard Time).")],
    db: DbOption = None,
) -> None:
    """The emissions view of a warning day as JSON lines: each listed
    enterprise's SO2, NOx, PM and VOCs emissions in the warning hours against
    the same hours of non-warning days {"enterprise", "county", "grade",
    "pollutant", "pollutant_name", "level", "required_cut", "emission_kg",
    "baseline_kg", "achieved_cut", "status", "evidence"}."""
    report = _day_report(daily_emissions, day, db)
    for row in report:
        typer.echo(json.dumps(row.as_json(), ensure_ascii=False))


@emergency_app.command("assessment")
def assessment_command(
    warning: Annotated[int, typer.Option("--warning", help="The warning period's id.")],
    db: DbOption = None,
) -> None:
    """The after-action assessment of a warning as JSON: {"warning", "by_county",
    "by_grade", "total"}; each group's line-days by status and the reduction
    required against achieved (kWh). Exit 1 for an unknown warning."""
    engine = migrated_engine(db)
    try:
        with engine.connect() as connection:
            document = warning_assessment(connection, warning)
    finally:
        engine.dispose()
    if document is None:
        typer.echo(f"unknown_warning: 没有编号为{warning}的预警时段 / no warning period {warning}",
                   err=True)  # fmt: skip
        raise typer.Exit(1)
    typer.echo(json.dumps(document, ensure_ascii=False))


def _change(period_id: int, at: str, level: str | None, by: str, db: str | None) -> None:
    moment = cst_time(at)
    engine = migrated_engine(db)
    try:
        with engine.begin() as connection:
            county = connection.scalar(
                select(EmergencyPeriod.county_code).where(EmergencyPeriod.id == period_id)
            )
            actor = declarer(connection, by, peer(), county_code=county)
            new_id = change_emergency(connection, period_id, at=moment, level=level,
                                      declared_by=actor.name, actor=actor)  # fmt: skip
            notices = (
                queue_warning_notices(connection, new_id, datetime.now(UTC))
                if new_id is not None else 0
            )  # fmt: skip
    except PeerError as error:
        raise refuse(error) from None
    finally:
        engine.dispose()
    if new_id is None:
        typer.echo(f"预警时段 {period_id} 已解除 / warning period {period_id} lifted")
    else:
        typer.echo(f"预警时段 {period_id} 自该时起为时段 {new_id}（{level}），已排队通知企业 "
                   f"{notices} 条 / warning period {period_id} continues as {new_id} ({level}), "
                   f"{notices} enterprise notices queued")  # fmt: skip


@emergency_app.command("level")
def level_command(
    period_id: Annotated[int, typer.Option("--id", help="The warning period.")],
    level: Annotated[str, typer.Option("--level", help="The new level (upgrade or downgrade).")],
    at: Annotated[str, typer.Option("--at", help="From when (China Standard Time).")],
    by: Annotated[str, typer.Option("--by", help="Who changes it (a user of envwatch).")],
    db: DbOption = None,
) -> None:
    """Upgrade or downgrade a warning from a moment on: the period ends there
    and continues at the new level (its enterprises notified of their measures)."""
    _change(period_id, at, level, by, db)


@emergency_app.command("lift")
def lift_command(
    period_id: Annotated[int, typer.Option("--id", help="The warning period.")],
    at: Annotated[str, typer.Option("--at", help="From when (China Standard Time).")],
    by: Annotated[str, typer.Option("--by", help="Who lifts it (a user of envwatch).")],
    db: DbOption = None,
) -> None:
    """Lift a warning early: its period ends at the moment given."""
    _change(period_id, at, None, by, db)
