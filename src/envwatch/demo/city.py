"""The demo city's data: ``liaocheng.toml`` read into typed records (pure)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

CITY_FILE = Path(__file__).with_name("liaocheng.toml")


@dataclass(frozen=True, slots=True)
class CountyInfo:
    code: str
    name_zh: str
    name_en: str
    kind: str
    centre: tuple[float, float]
    host: str | None


@dataclass(frozen=True, slots=True)
class LimitSet:
    key: str
    basis: str
    reference_o2: float | None
    limits: dict[str, tuple[float, str]]


@dataclass(frozen=True, slots=True)
class OutletTemplate:
    kind: str
    limits: str
    st: str
    height_m: float | None


@dataclass(frozen=True, slots=True)
class Industry:
    key: str
    name_zh: str
    code: str
    count: int
    key_categories: str
    outlets: tuple[OutletTemplate, ...]
    factors: dict[str, tuple[float, float]]
    """Factor code -> (typical level in its unit, relative daily swing)."""
    meters: tuple[str, ...]
    shift: tuple[int, int] = (0, 24)
    """Production hours [first, end) of each day; (0, 24) round the clock."""


@dataclass(frozen=True, slots=True)
class City:
    version: str
    counties: tuple[CountyInfo, ...]
    limit_sets: dict[str, LimitSet]
    industries: tuple[Industry, ...]
    name_stems: tuple[str, ...]


@cache
def load_city(path: Path = CITY_FILE) -> City:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    counties = tuple(
        CountyInfo(
            code=c["code"],
            name_zh=c["name_zh"],
            name_en=c["name_en"],
            kind=c["kind"],
            centre=(float(c["centre"][0]), float(c["centre"][1])),
            host=c.get("host"),
        )
        for c in data["county"]
    )
    limit_sets = {}
    for key, entry in data["limits"].items():
        limits = {
            code: (float(value[0]), str(value[1]))
            for code, value in entry.items()
            if code not in {"basis", "reference_o2"}
        }
        limit_sets[key] = LimitSet(key, entry["basis"], entry.get("reference_o2"), limits)
    industries = tuple(
        Industry(
            key=key,
            name_zh=entry["name_zh"],
            code=entry["code"],
            count=int(entry["count"]),
            key_categories=entry["key"],
            outlets=tuple(
                OutletTemplate(o["kind"], o["limits"], o["st"], o.get("height_m"))
                for o in entry["outlets"]
            ),
            factors={code: (float(v[0]), float(v[1])) for code, v in entry["factors"].items()},
            meters=tuple(entry["meters"]),
            shift=(int(entry["shift"][0]), int(entry["shift"][1])),
        )
        for key, entry in data["industry"].items()
    )
    return City(data["version"], counties, limit_sets, industries, tuple(data["names"]["stems"]))


def industry_by_code(code: str) -> Industry | None:
    return next((i for i in load_city().industries if i.code == code), None)
