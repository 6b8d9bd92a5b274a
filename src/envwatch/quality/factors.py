"""What quality stations send and how it is read (pure): factor codes of each
AQI pollutant and GB 3838 item, their units, the data flags that count
(``factors.toml``)."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

from envwatch.quality.aqi import QualityInputError


@dataclass(frozen=True, slots=True)
class QualityFactor:
    name: str
    """The calculations' name: ``PM2_5``, ``O3``, ``NH3_N``, ``temperature``."""
    code: str
    """The HJ 212 factor code."""
    unit: str
    """The unit the calculations take."""


@dataclass(frozen=True, slots=True)
class QualityFactors:
    version: str
    valid_flags: frozenset[str]
    air: Mapping[str, QualityFactor]
    water: Mapping[str, QualityFactor]
    water_observed: Mapping[str, QualityFactor]
    unit_scale: Mapping[str, float]

    def of_kind(self, kind: str) -> Mapping[str, QualityFactor]:
        """The factors a site of ``kind`` (air or water) reports, by code."""
        if kind == "air":
            chosen = list(self.air.values())
        else:
            chosen = [*self.water.values(), *self.water_observed.values()]
        return {f.code: f for f in chosen}

    def conversion(self, sent_unit: str, wanted: QualityFactor) -> float:
        """The factor turning a value in ``sent_unit`` into ``wanted.unit``."""
        sent = self.unit_scale.get(sent_unit or wanted.unit)
        target = self.unit_scale.get(wanted.unit)
        if sent is None or target is None:
            raise QualityInputError(
                "unknown_unit",
                f"{wanted.code}: unit {sent_unit!r} cannot be read as {wanted.unit}",
                f"{wanted.code}：单位 {sent_unit!r} 无法换算为 {wanted.unit}",
            )
        return sent / target

    def valid(self, flag: str | None) -> bool:
        """Whether an hourly value with data flag ``flag`` counts (no flag: it does)."""
        return flag is None or flag in self.valid_flags


def _table(raw: Mapping[str, Mapping[str, str]]) -> Mapping[str, QualityFactor]:
    return MappingProxyType(
        {name: QualityFactor(name, spec["code"], spec["unit"]) for name, spec in raw.items()}
    )


def load_factors(text: str) -> QualityFactors:
    raw = tomllib.loads(text)
    return QualityFactors(
        version=raw["version"],
        valid_flags=frozenset(raw["valid_flags"]),
        air=_table(raw["air"]),
        water=_table(raw["water"]),
        water_observed=_table(raw["water_observed"]),
        unit_scale=MappingProxyType({k: float(v) for k, v in raw["unit_scale"].items()}),
    )


SYSTEM_CODES = {"air": "22", "water": "21"}
"""The HJ 212 system code (ST) of an air station's and a section's logger."""


def site_logger(kind: str, mn: str, pw: str) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """The registry rows of a site's logger: a monitoring point of no
    enterprise (``monitoring_point``) and its factors in the units the
    calculations take (``point_factor``)."""
    point = {"mn": mn, "pw": pw, "enterprise_id": None, "st": SYSTEM_CODES[kind],
             "protocol_version": "2017", "lenient": True}  # fmt: skip
    factors = [
        {"mn": mn, "pollutant": f.code, "unit": f.unit}
        for f in quality_factors().of_kind(kind).values()
    ]
    return point, factors


@cache
def quality_factors() -> QualityFactors:
    text = resources.files("envwatch.quality").joinpath("factors.toml").read_text("utf-8")
    return load_factors(text)
