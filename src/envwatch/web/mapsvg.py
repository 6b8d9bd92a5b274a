"""The county map as SVG paths, drawn on the server from the GeoJSON that
envwatch ships (no tiles, no map library): an equirectangular projection
with the longitude scaled by cos(latitude) at the map's centre (pure)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
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


@dataclass(frozen=True, slots=True)
class Projection:
    """Longitude-latitude to the view box (north up)."""

    west: float
    north: float
    squeeze: float
    scale: float
    height: float

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        return (lon - self.west) * self.squeeze * self.scale, (self.north - lat) * self.scale

    def path(self, rings: list[list[list[float]]]) -> str:
        """SVG path data of the rings (one subpath each, so holes show with evenodd)."""
        return " ".join(
            "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in (self.xy(*p[:2]) for p in ring)) + " Z"
            for ring in rings
        )


def frame(features: list[Mapping[str, Any]], width: float = 600.0) -> Projection:
    """The projection that fits ``features`` in a view box ``width`` wide."""
    points = [p for f in features for ring in _rings(f["geometry"]) for p in ring]
    west, east = min(p[0] for p in points), max(p[0] for p in points)
    south, north = min(p[1] for p in points), max(p[1] for p in points)
    squeeze = math.cos(math.radians((south + north) / 2))
    scale = width / ((east - west) * squeeze)
    return Projection(west, north, squeeze, scale, (north - south) * scale)


def project(features: list[Mapping[str, Any]], width: float = 600.0) -> tuple[list[Area], float]:
    """The areas in a view box ``width`` wide (north up); and its height."""
    projection = frame(features, width)
    areas = []
    for feature in features:
        properties = feature["properties"]
        path = projection.path(_rings(feature["geometry"]))
        label = projection.xy(*(properties.get("centroid") or properties["center"]))
        areas.append(Area(str(properties["adcode"]), properties["name"], path, *label))
    return areas, projection.height


@cache
def county_map() -> tuple[tuple[Area, ...], float]:
    features = json.loads(COUNTIES_FILE.read_text(encoding="utf-8"))["features"]
    areas, height = project(features)
    return tuple(areas), height


@cache
def county_projection() -> Projection:
    """The county map's projection, to draw other layers over it."""
    return frame(json.loads(COUNTIES_FILE.read_text(encoding="utf-8"))["features"])


def map_point(longitude: float, latitude: float) -> tuple[float, float]:
    """Where a place lies on the county map (the view box of ``county_map``)."""
    return county_projection().xy(longitude, latitude)


def rings_of(geometry: Mapping[str, Any]) -> list[list[list[float]]]:
    """Every ring of a GeoJSON Polygon or MultiPolygon."""
    return _rings(geometry)
