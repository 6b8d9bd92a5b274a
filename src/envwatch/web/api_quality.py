"""The environmental-quality API: air stations and river sections as registry
entities (the generic CRUD layer, changes by city administrators), and their
figures: station days with the AQI, hours for charts, the monthly county
ranking, sections judged against their targets, targets with progress, and
the province's monthly figures. Every table also as CSV or XLSX
(``?format=csv|xlsx``).

Environmental quality is what the bureau publishes (daily AQI, section
classes): everyone logged in reads all of it; the alerts it raises are
scoped like every alert."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection, Select, insert, select

from envwatch.alerts.queries import Viewer
from envwatch.audit.log import Actor, record
from envwatch.auth.sessions import SessionUser
from envwatch.hj212.codes import now_cst
from envwatch.quality.aqi import hourly_report, indicator_label, realtime_indicators
from envwatch.quality.editions import air_editions
from envwatch.quality.factors import quality_factors, site_logger
from envwatch.quality.province import ProvinceImportError, import_province_csv, province_rows
from envwatch.quality.queries import (
    CITY,
    SectionJudgement,
    area_periods,
    areas_of,
    county_water_ranking,
    month_span,
    ranking,
    section_months,
    section_period,
    stations,
)
from envwatch.quality.targets import TARGET_INDICATORS, target_progress
from envwatch.quality.water import water_standard
from envwatch.registry.importing import MN_PATTERN, PW_PATTERN
from envwatch.rules.catalogue.quality import StationAqi, StationAqiParams
from envwatch.rules.engine import default_rule_set
from envwatch.settings import get_settings
from envwatch.store.schema import (
    AirStation,
    County,
    Measurement,
    MonitoringPoint,
    PointFactor,
    QualityDay,
    QualityTarget,
    WaterSection,
)
from envwatch.web.api_registry import registry_writer
from envwatch.web.crud import ListFilter, Resource, invalid, mount
from envwatch.web.errors import ApiError
from envwatch.web.people import Principal, api_user, peer_of
from envwatch.web.table_export import MEDIA_TYPES, TableFormat, table_response

router = APIRouter()
PREFIX = "/api/v1/quality"
SiteCode = Annotated[str, Path(pattern=r"^[0-9A-Za-z_\-]{1,32}$")]
Format = Annotated[TableFormat | None, Query(alias="format")]
MonthText = Annotated[str | None, Query(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$")]
MAX_DAYS = 400
TABLE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/json": {}, "text/csv": {},
                      MEDIA_TYPES["xlsx"]: {}},
          "description": "JSON; with ``format``, the table as CSV or XLSX"},
}  # fmt: skip
NoControl = r"^[^\x00-\x1f]+$"


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)


# ---- stations and sections as registry entities ---------------------------


class StationPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    code: str
    name: str
    level: str
    county_code: str
    longitude: float | None
    latitude: float | None
    mn: str | None
    active: bool


class StationCreate(_In):
    code: str = Field(pattern=r"^[0-9A-Za-z_\-]{1,32}$")
    name: str = Field(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f]+$")
    level: Literal["national", "provincial", "county"]
    county_code: str = Field(pattern=r"^[0-9]{6}$")
    longitude: float | None = Field(default=None, ge=73, le=136)
    latitude: float | None = Field(default=None, ge=3, le=54)
    mn: str | None = Field(default=None, pattern=MN_PATTERN)
    pw: str | None = Field(default=None, pattern=PW_PATTERN)
    """With an MN not yet registered: its logger's password (the point is created)."""


class StationUpdate(_In):
    name: str | None = Field(default=None, min_length=1, max_length=100,
                             pattern=r"^[^\x00-\x1f]+$")  # fmt: skip
    level: Literal["national", "provincial", "county"] | None = None
    longitude: float | None = Field(default=None, ge=73, le=136)
    latitude: float | None = Field(default=None, ge=3, le=54)
    active: bool | None = None


class SectionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    code: str
    name: str
    river: str
    level: str
    target_class: str
    county_code: str
    lake: bool
    longitude: float | None
    latitude: float | None
    mn: str | None
    active: bool


WaterClass = Literal["I", "II", "III", "IV", "V"]


class SectionCreate(_In):
    code: str = Field(pattern=r"^[0-9A-Za-z_\-]{1,32}$")
    name: str = Field(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f]+$")
    river: str = Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f]+$")
    level: Literal["national", "provincial", "city"]
    target_class: WaterClass
    county_code: str = Field(pattern=r"^[0-9]{6}$")
    lake: bool = False
    longitude: float | None = Field(default=None, ge=73, le=136)
    latitude: float | None = Field(default=None, ge=3, le=54)
    mn: str | None = Field(default=None, pattern=MN_PATTERN)
    pw: str | None = Field(default=None, pattern=PW_PATTERN)


class SectionUpdate(_In):
    name: str | None = Field(default=None, min_length=1, max_length=100,
                             pattern=r"^[^\x00-\x1f]+$")  # fmt: skip
    level: Literal["national", "provincial", "city"] | None = None
    target_class: WaterClass | None = None
    lake: bool | None = None
    longitude: float | None = Field(default=None, ge=73, le=136)
    latitude: float | None = Field(default=None, ge=3, le=54)
    active: bool | None = None


def _check_site(kind: str) -> Any:
    def check(connection: Connection, body: Any) -> None:
        table = AirStation if kind == "air" else WaterSection
        if connection.execute(select(table.code).where(table.code == body.code)).first():
            raise ApiError(409, "site_exists", f"{body.code} is already registered",
                           f"{body.code} 已登记")  # fmt: skip
        if connection.execute(select(County.code).where(County.code == body.county_code)).first() \
                is None:  # fmt: skip
            raise invalid("body.county_code", f"unknown county {body.county_code}",
                          f"没有区县 {body.county_code}")  # fmt: skip
        if body.mn is None:
            if body.pw is not None:
                raise invalid("body.pw", "a password needs an MN", "设置密码须同时给出MN")
            return
        taken = [t.code for t in (AirStation, WaterSection)
                 if connection.execute(select(t.code).where(t.mn == body.mn)).first()]  # fmt: skip
        if taken:
            raise invalid("body.mn", f"MN {body.mn} already belongs to a site",
                          f"MN {body.mn} 已属于其他站点或断面")  # fmt: skip
        point = connection.execute(
            select(MonitoringPoint.enterprise_id).where(MonitoringPoint.mn == body.mn)
        ).first()
        if point is not None and point.enterprise_id is not None:
            raise invalid("body.mn", f"MN {body.mn} is an enterprise's monitoring point",
                          f"MN {body.mn} 是企业的监测点位")  # fmt: skip
        if point is None and body.pw is None:
            raise invalid("body.pw", "a new logger needs its password (PW)",
                          "新数采仪须给出密码（PW）")  # fmt: skip

    return check


def _site_values(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k != "pw"}


def _register_logger(kind: str) -> Any:
    """A new site's logger: a monitoring point of no enterprise with the
    quality factors in their units (``quality/factors.toml``)."""

    def after(connection: Connection, _key: object, values: dict[str, Any]) -> None:
        mn, pw = values.get("mn"), values.get("pw")
        if mn is None or pw is None:
            return
        exists = connection.execute(select(MonitoringPoint.mn).where(MonitoringPoint.mn == mn))
        if exists.first() is not None:
            return
        point, factors = site_logger(kind, mn, pw)
        connection.execute(insert(MonitoringPoint).values(**point))
        connection.execute(insert(PointFactor), factors)

    return after


def _public(table: Any) -> Any:
    def scoped(_user: Viewer) -> Select[Any]:
        return select(table)

    return scoped


