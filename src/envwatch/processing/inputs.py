"""What the rules engine reads from the store."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    String,
    select,
    text,
    tuple_,
    type_coerce,
)

from envwatch.electricity.hj212 import ElectricityCodes
from envwatch.hj212 import DecodeOptions, ProtocolError, decode_frame
from envwatch.hj212.model import DEVICE_INFO_COMMAND, DeviceInfo, interpret
from envwatch.quality.daily import load_sites
from envwatch.registry.limits import limits_in_force
from envwatch.registry.maintenance import calibration_schedules, declared_periods
from envwatch.rules.catalogue import ENERGY, POWER
from envwatch.rules.model import (
    Limit,
    ListedLine,
    Period,
    PointContext,
    PollutionWarning,
    StationTraits,
    Upload,
    Values,
    batch_meter_key,
)
from envwatch.rules.shifts import parse_shifts
from envwatch.store.schema import (
    AirStation,
    ArchivedFrame,
    County,
    ElectricityBatch,
    ElectricityReading,
    EmergencyLine,
    EmergencyLineMeter,
    EmergencyPeriod,
    Enterprise,
    Measurement,
    Meter,
    MeterLink,
    MonitoringPoint,
    Outlet,
    WaterSection,
)
from envwatch.times import as_data_time, as_utc

# The command a batch reading is given to the rules as: a real-time value.
BATCH_READING = "2011"
# Stored frames passed the gateway's checks; read them as leniently again.
INFO_OPTIONS = DecodeOptions(lenient=True)


def load_contexts(engine: Engine, now: datetime) -> dict[str, PointContext]:
    """Every registered device as the rules see it; limits in force at ``now``
    (China Standard Time, naive), strictest first; its declared maintenance
    windows and the heavy-pollution-weather warnings of its county or city (a
    development zone's enterprises fall under its host district's warnings)."""
    with engine.connect() as connection:
        points = connection.execute(
            select(
                MonitoringPoint.mn,
                MonitoringPoint.enterprise_id,
                MonitoringPoint.outlet_id,
                Enterprise.industry_code,
                Enterprise.county_code,
                *ENTERPRISE_TRAITS,
                Outlet.kind,
                Outlet.reheated,
            )
            .outerjoin(Enterprise, MonitoringPoint.enterprise_id == Enterprise.id)
            .outerjoin(Outlet, MonitoringPoint.outlet_id == Outlet.id)
        ).all()
        limits = limits_in_force(connection, now)
        meters = {
            row.mn: row
            for row in connection.execute(
                select(Meter.id, Meter.mn, Meter.kind, Meter.rated_kw).where(Meter.mn.is_not(None))
            )
        }
        serves: dict[int, list[int]] = {}
        for link in connection.execute(
            select(MeterLink.treatment_meter_id, MeterLink.production_meter_id).order_by(
                MeterLink.production_meter_id
            )
        ):
            serves.setdefault(link.treatment_meter_id, []).append(link.production_meter_id)
        maintenance = declared_periods(connection, "maintenance")
        startups = declared_periods(connection, "startup_shutdown")
        calibrations = calibration_schedules(connection)
        hosts: dict[str, str | None] = dict(
            connection.execute(select(County.code, County.host_code)).all()
        )
        emergencies = connection.execute(
            select(EmergencyPeriod).order_by(EmergencyPeriod.starts_at)
        ).all()
        listed: dict[int, list[ListedLine]] = {}
        for line in connection.execute(
            select(EmergencyLineMeter.meter_id, EmergencyLine.name, EmergencyLine.valid_from,
                   EmergencyLine.valid_until, EmergencyLine.measures)
            .join(EmergencyLine, EmergencyLineMeter.line_id == EmergencyLine.id)
            .order_by(EmergencyLine.valid_from, EmergencyLine.id)
        ):  # fmt: skip
            listed.setdefault(line.meter_id, []).append(
                ListedLine(line.name, line.valid_from, line.valid_until, dict(line.measures))
            )
        batch_meters = connection.execute(
            select(
                Meter.id,
                Meter.enterprise_id,
                Meter.kind,
                Meter.rated_kw,
                Enterprise.industry_code,
                Enterprise.county_code,
                *ENTERPRISE_TRAITS,
            )
            .join(Enterprise, Meter.enterprise_id == Enterprise.id)
            .where(Meter.mn.is_(None))
        ).all()

    def warnings_for(county_code: str | None) -> tuple[PollutionWarning, ...]:
        return tuple(
            PollutionWarning(e.level, Period(e.starts_at, e.ends_at), e.reference)
            for e in emergencies
            if e.county_code is None or e.county_code in (county_code, hosts.get(county_code or ""))
        )

    stations = station_traits(engine)
    contexts = {}
    for batch_meter in batch_meters:
        contexts[batch_meter_key(batch_meter.id)] = PointContext(
            mn=batch_meter_key(batch_meter.id),
            enterprise_id=batch_meter.enterprise_id,
            industry=batch_meter.industry_code,
            outlet_kind=None,
            meter_id=batch_meter.id,
            meter_kind=batch_meter.kind,
            rated_kw=batch_meter.rated_kw,
            county_code=batch_meter.county_code,
            streams=False,
            emergencies=warnings_for(batch_meter.county_code),
            emergency_lines=tuple(listed.get(batch_meter.id, ())),
            serves=tuple(serves.get(batch_meter.id, ())),
            **_traits(batch_meter),
        )
    for point in points:
        meter = meters.get(point.mn)
        by_pollutant = limits.get(point.outlet_id or -1, {})
        station = stations.get(point.mn)
        contexts[point.mn] = PointContext(
            mn=point.mn,
            enterprise_id=point.enterprise_id,
            industry=point.industry_code,
            outlet_kind=STATION_OUTLET_KIND[station[0].kind] if station else point.kind,
            station=station[0] if station else None,
            reheated=bool(point.reheated),
            limits={
                code: tuple(
                    Limit(
                        limit.value,
                        limit.unit,
                        limit.basis,
                        limit.reference_o2,
                        limit.period.value,
                        limit.lower,
                    )
                    for limit in in_force
                )
                for code, in_force in by_pollutant.items()
            },
            meter_id=None if meter is None else meter.id,
            meter_kind=None if meter is None else meter.kind,
            rated_kw=None if meter is None else meter.rated_kw,
            county_code=station[1] if station else point.county_code,
            maintenance=tuple(maintenance.get(point.mn, ())),
            startups=tuple(startups.get(point.mn, ())),
            calibrations=calibrations.get(point.mn, ()),
            emergencies=warnings_for(point.county_code),
            emergency_lines=() if meter is None else tuple(listed.get(meter.id, ())),
            serves=() if meter is None else tuple(serves.get(meter.id, ())),
            **_traits(point),
        )
    return contexts


STATION_OUTLET_KIND = {"air": "ambient_air", "water": "surface_water"}
"""The "outlet kind" of a quality station's device: rules.toml overrides
parameters for it as for an outlet kind."""


def station_traits(engine: Engine) -> dict[str, tuple[StationTraits, str]]:
    """The quality stations' and sections' devices with their traits and county, by MN."""
    with engine.connect() as connection:
        sites = load_sites(connection)
        sections = {
            row.code: row
            for row in connection.execute(
                select(WaterSection.code, WaterSection.target_class, WaterSection.lake)
            )
        }
        positions = {
            code: (lon, lat)
            for table in (AirStation, WaterSection)
            for code, lon, lat in connection.execute(
                select(table.code, table.longitude, table.latitude)
            )
        }
    out = {}
    for mn, site in sites.items():
        section = sections.get(site.code) if site.kind == "water" else None
        lon, lat = positions.get(site.code, (None, None))
        out[mn] = (
            StationTraits(
                kind=site.kind,
                code=site.code,
                longitude=lon,
                latitude=lat,
                target_class=None if section is None else section.target_class,
                lake=bool(section.lake) if section is not None else False,
                readings={
                    code: (wanted.name, scale) for code, (wanted, scale) in site.conversions.items()
                },
            ),
            site.county_code,
        )
    return out


# What the electricity rules read of a device's enterprise.
ENTERPRISE_TRAITS = (
    Enterprise.performance_grade,
    Enterprise.emergency_exempt,
    Enterprise.work_shifts,
)


def _traits(row: Any) -> dict[str, Any]:
    try:
        shifts = parse_shifts(row.work_shifts or "")
    except ValueError:
        shifts = ()  # checked when registered; an older row's text says nothing
    return {
        "performance_grade": row.performance_grade or "",
        "emergency_exempt": bool(row.emergency_exempt),
        "work_shifts": shifts,
    }


def _values(row: Any) -> Values:
    return Values(rtd=row.rtd, avg=row.avg, min=row.min, max=row.max, cou=row.cou, flag=row.flag)


@dataclass(frozen=True, slots=True)
class UploadPage:
    uploads: list[Upload]
    last_frame_id: int | None
    """The last frame read, uploads or not (a resend stores none); None: no frame."""


def upload_page(
    connection: Connection,
    last_frame_id: int,
    codes: ElectricityCodes,
    *,
    limit_frames: int = 2000,
    since: datetime | None = None,
    until: datetime | None = None,
    through_frame_id: int | None = None,
    mns: Collection[str] | None = None,
) -> UploadPage:
    """The stored uploads of up to ``limit_frames`` frames after ``last_frame_id``,
    in arrival order (optionally only those with DataTime in [since, until),
    and frames up to ``through_frame_id``). A resent frame stored no
    measurements of its own, so each upload comes once. A meter's power factor
    is given to the rules as ``power_kw``."""
    conditions = [
        ArchivedFrame.id > last_frame_id,
        ArchivedFrame.verdict == "accepted",
        ArchivedFrame.data_time.is_not(None),
    ]
    if since is not None:
        conditions.append(ArchivedFrame.data_time >= since)
    if until is not None:
        conditions.append(ArchivedFrame.data_time < until)
    if through_frame_id is not None:
        conditions.append(ArchivedFrame.id <= through_frame_id)
    if mns is not None:
        # Cluster mode: only the devices of the worker's partition.
        conditions.append(ArchivedFrame.mn.in_(sorted(mns)))
    frames = connection.execute(
        select(
            ArchivedFrame.id,
            ArchivedFrame.mn,
            ArchivedFrame.cn,
            ArchivedFrame.data_time,
            ArchivedFrame.received_at,
        )
        .where(*conditions)
        .order_by(ArchivedFrame.id)
        .limit(limit_frames)
    ).all()
    if not frames:
        return UploadPage([], None)
    keys = {(frame.mn, frame.cn, frame.data_time) for frame in frames}
    by_frame: dict[int, list[Any]] = {}
    # Through the measurement key (MN, CN, DataTime, pollutant), in chunks.
    ordered = sorted(keys, key=lambda key: (key[0] or "", key[1] or "", key[2]))
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        for row in connection.execute(
            select(Measurement).where(
                tuple_(Measurement.mn, Measurement.cn, Measurement.data_time).in_(chunk)
            )
        ):
            by_frame.setdefault(row.frame_id, []).append(row)
    info = _device_info(connection, [f.id for f in frames if f.cn == DEVICE_INFO_COMMAND])
    uploads = []
    for frame in frames:
        rows = by_frame.get(frame.id)
        received_at = as_data_time(as_utc(frame.received_at))
        if rows:
            rows.sort(key=lambda row: row.pollutant)
            uploads.append(_upload(rows, codes, received_at))
        elif frame.id in info:
            uploads.append(replace(info[frame.id], received_at=received_at))
    return UploadPage(uploads, frames[-1].id)


def _device_info(connection: Connection, frame_ids: list[int]) -> dict[int, Upload]:
    """The field-device information (3020) of these frames, read from their raw
    bytes (the archive keeps no rows for it), by frame id."""
    if not frame_ids:
        return {}
    uploads = {}
    for frame in connection.execute(
        select(ArchivedFrame.id, ArchivedFrame.raw, ArchivedFrame.data_time).where(
            ArchivedFrame.id.in_(frame_ids)
        )
    ):
        try:
            message = interpret(decode_frame(frame.raw, INFO_OPTIONS).packet)
        except (ProtocolError, ValueError):
            continue  # accepted when stored, so only a codec change gets here
        if isinstance(message, DeviceInfo) and message.envelope.mn:
            uploads[frame.id] = Upload(
                message.envelope.mn,
                DEVICE_INFO_COMMAND,
                message.data_time or frame.data_time,
                {},
                frame.id,
                info={code: message.text(code) or "" for code in message.info},
                pol_id=message.pol_id,
            )
    return uploads


def devices_with_info(connection: Connection, since: datetime, until: datetime) -> set[str]:
    """The devices that sent device information (3020) with DataTime in
    [since, until): through the archive's partial index of such frames (its
    predicate spelt as the index's, so the planner takes it)."""
    rows = connection.execute(
        select(ArchivedFrame.mn)
        .where(
            text(f"archived_frame.cn = '{DEVICE_INFO_COMMAND}'"),
            ArchivedFrame.data_time >= since,
            ArchivedFrame.data_time < until,
            ArchivedFrame.verdict == "accepted",
        )
        .distinct()
    )
    return {mn for (mn,) in rows if mn is not None}


