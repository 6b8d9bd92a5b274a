"""The county map as SVG paths, drawn on the server from the GeoJSON that
envwatch ships (no tiles, no map library): an equirectangular projection
with the longitude scaled by cos(latitude) at the map's centre (pure)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

COUNTIES_FILE = Path(__file__).with_name("static") / "liaocheng-counties.geojson"


@dataclass(frozen=True, slots=True)
class Area:
    code: str
    name_zh: str
    path: str  # SVG path data in the view box
    label_x: float
    label_y: float


def _rings(geometry: Mapping[str, Any]) -> list[list[list[float]]]:
    if geometry["type"] == "Polygon":
        return list(geometry["coordinates"])
    return [ring for polygon in geometry["coordinates"] for ring in polygon]


def project(features: list[Mapping[str, Any]], width: float = 600.0) -> tuple[list[Area], float]:
    """The areas in a view box ``width`` wide (north up); and its height."""
    xy, height = _frame(features, width)
    areas = []
    for feature in features:
        properties = feature["properties"]
        path = " ".join(
            "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in (xy(*p[:2]) for p in ring)) + " Z"
            for ring in _rings(feature["geometry"])
        )
        label = xy(*properties.get("centroid") or properties["center"])
        areas.append(Area(str(properties["adcode"]), properties["name"], path, *label))
    return areas, height


def _frame(
    features: list[Mapping[str, Any]], width: float
) -> tuple[Callable[[float, float], tuple[float, float]], float]:
    """The projection of the areas' bounds onto a view box ``width`` wide; its height."""
    points = [p for f in features for ring in _rings(f["geometry"]) for p in ring]
    west, east = min(p[0] for p in points), max(p[0] for p in points)
    south, north = min(p[1] for p in points), max(p[1] for p in points)
    squeeze = math.cos(math.radians((south + north) / 2))
    scale = width / ((east - west) * squeeze)

    def xy(lon: float, lat: float) -> tuple[float, float]:
        return (lon - west) * squeeze * scale, (north - lat) * scale

    return xy, (north - south) * scale


@cache
def map_point() -> Callable[[float, float], tuple[float, float]]:
    """Where a longitude and latitude fall on the county map (complaints, hotspots)."""
    features = json.loads(COUNTIES_FILE.read_text(encoding="utf-8"))["features"]
    return _frame(features, 600.0)[0]


@cache
def county_map() -> tuple[tuple[Area, ...], float]:
    features = json.loads(COUNTIES_FILE.read_text(encoding="utf-8"))["features"]
    areas, height = project(features)
    return tuple(areas), height