STATIONS: Resource[StationCreate, StationUpdate] = Resource(
    name="air_station", name_zh="空气站点", collection="/stations",
    table=AirStation, key=AirStation.code, key_param="code", key_type=SiteCode,
    public=StationPublic, create=StationCreate, update=StationUpdate,
    scoped=_public(AirStation),
    filters=(ListFilter("county", Annotated[str | None, Query(pattern=r"^[0-9]{6}$")],
                        AirStation.county_code),),
    list_doc="Ambient air stations (national, provincial, county level).",
    nullable=frozenset({"longitude", "latitude"}),
    row_values=_site_values,
    check_create=_check_site("air"),
    after_write=_register_logger("air"),
    holders=lambda key: {"days": (QualityDay.kind == "air") & (QualityDay.site == key)},
    in_use_code="station_in_use",
)  # fmt: skip

SECTIONS: Resource[SectionCreate, SectionUpdate] = Resource(
    name="water_section", name_zh="水质断面", collection="/sections",
    table=WaterSection, key=WaterSection.code, key_param="code", key_type=SiteCode,
    public=SectionPublic, create=SectionCreate, update=SectionUpdate,
    scoped=_public(WaterSection),
    filters=(ListFilter("county", Annotated[str | None, Query(pattern=r"^[0-9]{6}$")],
                        WaterSection.county_code),
             ListFilter("river", Annotated[str | None, Query(max_length=64, pattern=NoControl)],
                        WaterSection.river)),
    list_doc="Surface-water sections with their control level and target class.",
    nullable=frozenset({"longitude", "latitude"}),
    row_values=_site_values,
    check_create=_check_site("water"),
    after_write=_register_logger("water"),
    holders=lambda key: {"days": (QualityDay.kind == "water") & (QualityDay.site == key)},
    in_use_code="section_in_use",
)  # fmt: skip

for _resource in (STATIONS, SECTIONS):
    mount(router, PREFIX, _resource, registry_writer)


# ---- figures --------------------------------------------------------------


def _engine(request: Request) -> Any:
    return request.app.state.database()


def today() -> date:
    return now_cst().date()


def _month(text: str | None) -> date:
    if text is None:
        return today().replace(day=1)
    return datetime.strptime(text, "%Y-%m").date()


def _span(since: date | None, until: date | None) -> tuple[date, date]:
    last = until or today()
    first = since or last - timedelta(days=29)
    if not timedelta(0) <= last - first <= timedelta(days=MAX_DAYS):
        raise ApiError(422, "bad_window", f"until must follow since, by at most {MAX_DAYS} days",
                       f"结束日期须不早于开始日期，且跨度不超过{MAX_DAYS}天")  # fmt: skip
    return first, last


def _number(value: Any) -> float | None:
    return None if value is None else round(float(value), 4)


def _known_site(connection: Connection, kind: str, code: str) -> Any:
    table = AirStation if kind == "air" else WaterSection
    row = connection.execute(select(table).where(table.code == code)).first()
    if row is None:
        name = "station" if kind == "air" else "section"
        raise ApiError(404, f"unknown_{name}", f"no {name} {code}", f"没有站点或断面 {code}")
    return row


DAY_COLUMNS = [("day", "日期"), ("edition", "标准版本"), ("aqi", "AQI"), ("level", "级别"),
               ("category", "类别"), ("primary", "首要污染物"), ("PM2_5", "PM2.5"),
               ("PM10", "PM10"), ("SO2", "SO2"), ("NO2", "NO2"), ("CO", "CO"),
               ("O3_8h", "O3-8h"), ("O3_1h", "O3-1h")]  # fmt: skip


def day_view(row: Any) -> dict[str, Any]:
    level = None if row.aqi is None else air_editions().level_of(row.aqi)
    return {
        "day": row.day.isoformat(), "edition": row.edition, "aqi": row.aqi,
        "level": None if level is None else level.number,
        "category": None if level is None else level.category_zh,
        "colour": None if level is None else level.colour,
        "primary": "、".join(indicator_label(i) for i in row.primary_pollutants.split(",") if i),
        **{key: _number(row.figures.get(key)) for key in
           ("PM2_5", "PM10", "SO2", "NO2", "CO", "O3_8h", "O3_1h")},
        "valid": row.valid, "counts": row.counts, "newest_frame_id": row.newest_frame_id,
    }  # fmt: skip


