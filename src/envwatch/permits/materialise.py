"""The hourly emissions table kept current as data arrive (``hourly_emission``).

``Materialiser.run_once`` follows the archive like the rules processor
(``processing/worker.py``): a cursor over the stored frames by id
(``processing_cursor`` ``permits:emissions``). For each device the new frames
touch, it recomputes only what they can change (reading the device's uploads
once for all its pollutants; computing on a read connection, writing the
device's rows in a short transaction of its own; the cursor last):

* a pollutant without HJ 75 substitution: the hours from the earliest touched
  one (or from the hour after the device's last accounted one, when data
  arrive after it: the hours between become missing) to the device's newest
  data;
* a substituted pollutant (SO2, NOx, particulate): the calendar quarters from
  that hour's on, each computed as ``processing/hours.py`` ``stored_hours``
  computes it, since a new hour moves the quarter's capture rate α and the
  look-backs of later gaps.

Every device's hours run from its first to its newest data: hours after the
newest are not yet accounted (the offline rule speaks of silence). So the
table equals a recomputation from scratch (``rebuild``) whatever order,
resends and late data the uploads came in (a property test holds it). A
declared out-of-control window changes hours without an upload: ``rebuild``
the device then (``envwatch permits materialise --rebuild``).

Direct discharge (按直排核算, ``accounting.direct_hours``) is added for every
automatic item of a permit's newest version no device monitors, up to the
current hour.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from multiprocessing import get_context
from typing import Any

from sqlalchemy import Connection, Engine, Table, delete, func, insert, select

from envwatch.hj212.codes import now_cst
from envwatch.permits.accounting import (
    EmissionHour,
    Method,
    accounted_hours,
    direct_device,
    direct_hours,
    method_of,
)
from envwatch.permits.manual_store import Changed, refresh_manual
from envwatch.permits.parameters import PermitParameters, load_parameters
from envwatch.permits.report import store_total_findings
from envwatch.permits.rollup import HourFacts, forget_months, refresh_months
from envwatch.permits.store import MonitoringMethod, newest_versions
from envwatch.processing.hours import _read as read_uploads  # the one reader of a device's hours
from envwatch.processing.hours import history_span
from envwatch.registry.maintenance import declared_periods
from envwatch.rules.engine import default_rule_set
from envwatch.rules.hours import HOURLY, MINUTE_DATA, REALTIME, Hour, hours_of, with_substitutes
from envwatch.rules.model import O2_CODE, Period, Upload
from envwatch.rules.parameters import RuleSet
from envwatch.rules.units import FLOW_CODE_BY_MEDIUM, accounting_of
from envwatch.rules.validity import InvalidCause, Validity, next_quarter, quarter_of
from envwatch.store.cursors import read_cursor, save_cursor
from envwatch.store.db import make_engine
from envwatch.store.schema import (
    ArchivedFrame,
    HourlyEmission,
    Measurement,
    MonitoringPoint,
    Permit,
    PermitMonitoring,
    PointFactor,
)

log = logging.getLogger(__name__)

CURSOR = "permits:emissions"
HOUR = timedelta(hours=1)
DATA_CNS = (REALTIME, MINUTE_DATA, HOURLY)


def _hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


@dataclass(frozen=True, slots=True)
class Touched:
    """The data times a pass's frames of one device cover."""

    first: datetime
    last: datetime


COLUMNS = (
    "mn", "pollutant", "hour", "validity", "cause", "concentration", "flow_m3", "measured_kg",
    "emission_kg", "method", "rule", "enterprise_id", "outlet_id",
)  # fmt: skip
"""The ``hourly_emission`` columns of a row of ``_row``, in its order: the
fields of ``EmissionHour`` and the device's owner."""
_OWNER = {"enterprise_id", "outlet_id"}
assert set(COLUMNS) == {field.name for field in fields(EmissionHour)} | _OWNER

Row = tuple[Any, ...]


