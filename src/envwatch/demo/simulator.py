"""``envwatch simulate``: virtual data loggers for the registry, over real TCP.

Each monitoring point becomes a logger that sends real-time data (2011) every
30 s, minute data (2051) every 10 min and hourly data (2061) every hour of
*simulated* time, in the edition it is registered for (2005 loggers send
short codes and no QN/Flag). The simulated clock (``SimClock``) starts in the
past and runs ``scale`` simulated seconds per real second until it has caught
up with the wall clock, then in real time: never a data time in the future.
Like a real logger it waits for the 9014 and resends up to 3 times.
Electricity meters registered with an MN send a 2011 reading (power, energy
register, current) every 30 s, drawing power by their enterprise's shift.
Scripted faults (``profiles.FaultKind``) make some of them misbehave.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine, func, select

from envwatch.demo.city import industry_by_code
from envwatch.demo.profiles import (
    FLOW_CODES,
    LOGGER_FAULTS,
    O2_CODE,
    Fault,
    FaultKind,
    MeterProfile,
    Reading,
    analyser_slope,
    line_current,
    meter_power,
    o2_corrected,
    sample,
)
from envwatch.demo.quality_profiles import DemoSection, DemoStation, quality_demo
from envwatch.demo.quality_seed import (
    WATER_EVERY_HOURS,
    hourly_upload,
    section_values,
    station_values,
)
from envwatch.electricity.hj212 import default_codes
from envwatch.glossary import factor
from envwatch.hj212 import DecodedFrame, Decoder, Packet, ProtocolVersion, encode_packet
from envwatch.hj212.codes import make_flag, now_cst
from envwatch.hj212.model import DEVICE_INFO_COMMAND
from envwatch.registry.limits import limits_in_force
from envwatch.store.schema import ArchivedFrame, Enterprise, Meter, MonitoringPoint, PointFactor

log = logging.getLogger(__name__)

RTD_INTERVAL = timedelta(seconds=30)
MINUTE_INTERVAL = timedelta(minutes=10)
HOUR = timedelta(hours=1)
SECTION_INTERVAL = timedelta(hours=WATER_EVERY_HOURS)
# The measuring range [mg/m³ or mg/L] simulated analysers report (i13001).
ANALYSER_RANGE = 500.0
ACK_TIMEOUT_S = 5.0
RESENDS = 3
DEFAULT_RATED_KW = 500.0  # a meter registered without its rated power


@dataclass
class SimPoint:
    mn: str
    pw: str
    st: str
    edition: ProtocolVersion
    factors: dict[str, tuple[float, float]]
    limits: dict[str, float]
    reference_o2: float | None
    meter: MeterProfile | None = None
    """Set when the point is an electricity meter's device (it sends 2011 readings only)."""
    station: DemoStation | DemoSection | None = None
    """Set when the point is an air station's or a river section's logger (hourly
    2061 uploads only; a section's every four hours)."""


def load_points(engine: Engine) -> list[SimPoint]:
    """The registry's active points with their industry profiles and permit limits."""
    with engine.connect() as connection:
        points = connection.execute(
            select(
                MonitoringPoint.mn,
                MonitoringPoint.pw,
                MonitoringPoint.st,
                MonitoringPoint.protocol_version,
                MonitoringPoint.outlet_id,
                Enterprise.industry_code,
            )
            .join(Enterprise, MonitoringPoint.enterprise_id == Enterprise.id)
            .where(MonitoringPoint.active.is_(True))
            .order_by(MonitoringPoint.mn)
        ).all()
        factors: dict[str, list[str]] = {}
        for mn, code in connection.execute(select(PointFactor.mn, PointFactor.pollutant)):
            factors.setdefault(mn, []).append(code)
        limits = limits_in_force(connection, now_cst().replace(tzinfo=None))
        meters = {
            mn: (kind, rated_kw)
            for mn, kind, rated_kw in connection.execute(
                select(Meter.mn, Meter.kind, Meter.rated_kw).where(Meter.mn.is_not(None))
            )
        }
    out = []
    for point in points:
        industry = industry_by_code(point.industry_code)
        if industry is None:
            continue
        codes = factors.get(point.mn, [])
        outlet_limits = limits.get(point.outlet_id or -1, {})
        meter = meters.get(point.mn)
        out.append(
            SimPoint(
                mn=point.mn,
                pw=point.pw,
                st=point.st,
                edition=ProtocolVersion(point.protocol_version),
                factors={
                    code: industry.factors[code] for code in codes if code in industry.factors
                },
                limits={code: in_force[0].value for code, in_force in outlet_limits.items()},
                reference_o2=next(
                    (
                        in_force[0].reference_o2
                        for in_force in outlet_limits.values()
                        if in_force[0].reference_o2 is not None
                    ),
                    None,
                ),
                meter=None
                if meter is None
                else MeterProfile(meter[0], meter[1] or DEFAULT_RATED_KW, industry.shift),
            )
        )
    return out + station_points(engine)


