"""A normal plant week (pure, deterministic): clean, realistic series from one
device per kind of plant, with the routine events that must raise no alarm
and no warning (issue 20): a coal unit's daily automatic calibration and its
weekend shut-down with purge, an SCR held near its NOx set point, a gas
boiler and an ultra-low dust analyser near their detection limits, batch
water analysers that hold each result for their cycle, a day-shift
discharger, an integer-output COD analyser, a unit that reheats its flue
gas after wet desulfurisation, and a cement works' electricity meters with
one line down for an overhaul and declared night shifts in the valley tariff.

``plant_week`` gives each device's registry view and its uploads (real-time
every minute, 10-minute and hourly data, as a logger sends them, received on
time); ``interleaved`` puts the city's uploads in arrival order, as the rules
engine sees them. The rules benchmark counts what the rules find on it
(false alarms per device-week); ``tests/rules/test_normal_plant_week.py``
holds each device to none.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from envwatch.rules.model import Limit, PointContext, Upload, Values
from envwatch.rules.shifts import parse_shifts

START = datetime(2026, 11, 23)  # a Monday
SO2, NOX, DUST, O2, FLOW, TEMPERATURE = "a21026", "a21002", "a34013", "a19001", "a00000", "a01012"
COD, NH3N, PH, WATER_FLOW = "w01018", "w21003", "w01001", "w00000"

Reading = dict[str, tuple[float, str]]
"""One minute's values by factor code, each with its flag."""


@dataclass(frozen=True)
class PlantDevice:
    name: str
    """The scenario, in English: ``coal_unit``, ``batch_water_analysers``, ..."""
    item: str
    """What it exercises (issue 20's item)."""
    context: PointContext
    uploads: list[Upload] = field(default_factory=list)


def _air(mn: str, industry: str, limits: dict[str, tuple[float, float]]) -> PointContext:
    """An air point with hourly limits ``{code: (value, reference O2)}``."""
    in_force = {
        code: (Limit(value, "mg/m³", "排放标准", o2),) for code, (value, o2) in limits.items()
    }
    return PointContext(mn=mn, enterprise_id=int(mn[-5:]), industry=industry, outlet_kind="air",
                        limits=in_force)  # fmt: skip


def _water(mn: str, industry: str, limits: dict[str, Limit]) -> PointContext:
    in_force = {code: (limit,) for code, limit in limits.items()}
    return PointContext(mn=mn, enterprise_id=int(mn[-5:]), industry=industry,
                        outlet_kind="water", limits=in_force)  # fmt: skip


def _series(
    mn: str, days: int, minute: Callable[[datetime, int], Reading], *, flows: frozenset[str]
) -> list[Upload]:
    """Real-time data each minute, 10-minute data and hourly data of a device
    whose minute ``i`` at ``when`` reads ``minute(when, i)``: period data are
    the means of their valid minutes (a marked minute marks its period when
    most of the period is marked), with Cou for flows."""
    uploads: list[Upload] = []
    period: list[Reading] = []
    hour: list[Reading] = []
    for index in range(days * 24 * 60):
        when = START + timedelta(minutes=index)
        reading = minute(when, index)
        values = {code: Values(rtd=round(v, 3), flag=flag) for code, (v, flag) in reading.items()}
        uploads.append(Upload(mn, "2011", when, values, received_at=when))
        period.append(reading)
        hour.append(reading)
        if len(period) == 10:
            start = when - timedelta(minutes=9)
            uploads.append(_period(mn, "2051", start, period, seconds=600, flows=flows))
            period = []
        if len(hour) == 60:
            start = when - timedelta(minutes=59)
            uploads.append(_period(mn, "2061", start, hour, seconds=3600, flows=flows))
            hour = []
    return uploads