def _row(hour: EmissionHour, enterprise_id: int | None, outlet_id: int | None) -> Row:
    # Not dataclasses.asdict (it deep-copies every value) nor a dict: a plain
    # tuple in COLUMNS order, what the driver's executemany takes as it is.
    return (hour.mn, hour.pollutant, hour.hour, hour.validity, hour.cause, hour.concentration,
            hour.flow_m3, hour.measured_kg, hour.emission_kg, str(hour.method), hour.rule,
            enterprise_id, outlet_id)  # fmt: skip


_TEXT: dict[Any, str] = {member: str(member) for enum in (Method, Validity, InvalidCause)
                         for member in enum}  # fmt: skip


def _hour_row(
    mn: str, pollutant: str, hour: Hour, enterprise_id: int | None, outlet_id: int | None
) -> Row:
    """``_row(accounted(mn, pollutant, hour), ...)`` without the EmissionHour
    between (a year of a city is millions of hours)."""
    method, emission, rule = method_of(hour)
    return (mn, pollutant, hour.start, _text(hour.validity),
            None if hour.cause is None else _text(hour.cause), hour.mean,
            None if hour.volume_m3 is None else float(hour.volume_m3),
            None if hour.emission_kg is None else float(hour.emission_kg), emission,
            _TEXT[method], rule, enterprise_id, outlet_id)  # fmt: skip


def _facts(rows: Sequence[Row]) -> list[HourFacts]:
    """What the monthly totals keep of rows of ``_row``."""
    return [(row[2], row[9], row[8], row[11], row[12]) for row in rows]


def _text(value: Any) -> str:
    return _TEXT.get(value) or str(value)


_DRIVER_READY: frozenset[type] = frozenset({float, type(None)})
"""Value types every driver takes as they are for a Float column."""


def insert_rows(
    connection: Connection, rows: Sequence[Row], memo: dict[Any, Any] | None = None
) -> None:
    """Insert rows of ``_row`` into ``hourly_emission``: straight to the
    driver's executemany, not through SQLAlchemy's parameter dict of each row;
    the values pass the columns' bind processors as SQLAlchemy's own insert
    passes them (SQLite's text of a datetime), each distinct value once
    (``memo``: kept across calls, as a device's pollutants share their hours)."""
    if not rows:
        return
    dialect = connection.dialect
    marker = {"qmark": "?", "format": "%s", "pyformat": "%s"}.get(dialect.paramstyle)
    table = HourlyEmission.__table__
    assert isinstance(table, Table)
    if marker is None:  # another driver: the general way
        connection.execute(insert(table), [dict(zip(COLUMNS, row, strict=True)) for row in rows])
        return
    columns = [table.c[name] for name in COLUMNS]
    processors = [
        (index, processor) for index, column in enumerate(columns)
        if (processor := column.type._cached_bind_processor(dialect)) is not None
    ]  # fmt: skip
    if processors:
        # Column by column (zip runs in C): each distinct value converted once.
        memo = {} if memo is None else memo
        values = list(zip(*rows, strict=True))
        for index, processor in processors:
            if set(map(type, values[index])) <= _DRIVER_READY:
                # A column of floats (and NULLs) needs no conversion: the
                # Float processor is float() of each, and the type check runs in C.
                continue
            seen: dict[Any, Any] = memo.setdefault(index, {})
            values[index] = tuple(
                seen[value] if value in seen else seen.setdefault(value, processor(value))
                for value in values[index]
            )
        rows = list(zip(*values, strict=True))
    statement = (
        f"INSERT INTO {table.name} ({', '.join(column.name for column in columns)}) "
        f"VALUES ({', '.join([marker] * len(columns))})"
    )
    for first in range(0, len(rows), 20_000):
        connection.exec_driver_sql(statement, rows[first : first + 20_000])


def _owner(connection: Connection, mn: str) -> tuple[int | None, int | None]:
    row = connection.execute(
        select(MonitoringPoint.enterprise_id, MonitoringPoint.outlet_id).where(
            MonitoringPoint.mn == mn
        )
    ).first()
    return (None, None) if row is None else (row.enterprise_id, row.outlet_id)


