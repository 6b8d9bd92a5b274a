"""The demo city's air stations and river sections and how their readings
behave (pure, deterministic for a site and an hour): winter PM2.5 and summer
O3 seasons, a daily cycle, weather shared across the city, heavy-pollution
episodes, the air a little cleaner each year; sections near the class they
usually keep, one missing its target in summer (``quality.toml``)."""

from __future__ import annotations

import math
import random
import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path

from envwatch.quality.water import water_standard

QUALITY_FILE = Path(__file__).with_name("quality.toml")
IMPROVEMENT_PER_YEAR = 0.06
"""How much cleaner the demo's air gets per year (the year-on-year change). [I]"""
MISSING_HOUR_CHANCE = 0.01
"""Hours a station's analysers lose (the validity rules have something to count)."""
ORIGIN = date(2025, 1, 1)


@dataclass(frozen=True, slots=True)
class DemoStation:
    code: str
    name: str
    level: str
    county: str
    position: tuple[float, float]
    burden: float
    index: int

    @property
    def mn(self) -> str:
        # 24 hex digits, as a strict reading of HJ 212-2017 wants (A: air).
        return f"{self.county}A{self.index:017d}"

    @property
    def pw(self) -> str:
        return f"a{self.index:05d}"  # six characters (HJ 212-2017)


@dataclass(frozen=True, slots=True)
class DemoSection:
    code: str
    name: str
    river: str
    level: str
    target: str
    county: str
    lake: bool
    position: tuple[float, float]
    summer_nh3n: float
    index: int

    @property
    def mn(self) -> str:
        return f"{self.county}B{self.index:017d}"  # B: water

    @property
    def pw(self) -> str:
        return f"w{self.index:05d}"


@dataclass(frozen=True, slots=True)
class Episode:
    first: date
    last: date
    factor: float


@dataclass(frozen=True, slots=True)
class QualityDemo:
    stations: tuple[DemoStation, ...]
    sections: tuple[DemoSection, ...]
    episodes: tuple[Episode, ...]


@cache
def quality_demo() -> QualityDemo:
    raw = tomllib.loads(QUALITY_FILE.read_text("utf-8"))
    stations = tuple(
        DemoStation(s["code"], s["name"], s["level"], s["county"], tuple(s["position"]),
                    float(s["burden"]), n)
        for n, s in enumerate(raw["station"], start=1)
    )  # fmt: skip
    sections = tuple(
        DemoSection(s["code"], s["name"], s["river"], s["level"], s["target"], s["county"],
                    bool(s.get("lake", False)), tuple(s["position"]),
                    float(s.get("summer_nh3n", 1.0)), n)
        for n, s in enumerate(raw["section"], start=1)
    )  # fmt: skip
    episodes = tuple(Episode(e["first"], e["last"], float(e["factor"])) for e in raw["episode"])
    return QualityDemo(stations, sections, episodes)


def _season(day: date, peak_day_of_year: int) -> float:
    """1 at the peak day of the year, −1 half a year away."""
    return math.cos(2 * math.pi * (day.timetuple().tm_yday - peak_day_of_year) / 365.25)


@cache
def _weather(day: date) -> float:
    """The city's weather of the day: how well the air disperses (shared by all stations)."""
    return math.exp(random.Random(f"weather{day.isoformat()}").gauss(0, 0.3))


def _episode(day: date, episodes: tuple[Episode, ...]) -> float:
    for episode in episodes:
        if episode.first <= day <= episode.last:
            return episode.factor
    return 1.0


def air_hour(station: DemoStation, when: datetime) -> dict[str, float | None]:
    """The station's hourly means [µg/m³; CO mg/m³] of the hour starting
    ``when``, None for a lost hour."""
    day = when.date()
    rng = random.Random(f"{station.code}{when.isoformat()}")
    trend = 1 - IMPROVEMENT_PER_YEAR * (day - ORIGIN).days / 365.25
    winter = _season(day, 15)
    weather = _weather(day) * _episode(day, quality_demo().episodes)
    local = station.burden * trend * math.exp(rng.gauss(0, 0.08))
    night = 1 + 0.15 * math.cos(2 * math.pi * (when.hour - 2) / 24)
    pm2_5 = max(8.0, (55 + 30 * winter) * weather * local * night)
    dusty = 1.2 if day.month in (3, 4) else 1.0
    # Stagnant air (weather > 1) holds PM; clear, dispersing days make more O3.
    o3_base = max(20.0, 85 + 55 * _season(day, 170)) * trend * weather**-0.3
    sun = max(0.0, math.sin(math.pi * (when.hour - 7) / 14)) if 7 <= when.hour <= 21 else 0.0
    rush = 1.2 if when.hour in (7, 8, 17, 18, 19) else 1.0
    values: dict[str, float | None] = {
        "PM2_5": pm2_5,
        "PM10": pm2_5 * 1.75 * dusty * math.exp(rng.gauss(0, 0.05)),
        "SO2": max(2.0, (9 + 6 * winter) * local * math.exp(rng.gauss(0, 0.1))),
        "NO2": max(5.0, (28 + 10 * winter) * local * rush * math.exp(rng.gauss(0, 0.1))),
        "CO": max(0.2, (0.75 + 0.45 * winter) * weather**0.5 * local),
        "O3": max(5.0, o3_base * (0.35 + 0.95 * sun) * math.exp(rng.gauss(0, 0.06))),
    }
    if rng.random() < MISSING_HOUR_CHANCE:
        return dict.fromkeys(values)
    return {name: round(value, 1) if value is not None else None for name, value in values.items()}


def water_sample(section: DemoSection, when: datetime) -> dict[str, float]:
    """A section's automatic station sample at ``when`` [mg/L; pH; °C; µS/cm; NTU]."""
    rng = random.Random(f"{section.code}{when.isoformat()}")
    standard = water_standard()
    day = when.date()
    summer = day.month in (6, 7, 8)
    warm = _season(day, 200)

    def limit(item: str) -> float:
        """The item's limit of the section's target class (GB 3838)."""
        rule = standard.items[item]
        return rule.limits_for(section.lake)[standard.classes.index(section.target)]

    def near(item: str, share: float) -> float:
        return limit(item) * share * math.exp(rng.gauss(0, 0.12))

    nh3n = near("NH3_N", 0.72) * (section.summer_nh3n if summer else 1.0)
    # Warm water holds less oxygen.
    saturation = 1.25 - 0.12 * warm
    dissolved_oxygen = limit("DO") * saturation * math.exp(rng.gauss(0, 0.06))
    return {
        "pH": round(7.6 + rng.gauss(0, 0.2), 2),
        "DO": round(max(0.5, dissolved_oxygen), 2),
        "CODMn": round(near("CODMn", 0.7), 2),
        "COD": round(near("COD", 0.72), 1),
        "NH3_N": round(nh3n, 3),
        "TP": round(near("TP", 0.7), 3),
        # Rivers carry more nitrogen; only a lake's TN is assessed (GB 3838).
        "TN": round(near("TN", 0.7) if section.lake else 2.2 * math.exp(rng.gauss(0, 0.15)), 2),
        "temperature": round(15 + 12 * warm + rng.gauss(0, 0.5), 1),
        "conductivity": round(900 + 150 * rng.gauss(0, 1), 0),
        "turbidity": round(max(1.0, 25 * math.exp(rng.gauss(0, 0.3))), 1),
    }