def _period(
    mn: str, cn: str, start: datetime, readings: list[Reading], *, seconds: int,
    flows: frozenset[str],
) -> Upload:  # fmt: skip
    values = {}
    for code in readings[0]:
        flags = [r[code][1] for r in readings]
        marked = max(set(flags), key=flags.count)
        chosen = [r[code][0] for r in readings if r[code][1] == marked]
        mean = statistics.fmean(chosen)
        cou = None
        if code in flows:  # m³ over the period: flue gas m³/s, water L/s
            rate = mean if code == FLOW else mean / 1000
            cou = round(rate * seconds, 3)
        values[code] = Values(avg=round(mean, 3), min=round(min(chosen), 3),
                              max=round(max(chosen), 3), cou=cou, flag=marked)  # fmt: skip
    arrival = start + timedelta(seconds=seconds)
    return Upload(mn, cn, start, values, received_at=arrival)


def _load(when: datetime) -> float:
    """Load following: 0.7 at night to 1.0 in the afternoon."""
    return 0.85 + 0.15 * math.sin((when.hour + when.minute / 60 - 9) / 24 * 2 * math.pi)


def coal_unit(days: int, rng: random.Random) -> PlantDevice:
    """Ultra-low coal unit: daily automatic calibration at 02:00 (10 minutes of
    span gas, flagged C, not declared) and a shut-down with purge on Saturday
    (F, O2 20.6 %, the fan still moving 80 m³/s)."""

    def minute(when: datetime, _: int) -> Reading:
        load = _load(when)
        if when.weekday() == 5:  # Saturday: shut down, purged by the fan
            return {SO2: (rng.uniform(0.2, 1.0), "F"), NOX: (rng.uniform(1, 3), "F"),
                    DUST: (rng.uniform(0.1, 0.4), "F"), O2: (20.6 + rng.gauss(0, 0.05), "F"),
                    FLOW: (80 + rng.gauss(0, 2), "F")}  # fmt: skip
        calibrating = when.hour == 2 and when.minute < 10
        so2 = 80.0 if calibrating else 18 + 6 * (load - 0.85) / 0.15 + rng.gauss(0, 1.2)
        return {SO2: (so2, "C" if calibrating else "N"),
                NOX: (36 + rng.gauss(0, 3), "N"), DUST: (1.5 + rng.gauss(0, 0.2), "N"),
                O2: (6.0 - 1.5 * (load - 0.85) + rng.gauss(0, 0.3), "N"),
                FLOW: (180 * load + rng.gauss(0, 4), "N")}  # fmt: skip

    mn = "37150200000000PLANT00001"
    context = _air(mn, "4411", {SO2: (35, 6), NOX: (50, 6), DUST: (10, 6)})
    return PlantDevice("coal_unit", "6, 7, 10", context,
                       _series(mn, days, minute, flows=frozenset({FLOW})))  # fmt: skip


def scr_unit(days: int, rng: random.Random) -> PlantDevice:
    """NOx held by the SCR's control loop at its set point, 44 ± 2 against 50."""

    def minute(when: datetime, _: int) -> Reading:
        load = _load(when)
        return {SO2: (20 + rng.gauss(0, 2), "N"), NOX: (44 + rng.gauss(0, 1.0), "N"),
                O2: (6.0 + rng.gauss(0, 0.3), "N"),
                FLOW: (170 * load + rng.gauss(0, 4), "N")}  # fmt: skip

    mn = "37150200000000PLANT00002"
    context = _air(mn, "4411", {SO2: (35, 6), NOX: (50, 6)})
    return PlantDevice("scr_set_point", "11", context,
                       _series(mn, days, minute, flows=frozenset({FLOW})))  # fmt: skip