def _data_span(connection: Connection, mn: str) -> tuple[datetime, datetime] | None:
    first, last = connection.execute(
        select(func.min(Measurement.data_time), func.max(Measurement.data_time)).where(
            Measurement.mn == mn, Measurement.cn.in_(DATA_CNS)
        )
    ).one()
    return None if first is None else (first, last)


def _pollutants(
    connection: Connection, mn: str, since: datetime, *, from_scratch: bool = False
) -> tuple[list[str], set[str]]:
    """The device's accounted pollutants (those already in the table, unless
    ``from_scratch``, and those of its data since ``since``), and which of them
    the table already holds (none from scratch)."""
    known: set[str] = set() if from_scratch else set(connection.execute(
        select(HourlyEmission.pollutant).where(HourlyEmission.mn == mn).distinct()
    ).scalars())  # fmt: skip
    seen = known | set(connection.execute(
        select(Measurement.pollutant).where(
            Measurement.mn == mn, Measurement.cn.in_(DATA_CNS), Measurement.data_time >= since
        ).distinct()
    ).scalars())  # fmt: skip
    return sorted(code for code in seen if accounting_of(code) is not None), known


@dataclass
class DeviceData:
    """A device's stored uploads, read once for all its pollutants and
    quarters (``processing/hours.py``'s reader: hourly and minute data, and
    real-time data for the hours with neither), oldest first."""

    mn: str
    codes: tuple[str, ...]
    first_data: datetime
    start: datetime
    uploads: list[Upload]
    times: list[datetime]

    @classmethod
    def read(
        cls, connection: Connection, mn: str, *, codes: tuple[str, ...], first_data: datetime,
        start: datetime, end: datetime,
    ) -> DeviceData:  # fmt: skip
        uploads = read_uploads(connection, mn, codes, start, end)
        uploads.sort(key=lambda upload: upload.data_time)
        return cls(mn, codes, first_data, start, uploads, [u.data_time for u in uploads])

    def reach_back(self, connection: Connection, start: datetime) -> None:
        """Also hold the uploads of [start, self.start)."""
        if start >= self.start:
            return
        older = read_uploads(connection, self.mn, self.codes, start, self.start)
        older.sort(key=lambda upload: upload.data_time)
        self.uploads = older + self.uploads
        self.times = [u.data_time for u in older] + self.times
        self.start = start

    def between(self, start: datetime, end: datetime) -> list[Upload]:
        return self.uploads[bisect_left(self.times, start) : bisect_left(self.times, end)]


class PollutantHours:
    """One pollutant's HJ 75 hours of a device (``rules/hours.py`` ``hours_of``),
    computed once over [start, end) and further back on demand: an hour does
    not depend on the span it is computed in, so each quarter's window and
    look-back are slices of one list."""

    def __init__(
        self, data: DeviceData, pollutant: str, rules: RuleSet, *, start: datetime,
        end: datetime, out_of_control: Sequence[Period],
    ) -> None:  # fmt: skip
        self.data, self.pollutant, self.rules = data, pollutant, rules
        self.out_of_control, self.end = out_of_control, end
        self.start = start
        self.hours = self._compute(start, end)
        self.starts = [hour.start for hour in self.hours]

    def _compute(self, start: datetime, end: datetime) -> list[Hour]:
        return hours_of(self.data.between(start, end), self.pollutant, self.rules,
                        since=max(start, self.data.first_data), until=end,
                        out_of_control=self.out_of_control)  # fmt: skip

    def reach_back(self, connection: Connection, start: datetime) -> None:
        if start >= self.start:
            return
        self.data.reach_back(connection, start)
        older = self._compute(start, self.start)
        self.hours = older + self.hours
        self.starts = [hour.start for hour in older] + self.starts
        self.start = start

    def between(self, start: datetime, end: datetime) -> list[Hour]:
        return self.hours[bisect_left(self.starts, start) : bisect_left(self.starts, end)]


