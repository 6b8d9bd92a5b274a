"""Control-unit geometry (pure): polygons with holes, multipolygons, and which
units hold a point, with a bounding-box grid so a city of units is fast.

Coordinates are longitude-latitude degrees (WGS 84 / CGCS2000, which agree to
well under a metre at a city's scale, rules.md §7); the tests are planar, as
at this scale the straight edges of the official layers are drawn planar.

**The border rule.** A unit is a *closed* set: a point exactly on an edge or a
vertex of its outer ring or of one of its holes belongs to it. So a point on
the border of two neighbouring units belongs to both, and ``units_at`` names
both (a pre-check shows every unit it touches, the strictest verdict wins);
where one unit must be chosen (an enterprise's own unit), it is the first by
unit code (``home_unit``). "Exactly" is exact: the side-of-edge test is
computed in floating point and, when that is too close to call, again in
exact rational arithmetic, so no rounding decides a border.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

Point = tuple[float, float]
Ring = tuple[Point, ...]
"""A closed ring: the first position repeated as the last."""

# Relative error bound of the floating-point cross product (Shewchuk's ccwerrboundA).
_CCW_BOUND = (3.0 + 16.0 * 2.0**-53) * 2.0**-53


def orientation(a: Point, b: Point, p: Point) -> int:
    """The side of ``p`` from the line a→b: 1 left, -1 right, 0 on it (exact)."""
    left = (b[0] - a[0]) * (p[1] - a[1])
    right = (b[1] - a[1]) * (p[0] - a[0])
    det = left - right
    if abs(det) > _CCW_BOUND * (abs(left) + abs(right)):
        return 1 if det > 0 else -1
    exact = (Fraction(b[0]) - Fraction(a[0])) * (Fraction(p[1]) - Fraction(a[1])) - (
        Fraction(b[1]) - Fraction(a[1])
    ) * (Fraction(p[0]) - Fraction(a[0]))
    return (exact > 0) - (exact < 0)


def _ring_position(ring: Ring, p: Point) -> int:
    """1 inside ``ring``, 0 on it, -1 outside (even-odd crossing count)."""
    x, y = p
    inside = False
    for a, b in itertools.pairwise(ring):
        if (a[1] > y) != (b[1] > y):
            side = orientation(a, b, p)
            if side == 0:
                return 0
            # The edge crosses the horizontal through p; it is right of p when p
            # lies on its left going up, or on its right going down.
            if (side > 0) == (b[1] > a[1]):
                inside = not inside
        elif (
            min(a[0], b[0]) <= x <= max(a[0], b[0])
            and min(a[1], b[1]) <= y <= max(a[1], b[1])
            and orientation(a, b, p) == 0
        ):
            return 0  # on a horizontal edge or a vertex
    return 1 if inside else -1


@dataclass(frozen=True, slots=True)
class Polygon:
    """An outer ring and its holes."""

    shell: Ring
    holes: tuple[Ring, ...] = ()

    def covers(self, p: Point) -> bool:
        """Whether ``p`` is inside or on the border (of the shell or a hole)."""
        where = _ring_position(self.shell, p)
        if where <= 0:
            return where == 0
        return all(_ring_position(hole, p) <= 0 for hole in self.holes)


@dataclass(frozen=True, slots=True)
class Bounds:
    west: float
    south: float
    east: float
    north: float

    def holds(self, p: Point) -> bool:
        return self.west <= p[0] <= self.east and self.south <= p[1] <= self.north


@dataclass(frozen=True, slots=True)
class Area:
    """One or more polygons (a GeoJSON Polygon or MultiPolygon)."""

    polygons: tuple[Polygon, ...]
    bounds: Bounds = field(init=False)

    def __post_init__(self) -> None:
        xs = [x for polygon in self.polygons for x, _ in polygon.shell]
        ys = [y for polygon in self.polygons for _, y in polygon.shell]
        object.__setattr__(self, "bounds", Bounds(min(xs), min(ys), max(xs), max(ys)))

    def covers(self, p: Point) -> bool:
        return self.bounds.holds(p) and any(polygon.covers(p) for polygon in self.polygons)


def _ring(positions: Sequence[Sequence[float]]) -> Ring:
    return tuple((float(position[0]), float(position[1])) for position in positions)


def area_of(geometry: Mapping[str, Any]) -> Area:
    """The area of a GeoJSON Polygon or MultiPolygon geometry (already checked,
    see ``zoning.units.geometry_problem``)."""
    parts = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    return Area(
        tuple(Polygon(_ring(rings[0]), tuple(_ring(hole) for hole in rings[1:])) for rings in parts)
    )


KM_PER_DEGREE_LAT = 110.574
KM_PER_DEGREE_LON_EQUATOR = 111.320


def distance_km(area: Area, p: Point) -> float:
    """How far ``p`` lies from ``area`` (0 inside or on it), in km, on a local
    equirectangular plane at ``p``'s latitude (metres off at a city's scale)."""
    if area.covers(p):
        return 0.0
    kx = KM_PER_DEGREE_LON_EQUATOR * math.cos(math.radians(p[1]))
    ky = KM_PER_DEGREE_LAT
    best = math.inf
    for polygon in area.polygons:
        for ring in (polygon.shell, *polygon.holes):
            for a, b in itertools.pairwise(ring):
                ax, ay = (a[0] - p[0]) * kx, (a[1] - p[1]) * ky
                bx, by = (b[0] - p[0]) * kx, (b[1] - p[1]) * ky
                dx, dy = bx - ax, by - ay
                length = dx * dx + dy * dy
                t = 0.0 if length == 0 else max(0.0, min(1.0, -(ax * dx + ay * dy) / length))
                best = min(best, math.hypot(ax + t * dx, ay + t * dy))
    return best


def _on_segment(a: Point, b: Point, p: Point) -> bool:
    """Whether ``p``, collinear with a→b, lies within the segment's box."""
    return min(a[0], b[0]) <= p[0] <= max(a[0], b[0]) and min(a[1], b[1]) <= p[1] <= max(a[1], b[1])


