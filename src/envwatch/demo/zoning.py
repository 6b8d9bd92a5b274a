"""The demo city's fictional control units (三线一单) with their access lists,
and its enterprises' emergency lists (pure; parameters in ``liaocheng.toml``
under ``[zoning]`` and ``[emergency_lists]``).

Per county on the map: a key unit around its centre (the demo enterprises
cluster there), a priority unit along a fictional river reach north of it,
and the county's own polygon as the general unit, with the other two as its
holes; each development zone a small unit of its own (the tourist resort a
priority one), a hole in its host's general unit. The units are checked by the
importer's own reader (``zoning.units.read_units``), so the demo is a valid
import."""

from __future__ import annotations

import json
import tomllib
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

from envwatch.demo.city import CITY_FILE, City
from envwatch.electricity.emergency import parse_measure
from envwatch.web.mapsvg import COUNTIES_FILE
from envwatch.zoning.access import EFFECT_WORDS
from envwatch.zoning.geometry import Area, area_of
from envwatch.zoning.units import read_units

IMPORTED_AT = datetime(2026, 11, 29, tzinfo=UTC)


@cache
def _settings() -> dict[str, Any]:
    data = tomllib.loads(CITY_FILE.read_text(encoding="utf-8"))
    return {"zoning": data["zoning"], "emergency_lists": data["emergency_lists"]}


def _box(lon: float, lat: float, half_lon: float, half_lat: float) -> list[list[float]]:
    """An anticlockwise rectangle (a hole's orientation does not matter here)."""
    west, east = round(lon - half_lon, 6), round(lon + half_lon, 6)
    south, north = round(lat - half_lat, 6), round(lat + half_lat, 6)
    return [[west, south], [east, south], [east, north], [west, north], [west, south]]


def _inside(ring: list[list[float]], shell: Area) -> bool:
    return all(shell.covers((p[0], p[1])) for p in ring)


def _apart(ring: list[list[float]], others: list[list[list[float]]]) -> bool:
    """Whether ``ring``'s box keeps clear of every other box."""
    west, south = ring[0]
    east, north = ring[2]
    return all(
        east < o[0][0] or o[2][0] < west or north < o[0][1] or o[2][1] < south for o in others
    )


def demo_units(city: City) -> list[dict[str, Any]]:
    """The demo control units as GeoJSON features."""
    settings = _settings()["zoning"]
    shapes = json.loads(COUNTIES_FILE.read_text(encoding="utf-8"))["features"]
    polygons = {str(f["properties"]["adcode"]): f["geometry"] for f in shapes}
    counties = {county.code: county for county in city.counties}
    features: list[dict[str, Any]] = []

    def feature(code: str, name: str, unit_type: str, county: str, rings: Any) -> None:
        features.append({"type": "Feature",
                         "properties": {"code": code, "name": name, "type": unit_type,
                                        "county": county},
                         "geometry": {"type": "Polygon", "coordinates": rings}})  # fmt: skip

    holes: dict[str, list[list[list[float]]]] = {}
    for county in city.counties:
        if county.host is None:
            continue
        half = settings["zone_half_width"]
        ring = _box(*county.centre, half, half)
        priority = county.code in settings["priority_zones"]
        feature(f"ZH{county.code}{'1' if priority else '2'}0001",
                f"{county.name_zh}{'优先保护单元' if priority else '重点管控单元'}（示例）",
                "优先保护" if priority else "重点管控", county.code, [ring])  # fmt: skip
        holes.setdefault(county.host, []).append(ring)
    for code, geometry in polygons.items():
        found = counties.get(code)
        if found is None:
            continue
        county = found
        # The largest part of the county's polygon is its general unit's shell.
        parts = [geometry["coordinates"]] if geometry["type"] == "Polygon" else (
            geometry["coordinates"])  # fmt: skip
        shell_ring = max(parts, key=lambda rings: len(rings[0]))[0]
        shell = area_of({"type": "Polygon", "coordinates": [shell_ring]})
        taken = [h for h in holes.get(code, []) if _inside(h, shell)]
        lon, lat = county.centre
        key = _box(lon, lat, settings["key_half_width"], settings["key_half_width"])
        if _inside(key, shell) and _apart(key, taken):
            feature(f"ZH{code}20001", f"{county.name_zh}工业集聚区重点管控单元（示例）",
                    "重点管控", code, [key])  # fmt: skip
            taken.append(key)
        reaches = [
            _box(lon, lat + offset, half_length, settings["river_half_width"])
            for offset in settings["river_offsets"]
            for half_length in settings["river_half_lengths"]
        ]
        river = next((r for r in reaches if _inside(r, shell) and _apart(r, taken)), None)
        if river is not None:
            feature(f"ZH{code}10001", f"{county.name_zh}河道生态优先保护单元（示例）",
                    "优先保护", code, [river])  # fmt: skip
            taken.append(river)
        feature(f"ZH{code}30001", f"{county.name_zh}一般管控单元（示例）", "一般管控", code,
                [shell_ring, *taken])  # fmt: skip
    _, problems = read_units(
        json.dumps({"type": "FeatureCollection", "features": features}).encode()
    )
    if problems:  # the demo data itself is wrong: fail loudly at seeding
        raise ValueError("; ".join(p.describe() for p in problems))
    return features