def gas_boiler(days: int, rng: random.Random) -> PlantDevice:
    """Gas-fired boiler: SO2 0-4 and dust 1.2-2.2 mg/m³, clean and low."""

    def minute(when: datetime, _: int) -> Reading:
        return {SO2: (float(rng.randint(0, 4)), "N"), DUST: (rng.uniform(1.2, 2.2), "N"),
                NOX: (28 + rng.gauss(0, 3), "N"), O2: (3.5 + rng.gauss(0, 0.3), "N"),
                FLOW: (25 * _load(when) + rng.gauss(0, 1), "N")}  # fmt: skip

    mn = "37150200000000PLANT00003"
    context = _air(mn, "4430", {SO2: (50, 3.5), DUST: (20, 3.5), NOX: (150, 3.5)})
    return PlantDevice("gas_boiler", "10", context,
                       _series(mn, days, minute, flows=frozenset({FLOW})))  # fmt: skip


def _held(cycle_minutes: int, draw: Callable[[], float]) -> Callable[[int], float]:
    """A batch analyser's result, held for its cycle."""
    results: dict[int, float] = {}

    def value(index: int) -> float:
        cycle = index // cycle_minutes
        if cycle not in results:
            results[cycle] = draw()
        return results[cycle]

    return value


def batch_water(days: int, rng: random.Random) -> PlantDevice:
    """Municipal treatment plant: COD on a 2-hour cycle, NH3-N on 1 hour, both
    held between results; pH and flow continuous."""
    cod = _held(120, lambda: round(28 + rng.gauss(0, 4), 1))
    ammonia = _held(60, lambda: round(max(0.2, 1.8 + rng.gauss(0, 0.5)), 2))

    def minute(when: datetime, index: int) -> Reading:
        return {COD: (cod(index), "N"), NH3N: (ammonia(index), "N"),
                PH: (7.2 + rng.gauss(0, 0.08), "N"),
                WATER_FLOW: (250 * _load(when) + rng.gauss(0, 5), "N")}  # fmt: skip

    mn = "37150200000000PLANT00004"
    context = _water(mn, "4620", {COD: Limit(50, "mg/L", "GB 18918-2002 一级A", period="24h"),
                                  NH3N: Limit(5, "mg/L", "GB 18918-2002 一级A", period="24h"),
                                  PH: Limit(9, "无量纲", "GB 18918-2002", period="24h",
                                            lower=6)})  # fmt: skip
    return PlantDevice("batch_water_analysers", "8", context,
                       _series(mn, days, minute, flows=frozenset({WATER_FLOW})))  # fmt: skip


def day_shift_discharger(days: int, rng: random.Random) -> PlantDevice:
    """A dye works discharging 08:00-18:00; stopped (F, no flow) otherwise."""
    cod = _held(60, lambda: round(60 + rng.gauss(0, 6), 1))

    def minute(when: datetime, index: int) -> Reading:
        if 8 <= when.hour < 18:
            return {COD: (cod(index), "N"), WATER_FLOW: (30 + rng.gauss(0, 2), "N")}
        return {COD: (cod(index), "F"), WATER_FLOW: (0.0, "F")}

    mn = "37150200000000PLANT00005"
    context = _water(mn, "1713", {COD: Limit(80, "mg/L", "GB 4287-2012", period="24h")})
    return PlantDevice("day_shift_discharger", "5", context,
                       _series(mn, days, minute, flows=frozenset({WATER_FLOW})))  # fmt: skip


def integer_cod(days: int, rng: random.Random) -> PlantDevice:
    """A COD analyser that reports whole mg/L, between 9 and 12, hourly cycle."""
    cod = _held(60, lambda: float(rng.randint(9, 12)))

    def minute(when: datetime, index: int) -> Reading:
        return {COD: (cod(index), "N"), WATER_FLOW: (120 * _load(when) + rng.gauss(0, 3), "N")}

    mn = "37150200000000PLANT00006"
    context = _water(mn, "2221", {COD: Limit(50, "mg/L", "GB 3544-2008", period="24h")})
    return PlantDevice("integer_cod", "11", context,
                       _series(mn, days, minute, flows=frozenset({WATER_FLOW})))  # fmt: skip