@router.get(PREFIX + "/stations/{code}/days", response_model=None, responses=TABLE_RESPONSES)
async def station_days(
    request: Request,
    code: SiteCode,
    *,
    user: Annotated[Principal, Depends(api_user)],
    since: date | None = None,
    until: date | None = None,
    file_format: Format = None,
) -> dict[str, Any] | Response:
    """A station's days: statistics, the daily AQI by the edition in force,
    level, category and primary pollutants."""
    first, last = _span(since, until)

    def read() -> list[dict[str, Any]]:
        with _engine(request).connect() as connection:
            _known_site(connection, "air", code)
            rows = connection.execute(
                select(QualityDay).where(QualityDay.kind == "air", QualityDay.site == code,
                                         QualityDay.day >= first, QualityDay.day <= last)
                .order_by(QualityDay.day)
            ).all()  # fmt: skip
        return [day_view(row) for row in rows]

    items = await asyncio.to_thread(read)
    if file_format is not None:
        return table_response(DAY_COLUMNS, items, file_format, f"station-{code}-days")
    return {"station": code, "items": items}


@router.get(PREFIX + "/stations/{code}/hours")
async def station_hours(
    request: Request,
    code: SiteCode,
    user: Annotated[Principal, Depends(api_user)],
    day: date | None = None,
) -> dict[str, Any]:
    """A station's hourly values of one day by pollutant [µg/m³; CO mg/m³] and
    each hour's real-time AQI by the day's edition (for its chart)."""
    wanted = day or today()
    factors = quality_factors()
    params = default_rule_set(get_settings().rules_file).for_point(
        StationAqi.id, industry=None, outlet_kind="ambient_air", pollutant=None
    )
    assert isinstance(params, StationAqiParams)
    start = datetime.combine(wanted - timedelta(days=1), datetime.min.time())

    def read() -> dict[str, Any]:
        with _engine(request).connect() as connection:
            station = _known_site(connection, "air", code)
            units = dict(connection.execute(
                select(PointFactor.pollutant, PointFactor.unit)
                .where(PointFactor.mn == station.mn)
            ).all())  # fmt: skip
            rows = connection.execute(
                select(Measurement.data_time, Measurement.pollutant, Measurement.avg,
                       Measurement.flag)
                .where(Measurement.mn == station.mn, Measurement.cn == "2061",
                       Measurement.data_time >= start,
                       Measurement.data_time < start + timedelta(days=2))
            ).all() if station.mn else []  # fmt: skip
        by_code = {f.code: f for f in factors.air.values()}
        hours: dict[datetime, dict[str, float]] = {}
        for data_time, pollutant, value, flag in rows:
            known = by_code.get(pollutant)
            if known is None or value is None or not factors.valid(flag):
                continue
            scale = factors.conversion(units.get(pollutant, ""), known)
            hours.setdefault(data_time, {})[known.name] = round(value * scale, 3)
        day_start = start + timedelta(days=1)
        series: dict[str, list[float | None]] = {name: [None] * 24 for name in factors.air}
        aqi: list[int | None] = [None] * 24
        edition = air_editions().edition_for(wanted)
        ordered = sorted(hours.items())
        for hour in range(24):
            moment = day_start + timedelta(hours=hour)
            for name, value in hours.get(moment, {}).items():
                series[name][hour] = value
            if moment in hours:
                indicators = realtime_indicators(
                    ordered, moment, moving_min_hours=params.moving_min_hours,
                    o3_8h_min_hours=params.o3_8h_min_hours,
                )  # fmt: skip
                aqi[hour] = hourly_report(edition, indicators).aqi
        return {"station": code, "day": wanted.isoformat(), "edition": edition.id,
                "hours": series, "aqi": aqi}  # fmt: skip

    return await asyncio.to_thread(read)