def quarter_hours(
    connection: Connection, hours: PollutantHours, *, since: datetime, until: datetime
) -> list[Hour]:
    """The hours of [since, until) (inside one calendar quarter) exactly as
    ``processing/hours.py`` ``stored_hours`` gives them with ``now`` at
    ``until``: the capture rate the quarter's, the look-back ``history_days``
    before it."""
    rules = hours.rules
    window = hours.between(since, until)
    if hours.pollutant not in rules.substitution.pollutants or all(
        h.validity is not Validity.INVALID for h in window
    ):
        return window
    start, end = history_span(since, until, rules, until)
    hours.reach_back(connection, start)
    return with_substitutes(hours.between(start, end), hours.pollutant, rules,
                            out_of_control=hours.out_of_control, keep=(since, until))  # fmt: skip


def _hj75_hours(
    connection: Connection, data: DeviceData, pollutant: str, rules: RuleSet, *,
    since: datetime, end: datetime, out_of_control: Sequence[Period],
) -> list[Hour]:  # fmt: skip
    """The HJ 75 hours of [since, end) of one device and pollutant, calendar
    quarter by calendar quarter."""
    computed = PollutantHours(data, pollutant, rules, start=since, end=end,
                              out_of_control=out_of_control)  # fmt: skip
    hours: list[Hour] = []
    start = since
    while start < end:
        until = min(next_quarter(quarter_of(start)), end)
        hours += quarter_hours(connection, computed, since=start, until=until)
        start = until
    return hours


def device_hours(
    connection: Connection, data: DeviceData, pollutant: str, rules: RuleSet, *,
    since: datetime, end: datetime, out_of_control: Sequence[Period],
) -> list[EmissionHour]:  # fmt: skip
    """The accounted hours of [since, end) of one device and pollutant, as the
    table holds them: calendar quarter by calendar quarter."""
    return accounted_hours(
        data.mn,
        pollutant,
        _hj75_hours(
            connection, data, pollutant, rules, since=since, end=end, out_of_control=out_of_control
        ),
    )


@dataclass(frozen=True, slots=True)
class DeviceUpdate:
    """A device's recomputed rows: per pollutant, the rows from ``since`` on."""

    mn: str
    rows: dict[str, tuple[datetime, list[Row]]]

    def write(self, connection: Connection, memo: dict[Any, Any] | None = None) -> int:
        """Replace the device's rows from each pollutant's ``since``; how many
        (``memo``: ``insert_rows``'s, shared by the devices of a rebuild)."""
        written = 0
        memo = {} if memo is None else memo
        for pollutant, (since, rows) in self.rows.items():
            connection.execute(delete(HourlyEmission).where(
                HourlyEmission.mn == self.mn, HourlyEmission.pollutant == pollutant,
                HourlyEmission.hour >= since,
            ))  # fmt: skip
            insert_rows(connection, rows, memo)
            refresh_months(connection, self.mn, pollutant, since, _facts(rows))
            written += len(rows)
        return written


