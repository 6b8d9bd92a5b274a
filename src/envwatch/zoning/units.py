"""Reading control units from a GeoJSON FeatureCollection or a KML document (pure).

Every feature must be a Polygon or MultiPolygon in longitude-latitude (WGS 84
/ CGCS2000) whose properties carry ``code``, ``name``, ``type`` (优先保护 /
重点管控 / 一般管控) and ``county`` (a registered county's code or Chinese
name, resolved by the caller). Each problem names its feature (its number in
the collection, counting from 1, and its code when it has one); one problem
anywhere and nothing is imported.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final
from xml.etree import ElementTree

from envwatch.zoning.access import UNIT_TYPES
from envwatch.zoning.geometry import Area, area_of, ring_area

MAX_FEATURES: Final = 20_000
MAX_POSITIONS: Final = 2_000_000
"""All the positions of one file: a province's units are well under this."""
MAX_CODE_LENGTH: Final = 32
MAX_NAME_LENGTH: Final = 200


@dataclass(frozen=True, slots=True)
class UnitFeature:
    number: int
    """Its place in the collection, from 1."""
    code: str
    name: str
    unit_type: str
    county: str
    """As the file gives it: a county code or a Chinese county name."""
    geometry: dict[str, Any]
    area: Area


@dataclass(frozen=True, slots=True)
class FeatureProblem:
    number: int
    """The feature's place in the collection, from 1 (0: the file itself)."""
    code: str
    problem: str

    def describe(self) -> str:
        if self.number == 0:
            return self.problem
        named = f" ({self.code})" if self.code else ""
        return f"feature {self.number}{named}: {self.problem}"


def _position_problem(position: object) -> str | None:
    if not isinstance(position, list) or len(position) < 2:
        return "a position is not [longitude, latitude]"
    lon, lat = position[0], position[1]
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (lon, lat)):
        return "a position is not a pair of numbers"
    if not (math.isfinite(lon) and math.isfinite(lat)):
        return "a position is not finite"
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return f"position [{lon}, {lat}] is not longitude-latitude in degrees"
    return None


def _polygon_problem(rings: object) -> str | None:
    if not isinstance(rings, list) or not rings:
        return "a polygon has no rings"
    for number, ring in enumerate(rings):
        what = "the outer ring" if number == 0 else f"hole {number}"
        if not isinstance(ring, list) or len(ring) < 4:
            return f"{what} has fewer than 4 positions"
        for position in ring:
            problem = _position_problem(position)
            if problem:
                return f"{what}: {problem}"
        if ring[0][:2] != ring[-1][:2]:
            return f"{what} is not closed (its last position is not its first)"
        if ring_area(tuple((float(p[0]), float(p[1])) for p in ring)) == 0:
            return f"{what} encloses no area"
    return None


def geometry_problem(geometry: object) -> str | None:
    """Why ``geometry`` is not a usable Polygon or MultiPolygon (None: it is)."""
    if not isinstance(geometry, Mapping):
        return "it has no geometry"
    kind = geometry.get("type")
    coordinates = geometry.get("coordinates")
    if isinstance(geometry.get("problem"), str):
        return str(geometry["problem"])  # found while reading a KML file
    if kind == "Polygon":
        return _polygon_problem(coordinates)
    if kind == "MultiPolygon":
        if not isinstance(coordinates, list) or not coordinates:
            return "the multipolygon has no polygons"
        for number, polygon in enumerate(coordinates, start=1):
            problem = _polygon_problem(polygon)
            if problem:
                return f"polygon {number}: {problem}"
        return None
    return f"its geometry is a {kind!r}, not a Polygon or MultiPolygon"