RANK_COLUMNS = [("rank", "排名"), ("county", "区县代码"), ("county_name", "区县"),
                ("composite_index", "综合指数"), ("pm2_5", "PM2.5"), ("pm10", "PM10"),
                ("so2", "SO2"), ("no2", "NO2"), ("co_p95", "CO-95per"),
                ("o3_8h_p90", "O3-8h-90per"), ("good_day_ratio", "优良天数比例%"),
                ("heavy_days", "重污染天数"), ("yoy_change", "综合指数同比"),
                ("valid", "数据有效")]  # fmt: skip


def rank_view(item: Any, names: dict[str, str]) -> dict[str, Any]:
    stats = item.statistics.statistics
    ratio = item.statistics.good_day_ratio
    return {
        "rank": item.rank, "county": item.area, "county_name": names.get(item.area, item.area),
        "composite_index": _number(item.index),
        "pm2_5": _number(stats["PM2_5"].value), "pm10": _number(stats["PM10"].value),
        "so2": _number(stats["SO2"].value), "no2": _number(stats["NO2"].value),
        "co_p95": _number(stats["CO_p95"].value), "o3_8h_p90": _number(stats["O3_8h_p90"].value),
        "good_day_ratio": None if ratio is None else round(float(ratio), 1),
        "heavy_days": item.statistics.heavy_days,
        "yoy_change": _number(item.yoy_change), "valid": item.statistics.valid,
        "editions": [{"edition": p.edition, "from": p.first.isoformat(), "to": p.last.isoformat(),
                      "days": p.days} for p in item.statistics.parts],
    }  # fmt: skip


def county_names(connection: Connection) -> dict[str, str]:
    names = dict(connection.execute(select(County.code, County.name_zh)).all())
    names[CITY] = "全市"
    return names


QuarterText = Annotated[str | None, Query(pattern=r"^[0-9]{4}-Q[1-4]$")]


def period_span(month: str | None, quarter: str | None, year: int | None) -> tuple[date, date, str]:
    """The days of a month, a quarter (``2026-Q3``) or a year, to date while it
    runs; and its name."""
    if sum(x is not None for x in (month, quarter, year)) > 1:
        raise ApiError(422, "one_period", "give one of month, quarter and year",
                       "月份、季度、年份只能给出其一")  # fmt: skip
    if quarter is not None:
        number = int(quarter[-1])
        first = date(int(quarter[:4]), 3 * number - 2, 1)
        end = month_span(date(first.year, 3 * number, 1))[1]
        label = quarter
    elif year is not None:
        first, end, label = date(year, 1, 1), date(year, 12, 31), str(year)
    else:
        first, end = month_span(_month(month))
        label = first.strftime("%Y-%m")
    if first > today():
        raise ApiError(422, "future_period", "that period has not begun", "该时段尚未开始")
    return first, min(end, today()), label


@router.get(PREFIX + "/ranking", response_model=None, responses=TABLE_RESPONSES)
async def monthly_ranking(
    request: Request,
    user: Annotated[Principal, Depends(api_user)],
    *,
    month: MonthText = None,
    quarter: QuarterText = None,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    file_format: Format = None,
) -> dict[str, Any] | Response:
    """Counties and zones ranked by the composite index of a month (default:
    this one), a quarter or a year (to date while it runs; HJ 663
    statistics), with the year-on-year change; the city beside them."""
    first, last, label = period_span(month, quarter, year)

    def read() -> dict[str, Any]:
        with _engine(request).connect() as connection:
            names = county_names(connection)
            ranked = ranking(connection, first, last)
            city = area_periods(connection, first, last,
                                {CITY: areas_of(stations(connection))[CITY]})  # fmt: skip
        from envwatch.quality.ranking import rank_areas  # noqa: PLC0415

        city_row = rank_view(rank_areas(city, {})[0], names) if CITY in city else None
        return {"period": label, "from": first.isoformat(),
                "to": last.isoformat(), "items": [rank_view(i, names) for i in ranked],
                "city": city_row}  # fmt: skip

    result = await asyncio.to_thread(read)
    if file_format is not None:
        return table_response(RANK_COLUMNS, result["items"], file_format,
                              f"ranking-{result['period']}")  # fmt: skip
    return result