def device_update(
    connection: Connection, mn: str, touched: Touched | None, rules: RuleSet
) -> DeviceUpdate:
    """What to write for the device after data of ``touched`` arrived (None:
    all of them, from scratch). Reads only: a pass computes outside the
    transaction that writes, so the archive writer is never held up long."""
    enterprise_id, outlet_id = _owner(connection, mn)
    if outlet_id is None:
        # Only a device at an outlet emits: air stations, water sections and
        # unknown MNs have nothing to account (and a station's years of history
        # would otherwise be read hour by hour for nothing).
        return DeviceUpdate(mn, {})
    span = _data_span(connection, mn)
    if span is None:
        return DeviceUpdate(mn, {})
    end = _hour(span[1]) + HOUR
    old_last = connection.execute(
        select(func.max(HourlyEmission.hour)).where(HourlyEmission.mn == mn)
    ).scalar()
    if touched is None or old_last is None:
        start = _hour(span[0])
    else:
        start = _hour(touched.first)
        if _hour(touched.last) > old_last:
            start = min(start, old_last + HOUR)
    # From scratch, only what the data hold: the device's rows are all replaced.
    pollutants, known = _pollutants(connection, mn, start if touched is not None else span[0],
                                    from_scratch=touched is None)  # fmt: skip
    first = _hour(span[0])
    # A pollutant new to the table runs from the device's first data, like the rest.
    sinces = {
        code: first if touched is None or code not in known
        else quarter_of(start) if code in rules.substitution.pollutants
        else start
        for code in pollutants
    }  # fmt: skip
    if not sinces:
        return DeviceUpdate(mn, {})
    codes = (*pollutants, O2_CODE, *FLOW_CODE_BY_MEDIUM.values())
    data = DeviceData.read(connection, mn, codes=codes, first_data=span[0],
                           start=min(sinces.values()), end=end)  # fmt: skip
    out_of_control = declared_periods(connection, "out_of_control", mn=mn).get(mn, [])
    rows = {}
    for pollutant, since in sinces.items():
        hours = _hj75_hours(connection, data, pollutant, rules, since=since, end=end,
                            out_of_control=out_of_control)  # fmt: skip
        rows[pollutant] = (since, [_hour_row(mn, pollutant, hour, enterprise_id, outlet_id)
                                   for hour in hours])  # fmt: skip
    return DeviceUpdate(mn, rows)


def _monitored(connection: Connection, outlet_id: int, pollutant: str) -> bool:
    """Whether an active device at the outlet monitors the pollutant."""
    devices = select(MonitoringPoint.mn).where(
        MonitoringPoint.outlet_id == outlet_id, MonitoringPoint.active.is_(True)
    )
    declared = connection.execute(
        select(PointFactor.mn).where(PointFactor.mn.in_(devices),
                                     PointFactor.pollutant == pollutant).limit(1)
    ).first()  # fmt: skip
    if declared is not None:
        return True
    seen = connection.execute(
        select(HourlyEmission.mn).where(HourlyEmission.mn.in_(devices),
                                        HourlyEmission.pollutant == pollutant).limit(1)
    ).first()  # fmt: skip
    return seen is not None


def materialise_direct(
    connection: Connection, now: datetime, parameters: PermitParameters,
    memo: dict[Any, Any] | None = None,
) -> int:  # fmt: skip
    """Add the direct-discharge hours of the permits' unmonitored automatic
    items up to the hour before ``now`` (China Standard Time); how many."""
    items = connection.execute(
        select(PermitMonitoring, Permit.enterprise_id, Permit.valid_from, Permit.valid_to)
        .join(Permit, Permit.id == PermitMonitoring.permit_id)
        .where(newest_versions(), PermitMonitoring.method == str(MonitoringMethod.AUTOMATIC))
    ).all()
    written = 0
    for item in items:
        if _monitored(connection, item.outlet_id, item.pollutant):
            continue
        device = direct_device(item.outlet_id)
        last = connection.execute(
            select(func.max(HourlyEmission.hour)).where(
                HourlyEmission.mn == device, HourlyEmission.pollutant == item.pollutant
            )
        ).scalar()
        since = item.valid_from if last is None else max(item.valid_from, last + HOUR)
        until = min(item.valid_to, _hour(now))
        hours = direct_hours(
            item.outlet_id, item.pollutant, untreated_concentration=item.untreated_concentration,
            design_flow_m3h=item.design_flow_m3h, since=since, until=until,
            reason=parameters.direct.reason,
        )  # fmt: skip
        rows = [_row(hour, item.enterprise_id, item.outlet_id) for hour in hours]
        insert_rows(connection, rows, memo)
        if rows:
            refresh_months(connection, device, item.pollutant, rows[0][2], _facts(rows))
        written += len(rows)
    return written


