"""Satellite fire points of straw burning (秸秆焚烧卫星遥感火点), pure: the row
of the usual satellite export, and which county a point lies in, by
point-in-polygon against the county boundaries envwatch ships (the county
map's GeoJSON, ``web/mapsvg.COUNTIES_FILE``, through ``zoning.geometry``'s
``area_of`` and ``UnitIndex``: the same border rule as the control units). The
store's edge is ``fire_desk.py``."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator

from envwatch.registry.importing import _Row
from envwatch.web.mapsvg import COUNTIES_FILE
from envwatch.zoning.geometry import UnitIndex, area_of

CONFIDENCE_WORDS = frozenset({"low", "nominal", "high", "l", "n", "h", "低", "中", "高"})
"""The confidence classes of VIIRS products (MODIS gives a percentage)."""


class FireRow(_Row):
    """One fire point of a satellite export; the headers are the Chinese names
    (or the field names)."""

    fire_id: str = Field(alias="火点编号", min_length=1, max_length=32)
    observed_at: datetime = Field(alias="监测时间")
    """China Standard Time, as the export gives it."""
    longitude: float = Field(alias="经度", ge=73, le=136)
    latitude: float = Field(alias="纬度", ge=3, le=54)
    confidence: str = Field(default="", alias="可信度", max_length=16)
    frp: float | None = Field(default=None, alias="火点强度", ge=0, le=100_000)
    """Fire radiative power [MW]."""
    satellite: str = Field(default="", alias="卫星", max_length=32)

    @field_validator("fire_id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not re.fullmatch(r"[0-9A-Za-z_.:\-]+", value):
            raise ValueError("letters, digits and _ . : - only")
        return value

    @field_validator("confidence")
    @classmethod
    def _confidence(cls, value: str) -> str:
        if not value or value.lower() in CONFIDENCE_WORDS:
            return value.lower()
        try:
            number = float(value)
        except ValueError:
            raise ValueError("a percentage 0-100, or low/nominal/high") from None
        if not 0 <= number <= 100:
            raise ValueError("a percentage 0-100, or low/nominal/high")
        return value

    @field_validator("observed_at")
    @classmethod
    def _naive(cls, value: datetime) -> datetime:
        if value.tzinfo is not None:
            raise ValueError("a time without zone (China Standard Time)")
        return value


FIRE_COLUMNS = [str(info.alias) for info in FireRow.model_fields.values()]
"""The columns of a fire-point export, in order."""


def column(name: str) -> str:
    return str(FireRow.model_fields[name].alias)


def county_index_of(features: Sequence[Mapping[str, Any]]) -> UnitIndex:
    """The counties of a GeoJSON feature list (``adcode`` property) as a point index."""
    return UnitIndex(
        (str(feature["properties"]["adcode"]), area_of(feature["geometry"])) for feature in features
    )


@cache
def county_index(path: Path = COUNTIES_FILE) -> UnitIndex:
    """The city's counties (the county map's boundaries) as a point index."""
    return county_index_of(json.loads(path.read_text(encoding="utf-8"))["features"])


def locate(index: UnitIndex, longitude: float, latitude: float) -> str | None:
    """The county a point lies in (on a border, the first by code); None: outside the city."""
    return index.home_unit((longitude, latitude))