def pages_after(
    connection: Connection,
    last_frame_id: int,
    codes: ElectricityCodes,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    through_frame_id: int | None = None,
    mns: Collection[str] | None = None,
) -> Iterator[list[Upload]]:
    """The uploads of every frame after ``last_frame_id``, a page at a time (as
    the streaming processor sees them; filters as ``upload_page``)."""
    while True:
        page = upload_page(connection, last_frame_id, codes, since=since, until=until,
                           through_frame_id=through_frame_id, mns=mns)  # fmt: skip
        if page.last_frame_id is None:
            return
        yield page.uploads
        last_frame_id = page.last_frame_id


def _upload(rows: list[Any], codes: ElectricityCodes, received_at: datetime) -> Upload:
    first = rows[0]
    values = {row.pollutant: _values(row) for row in rows}
    if codes.power_kw in values:
        values[POWER] = values[codes.power_kw]
    if codes.energy_kwh in values:
        values[ENERGY] = values[codes.energy_kwh]
    return Upload(
        first.mn, first.cn, first.data_time, values, first.frame_id, received_at=received_at
    )


@dataclass(frozen=True, slots=True)
class BatchPage:
    uploads: list[Upload]
    last_batch_id: int | None
    """The last batch read; None: no new batch."""


def batch_page(
    connection: Connection,
    last_batch_id: int,
    *,
    limit_batches: int = 20,
    since: datetime | None = None,
    until: datetime | None = None,
) -> BatchPage:
    """The readings of the electricity batches after ``last_batch_id`` (optionally
    only those timed in [since, until)), batch by batch and in time order within
    a batch, as uploads of their meter (its MN, or ``meter:<id>`` without one)."""
    batches = (
        connection.execute(
            select(ElectricityBatch.id)
            .where(ElectricityBatch.id > last_batch_id)
            .order_by(ElectricityBatch.id)
            .limit(limit_batches)
        )
        .scalars()
        .all()
    )
    if not batches:
        return BatchPage([], None)
    conditions: list[ColumnElement[bool]] = [
        ElectricityReading.batch_id.in_(batches),
        ElectricityReading.power_kw.is_not(None),
    ]
    if since is not None:
        conditions.append(ElectricityReading.time >= since)
    if until is not None:
        conditions.append(ElectricityReading.time < until)
    readings = connection.execute(
        select(ElectricityReading.meter_id, ElectricityReading.time, ElectricityReading.power_kw,
               ElectricityReading.energy_kwh, Meter.mn)
        .join(Meter, ElectricityReading.meter_id == Meter.id)
        .where(*conditions)
        .order_by(ElectricityReading.batch_id, ElectricityReading.time)
    ).all()  # fmt: skip
    uploads = [
        Upload(
            reading.mn or batch_meter_key(reading.meter_id),
            BATCH_READING,
            reading.time,
            {POWER: Values(rtd=reading.power_kw)}
            | ({} if reading.energy_kwh is None else {ENERGY: Values(rtd=reading.energy_kwh)}),
        )
        for reading in readings
    ]
    return BatchPage(uploads, batches[-1])


