"""The measurement API: a monitoring point's raw frames, real-time, minute,
hourly and daily values (validity, O2-corrected, flags) and an enterprise's
electricity, each scoped like the alerts.

Every window is bounded per data kind, so no request reads without end; data
times are China Standard Time and go out with an explicit +08:00. A point or
an enterprise out of the user's scope answers 404 exactly like an unknown one.
"""

from __future__ import annotations

import asyncio
import base64
import csv
import io
import json
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi import Path as FastApiPath
from pydantic import Field
from sqlalchemy import Connection, Engine, func, or_, select

from envwatch.alerts.queries import scope_by
from envwatch.audit.log import Actor, record
from envwatch.auth.sessions import SessionUser
from envwatch.electricity.hj212 import load_codes
from envwatch.glossary import factor
from envwatch.hj212.codes import CHINA_STANDARD_TIME, now_cst
from envwatch.hj212.secrets import masked_frame
from envwatch.processing.inputs import device_uploads
from envwatch.registry.coverage import point_status
from envwatch.registry.limits import LimitInForce, limits_in_force
from envwatch.rules.catalogue.compliance import DailyExceedanceParams
from envwatch.rules.engine import default_rule_set
from envwatch.rules.hours import Hour, hours_of
from envwatch.rules.model import O2_CODE
from envwatch.rules.o2 import o2_corrected
from envwatch.rules.parameters import RuleSet
from envwatch.rules.validity import Validity, daily_mean
from envwatch.settings import get_settings
from envwatch.spreadsheet import safe_cell
from envwatch.store.schema import (
    MAX_BIG_ID,
    MAX_ID,
    ArchivedFrame,
    County,
    ElectricityReading,
    Enterprise,
    Measurement,
    Meter,
    MonitoringPoint,
    Outlet,
    PointFactor,
)
from envwatch.times import as_data_time, as_utc, cst_text, utc_as_cst_text
from envwatch.web.errors import ApiError
from envwatch.web.people import api_user, peer_of

router = APIRouter()

REAL_TIME, MINUTE, HOUR, DAY = "2011", "2051", "2061", "2031"
DataKind = Literal["2011", "2051", "2061", "2031"]


@dataclass(frozen=True, slots=True)
class Bounds:
    """How far back a request of one data kind may reach, and how far by default."""

    default: timedelta
    longest: timedelta
    words_en: str
    words_zh: str


WINDOWS: Mapping[str, Bounds] = {
    REAL_TIME: Bounds(timedelta(hours=6), timedelta(days=1), "1 day", "1天"),
    MINUTE: Bounds(timedelta(days=1), timedelta(days=7), "7 days", "7天"),
    HOUR: Bounds(timedelta(days=7), timedelta(days=31), "31 days", "31天"),
    DAY: Bounds(timedelta(days=31), timedelta(days=366), "366 days", "366天"),
}
# Data times a window may reach (HJ 212 began in 2005; a logger's clock is
# never trusted this far out).
EARLIEST, LATEST = datetime(2000, 1, 1), datetime(2100, 1, 1)
FRAMES_WINDOW = Bounds(timedelta(days=1), timedelta(days=31), "31 days", "31天")
ELECTRICITY_WINDOW = Bounds(timedelta(days=1), timedelta(days=31), "31 days", "31天")
# Ids and offsets a database of either kind can bind (SQLite refuses integers
# beyond 64 bits with an error, not with no rows).
MAX_OFFSET = 10**9
FrameId = Annotated[int, Field(ge=1, le=MAX_BIG_ID)]
# Texts compared in SQL: no control characters (PostgreSQL's text holds no
# NUL at all; an MN or a code has none of them anyway).
NO_CONTROL = r"^[^\x00-\x1f\x7f]*$"
MnPath = Annotated[str, FastApiPath(max_length=64, pattern=NO_CONTROL)]
VALUE_FIELDS = ("rtd", "avg", "min", "max", "cou", "zs_rtd", "zs_avg", "flag", "eflag")


def unknown_point(mn: str) -> ApiError:
    return ApiError(404, "unknown_point", f"no point {mn}", f"没有监测点{mn}")