def touched_devices(
    connection: Connection, after: int, limit_frames: int
) -> tuple[dict[str, Touched], int | None]:
    """The devices the next ``limit_frames`` stored frames after ``after``
    touch, with the data times they cover; the last frame id read."""
    frames = connection.execute(
        select(ArchivedFrame.id, ArchivedFrame.mn, ArchivedFrame.data_time)
        .where(ArchivedFrame.id > after, ArchivedFrame.verdict == "accepted",
               ArchivedFrame.cn.in_(DATA_CNS), ArchivedFrame.data_time.is_not(None))
        .order_by(ArchivedFrame.id).limit(limit_frames)
    ).all()  # fmt: skip
    touched: dict[str, Touched] = {}
    for frame in frames:
        if frame.mn is None:
            continue
        known = touched.get(frame.mn)
        touched[frame.mn] = (
            Touched(frame.data_time, frame.data_time)
            if known is None
            else Touched(min(known.first, frame.data_time), max(known.last, frame.data_time))
        )
    return touched, (frames[-1].id if frames else None)


@dataclass
class Materialiser:
    """Keeps ``hourly_emission`` current: one pass reads the frames stored
    since the last and recomputes what they touched, in one transaction."""

    engine: Engine
    rules: RuleSet
    parameters: PermitParameters
    batch_frames: int = 20_000

    @classmethod
    def create(cls, engine: Engine) -> Materialiser:
        return cls(engine, default_rule_set(), load_parameters())

    def run_once(self, now: datetime | None = None) -> int:
        """One pass; how many frames it read (0: caught up). Direct discharge
        is brought up to ``now`` (China Standard Time; the wall clock if None)."""
        now = now or now_cst().replace(tzinfo=None)
        with self.engine.connect() as connection:
            touched, last = touched_devices(
                connection, read_cursor(connection, CURSOR), self.batch_frames
            )
        enterprises: set[int] = set()
        changed: dict[int, list[Changed]] = {}
        for mn in sorted(touched):
            # Computed on a read connection, written in a short transaction of its own;
            # a pass cut short leaves the cursor behind, and the next one repeats it.
            with self.engine.connect() as connection:
                update = device_update(connection, mn, touched[mn], self.rules)
                enterprise_id, outlet_id = _owner(connection, mn)
            with self.engine.begin() as connection:
                if update.write(connection) and enterprise_id is not None:
                    enterprises.add(enterprise_id)
            if outlet_id is not None and update.rows:
                since = min(since for since, _ in update.rows.values())
                changed.setdefault(outlet_id, []).append(Changed(since, _hour(touched[mn].first)))
        with self.engine.begin() as connection:
            materialise_direct(connection, now, self.parameters)
            # Manual results (手工监测) fill what the automatic data leave: after them.
            refresh_manual(connection, self.parameters, now, changed=changed)
            day = now.replace(hour=0, minute=0, second=0, microsecond=0)
            for enterprise_id in sorted(enterprises):
                store_total_findings(connection, enterprise_id, day, self.parameters)
            if last is not None:
                save_cursor(connection, CURSOR, last)
        return 0 if last is None else len(touched) or 1

    def catch_up(self, now: datetime | None = None) -> None:
        """Passes until every stored frame is accounted."""
        while self.run_once(now):
            pass

    def rebuild(
        self, mns: Iterable[str] | None = None, now: datetime | None = None, *, workers: int = 1
    ) -> None:
        """Recompute the devices ``mns`` (all with data if None) from scratch.

        With one worker, in one transaction. With more (and a database other
        processes can open: a SQLite file or a server), the devices are
        computed in that many processes, each device replaced in a short
        transaction of its own, and the rest (direct discharge, manual
        results, the cursor) in one transaction after them: the table is the
        same, the wall time about divided by the cores. A rebuild cut short
        leaves each device either as it was or rebuilt; run it again."""
        now = now or now_cst().replace(tzinfo=None)
        memo: dict[Any, Any] = {}
        if workers > 1 and _shared_database(self.engine):
            self._rebuild_in_processes(mns, now, workers, memo)
            return
        with self.engine.begin() as connection:
            if mns is None:
                mns = list(connection.execute(select(Measurement.mn).distinct()).scalars())
                connection.execute(delete(HourlyEmission))
                forget_months(connection)
                save_cursor(connection, CURSOR, int(connection.execute(
                    select(func.max(ArchivedFrame.id))).scalar() or 0))  # fmt: skip
            for mn in mns:
                connection.execute(delete(HourlyEmission).where(HourlyEmission.mn == mn))
                forget_months(connection, mn)
                device_update(connection, mn, None, self.rules).write(connection, memo)
            materialise_direct(connection, now, self.parameters, memo)
            refresh_manual(connection, self.parameters, now)

    def _rebuild_in_processes(
        self, mns: Iterable[str] | None, now: datetime, workers: int, memo: dict[Any, Any]
    ) -> None:
        with self.engine.connect() as connection:
            newest = int(connection.execute(select(func.max(ArchivedFrame.id))).scalar() or 0)
            devices = list(connection.execute(select(Measurement.mn).distinct()).scalars())
        chosen = devices if mns is None else list(mns)
        url = self.engine.url.render_as_string(hide_password=False)
        # spawn, not fork: a forked child would share the parent's connections.
        with ProcessPoolExecutor(
            workers, mp_context=get_context("spawn"), initializer=_start_rebuild_worker,
            initargs=(url, self.rules),
        ) as pool:  # fmt: skip
            for _ in pool.map(_rebuild_device, chosen):
                pass
        with self.engine.begin() as connection:
            if mns is None:
                # What no device's data hold any more (direct discharge and
                # manual results are accounted again below).
                stale = set(connection.execute(
                    select(HourlyEmission.mn).distinct()).scalars()) - set(devices)  # fmt: skip
                for mn in sorted(stale):
                    connection.execute(delete(HourlyEmission).where(HourlyEmission.mn == mn))
                    forget_months(connection, mn)
                save_cursor(connection, CURSOR, newest)
            materialise_direct(connection, now, self.parameters, memo)
            refresh_manual(connection, self.parameters, now)