def reheated_unit(days: int, rng: random.Random) -> PlantDevice:
    """Wet desulfurisation with flue-gas reheating (MGGH): 85 °C at the stack."""

    def minute(when: datetime, _: int) -> Reading:
        return {SO2: (15 + rng.gauss(0, 2), "N"), O2: (6.0 + rng.gauss(0, 0.3), "N"),
                TEMPERATURE: (85 + rng.gauss(0, 1.5), "N"),
                FLOW: (160 * _load(when) + rng.gauss(0, 4), "N")}  # fmt: skip

    mn = "37150200000000PLANT00007"
    context = replace(_air(mn, "4411", {SO2: (35, 6)}), reheated=True)
    return PlantDevice("reheated_flue_gas", "11", context,
                       _series(mn, days, minute, flows=frozenset({FLOW})))  # fmt: skip


def _meter(mn: str, meter_id: int, kind: str, rated: float, **traits: object) -> PointContext:
    return PointContext(mn=mn, enterprise_id=40_000, industry="3011", outlet_kind=None,
                        meter_id=meter_id, meter_kind=kind, rated_kw=rated,
                        work_shifts=parse_shifts("22:00-06:00,08:00-16:00"),
                        **traits)  # type: ignore[arg-type]  # fmt: skip


def cement_works(days: int, rng: random.Random) -> list[PlantDevice]:
    """A cement works on electricity meters (分表计电): two production lines,
    each with its own dust collector (linked in the registry), working the
    declared shifts 22:00-06:00 (the valley tariff) and 08:00-16:00; on the
    Wednesday line B and its dust collector are down for an overhaul."""
    line_a = _meter("37150200000000PLANT00011", 11, "production", 1000.0)
    line_b = _meter("37150200000000PLANT00012", 12, "production", 1000.0)
    dust_a = _meter("37150200000000PLANT00013", 13, "treatment", 400.0, serves=(11,))
    dust_b = _meter("37150200000000PLANT00014", 14, "treatment", 400.0, serves=(12,))
    circuits = ((line_a, 800.0, False), (line_b, 800.0, True),
                (dust_a, 280.0, False), (dust_b, 280.0, True))  # fmt: skip
    devices = []
    for context, running_kw, overhauled in circuits:
        uploads = []
        energy = 1_000_000.0
        for index in range(days * 24 * 60):
            when = START + timedelta(minutes=index)
            minute = when.hour * 60 + when.minute
            on_shift = minute >= 22 * 60 or minute < 6 * 60 or 8 * 60 <= minute < 16 * 60
            down = overhauled and when.weekday() == 2
            kw = round(running_kw * rng.uniform(0.97, 1.03), 1) if on_shift and not down else 0.0
            energy = round(energy + kw / 60, 2)
            values = {"power_kw": Values(rtd=kw, flag="N"),
                      "energy_kwh": Values(rtd=energy, flag="N")}  # fmt: skip
            uploads.append(Upload(context.mn, "2011", when, values, received_at=when))
        name = {11: "cement_line_a", 12: "cement_line_b", 13: "cement_dust_a",
                14: "cement_dust_b"}[context.meter_id or 0]  # fmt: skip
        devices.append(PlantDevice(name, "9", context, uploads))
    return devices


SCENARIOS: tuple[Callable[[int, random.Random], PlantDevice], ...] = (
    coal_unit, scr_unit, gas_boiler, batch_water, day_shift_discharger, integer_cod,
    reheated_unit,
)  # fmt: skip


def plant_week(days: int = 7, seed: int = 20261204) -> list[PlantDevice]:
    """One device per scenario (and a cement works' four meters), ``days`` days
    from Monday ``START``."""
    devices = [make(days, random.Random(seed + i)) for i, make in enumerate(SCENARIOS)]
    return devices + cement_works(days, random.Random(seed - 1))


def interleaved(devices: Iterable[PlantDevice]) -> list[Upload]:
    """Every device's uploads in arrival order (ties: by MN), as the engine reads them."""
    every = [u for device in devices for u in device.uploads]
    return sorted(every, key=lambda u: (u.received_at or u.data_time, u.mn, u.cn))