def device_uploads(
    connection: Connection,
    mn: str,
    cns: tuple[str, ...],
    since: datetime,
    until: datetime,
    *,
    codes: tuple[str, ...] | None = None,
) -> list[Upload]:
    """A device's stored uploads of commands ``cns`` with DataTime in [since,
    until), oldest first (through the measurement key); only the factors
    ``codes`` when given."""
    # DataTime as the driver gives it (SQLite: text), converted once per
    # upload rather than once per factor row: an upload is several rows.
    to_time = Measurement.data_time.type._cached_result_processor(connection.dialect, None)
    query = select(
        Measurement.cn,
        type_coerce(Measurement.data_time, String) if to_time else Measurement.data_time,
        Measurement.pollutant,
        Measurement.rtd,
        Measurement.avg,
        Measurement.min,
        Measurement.max,
        Measurement.cou,
        Measurement.flag,
    ).where(
        Measurement.mn == mn,
        Measurement.cn.in_(cns),
        Measurement.data_time >= since,
        Measurement.data_time < until,
    )
    if codes is not None:
        query = query.where(Measurement.pollutant.in_(codes))
    rows = connection.execute(
        query.order_by(Measurement.data_time, Measurement.cn, Measurement.pollutant)
    )
    # In key order an upload's rows are adjacent: grouped in one pass, in
    # column form (a year of a device is a few hundred thousand rows).
    uploads: list[Upload] = []
    key: tuple[str, Any] | None = None
    values: dict[str, Values] = {}
    for cn, stored_time, pollutant, rtd, avg, low, high, cou, flag in rows:
        if key is None or stored_time != key[1] or cn != key[0]:
            key, values = (cn, stored_time), {}
            data_time = cast(datetime, to_time(stored_time) if to_time else stored_time)
            uploads.append(Upload(mn, cn, data_time, values))
        values[pollutant] = Values(rtd, avg, low, high, cou, flag)
    return uploads