def rebuild_workers() -> int:
    """The rebuild's processes by default: one per core (at most 8; SQLite
    has one writer, and the devices' writes are a third of the work)."""
    return max(1, min(os.cpu_count() or 1, 8))


def _shared_database(engine: Engine) -> bool:
    """Whether other processes can open the engine's database (not an
    in-memory SQLite one)."""
    url = engine.url
    return url.get_backend_name() != "sqlite" or url.database not in (None, "", ":memory:")


_REBUILD_WORKER: dict[str, Any] = {}
"""A rebuild worker process's engine and rules (``_start_rebuild_worker``)."""


def _start_rebuild_worker(url: str, rules: RuleSet) -> None:
    _REBUILD_WORKER.update(engine=make_engine(url), rules=rules, memo={})


def _rebuild_device(mn: str) -> int:
    """In a worker: the device from scratch, computed on a read connection
    and written in a short transaction (SQLite's one writer is held briefly)."""
    engine: Engine = _REBUILD_WORKER["engine"]
    with engine.connect() as connection:
        update = device_update(connection, mn, None, _REBUILD_WORKER["rules"])
    with engine.begin() as connection:
        connection.execute(delete(HourlyEmission).where(HourlyEmission.mn == mn))
        forget_months(connection, mn)
        return update.write(connection, _REBUILD_WORKER["memo"])


async def follow_emissions(
    materialiser: Materialiser, stop: asyncio.Event, *, interval_s: float = 60.0
) -> None:
    """Run passes until ``stop``: at once while there is a backlog, else every
    ``interval_s`` (a pass recomputes a touched device's current quarter, so
    fewer, larger passes cost less)."""
    while not stop.is_set():
        try:
            read = await asyncio.to_thread(materialiser.run_once)
        except Exception as error:  # the store may be down: try again later
            log.warning("emissions pass failed: %s", error)
            read = 0
        if read:
            continue
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval_s)