def unknown_enterprise(enterprise_id: int) -> ApiError:
    return ApiError(404, "unknown_enterprise", f"no enterprise {enterprise_id}",
                    f"没有编号为{enterprise_id}的企业")  # fmt: skip


def window(
    since: datetime | None, until: datetime | None, bounds: Bounds, newest: datetime | None
) -> tuple[datetime, datetime]:
    """[start, end) as data times (naive China Standard Time). Without either
    end the window is the default span ending at the newest data (or now), so
    a point offline for a week still shows its last data. Times outside
    ``EARLIEST``..``LATEST`` are refused like a bad span: no data is there, and
    arithmetic near the calendar's ends would overflow."""
    try:
        start = None if since is None else as_data_time(since)
        end = None if until is None else as_data_time(until)
        if start is None and end is None:
            end = (newest or now_cst()) + timedelta(seconds=1)
        if start is None:
            assert end is not None
            start = end - bounds.default
        if end is None:
            end = start + bounds.default
    except OverflowError:
        start = end = None
    if (
        start is None or end is None
        or not EARLIEST <= start < LATEST or not EARLIEST < end <= LATEST
        or not timedelta(0) < end - start <= bounds.longest
    ):  # fmt: skip
        raise ApiError(422, "bad_window",
                       f"until must follow since, by at most {bounds.words_en}, "
                       f"between {EARLIEST:%Y} and {LATEST:%Y}",
                       f"结束时间须晚于开始时间，跨度不超过{bounds.words_zh}，"
                       f"且在{EARLIEST:%Y}年至{LATEST:%Y}年之间",
                       longest_s=bounds.longest.total_seconds())  # fmt: skip
    return start, end


@cache
def _rules(path: Path | None) -> RuleSet:
    return default_rule_set(path)


def rules() -> RuleSet:
    return _rules(get_settings().rules_file)


def point_query(user: SessionUser) -> Any:
    """The points ``user`` may see, with their enterprise, county, outlet and meter."""
    return (
        select(
            MonitoringPoint.mn, MonitoringPoint.st, MonitoringPoint.protocol_version,
            MonitoringPoint.active, MonitoringPoint.enterprise_id, MonitoringPoint.outlet_id,
            Enterprise.name.label("enterprise_name"), Enterprise.county_code,
            Enterprise.industry_code, County.name_zh.label("county_name_zh"),
            County.name_en.label("county_name_en"), Outlet.code.label("outlet_code"),
            Outlet.name.label("outlet_name"), Outlet.kind.label("outlet_kind"),
            Meter.id.label("meter_id"), Meter.name.label("meter_name"),
            Meter.kind.label("meter_kind"),
        )
        .outerjoin(Enterprise, MonitoringPoint.enterprise_id == Enterprise.id)
        .outerjoin(County, Enterprise.county_code == County.code)
        .outerjoin(Outlet, MonitoringPoint.outlet_id == Outlet.id)
        .outerjoin(Meter, Meter.mn == MonitoringPoint.mn)
        .where(scope_by(user, Enterprise.county_code, Enterprise.id, MonitoringPoint.mn))
    )  # fmt: skip


def visible_point(connection: Connection, user: SessionUser, mn: str) -> Any:
    """The point's row with its enterprise, county, outlet and meter, or None
    when it is unknown or not the user's to see."""
    return connection.execute(point_query(user).where(MonitoringPoint.mn == mn)).first()


def last_frame(connection: Connection, mn: str) -> tuple[datetime | None, datetime | None]:
    """When the point's newest accepted frame came (UTC) and its DataTime; read
    backwards along the device's chain, which the (chain, seq) key indexes."""
    row = connection.execute(
        select(ArchivedFrame.received_at, ArchivedFrame.data_time)
        .where(ArchivedFrame.chain == mn, ArchivedFrame.verdict == "accepted")
        .order_by(ArchivedFrame.seq.desc())
        .limit(1)
    ).first()
    return (None, None) if row is None else (as_utc(row.received_at), row.data_time)