SECTION_COLUMNS = [("code", "断面编码"), ("name", "断面名称"), ("river", "河流"),
                   ("level", "控制级别"), ("county", "区县代码"), ("target_class", "目标类别"),
                   ("water_class", "水质类别"), ("meets_target", "达标"),
                   ("exceeding_text", "超标项目（倍数）"), ("index", "水质指数")]  # fmt: skip


def section_view(judgement: SectionJudgement) -> dict[str, Any]:
    info = judgement.section
    water_class = judgement.judged.water_class
    standard = water_standard()
    return {
        "code": info.code, "name": info.name, "river": info.river, "level": info.level,
        "county": info.county_code, "target_class": info.target_class,
        "water_class": water_class,
        "colour": None if water_class is None else standard.colours[water_class],
        "words": None if water_class is None else standard.words[water_class],
        "meets_target": judgement.meets_target,
        "worst": [{"item": i.item, "value": round(i.value, 3), "class": i.water_class}
                  for i in judgement.judged.worst],
        "exceeding": [{"item": item, "value": round(value, 3), "multiple": round(multiple, 2)}
                      for item, value, multiple in judgement.exceeding],
        "exceeding_text": "、".join(f"{standard.name_zh(item)}（{multiple:.2f}）"
                                   for item, _, multiple in judgement.exceeding),
        "index": None if judgement.index is None else round(judgement.index, 2),
        "values": {k: round(v, 3) for k, v in judgement.values.items()},
        "longitude": info.longitude, "latitude": info.latitude,
    }  # fmt: skip


@router.get(PREFIX + "/water", response_model=None, responses=TABLE_RESPONSES)
async def sections_of_month(
    request: Request,
    user: Annotated[Principal, Depends(api_user)],
    month: MonthText = None,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    file_format: Format = None,
) -> dict[str, Any] | Response:
    """Every section's class for a month (or a year: the mean of its monthly
    values), against its target, with exceeding items and the index."""
    if year is not None:
        first, last = date(year, 1, 1), min(date(year, 12, 31), today())
        label = str(year)
    else:
        first, last = month_span(_month(month), today())
        label = first.strftime("%Y-%m")
    if first > today():
        raise ApiError(422, "future_month", "that period has not begun", "该时段尚未开始")

    def read() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        with _engine(request).connect() as connection:
            judged = section_period(connection, first, last)
            names = county_names(connection)
        ranked = [{**row, "name": names.get(row["county"], row["county"])}
                  for row in county_water_ranking(judged.values())]  # fmt: skip
        return [section_view(j) for _, j in sorted(judged.items())], ranked

    items, counties = await asyncio.to_thread(read)
    if file_format is not None:
        return table_response(SECTION_COLUMNS, items, file_format, f"sections-{label}")
    return {"period": label, "from": first.isoformat(), "to": last.isoformat(), "items": items,
            "counties": counties}  # fmt: skip


@router.get(PREFIX + "/sections/{code}/months")
async def section_history(
    request: Request,
    code: SiteCode,
    user: Annotated[Principal, Depends(api_user)],
    since: date | None = None,
    until: date | None = None,
) -> dict[str, Any]:
    """A section's class month by month (by default the last twelve months)."""
    last = until or today()
    first = since or (last.replace(day=1) - timedelta(days=335)).replace(day=1)
    if not timedelta(0) <= last - first <= timedelta(days=3 * 366):
        raise ApiError(422, "bad_window", "until must follow since, by at most three years",
                       "结束日期须不早于开始日期，且跨度不超过三年")  # fmt: skip

    def read() -> dict[str, Any]:
        with _engine(request).connect() as connection:
            _known_site(connection, "water", code)
            months = section_months(connection, code, first, last)
        return {"section": code, "items": [
            {"month": f"{y:04d}-{m:02d}", **section_view(j)} for (y, m), j in months
        ]}  # fmt: skip

    return await asyncio.to_thread(read)