def station_points(engine: Engine) -> list[SimPoint]:
    """The demo's air stations and river sections registered with an active logger."""
    demo = quality_demo()
    sites: dict[str, DemoStation | DemoSection] = {s.mn: s for s in demo.stations}
    sites.update({s.mn: s for s in demo.sections})
    with engine.connect() as connection:
        rows = connection.execute(
            select(MonitoringPoint.mn, MonitoringPoint.pw, MonitoringPoint.st)
            .where(MonitoringPoint.active.is_(True), MonitoringPoint.mn.in_(sites))
            .order_by(MonitoringPoint.mn)
        ).all()
    return [
        SimPoint(mn, pw, st, ProtocolVersion.HJ212_2017, {}, {}, None, station=sites[mn])
        for mn, pw, st in rows
    ]


class SimClock:
    """Simulated China Standard Time that is never ahead of the wall clock.

    From ``start`` (in the past, for an accelerated demo) it runs ``scale``
    times faster than real time until it has caught up with the wall clock,
    then with it, in real time: a logger cannot send data of a time still to
    come, and data times ahead of their receipt would be findings of their own.
    ``wall`` (naive CST) and ``monotonic`` (real seconds) are injectable for tests.
    """

    def __init__(
        self,
        start: datetime,
        scale: float,
        *,
        wall: Callable[[], datetime] = now_cst,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.start = start
        self.scale = scale
        self._wall = wall
        self._monotonic = monotonic
        self._t0 = monotonic()

    def _fast(self) -> datetime:
        """Where the accelerated clock alone would be by now."""
        return self.start + timedelta(seconds=(self._monotonic() - self._t0) * self.scale)

    def now(self) -> datetime:
        return min(self._fast(), self._wall())

    def caught_up(self) -> bool:
        """Whether the clock runs with the wall clock now (its catching up is over)."""
        return self._fast() >= self._wall()

    def delay_until(self, moment: datetime) -> float:
        """Real seconds until the clock reads ``moment``: the later of the
        accelerated clock's and the wall clock's reaching it."""
        fast = (moment - self._fast()).total_seconds() / self.scale
        wall = (moment - self._wall()).total_seconds()
        return max(fast, wall, 0.0)

    def catch_up_delay(self) -> float:
        """Real seconds until the clock has caught up with the wall clock
        (infinite when it never will, at ``scale`` 1 or less)."""
        behind = (self._wall() - self._fast()).total_seconds()
        if behind <= 0:
            return 0.0
        return behind / (self.scale - 1) if self.scale > 1 else float("inf")

    async def sleep_until(self, moment: datetime) -> None:
        delay = self.delay_until(moment)
        if delay > 0:
            await asyncio.sleep(delay)

    async def wait_caught_up(self, stop: asyncio.Event) -> bool:
        """Wait until the clock has caught up with the wall clock (False if
        ``stop`` came first)."""
        while not self.caught_up():
            delay = min(self.catch_up_delay(), 60.0)
            try:
                await asyncio.wait_for(stop.wait(), delay + 0.05)
            except TimeoutError:
                continue
            return False
        return True


def catch_up_start(now: datetime, history: timedelta, newest: datetime | None = None) -> datetime:
    """Where simulated loggers start: ``history`` before ``now``, so an
    accelerated clock catches up with the wall clock and shows that much past
    data; or at the newest data time already stored (a restarted demo fills
    its gap and repeats nothing), but never after ``now``."""
    start = now - max(history, timedelta(0))
    if newest is not None and newest > start:
        start = min(newest, now)
    return start


def newest_data_time(engine: Engine, frames: int = 5000) -> datetime | None:
    """The newest data time among the last ``frames`` archived frames (by the
    primary key, so cheap however long the archive is)."""
    recent = (
        select(ArchivedFrame.data_time).order_by(ArchivedFrame.id.desc()).limit(frames).subquery()
    )
    with engine.connect() as connection:
        newest: datetime | None = connection.execute(select(func.max(recent.c.data_time))).scalar()
    return newest


def _number(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".") if value != int(value) else f"{value:.1f}"


def build_frame(
    point: SimPoint,
    cn: str,
    when: datetime,
    readings: dict[str, Reading],
    qn: str,
    *,
    spans: dict[str, tuple[float, float]] | None = None,
) -> bytes:
    """The frame a logger of ``point``'s edition sends for ``readings``;
    ``spans``: the Min and Max of period data (default: the value ±10 %)."""
    legacy = point.edition is ProtocolVersion.HJT212_2005
    o2 = readings.get(O2_CODE)
    groups: list[tuple[tuple[str, str], ...]] = [(("DataTime", when.strftime("%Y%m%d%H%M%S")),)]
    seconds = {"2051": 600, "2061": 3600}.get(cn)
    for code, reading in readings.items():
        known = factor(code)
        sent = known.code_2005 if legacy and known and known.code_2005 else code
        value = _number(reading.value)
        if seconds is None:
            items = [(f"{sent}-Rtd", value)]
            if o2 is not None and code in point.limits and point.reference_o2 is not None:
                corrected = o2_corrected(reading.value, o2.value, point.reference_o2)
                if corrected is not None:
                    items.append((f"{sent}-ZsRtd", _number(round(corrected, 3))))
        else:
            low, high = (spans or {}).get(code, (reading.value * 0.9, reading.value * 1.1))
            items = [
                (f"{sent}-Min", _number(round(low, 3))),
                (f"{sent}-Avg", value),
                (f"{sent}-Max", _number(round(high, 3))),
            ]
            if code in FLOW_CODES:
                litres = code == "w00000"  # water flow in L/s, amount in m³
                amount = reading.value * seconds / (1000 if litres else 1)
                items.insert(0, (f"{sent}-Cou", _number(round(amount, 3))))
        items.append((f"{sent}-Flag", reading.flag))
        groups.append(tuple(items))
    packet = Packet.from_groups(
        cn,
        qn=None if legacy else qn,
        st=point.st,
        pw=point.pw,
        mn=point.mn,
        flag=None if legacy else str(make_flag(point.edition, ack=True)),
        cp=groups,
    )
    return encode_packet(packet)


def build_meter_frame(
    point: SimPoint, when: datetime, power_kw: float, energy_kwh: float, qn: str
) -> bytes:
    """The 2011 upload of a meter's reading (codes of ``hj212_codes.toml``)."""
    codes = default_codes()
    packet = Packet.from_groups(
        "2011",
        qn=qn,
        st=point.st,
        pw=point.pw,
        mn=point.mn,
        flag=str(make_flag(point.edition, ack=True)),
        cp=(
            (("DataTime", when.strftime("%Y%m%d%H%M%S")),),
            ((f"{codes.power_kw}-Rtd", _number(power_kw)), (f"{codes.power_kw}-Flag", "N")),
            ((f"{codes.energy_kwh}-Rtd", _number(round(energy_kwh, 2))),),
            ((f"{codes.current_a}-Rtd", _number(line_current(power_kw))),),
        ),
    )
    return encode_packet(packet)


def build_settings_frame(point: SimPoint, when: datetime, slope: float, qn: str) -> bytes:
    """A 3020 upload of the settings of ``point``'s first limited analyser: range
    (i13001) and slope (i13008), HJ 212-2017 §11.4."""
    pollutant = sorted(point.limits)[0]
    packet = Packet.from_groups(
        DEVICE_INFO_COMMAND,
        qn=qn,
        st=point.st,
        pw=point.pw,
        mn=point.mn,
        flag=str(make_flag(point.edition, ack=True)),
        cp=(
            (("DataTime", when.strftime("%Y%m%d%H%M%S")), ("PolId", pollutant)),
            (("i13001-Info", _number(ANALYSER_RANGE)), ("i13008-Info", f"{slope:.2f}")),
        ),
    )
    return encode_packet(packet)


def aggregate(
    minutes: list[dict[str, Reading]],
) -> tuple[dict[str, Reading], dict[str, tuple[float, float]]]:
    """An hour's readings from its minute data: the mean (Min and Max the
    extremes), flagged with the first mark other than N, if any."""
    readings: dict[str, Reading] = {}
    spans: dict[str, tuple[float, float]] = {}
    for code in minutes[0]:
        values = [record[code].value for record in minutes if code in record]
        flags = [record[code].flag for record in minutes if code in record]
        flag = next((f for f in flags if f != "N"), "N")
        readings[code] = Reading(round(sum(values) / len(values), 3), flag)
        spans[code] = (min(values), max(values))
    return readings, spans


@dataclass
class SimStats:
    counts: Counter[str] = field(default_factory=Counter)


class SimLogger:
    def __init__(
        self, point: SimPoint, clock: SimClock, fault: Fault | None, seed: int, stats: SimStats
    ) -> None:
        self.point = point
        self.clock = clock
        self.fault = fault
        self.rng = random.Random(seed)
        self.stats = stats
        self.frozen: dict[str, Reading] = {}
        self._qn = 0
        self.minute_data: dict[datetime, list[dict[str, Reading]]] = {}
        """The 2051 readings sent, by hour, until that hour's 2061 is built from them."""
        # A meter's energy register [kWh], from an arbitrary reading at start.
        self.energy_kwh = float(self.rng.randrange(10_000, 900_000))

    def _next_qn(self, when: datetime) -> str:
        self._qn = (self._qn + 1) % 1000
        return when.strftime("%Y%m%d%H%M%S") + f"{self._qn:03d}"

    def _schedule(self, start: datetime) -> list[tuple[datetime, str, timedelta]]:
        def aligned(step: timedelta) -> datetime:
            midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
            periods = (start - midnight) // step + 1
            return midnight + periods * step

        if self.point.meter is not None:
            return [(aligned(RTD_INTERVAL), "2011", RTD_INTERVAL)]
        if isinstance(self.point.station, DemoStation):
            return [(aligned(HOUR), "2061", HOUR)]
        if self.point.station is not None:
            return [(aligned(SECTION_INTERVAL), "2061", SECTION_INTERVAL)]
        schedule = [
            (aligned(RTD_INTERVAL), "2011", RTD_INTERVAL),
            (aligned(MINUTE_INTERVAL), "2051", MINUTE_INTERVAL),
            (aligned(HOUR), "2061", HOUR),
        ]
        if self.point.edition is not ProtocolVersion.HJT212_2005 and self.point.limits:
            # The analysers' settings at connection, then hourly (3020, HJ 212-2017 only).
            schedule.append((start, DEVICE_INFO_COMMAND, HOUR))
        return schedule

    def _frame(
        self, cn: str, due: datetime, step: timedelta, fault: Fault | None
    ) -> tuple[bytes, str]:
        """The frame due at ``due`` and its QN."""
        qn = self._next_qn(due)
        # Data periods start at DataTime: the hour just ended, etc.
        data_time = due if cn == "2011" else due - step
        station = self.point.station
        if station is not None:
            values = (
                station_values(station, data_time)
                if isinstance(station, DemoStation)
                else section_values(station, data_time)
            )
            point = self.point
            return hourly_upload(point.mn, point.pw, point.st, data_time, values, qn=qn)[0], qn
        meter = self.point.meter
        if meter is not None:
            power = meter_power(meter, data_time, self.rng, fault)
            self.energy_kwh += power * step.total_seconds() / 3600
            return build_meter_frame(self.point, data_time, power, self.energy_kwh, qn), qn
        if cn == DEVICE_INFO_COMMAND:
            slope = analyser_slope(due, fault)
            return build_settings_frame(self.point, due, slope, qn), qn
        minutes = self.minute_data.pop(data_time, []) if cn == "2061" else []
        if minutes:
            # An hour as a logger computes it: from its own minute data.
            readings, spans = aggregate(minutes)
            return build_frame(self.point, cn, data_time, readings, qn, spans=spans), qn
        readings = sample(
            self.point.factors,
            self.point.limits,
            data_time,
            self.rng,
            fault=fault,
            frozen=self.frozen,
            reference_o2=self.point.reference_o2,
        )
        if cn == "2051":
            hour = data_time.replace(minute=0, second=0, microsecond=0)
            self.minute_data.setdefault(hour, []).append(readings)
            for old in [h for h in self.minute_data if h < hour - HOUR]:
                del self.minute_data[old]  # an hour whose upload was skipped (offline)
        return build_frame(self.point, cn, data_time, readings, qn), qn

    async def run(self, host: str, port: int, stop: asyncio.Event) -> None:
        schedule = self._schedule(self.clock.now())
        connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        decoder = Decoder()
        try:
            while not stop.is_set():
                schedule.sort()
                due, cn, step = schedule[0]
                schedule[0] = (due + step, cn, step)
                sleeper = asyncio.ensure_future(self.clock.sleep_until(due))
                stopper = asyncio.ensure_future(stop.wait())
                await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
                sleeper.cancel()
                stopper.cancel()
                if stop.is_set():
                    break
                fault = self.fault if self.fault and self.fault.active(due) else None
                if fault is not None and fault.kind is FaultKind.OFFLINE:
                    if connection is not None:
                        connection[1].close()
                        connection = None
                    self.stats.counts["offline"] += 1
                    continue
                frame, qn = self._frame(cn, due, step, fault)
                if connection is None:
                    connection = await self._connect(host, port)
                    decoder = Decoder()
                    if connection is None:
                        continue
                connection = await self._send(connection, decoder, frame, qn, fault)
        finally:
            if connection is not None:
                connection[1].close()
                with contextlib.suppress(OSError, asyncio.CancelledError):
                    await connection[1].wait_closed()

    async def _connect(
        self, host: str, port: int
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        try:
            return await asyncio.open_connection(host, port)
        except OSError:
            self.stats.counts["connect_failed"] += 1
            return None

    async def _send(
        self,
        connection: tuple[asyncio.StreamReader, asyncio.StreamWriter],
        decoder: Decoder,
        frame: bytes,
        qn: str,
        fault: Fault | None,
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        reader, writer = connection
        payload = frame
        if fault is not None and fault.kind is FaultKind.RESEND:
            payload = frame * 2
        if fault is not None and fault.kind is FaultKind.GARBAGE:
            payload = bytes(self.rng.randrange(256) for _ in range(24)).replace(b"#", b"") + frame
        expects_answer = self.point.edition is not ProtocolVersion.HJT212_2005
        try:
            for _attempt in range(1 + RESENDS):
                writer.write(payload)
                await writer.drain()
                self.stats.counts["sent"] += 1
                if not expects_answer or await self._answered(reader, decoder, qn):
                    self.stats.counts["acknowledged" if expects_answer else "unanswered_2005"] += 1
                    return connection
                self.stats.counts["resent"] += 1
        except (OSError, asyncio.IncompleteReadError):
            self.stats.counts["disconnected"] += 1
            writer.close()
            return None
        self.stats.counts["gave_up"] += 1
        return connection

    async def _answered(self, reader: asyncio.StreamReader, decoder: Decoder, qn: str) -> bool:
        deadline = time.monotonic() + ACK_TIMEOUT_S
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                data = await asyncio.wait_for(reader.read(4096), remaining)
            except TimeoutError:
                return False
            if not data:
                raise asyncio.IncompleteReadError(b"", None)
            for item in decoder.feed(data):
                if isinstance(item, DecodedFrame) and item.packet.qn == qn:
                    return True
        return False


def never_connecting(points: list[SimPoint], seed: int, share: float = 0.03) -> set[str]:
    """About ``share`` of the points, whose loggers stay silent: registered but
    never connected, as the coverage view (应联尽联) must show."""
    rng = random.Random(seed * 31 + 1)
    # Stations stay connected; skipping them draws nothing, so the choice among
    # the enterprises' points does not depend on them.
    return {point.mn for point in points if point.station is None and rng.random() < share}


def choose_faults(
    points: list[SimPoint], start: datetime, seed: int, share: float = 0.12
) -> dict[str, Fault]:
    """Give about ``share`` of the loggers a fault, each kind in turn, and as many
    treatment meters TREATMENT_OFF, all from the second hour."""
    rng = random.Random(seed)
    begins = start + timedelta(hours=1)
    loggers = [p for p in points if p.meter is None and p.station is None and rng.random() < share]
    faults = {
        point.mn: Fault(LOGGER_FAULTS[index % len(LOGGER_FAULTS)], begins)
        for index, point in enumerate(loggers)
    }
    for point in points:
        if point.meter is not None and point.meter.kind == "treatment" and rng.random() < share:
            faults[point.mn] = Fault(FaultKind.TREATMENT_OFF, begins)
    return faults


async def simulate(
    points: list[SimPoint],
    host: str,
    port: int,
    *,
    scale: float = 60.0,
    stop: asyncio.Event,
    faults: dict[str, Fault] | None = None,
    start: datetime | None = None,
    seed: int = 7,
    clock: SimClock | None = None,
) -> SimStats:
    """Run a logger per point until ``stop`` is set, on ``clock`` (default: one
    from ``start`` at ``scale``)."""
    stats = SimStats()
    clock = clock or SimClock(start or now_cst(), scale)
    faults = faults or {}
    loggers = [
        SimLogger(point, clock, faults.get(point.mn), seed + index, stats)
        for index, point in enumerate(points)
    ]
    await asyncio.gather(*(logger.run(host, port, stop) for logger in loggers))
    return stats