def _limit_json(limit: LimitInForce) -> dict[str, Any]:
    return {"value": limit.value, "lower": limit.lower, "period": limit.period.value,
            "unit": limit.unit, "basis": limit.basis,
            "reference_o2": limit.reference_o2}  # fmt: skip


@cache
def _meter_codes(path: Path | None) -> dict[str, tuple[str, str, str]]:
    codes = load_codes(path)
    return {codes.power_kw: ("用电功率", "electric power", "kW"),
            codes.energy_kwh: ("累计电量", "energy register", "kWh"),
            codes.current_a: ("电流", "current", "A")}  # fmt: skip


def factor_names(code: str) -> tuple[str, str, str]:
    """Chinese and English name and unit of a factor: the glossary's, else the
    electricity meters' code table's (the bureau's own, when configured)."""
    known = factor(code)
    if known is not None:
        return known.name_zh, known.name_en, known.unit
    return _meter_codes(get_settings().electricity_codes_file).get(code, (code, code, ""))


def _factor_json(code: str, unit: str, limits: Sequence[LimitInForce]) -> dict[str, Any]:
    name_zh, name_en, known_unit = factor_names(code)
    return {
        "code": code,
        "name_zh": name_zh,
        "name_en": name_en,
        "unit": unit or known_unit,
        # Hourly first, strictest first within a period: each period's first is judged.
        "limits": [_limit_json(limit) for limit in limits],
    }


def point_view(connection: Connection, row: Any, *, detail: bool) -> dict[str, Any]:
    """A point as the API and the pages show it."""
    received, data_time = last_frame(connection, row.mn)
    offline_after = timedelta(seconds=get_settings().offline_after_s)
    view: dict[str, Any] = {
        "mn": row.mn,
        "st": row.st,
        "protocol_version": row.protocol_version,
        "active": row.active,
        "enterprise": None if row.enterprise_id is None else {
            "id": row.enterprise_id, "name": row.enterprise_name, "county": row.county_code,
            "county_name_zh": row.county_name_zh, "county_name_en": row.county_name_en,
            "industry": row.industry_code,
        },
        "outlet": None if row.outlet_id is None else {
            "id": row.outlet_id, "code": row.outlet_code, "name": row.outlet_name,
            "kind": row.outlet_kind,
        },
        "meter": None if row.meter_id is None else {
            "id": row.meter_id, "name": row.meter_name, "kind": row.meter_kind,
        },
        "last_received_at": utc_as_cst_text(received),
        "last_data_time": None if data_time is None else cst_text(data_time),
        "status": point_status(received, datetime.now(UTC), offline_after).value,
    }  # fmt: skip
    if detail:
        limits = limits_in_force(connection, now_cst()).get(row.outlet_id or -1, {})
        units = dict(
            connection.execute(
                select(PointFactor.pollutant, PointFactor.unit)
                .where(PointFactor.mn == row.mn)
                .order_by(PointFactor.pollutant)
            ).all()
        )
        # A limit on a factor the point does not register still belongs on the page.
        codes = sorted(set(units) | set(limits))
        view["factors"] = [_factor_json(c, units.get(c, ""), limits.get(c, ())) for c in codes]
    return view