def _property_problem(properties: Mapping[str, Any]) -> str | None:
    for name in ("code", "name", "type", "county"):
        value = properties.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            continue  # a county's adcode may come as a number
        if not isinstance(value, str) or not value.strip():
            return f"property {name!r} is missing or empty"
    if len(str(properties["code"]).strip()) > MAX_CODE_LENGTH:
        return f"property 'code' is longer than {MAX_CODE_LENGTH} characters"
    if len(str(properties["name"]).strip()) > MAX_NAME_LENGTH:
        return f"property 'name' is longer than {MAX_NAME_LENGTH} characters"
    if str(properties["type"]).strip() not in UNIT_TYPES:
        return f"type {properties['type']!r} is not one of {' / '.join(UNIT_TYPES)}"
    return None


def _positions(geometry: Mapping[str, Any]) -> int:
    parts = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    return sum(len(ring) for rings in parts for ring in rings)


KML_NS: Final = "{http://www.opengis.net/kml/2.2}"


def _kml_rings(polygon: ElementTree.Element) -> list[list[list[float]]]:
    rings = []
    for boundary in ("outerBoundaryIs", "innerBoundaryIs"):
        for ring in polygon.iter(f"{KML_NS}{boundary}"):
            text = ring.findtext(f".//{KML_NS}coordinates") or ""
            positions = []
            for tuple_text in text.split():
                parts = tuple_text.split(",")
                try:
                    positions.append([float(parts[0]), float(parts[1])])
                except (ValueError, IndexError):
                    raise ValueError(f"coordinates {tuple_text!r} are not lon,lat[,alt]") from None
            rings.append(positions)
    return rings


def kml_collection(content: bytes) -> dict[str, Any]:
    """A KML document's Placemarks as a GeoJSON FeatureCollection: each
    Placemark's ExtendedData (``Data`` or ``SchemaData/SimpleData``) as its
    properties (``name`` from its own name when the data has none), its
    Polygon or MultiGeometry of Polygons as the geometry (KML coordinates are
    WGS 84 longitude,latitude[,altitude]). Raises ``ValueError`` when the
    file is no KML. A DOCTYPE (and so any entity) is refused."""
    if b"<!DOCTYPE" in content[:4096].upper() or b"<!ENTITY" in content.upper():
        raise ValueError("a KML file with a DOCTYPE or entities is refused")
    try:
        root = ElementTree.fromstring(content)
    except ElementTree.ParseError as error:
        raise ValueError(f"not a KML (XML) file: {error}") from None
    if root.tag != f"{KML_NS}kml":
        raise ValueError("not a KML 2.2 document (root element kml)")
    features: list[Any] = []
    for placemark in root.iter(f"{KML_NS}Placemark"):
        properties: dict[str, Any] = {}
        for data in placemark.iter(f"{KML_NS}Data"):
            properties[data.get("name", "")] = (data.findtext(f"{KML_NS}value") or "").strip()
        for data in placemark.iter(f"{KML_NS}SimpleData"):
            properties[data.get("name", "")] = (data.text or "").strip()
        if "name" not in properties:
            properties["name"] = (placemark.findtext(f"{KML_NS}name") or "").strip()
        polygons = list(placemark.iter(f"{KML_NS}Polygon"))
        geometry: dict[str, Any] | None
        try:
            parts = [_kml_rings(polygon) for polygon in polygons]
        except ValueError as error:
            features.append({"type": "Feature", "properties": properties,
                             "geometry": {"type": "Polygon", "coordinates": None,
                                          "problem": str(error)}})  # fmt: skip
            continue
        if not parts:
            geometry = None
        elif len(parts) == 1:
            geometry = {"type": "Polygon", "coordinates": parts[0]}
        else:
            geometry = {"type": "MultiPolygon", "coordinates": parts}
        features.append({"type": "Feature", "properties": properties, "geometry": geometry})
    return {"type": "FeatureCollection", "features": features}


def read_units(content: bytes) -> tuple[list[UnitFeature], list[FeatureProblem]]:
    """The units of a GeoJSON FeatureCollection or a KML document (its
    Placemarks, ``kml_collection``), and every problem found."""
    if content.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        try:
            document: Any = kml_collection(content)
        except ValueError as error:
            return [], [FeatureProblem(0, "", str(error))]
        return _read_collection(document)
    try:
        document = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as error:
        return [], [FeatureProblem(0, "", f"not a GeoJSON (JSON) file: {error}")]
    return _read_collection(document)