def segments_meet(a: Point, b: Point, c: Point, d: Point) -> bool:
    """Whether the closed segments a–b and c–d share a point (exact: touching
    at an end, or overlapping along a line, counts)."""
    o1, o2 = orientation(a, b, c), orientation(a, b, d)
    o3, o4 = orientation(c, d, a), orientation(c, d, b)
    if o1 != o2 and o3 != o4:
        return True  # they cross (or one ends on the other)
    return (
        (o1 == 0 and _on_segment(a, b, c))
        or (o2 == 0 and _on_segment(a, b, d))
        or (o3 == 0 and _on_segment(c, d, a))
        or (o4 == 0 and _on_segment(c, d, b))
    )


def _edges(polygon: Polygon) -> list[tuple[Point, Point]]:
    return [edge for ring in (polygon.shell, *polygon.holes) for edge in itertools.pairwise(ring)]


def _polygons_meet(p: Polygon, q: Polygon) -> bool:
    # Boundaries that share a point meet; otherwise one lies wholly inside the
    # other or they are apart, which a vertex of each tells.
    q_edges = _edges(q)
    for a, b in _edges(p):
        west, east = min(a[0], b[0]), max(a[0], b[0])
        south, north = min(a[1], b[1]), max(a[1], b[1])
        for c, d in q_edges:
            if (max(c[0], d[0]) < west or min(c[0], d[0]) > east
                    or max(c[1], d[1]) < south or min(c[1], d[1]) > north):  # fmt: skip
                continue
            if segments_meet(a, b, c, d):
                return True
    return q.covers(p.shell[0]) or p.covers(q.shell[0])


def _boxes_meet(a: Bounds, b: Bounds) -> bool:
    return a.west <= b.east and b.west <= a.east and a.south <= b.north and b.south <= a.north


def intersects(a: Area, b: Area) -> bool:
    """Whether two areas share a point (closed sets, as ``covers``: touching
    along a border or at a vertex counts)."""
    if not _boxes_meet(a.bounds, b.bounds):
        return False
    return any(_polygons_meet(p, q) for p in a.polygons for q in b.polygons)


def area_distance_km(area: Area, other: Area) -> float:
    """How far apart two areas are, in km (0 when they meet): the nearest
    vertex of one to the other (between areas that do not meet, the shortest
    distance always ends at a vertex of one of them)."""
    if intersects(area, other):
        return 0.0
    best = math.inf
    for first, second in ((area, other), (other, area)):
        for polygon in first.polygons:
            for ring in (polygon.shell, *polygon.holes):
                for vertex in ring[:-1]:
                    best = min(best, distance_km(second, vertex))
    return best


def ring_area(ring: Ring) -> float:
    """The signed planar area (shoelace): positive anticlockwise."""
    return sum(a[0] * b[1] - b[0] * a[1] for a, b in itertools.pairwise(ring)) / 2


class UnitIndex:
    """Units by a grid of bounding boxes: a point looks only at the units whose
    box overlaps its cell (a city of a few thousand units answers in
    microseconds rather than testing every polygon)."""

    def __init__(self, areas: Iterable[tuple[str, Area]], cells: int = 32) -> None:
        self._areas = sorted(areas, key=lambda item: item[0])
        boxes = [area.bounds for _, area in self._areas]
        self._west = min((b.west for b in boxes), default=0.0)
        self._south = min((b.south for b in boxes), default=0.0)
        width = max((b.east for b in boxes), default=1.0) - self._west
        height = max((b.north for b in boxes), default=1.0) - self._south
        self._cells = cells
        self._dx = (width or 1.0) / cells
        self._dy = (height or 1.0) / cells
        self._grid: dict[tuple[int, int], list[int]] = {}
        for number, box in enumerate(boxes):
            (i0, j0), (i1, j1) = self._cell(box.west, box.south), self._cell(box.east, box.north)
            for i in range(i0, i1 + 1):
                for j in range(j0, j1 + 1):
                    self._grid.setdefault((i, j), []).append(number)

    def _cell(self, x: float, y: float) -> tuple[int, int]:
        last = self._cells - 1
        i = min(max(math.floor((x - self._west) / self._dx), 0), last)
        j = min(max(math.floor((y - self._south) / self._dy), 0), last)
        return i, j

    def units_at(self, p: Point) -> list[str]:
        """The codes of the units covering ``p`` (border rule above), by code."""
        candidates = self._grid.get(self._cell(*p), [])
        return [self._areas[n][0] for n in candidates if self._areas[n][1].covers(p)]

    def units_meeting(self, area: Area) -> list[str]:
        """The codes of the units sharing a point with ``area`` (a planned
        project's polygon), by code."""
        box = area.bounds
        (i0, j0), (i1, j1) = self._cell(box.west, box.south), self._cell(box.east, box.north)
        candidates = {n for i in range(i0, i1 + 1) for j in range(j0, j1 + 1)
                      for n in self._grid.get((i, j), [])}  # fmt: skip
        return [self._areas[n][0] for n in sorted(candidates)
                if intersects(self._areas[n][1], area)]  # fmt: skip

    def home_unit(self, p: Point) -> str | None:
        """The one unit of ``p``: the first by code of those covering it."""
        found = self.units_at(p)
        return found[0] if found else None