@router.get("/api/v1/points")
async def list_points(
    request: Request,
    *,
    user: Annotated[SessionUser, Depends(api_user)],
    county: Annotated[str | None, Query(max_length=12, pattern=NO_CONTROL)] = None,
    enterprise_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    industry: Annotated[str | None, Query(max_length=8, pattern=NO_CONTROL)] = None,
    pollutant: Annotated[str | None, Query(max_length=16, pattern=NO_CONTROL)] = None,
    kind: Literal["outlet", "meter"] | None = None,
    q: Annotated[str | None, Query(min_length=1, max_length=100, pattern=NO_CONTROL)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> dict[str, Any]:
    """The monitoring points the user may see, by MN: outlets' monitors and
    electricity meters, each with its last data time and online status.
    ``q``: words of the MN or of the enterprise's name."""

    def read() -> dict[str, Any]:
        query = point_query(user)
        if county is not None:
            query = query.where(Enterprise.county_code == county)
        if enterprise_id is not None:
            query = query.where(MonitoringPoint.enterprise_id == enterprise_id)
        if industry is not None:
            query = query.where(Enterprise.industry_code == industry)
        if pollutant is not None:
            query = query.where(
                MonitoringPoint.mn.in_(
                    select(PointFactor.mn).where(PointFactor.pollutant == pollutant)
                )
            )
        if q is not None:
            query = query.where(or_(MonitoringPoint.mn.contains(q, autoescape=True),
                                    Enterprise.name.contains(q, autoescape=True)))  # fmt: skip
        if kind == "meter":
            query = query.where(Meter.id.is_not(None))
        elif kind == "outlet":
            query = query.where(MonitoringPoint.outlet_id.is_not(None))
        with request.app.state.database().connect() as connection:
            total = connection.execute(select(func.count()).select_from(query.subquery()))
            count = int(total.scalar_one())
            rows = connection.execute(
                query.order_by(MonitoringPoint.mn).limit(limit).offset(offset)
            ).all()
            items = [point_view(connection, row, detail=False) for row in rows]
        return {"items": items, "total": count, "limit": limit, "offset": offset}

    return await asyncio.to_thread(read)


@router.get("/api/v1/points/{mn}")
async def one_point(
    request: Request, mn: MnPath, user: Annotated[SessionUser, Depends(api_user)]
) -> dict[str, Any]:
    """A point with its enterprise, outlet, factors (names, units, permit limits
    in force, strictest first), last data and online status."""

    def read() -> dict[str, Any]:
        with request.app.state.database().connect() as connection:
            row = visible_point(connection, user, mn)
            if row is None:
                raise unknown_point(mn)
            return point_view(connection, row, detail=True)

    return await asyncio.to_thread(read)


def _corrected(
    level: float | None, o2: float | None, limit: LimitInForce | None, ruleset: RuleSet
) -> float | None:
    """The level at the limit's reference O2 (None without one, without an O2
    reading, or at or above the O2 ceiling, where no correction is sound)."""
    if level is None or o2 is None or limit is None or limit.reference_o2 is None:
        return None
    return o2_corrected(level, o2, limit.reference_o2, ruleset.validity.o2_ceiling_percent)


def _stored_items(
    rows: Sequence[Any],
    wanted: str | None,
    limits: Mapping[str, Sequence[LimitInForce]],
    ruleset: RuleSet,
) -> list[dict[str, Any]]:
    by_time: dict[datetime, dict[str, Any]] = {}
    for row in rows:
        by_time.setdefault(row.data_time, {})[row.pollutant] = row
    items = []
    for data_time, upload in by_time.items():
        o2_row = upload.get(O2_CODE)
        values = {}
        for code, row in upload.items():
            if wanted is not None and code != wanted:
                continue
            level = row.rtd if row.rtd is not None else row.avg
            o2 = None if o2_row is None else (o2_row.rtd if o2_row.rtd is not None else o2_row.avg)
            in_force = limits.get(code, ())
            values[code] = {
                **{name: getattr(row, name) for name in VALUE_FIELDS},
                "valid": level is not None and (row.flag or "N") in ruleset.validity.valid_flags,
                "corrected": _corrected(level, o2, in_force[0] if in_force else None, ruleset),
            }
        if values:
            items.append({"data_time": cst_text(data_time), "source": "uploaded",
                          "values": values})  # fmt: skip
    return items


def _day_of(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def days_from_hours(
    hours: Sequence[Hour], min_valid_hours: int, *, flow_weighted: bool
) -> dict[datetime, dict[str, Any]]:
    """Daily values of one factor from its hours (pure): a day is valid with at
    least ``min_valid_hours`` valid hours (HJ 75); its mean is arithmetic, or
    weighted by the hours' volumes for wastewater (HJ 356) when all are known."""
    by_day: dict[datetime, list[Hour]] = {}
    for hour in hours:
        by_day.setdefault(_day_of(hour.start), []).append(hour)
    days = {}
    for day, day_hours in sorted(by_day.items()):
        valid = [h for h in day_hours if h.validity is Validity.VALID and h.mean is not None]
        means = [h.mean for h in valid if h.mean is not None]
        volumes = [h.volume_m3 for h in valid]
        known_volumes = [v for v in volumes if v is not None]
        is_valid = len(valid) >= min_valid_hours
        weighted = flow_weighted and len(known_volumes) == len(means) and bool(means)
        mean = daily_mean(means, known_volumes if weighted else None) if means else None
        corrected = [h.corrected for h in valid if h.corrected is not None]
        emissions = [h.emission_kg for h in valid if h.emission_kg is not None]
        days[day] = {
            "rtd": None, "avg": mean if is_valid else None,
            "min": min(means) if is_valid else None, "max": max(means) if is_valid else None,
            "cou": None, "zs_rtd": None, "zs_avg": None, "flag": None, "eflag": None,
            "valid": is_valid,
            "corrected": statistics.fmean(corrected) if is_valid and corrected else None,
            "valid_hours": len(valid), "hours": len(day_hours),
            "flow_weighted": weighted if is_valid else None,
            "emission_kg": sum(emissions) if is_valid and emissions else None,
        }  # fmt: skip
    return days


def missing_days(
    start: datetime, end: datetime, uploaded: set[datetime]
) -> list[tuple[datetime, datetime]]:
    """The runs of whole days in [start, end) (day-aligned) with no daily
    upload, as [first, last) ranges: only their hours are read."""
    runs: list[tuple[datetime, datetime]] = []
    day = start
    while day < end:
        if day not in uploaded:
            if runs and runs[-1][1] == day:
                runs[-1] = (runs[-1][0], day + timedelta(days=1))
            else:
                runs.append((day, day + timedelta(days=1)))
        day += timedelta(days=1)
    return runs


def _computed_days(
    connection: Connection,
    point: Any,
    start: datetime,
    end: datetime,
    *,
    wanted: str | None,
    limits: Mapping[str, Sequence[LimitInForce]],
    ruleset: RuleSet,
    skip: set[datetime],
) -> dict[datetime, dict[str, Any]]:
    """Days the logger sent no daily upload for, computed from its hours."""
    uploads = [
        upload
        for first, last in missing_days(start, end, skip)
        for upload in device_uploads(connection, point.mn, (MINUTE, HOUR), first, last)
    ]
    codes = sorted({code for u in uploads for code in u.values})
    params = ruleset.for_point("daily_exceedance", industry=point.industry_code,
                               outlet_kind=point.outlet_kind)  # fmt: skip
    assert isinstance(params, DailyExceedanceParams)
    flow_weighted = point.outlet_kind == "water"
    days: dict[datetime, dict[str, Any]] = {}
    for code in codes:
        if wanted is not None and code != wanted:
            continue
        in_force = limits.get(code, ())
        reference = in_force[0].reference_o2 if in_force else None
        hours = hours_of(uploads, code, ruleset, reference_o2=reference)
        if reference is None:
            # hours_of gives the mean as "corrected" when nothing is to be corrected.
            hours = [replace(h, corrected=None) for h in hours]
        for day, values in days_from_hours(hours, params.min_valid_hours,
                                           flow_weighted=flow_weighted).items():  # fmt: skip
            days.setdefault(day, {})[code] = values
    return days


def read_measurements(
    connection: Connection,
    user: SessionUser,
    mn: str,
    *,
    cn: str,
    pollutant: str | None,
    since: datetime | None,
    until: datetime | None,
) -> dict[str, Any]:
    """What ``GET /api/v1/points/{mn}/measurements`` answers (the point page shows the same)."""
    bounds = WINDOWS[cn]
    ruleset = rules()
    point = visible_point(connection, user, mn)
    if point is None:
        raise unknown_point(mn)
    newest = None
    if since is None and until is None:
        kinds = (DAY, HOUR, MINUTE) if cn == DAY else (cn,)
        newest = connection.execute(
            select(func.max(Measurement.data_time))
            .where(Measurement.mn == mn, Measurement.cn.in_(kinds))
        ).scalar()  # fmt: skip
    start, end = window(since, until, bounds, newest)
    if cn == DAY:
        # Whole days: a day's value is about the day, wherever the window cuts it.
        start, end = (
            _day_of(start),
            _day_of(end - timedelta(microseconds=1)) + timedelta(days=1),
        )
    # The limits in force at the end of the window: old data is judged by the
    # permit of its time, not by one tightened since.
    in_force_at = min(end - timedelta(microseconds=1), now_cst())
    limits = limits_in_force(connection, in_force_at).get(point.outlet_id or -1, {})
    units = dict(
        connection.execute(
            select(PointFactor.pollutant, PointFactor.unit).where(PointFactor.mn == mn)
        ).all()
    )
    codes = None if pollutant is None else (pollutant, O2_CODE)
    query = select(Measurement).where(
        Measurement.mn == mn, Measurement.cn == cn,
        Measurement.data_time >= start, Measurement.data_time < end,
    )  # fmt: skip
    if codes is not None:
        query = query.where(Measurement.pollutant.in_(codes))
    rows = connection.execute(query.order_by(Measurement.data_time, Measurement.pollutant)).all()
    items = _stored_items(rows, pollutant, limits, ruleset)
    if cn == DAY:
        # A daily upload lacking the factor asked for leaves that day to be computed.
        uploaded = {_day_of(row.data_time) for row in rows
                    if pollutant is None or row.pollutant == pollutant}  # fmt: skip
        computed = _computed_days(
            connection, point, start, end, wanted=pollutant, limits=limits,
            ruleset=ruleset, skip=uploaded,
        )  # fmt: skip
        items += [{"data_time": cst_text(day), "source": "computed", "values": values}
                  for day, values in computed.items()]  # fmt: skip
        items.sort(key=lambda item: str(item["data_time"]))
    present = sorted({code for item in items for code in item["values"]})
    return {
        "mn": mn, "cn": cn, "since": cst_text(start), "until": cst_text(end),
        "pollutants": [_factor_json(c, units.get(c, ""), limits.get(c, ())) for c in present],
        "items": items, "total": len(items),
    }  # fmt: skip


CSV_COLUMNS = ("data_time", "source", "pollutant", *VALUE_FIELDS, "valid", "corrected",
               "valid_hours")  # fmt: skip


def measurements_csv(body: Mapping[str, Any]) -> str:
    """The measurements as CSV, one line per time and factor, with a BOM so
    that spreadsheet programs set to Chinese read the UTF-8 right."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for item in body["items"]:
        for code, values in item["values"].items():
            writer.writerow([safe_cell(cell) for cell in (
                item["data_time"], item["source"], code,
                *(values.get(name) for name in CSV_COLUMNS[3:]))])  # fmt: skip
    return out.getvalue()


@router.get("/api/v1/points/{mn}/measurements", response_model=None)
async def point_measurements(
    request: Request,
    mn: MnPath,
    *,
    user: Annotated[SessionUser, Depends(api_user)],
    cn: DataKind = "2061",
    pollutant: Annotated[str | None, Query(min_length=1, max_length=16, pattern=NO_CONTROL)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    format: Literal["json", "csv"] = "json",
) -> dict[str, Any] | Response:
    """A point's stored values of one data kind (2011 real-time, 2051 minute,
    2061 hour, 2031 day) in [since, until) (China Standard Time, naive or with
    a zone): Rtd/Avg/Min/Max/Cou, the logger's own corrected values (ZsRtd/
    ZsAvg), the flag, whether the value counts as valid, and the value at the
    permit limit's reference O2 where the limit has one. A day the logger sent
    no 2031 upload for is computed from its hours (HJ 75 valid day:
    ``source`` "computed"). Without since and until: the default span ending
    at the point's newest data of that kind. ``format=csv``: the same as a
    CSV download."""

    def read() -> dict[str, Any]:
        with request.app.state.database().connect() as connection:
            return read_measurements(connection, user, mn, cn=cn, pollutant=pollutant,
                                     since=since, until=until)  # fmt: skip

    body = await asyncio.to_thread(read)
    if format == "json":
        return body
    name = f"{mn}-{cn}-{body['since'][:10]}.csv"
    return Response(measurements_csv(body), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})  # fmt: skip


def _as_utc_moment(moment: datetime | None) -> datetime | None:
    """A query time as a UTC moment: naive ones are China Standard Time."""
    if moment is None:
        return None
    aware = moment if moment.tzinfo else moment.replace(tzinfo=CHINA_STANDARD_TIME)
    return aware.astimezone(UTC)


def frame_text(raw: bytes) -> tuple[str, str]:
    """The frame as text and how it was read: ASCII, UTF-8 (HJ 212-2017 counts
    its lengths over UTF-8), else GBK, which older loggers write, with any
    undecodable byte replaced (the exact bytes go out as base64 beside it)."""
    for encoding in ("ascii", "utf-8"):
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return raw.decode("gbk", "replace"), "gbk"


def _warnings(text: str) -> Any:
    if not text:
        return []
    try:
        return json.loads(text)
    except ValueError:
        return [{"code": None, "message": text}]


@router.get("/api/v1/points/{mn}/frames")
async def point_frames(
    request: Request,
    mn: MnPath,
    *,
    user: Annotated[SessionUser, Depends(api_user)],
    since: datetime | None = None,
    until: datetime | None = None,
    verdict: Literal["accepted", "rejected"] | None = None,
    cn: Annotated[str | None, Query(pattern=r"^\d{4}$")] = None,
    order: Literal["asc", "desc"] = "desc",
    frame: Annotated[list[FrameId] | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    reveal_passwords: bool = False,
) -> dict[str, Any]:
    """The raw frames archived on the point's chain, received in [since, until)
    (at most 31 days; China Standard Time when naive), accepted and rejected:
    the evidence itself, with its place in the hash chain. ``frame`` (repeated)
    asks for the frames a finding cites, by id, whenever they came.

    Device passwords (PW, NewPW) are masked in ``text`` and ``raw_base64``:
    with MN and PW anyone could send data the gateway accepts. A city
    administrator may ask for them with ``reveal_passwords`` (audited); the
    hashes are the archived, intact frames'."""
    if reveal_passwords and not (isinstance(user, SessionUser) and user.role == "city_admin"):
        raise ApiError(403, "forbidden", "only city administrators see device passwords",
                       "仅市局管理员可查看设备密码")  # fmt: skip

    def read() -> dict[str, Any]:
        with request.app.state.database().connect() as connection:
            if visible_point(connection, user, mn) is None:
                raise unknown_point(mn)
            newest = None
            if since is None and until is None:
                newest = connection.execute(
                    select(ArchivedFrame.received_at)
                    .where(ArchivedFrame.chain == mn)
                    .order_by(ArchivedFrame.seq.desc())
                    .limit(1)
                ).scalar()
            newest_cst = None if newest is None else as_data_time(as_utc(newest))
            start, end = window(since, until, FRAMES_WINDOW, newest_cst)
            first, last = _as_utc_moment(start), _as_utc_moment(end)
            conditions = [ArchivedFrame.chain == mn]
            if frame:
                conditions.append(ArchivedFrame.id.in_(frame))
            else:
                conditions += [ArchivedFrame.received_at >= first, ArchivedFrame.received_at < last]
            if verdict is not None:
                conditions.append(ArchivedFrame.verdict == verdict)
            if cn is not None:
                conditions.append(ArchivedFrame.cn == cn)
            total = connection.execute(
                select(func.count()).select_from(ArchivedFrame).where(*conditions)
            ).scalar_one()
            ordering = ArchivedFrame.seq.asc() if order == "asc" else ArchivedFrame.seq.desc()
            rows = connection.execute(
                select(ArchivedFrame).where(*conditions).order_by(ordering)
                .limit(limit).offset(offset)
            ).all()  # fmt: skip
            if reveal_passwords:
                record(connection, Actor(user.username, user.role, peer_of(request)),
                       "frames.reveal_passwords", "point", mn,
                       after={"frames": [row.id for row in rows]})  # fmt: skip
                connection.commit()
        items = []
        for row in rows:
            shown = row.raw if reveal_passwords else masked_frame(row.raw)
            text, encoding = frame_text(shown)
            items.append({
                "id": row.id, "seq": row.seq, "received_at": utc_as_cst_text(row.received_at),
                "peer": row.peer, "verdict": row.verdict, "error_code": row.error_code,
                "warnings": _warnings(row.warnings), "cn": row.cn, "qn": row.qn,
                "data_time": None if row.data_time is None else cst_text(row.data_time),
                "text": text, "encoding": encoding,
                "raw_base64": base64.b64encode(shown).decode("ascii"),
                "passwords_masked": not reveal_passwords,
                "bytes": len(row.raw), "hash": row.hash, "prev_hash": row.prev_hash,
            })  # fmt: skip
        return {"mn": mn, "since": None if frame else cst_text(start),
                "until": None if frame else cst_text(end), "items": items,
                "total": int(total), "limit": limit, "offset": offset}  # fmt: skip

    return await asyncio.to_thread(read)


def visible_enterprise(connection: Connection, user: SessionUser, enterprise_id: int) -> Any:
    """The enterprise, or None when it is unknown or not the user's to see (an
    enterprise is no device: a contractor sees none, only the devices it runs)."""
    return connection.execute(
        select(Enterprise).where(
            Enterprise.id == enterprise_id, scope_by(user, Enterprise.county_code, Enterprise.id)
        )
    ).first()


def electricity(
    engine: Engine, enterprise_id: int, since: datetime | None, until: datetime | None
) -> dict[str, Any]:
    """The enterprise's meters and their readings in [since, until) on one time axis."""
    with engine.connect() as connection:
        meters = connection.execute(
            select(Meter).where(Meter.enterprise_id == enterprise_id).order_by(Meter.id)
        ).all()
        ids = [meter.id for meter in meters]
        newest = None
        if since is None and until is None and ids:
            newest = connection.execute(
                select(func.max(ElectricityReading.time)).where(
                    ElectricityReading.meter_id.in_(ids)
                )
            ).scalar()
        start, end = window(since, until, ELECTRICITY_WINDOW, newest)
        readings = connection.execute(
            select(ElectricityReading)
            .where(ElectricityReading.meter_id.in_(ids), ElectricityReading.time >= start,
                   ElectricityReading.time < end)
            .order_by(ElectricityReading.time, ElectricityReading.meter_id)
        ).all() if ids else []  # fmt: skip
    by_time: dict[datetime, dict[str, Any]] = {}
    for reading in readings:
        by_time.setdefault(reading.time, {})[str(reading.meter_id)] = {
            "power_kw": reading.power_kw, "energy_kwh": reading.energy_kwh,
            "current_a": reading.current_a, "source": reading.source,
        }  # fmt: skip
    return {
        "enterprise_id": enterprise_id, "since": cst_text(start), "until": cst_text(end),
        "meters": [{"id": m.id, "name": m.name, "kind": m.kind, "rated_kw": m.rated_kw,
                    "mn": m.mn, "outlet_id": m.outlet_id} for m in meters],
        "items": [{"time": cst_text(t), "meters": values} for t, values in by_time.items()],
        "total": len(by_time),
    }  # fmt: skip


@router.get("/api/v1/enterprises/{enterprise_id}/electricity")
async def enterprise_electricity(
    request: Request,
    enterprise_id: Annotated[int, FastApiPath(ge=1, le=MAX_ID)],
    *,
    user: Annotated[SessionUser, Depends(api_user)],
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[str, Any]:
    """The readings of the enterprise's meters (production, treatment, total
    circuits: power [kW], energy register [kWh], current [A]) at each reading
    time, at most 31 days; without since and until the last day of readings."""

    def read() -> dict[str, Any]:
        engine: Engine = request.app.state.database()
        with engine.connect() as connection:
            if visible_enterprise(connection, user, enterprise_id) is None:
                raise unknown_enterprise(enterprise_id)
        return electricity(engine, enterprise_id, since, until)

    return await asyncio.to_thread(read)