# ---- targets and the province ---------------------------------------------


class TargetIn(_In):
    year: int = Field(ge=2000, le=2100)
    area: str = Field(pattern=r"^([0-9]{6}|city)$")
    indicator: Literal["PM2_5", "good_day_ratio", "composite_index"]
    value: float = Field(ge=0, le=1000)


@router.get(PREFIX + "/targets")
async def targets(
    request: Request,
    user: Annotated[Principal, Depends(api_user)],
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> dict[str, Any]:
    """The year's targets of the city and the counties with progress to date,
    a projection to year end, and the province's improvement beside the city's."""
    wanted = year or today().year

    def read() -> dict[str, Any]:
        with _engine(request).connect() as connection:
            return target_progress(connection, wanted, today())

    return await asyncio.to_thread(read)


@router.put(PREFIX + "/targets")
async def set_target(
    request: Request, body: TargetIn, user: Annotated[SessionUser, Depends(registry_writer)]
) -> dict[str, Any]:
    """Set one target (city administrators; audited)."""
    assert body.indicator in TARGET_INDICATORS

    def write() -> dict[str, Any]:
        with _engine(request).begin() as connection:
            if (
                body.area != CITY
                and connection.execute(select(County.code).where(County.code == body.area)).first()
                is None
            ):
                raise invalid("body.area", f"unknown county {body.area}", f"没有区县 {body.area}")
            key = (QualityTarget.year == body.year, QualityTarget.area == body.area,
                   QualityTarget.indicator == body.indicator)  # fmt: skip
            before = connection.execute(select(QualityTarget.value).where(*key)).scalar()
            connection.execute(QualityTarget.__table__.delete().where(*key))  # type: ignore[attr-defined]
            connection.execute(QualityTarget.__table__.insert().values(  # type: ignore[attr-defined]
                year=body.year, area=body.area, indicator=body.indicator, value=body.value,
                set_by=user.username, set_at=datetime.now(UTC)))  # fmt: skip
            record(connection, Actor(user.username, user.role, peer_of(request)),
                   "quality.target.set", "quality_target",
                   f"{body.year}:{body.area}:{body.indicator}",
                   before=None if before is None else {"value": before},
                   after={"value": body.value})  # fmt: skip
        return body.model_dump()

    return await asyncio.to_thread(write)


@router.get(PREFIX + "/province")
async def province(
    request: Request,
    user: Annotated[Principal, Depends(api_user)],
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> dict[str, Any]:
    """The province's monthly figures as imported."""
    wanted = year or today().year

    def read() -> dict[str, Any]:
        with _engine(request).connect() as connection:
            return {"year": wanted, "items": province_rows(connection, wanted)}

    return await asyncio.to_thread(read)


MAX_PROVINCE_BYTES = 1 << 20


@router.post(
    PREFIX + "/province",
    responses={422: {"description": "the file's problems by row and column: nothing imported"}},
)
async def import_province(
    request: Request, user: Annotated[SessionUser, Depends(registry_writer)]
) -> dict[str, Any]:
    """Import the province's monthly figures from CSV (``month,area,composite_index,
    pm2_5,good_day_ratio``; area ``全省`` for the province): all rows or none,
    each problem named by row and column (city administrators; audited)."""
    body = await request.body()
    if len(body) > MAX_PROVINCE_BYTES:
        raise ApiError(413, "too_large", "the file is larger than 1 MB", "文件超过1 MB")

    def write() -> dict[str, Any]:
        try:
            with _engine(request).begin() as connection:
                count = import_province_csv(connection, body)
                record(connection, Actor(user.username, user.role, peer_of(request)),
                       "quality.province.import", "province_monthly", str(count),
                       after={"rows": count})  # fmt: skip
        except ProvinceImportError as error:
            raise ApiError(422, error.code, error.message_en, error.message_zh,
                           errors=error.problems) from None  # fmt: skip
        return {"imported": count}

    return await asyncio.to_thread(write)