def demo_zoning_rows(city: City) -> dict[str, list[dict[str, Any]]]:
    """The ``control_unit`` and ``access_clause`` rows of the demo."""
    features = demo_units(city)
    units, _ = read_units(json.dumps({"type": "FeatureCollection", "features": features}).encode())
    zones = {county.code for county in city.counties if county.host is not None}
    unit_rows = []
    for unit in units:
        bounds = unit.area.bounds
        unit_rows.append({"code": unit.code, "name": unit.name, "unit_type": unit.unit_type,
                          "county_code": unit.county, "geometry": unit.geometry,
                          "west": bounds.west, "south": bounds.south, "east": bounds.east,
                          "north": bounds.north, "imported_at": IMPORTED_AT})  # fmt: skip
    clause_rows: list[dict[str, Any]] = []
    for unit in units:
        selector = "开发区" if unit.county in zones and unit.unit_type == "重点管控" else (
            unit.unit_type)  # fmt: skip
        for clause in _settings()["zoning"]["clause"]:
            if clause["unit_type"] == selector:
                clause_rows.append({"id": len(clause_rows) + 1, "unit_code": unit.code,
                                    "dimension": clause["dimension"],
                                    "effect": EFFECT_WORDS[clause["effect"]],
                                    "industries": clause["industries"],
                                    "text": clause["text"],
                                    "pollutants": clause.get("pollutants", "")})  # fmt: skip
    return {"control_unit": unit_rows, "access_clause": clause_rows}


def demo_emergency_lines(rows: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """An emergency-list line per graded enterprise with a production meter:
    that meter's circuit, with the measures of its grade."""
    settings = _settings()["emergency_lists"]
    production = {m["enterprise_id"]: m for m in rows["meter"] if m["kind"] == "production"}
    lines: list[dict[str, Any]] = []
    meters: list[dict[str, Any]] = []
    for enterprise in rows["enterprise"]:
        grade = enterprise["performance_grade"].rstrip("+")
        meter = production.get(enterprise["id"])
        if not grade or meter is None or grade not in settings:
            continue
        measures = {}
        for level, text in settings[grade].items():
            measure = parse_measure(text)
            if measure is not None:
                measures[level] = measure.text
        lines.append({"id": len(lines) + 1, "enterprise_id": enterprise["id"],
                      "season": settings["season"],
                      "valid_from": date.fromisoformat(settings["valid_from"]),
                      "valid_until": date.fromisoformat(settings["valid_until"]),
                      "name": meter["name"], "process": "", "measures": measures})  # fmt: skip
        meters.append({"line_id": len(lines), "meter_id": meter["id"]})
    return {"emergency_line": lines, "emergency_line_meter": meters}
