"""``envwatch quality``: AQI, daily air statistics, water classes and the
county ranking. A contract other tools rely on: JSON on stdout and exit 0, or
a JSON error (``{"error": {"code", "message", "message_zh"}}``) on stdout and
exit 1."""

from __future__ import annotations

import csv
import io
import json
import math
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from envwatch.cli.common import DbOption, migrated_engine
from envwatch.errors import PeerError
from envwatch.hj212.codes import CHINA_STANDARD_TIME
from envwatch.quality.air_statistics import DAY_KEYS, day_statistics
from envwatch.quality.aqi import QualityInputError, indicator_iaqi
from envwatch.quality.daily import recompute_days, refresh_days
from envwatch.quality.editions import POLLUTANTS, WINDOWS, air_editions
from envwatch.quality.queries import month_span, ranking
from envwatch.quality.ranking import RankedArea
from envwatch.quality.water import section_class, water_standard

quality_app = typer.Typer(help="Environmental quality: air AQI, water classes, rankings.")


def number(value: Decimal | float | None) -> float | int | None:
    """A JSON number: integral values as integers."""
    if value is None:
        return None
    as_float = float(value)
    return int(as_float) if as_float.is_integer() else as_float


def refusal(code: str, message_en: str, message_zh: str) -> NoReturn:
    fail(QualityInputError(code, message_en, message_zh))


def fail(error: PeerError) -> NoReturn:
    document = {
        "error": {"code": error.code, "message": error.message_en, "message_zh": error.message_zh}
    }
    typer.echo(json.dumps(document, ensure_ascii=False))
    raise typer.Exit(1)


def emit(document: Any) -> None:
    typer.echo(json.dumps(document, ensure_ascii=False))


def day_of(text: str | None) -> date:
    if text is None:
        return datetime.now(CHINA_STANDARD_TIME).date()
    try:
        return date.fromisoformat(text)
    except ValueError:
        refusal(
            "bad_date",
            f"{text!r} is not a date (YYYY-MM-DD)",
            f"{text!r} 不是日期（YYYY-MM-DD）",
        )


@quality_app.command("iaqi")
def iaqi_command(
    pollutant: Annotated[str, typer.Option("--pollutant", help=" ".join(POLLUTANTS))],
    window: Annotated[str, typer.Option("--window", help=" ".join(WINDOWS))],
    value: Annotated[str, typer.Option("--value", help="Concentration [µg/m³; CO mg/m³].")],
    day: Annotated[
        str | None, typer.Option("--date", help="YYYY-MM-DD: chooses the edition.")
    ] = None,
) -> None:
    """The IAQI of one concentration by the edition in force on the date."""
    if pollutant not in POLLUTANTS:
        refusal(
            "unknown_pollutant",
            f"pollutant {pollutant!r}: one of {' '.join(POLLUTANTS)}",
            f"污染物 {pollutant!r}：应为 {' '.join(POLLUTANTS)} 之一",
        )
    if window not in WINDOWS:
        refusal(
            "unknown_window",
            f"window {window!r}: one of {' '.join(WINDOWS)}",
            f"时段 {window!r}：应为 {' '.join(WINDOWS)} 之一",
        )
    try:
        concentration = Decimal(value)
        if not concentration.is_finite():
            raise ArithmeticError
    except (ArithmeticError, ValueError):
        refusal("bad_concentration", f"{value!r} is not a number", f"{value!r} 不是数值")
    edition = air_editions().edition_for(day_of(day))
    try:
        judged = indicator_iaqi(edition, f"{pollutant}_{window}", concentration)
    except QualityInputError as error:
        fail(error)
    emit({
        "pollutant": pollutant,
        "window": window,
        "value": number(concentration),
        "edition": edition.id,
        "iaqi": judged.iaqi,
    })  # fmt: skip


DAY_COLUMNS = ("hour", *POLLUTANTS)


def read_day_csv(text: str) -> dict[str, list[float | None]]:
    """24 hourly values of a station-day: ``hour,PM2_5,PM10,SO2,NO2,CO,O3``."""
    rows = list(csv.DictReader(io.StringIO(text)))
    header = set(rows[0]) if rows else set()
    if not rows or not set(DAY_COLUMNS) <= header:
        raise QualityInputError(
            "bad_columns",
            f"the file needs the columns {','.join(DAY_COLUMNS)}",
            f"文件须有列 {','.join(DAY_COLUMNS)}",
        )
    hours: dict[str, list[float | None]] = {p: [None] * 24 for p in POLLUTANTS}
    seen: set[int] = set()
    for line, row in enumerate(rows, start=2):
        try:
            hour = int((row["hour"] or "").strip())
        except ValueError:
            hour = -1
        if not 0 <= hour <= 23 or hour in seen:
            raise QualityInputError(
                "bad_hour",
                f"line {line}: hour {row['hour']!r} must be 0–23, once each",
                f"第 {line} 行：小时 {row['hour']!r} 须为 0–23，且不重复",
            )
        seen.add(hour)
        for pollutant in POLLUTANTS:
            cell = (row[pollutant] or "").strip()
            if not cell:
                continue
            try:
                parsed = float(cell)
                if not math.isfinite(parsed) or parsed < 0:
                    raise ValueError
            except ValueError:
                raise QualityInputError(
                    "bad_concentration",
                    f"line {line}, column {pollutant}: {cell!r} is not a concentration",
                    f"第 {line} 行 {pollutant} 列：{cell!r} 不是浓度值",
                ) from None
            hours[pollutant][hour] = parsed
    return hours