def _read_collection(document: Any) -> tuple[list[UnitFeature], list[FeatureProblem]]:
    if not isinstance(document, Mapping) or document.get("type") != "FeatureCollection":
        return [], [FeatureProblem(0, "", "not a GeoJSON FeatureCollection")]
    features = document.get("features")
    if not isinstance(features, list) or not features:
        return [], [FeatureProblem(0, "", "the FeatureCollection has no features")]
    if len(features) > MAX_FEATURES:
        return [], [FeatureProblem(0, "", f"more than {MAX_FEATURES} features")]
    units: list[UnitFeature] = []
    problems: list[FeatureProblem] = []
    seen: dict[str, int] = {}
    positions = 0
    for number, feature in enumerate(features, start=1):
        if not isinstance(feature, Mapping) or feature.get("type") != "Feature":
            problems.append(FeatureProblem(number, "", "not a GeoJSON Feature"))
            continue
        properties = feature.get("properties")
        if not isinstance(properties, Mapping):
            problems.append(FeatureProblem(number, "", "it has no properties"))
            continue
        raw_code = properties.get("code")
        code = str(raw_code).strip() if isinstance(raw_code, str | int) else ""
        problem = _property_problem(properties) or geometry_problem(feature.get("geometry"))
        if problem is None and code in seen:
            problem = f"code {code!r} is already feature {seen[code]}'s"
        if problem is not None:
            problems.append(FeatureProblem(number, code, problem))
            continue
        seen[code] = number
        geometry = dict(feature["geometry"])
        positions += _positions(geometry)
        if positions > MAX_POSITIONS:
            return [], [FeatureProblem(0, "", f"more than {MAX_POSITIONS} positions in all")]
        units.append(
            UnitFeature(
                number=number,
                code=code,
                name=str(properties["name"]).strip(),
                unit_type=str(properties["type"]).strip(),
                county=str(properties["county"]).strip(),
                geometry={"type": geometry["type"], "coordinates": geometry["coordinates"]},
                area=area_of(geometry),
            )
        )
    return units, problems


MAX_PROJECT_POSITIONS: Final = 1000
"""A planned project's polygon: a site plan, not a province."""


def parse_project_polygon(text: str) -> tuple[dict[str, Any], Area]:
    """A planned project's polygon, given as ``lon,lat;lon,lat;...`` (one ring,
    closed or not) or as a GeoJSON Polygon or MultiPolygon geometry (or a
    Feature holding one): the GeoJSON geometry and its area. Raises
    ``ValueError`` naming the problem."""
    text = text.strip()
    if text.startswith("{"):
        try:
            geometry = json.loads(text)
        except (ValueError, RecursionError) as error:
            raise ValueError(f"not a GeoJSON geometry: {error}") from None
        if isinstance(geometry, Mapping) and geometry.get("type") == "Feature":
            geometry = geometry.get("geometry")
    else:
        ring: list[list[float]] = []
        for pair in text.replace("；", ";").split(";"):
            if not pair.strip():
                continue
            parts = pair.replace("，", ",").replace(" ", ",").split(",")
            numbers = [part for part in parts if part]
            try:
                lon, lat = (float(v) for v in numbers)
            except ValueError:
                raise ValueError(f"{pair.strip()!r} is not 'longitude,latitude'") from None
            ring.append([lon, lat])
        if ring and ring[0] != ring[-1]:
            ring.append(ring[0])
        geometry = {"type": "Polygon", "coordinates": [ring]}
    problem = geometry_problem(geometry)
    if problem is not None:
        raise ValueError(problem)
    assert isinstance(geometry, Mapping)
    if _positions(geometry) > MAX_PROJECT_POSITIONS:
        raise ValueError(f"more than {MAX_PROJECT_POSITIONS} positions")
    shape = {"type": geometry["type"], "coordinates": geometry["coordinates"]}
    return shape, area_of(shape)