def read_text(path: Path) -> str:
    try:
        return path.read_text("utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        refusal("unreadable_file", f"{path}: {error}", f"{path}：无法读取（{error}）")


@quality_app.command("day")
def day_command(
    input_file: Annotated[Path, typer.Option("--input", help="CSV: hour,PM2_5,PM10,SO2,NO2,CO,O3")],
    day: Annotated[str, typer.Option("--date", help="YYYY-MM-DD: chooses the edition.")],
) -> None:
    """The daily AQI of one station-day from its 24 hourly values."""
    the_day = day_of(day)
    try:
        hours = read_day_csv(read_text(input_file))
    except QualityInputError as error:
        fail(error)
    stats = day_statistics(the_day, hours)
    report = stats.aqi
    edition = air_editions().by_id(stats.edition)
    used = [key for key in DAY_KEYS if _indicator(key) in edition.daily_indicators]
    iaqi = {
        key: item.iaqi if (item := report.indicators.get(_indicator(key))) else None for key in used
    }
    emit({
        "edition": stats.edition,
        "aqi": report.aqi,
        "level": None if report.level is None else report.level.number,
        "category": None if report.level is None else report.level.category_zh,
        "primary": [_day_key(i) for i in report.primary],
        "iaqi": iaqi,
        "means": {key: number(stats.values[key]) for key in used},
        "valid": {key: stats.valid[key] for key in used},
    })  # fmt: skip


def _indicator(day_key: str) -> str:
    return day_key if day_key.startswith("O3") else f"{day_key}_24h"


def _day_key(indicator: str) -> str:
    return indicator if indicator.startswith("O3") else indicator.removesuffix("_24h")


@quality_app.command("water-class")
def water_class_command(
    input_file: Annotated[Path, typer.Option("--input", help="CSV: item,value")],
    lake: Annotated[
        bool, typer.Option("--lake", help="A lake or reservoir (TP, TN limits).")
    ] = False,
) -> None:
    """The GB 3838 class of a section from its items' values."""
    standard = water_standard()
    rows = list(csv.DictReader(io.StringIO(read_text(input_file))))
    if not rows or not {"item", "value"} <= set(rows[0]):
        refusal("bad_columns", "the file needs the columns item,value", "文件须有列 item,value")
    values: dict[str, float] = {}
    for line, row in enumerate(rows, start=2):
        item = (row["item"] or "").strip()
        try:
            value = float((row["value"] or "").strip())
            if not math.isfinite(value) or value < 0:
                raise ValueError
        except ValueError:
            refusal(
                "bad_value",
                f"line {line}: {row['value']!r} is not a value",
                f"第 {line} 行：{row['value']!r} 不是数值",
            )
        if item in values:
            refusal(
                "duplicate_item",
                f"line {line}: {item} given twice",
                f"第 {line} 行：{item} 重复",
            )
        values[item] = value
    try:
        judged = section_class(standard, values, lake=lake)
    except QualityInputError as error:
        fail(error)
    if judged.water_class is None:
        refusal("no_assessed_item", "no assessed item has a value", "没有可评价的项目")
    emit({
        "class": judged.water_class,
        "worst": [
            {"item": i.item, "value": number(i.value), "class": i.water_class} for i in judged.worst
        ],
    })  # fmt: skip


def month_of(text: str) -> date:
    try:
        return datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        refusal("bad_month", f"{text!r} is not a month (YYYY-MM)", f"{text!r} 不是月份（YYYY-MM）")


@quality_app.command("rank")
def rank_command(
    month: Annotated[str, typer.Option("--month", help="YYYY-MM")],
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="A JSON list (the contract).")] = False,
) -> None:
    """The counties ranked by composite index for a month (to date while it
    runs), with the change against the same days a year earlier."""
    first_of_month = month_of(month)
    engine = migrated_engine(db)
    refresh_days(engine)
    today = datetime.now(CHINA_STANDARD_TIME).date()
    first, last = month_span(first_of_month, today)
    if first > today:
        refusal("future_month", f"{month} has not begun", f"{month} 尚未开始")
    with engine.connect() as connection:
        ranked = ranking(connection, first, last)
    rows = [ranked_row(item) for item in ranked]
    if as_json:
        emit(rows)
        return
    for row in rows:
        typer.echo(
            f"{row['rank'] or '-':>3} {row['county']:<8} {row['composite_index'] or '-':>6} "
            f"PM2.5 {row['pm2_5'] or '-':>5} O3 {row['o3_8h_p90'] or '-':>5} "
            f"优良 {row['good_day_ratio'] or '-':>5}% {row['yoy_change'] or ''}"
        )


def ranked_row(item: RankedArea) -> dict[str, Any]:
    statistics = item.statistics.statistics
    ratio = item.statistics.good_day_ratio
    return {
        "county": item.area,
        "composite_index": number(item.index),
        "pm2_5": number(statistics["PM2_5"].value),
        "o3_8h_p90": number(statistics["O3_8h_p90"].value),
        "good_day_ratio": None if ratio is None else round(float(ratio), 1),
        "rank": item.rank,
        "yoy_change": None if item.yoy_change is None else round(float(item.yoy_change), 4),
    }


@quality_app.command("refresh")
def refresh_command(
    db: DbOption = None,
    since: Annotated[
        str | None, typer.Option("--since", help="YYYY-MM-DD: recompute from this day.")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="YYYY-MM-DD (default today).")
    ] = None,
) -> None:
    """Bring the stations' and sections' days up to date with the stored data
    (``--since``: recompute every day of the span from scratch)."""
    engine = migrated_engine(db)
    written = refresh_days(engine)
    if since is not None:
        last = day_of(until)
        written += recompute_days(engine, day_of(since), last)
    emit({"days_written": written})
