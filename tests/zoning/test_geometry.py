"""Point in polygon against shapely (an independent implementation, GEOS), on
random points inside, outside, exactly on edges and vertices and in holes."""

from __future__ import annotations

import itertools
import json
import math

import pytest
import shapely
import shapely.affinity
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from envwatch.zoning.geometry import (
    KM_PER_DEGREE_LAT,
    KM_PER_DEGREE_LON_EQUATOR,
    Area,
    Polygon,
    Ring,
    UnitIndex,
    area_distance_km,
    distance_km,
    intersects,
    orientation,
)
from envwatch.zoning.units import parse_project_polygon

GRID = 0.125  # coordinates on a binary grid: edge midpoints are exact floats


def star(cx: float, cy: float, radii: list[float], phase: float) -> Ring:
    """A star-shaped ring around (cx, cy), snapped to the grid."""
    n = len(radii)
    points = []
    for k, r in enumerate(radii):
        angle = phase + 2 * math.pi * k / n
        x = round((cx + r * math.cos(angle)) / GRID) * GRID
        y = round((cy + r * math.sin(angle)) / GRID) * GRID
        points.append((x, y))
    return (*points, points[0])


@st.composite
def polygons(draw: st.DrawFn) -> Polygon:
    cx = draw(st.integers(-40, 40)) * GRID
    cy = draw(st.integers(-40, 40)) * GRID
    radii = draw(st.lists(st.floats(2.0, 6.0), min_size=3, max_size=12))
    shell = star(cx, cy, radii, draw(st.floats(0, 1)))
    holes: tuple[Ring, ...] = ()
    if draw(st.booleans()):
        hole_radii = draw(st.lists(st.floats(0.5, 1.5), min_size=3, max_size=6))
        holes = (star(cx, cy, hole_radii, draw(st.floats(0, 1))),)
    return Polygon(shell, holes)


def shapely_polygon(polygon: Polygon) -> shapely.Polygon:
    return shapely.Polygon(polygon.shell, list(polygon.holes))


def probes(data: st.DataObject, polygon: Polygon) -> list[tuple[float, float]]:
    """Random points, grid points (many exactly on edges), vertices and edge midpoints."""
    rings = (polygon.shell, *polygon.holes)
    vertices = [p for ring in rings for p in ring]
    midpoints = [
        ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
        for ring in rings
        for a, b in itertools.pairwise(ring)
    ]
    xs = [p[0] for p in polygon.shell]
    ys = [p[1] for p in polygon.shell]
    loose = st.tuples(st.floats(min(xs) - 1, max(xs) + 1), st.floats(min(ys) - 1, max(ys) + 1))
    snapped = st.tuples(
        st.integers(int(min(xs) / GRID) - 4, int(max(xs) / GRID) + 4).map(lambda i: i * GRID),
        st.integers(int(min(ys) / GRID) - 4, int(max(ys) / GRID) + 4).map(lambda j: j * GRID),
    )
    return [
        *data.draw(st.lists(loose, max_size=30)),
        *data.draw(st.lists(snapped, max_size=30)),
        *vertices,
        *midpoints,
    ]


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_covers_agrees_with_shapely(data: st.DataObject) -> None:
    polygon = data.draw(polygons())
    reference = shapely_polygon(polygon)
    assume(reference.is_valid)
    for point in probes(data, polygon):
        assert polygon.covers(point) == reference.covers(shapely.Point(point)), point


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_multipolygons_and_the_index_agree_with_shapely(data: st.DataObject) -> None:
    parts = [data.draw(polygons()) for _ in range(data.draw(st.integers(1, 3)))]
    references = [shapely_polygon(p) for p in parts]
    assume(all(r.is_valid for r in references))
    multi = shapely.MultiPolygon(references)
    assume(multi.is_valid)  # parts that overlap make no valid multipolygon
    area = Area(tuple(parts))
    others = [(f"U{k}", Area((p,))) for k, p in enumerate(parts)]
    index = UnitIndex([("M", area), *others], cells=data.draw(st.integers(1, 16)))
    for point in [q for part in parts for q in probes(data, part)]:
        expected = multi.covers(shapely.Point(point))
        assert area.covers(point) == expected, point
        held = {f"U{k}" for k, r in enumerate(references) if r.covers(shapely.Point(point))}
        assert set(index.units_at(point)) == held | ({"M"} if expected else set())


def test_a_point_on_a_shared_border_is_in_both_units_and_home_is_the_first_code() -> None:
    west = Area((Polygon(((0, 0), (1, 0), (1, 1), (0, 1), (0, 0))),))
    east = Area((Polygon(((1, 0), (2, 0), (2, 1), (1, 1), (1, 0))),))
    index = UnitIndex([("B-east", east), ("A-west", west)])
    assert index.units_at((1.0, 0.5)) == ["A-west", "B-east"]
    assert index.home_unit((1.0, 0.5)) == "A-west"
    assert index.units_at((0.5, 0.5)) == ["A-west"]
    assert index.units_at((1.5, 0.5)) == ["B-east"]
    assert index.units_at((3.0, 0.5)) == []


def test_a_point_on_a_hole_edge_is_in_the_unit_and_inside_the_hole_is_not() -> None:
    square = ((0.0, 0.0), (4.0, 0.0), (4.0, 4.0), (0.0, 4.0), (0.0, 0.0))
    hole = ((1.0, 1.0), (3.0, 1.0), (3.0, 3.0), (1.0, 3.0), (1.0, 1.0))
    polygon = Polygon(square, (hole,))
    assert polygon.covers((1.0, 2.0))  # on the hole's edge
    assert polygon.covers((3.0, 3.0))  # a vertex of the hole
    assert not polygon.covers((2.0, 2.0))  # in the hole
    assert polygon.covers((0.5, 2.0))


def test_orientation_is_exact_where_floating_point_cannot_tell() -> None:
    # Exactly on the line x = 3y; a last-bit step off it either way.
    assert orientation((0.0, 0.0), (3.0, 1.0), (1.5, 0.5)) == 0
    assert orientation((0.0, 0.0), (3.0, 1.0), (1.5, 0.5000000000000001)) == 1
    assert orientation((0.0, 0.0), (3.0, 1.0), (1.5, 0.49999999999999994)) == -1


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_distance_agrees_with_shapely_on_the_local_plane(data: st.DataObject) -> None:
    polygon = data.draw(polygons())
    reference = shapely_polygon(polygon)
    assume(reference.is_valid)
    area = Area((polygon,))
    for point in probes(data, polygon)[:20]:
        # The same plane: degrees scaled to km at the point's latitude.
        kx = KM_PER_DEGREE_LON_EQUATOR * math.cos(math.radians(point[1]))
        plane = shapely.affinity.scale(reference, kx, KM_PER_DEGREE_LAT, origin=(0, 0))
        at = shapely.Point(point[0] * kx, point[1] * KM_PER_DEGREE_LAT)
        expected = 0.0 if reference.covers(shapely.Point(point)) else plane.distance(at)
        assert distance_km(area, point) == pytest.approx(expected, rel=1e-6, abs=1e-6)


@settings(max_examples=120, deadline=None)
@given(st.data())
def test_a_project_polygon_meets_the_units_shapely_says_it_meets(data: st.DataObject) -> None:
    """Polygon against polygon (holes, touching borders and vertices on a grid)."""
    unit, project = data.draw(polygons()), data.draw(polygons())
    unit_ref, project_ref = shapely_polygon(unit), shapely_polygon(project)
    assume(unit_ref.is_valid and project_ref.is_valid)
    expected = unit_ref.intersects(project_ref)
    assert intersects(Area((unit,)), Area((project,))) == expected
    assert intersects(Area((project,)), Area((unit,))) == expected
    index = UnitIndex([("U", Area((unit,)))], cells=data.draw(st.integers(1, 8)))
    assert index.units_meeting(Area((project,))) == (["U"] if expected else [])
    if not expected:  # apart: the distance is shapely's on the local plane
        lat = project.shell[0][1]
        kx = KM_PER_DEGREE_LON_EQUATOR * math.cos(math.radians(lat))
        scale = {"xfact": kx, "yfact": KM_PER_DEGREE_LAT, "origin": (0, 0)}
        reference = shapely.affinity.scale(unit_ref, **scale).distance(
            shapely.affinity.scale(project_ref, **scale)
        )
        found = area_distance_km(Area((unit,)), Area((project,)))
        assert found == pytest.approx(reference, rel=0.05)


def test_a_project_inside_a_hole_touching_a_border_or_holding_a_unit() -> None:
    square = ((0.0, 0.0), (4.0, 0.0), (4.0, 4.0), (0.0, 4.0), (0.0, 0.0))
    hole = ((1.0, 1.0), (3.0, 1.0), (3.0, 3.0), (1.0, 3.0), (1.0, 1.0))
    unit = Area((Polygon(square, (hole,)),))
    inside_hole = Area((Polygon(((1.5, 1.5), (2.5, 1.5), (2.5, 2.5), (1.5, 1.5))),))
    assert not intersects(unit, inside_hole)
    touching = Area((Polygon(((4.0, 1.0), (5.0, 1.0), (5.0, 2.0), (4.0, 2.0), (4.0, 1.0))),))
    assert intersects(unit, touching)
    around = Area((Polygon(((-1.0, -1.0), (5.0, -1.0), (5.0, 5.0), (-1.0, 5.0), (-1.0, -1.0))),))
    assert intersects(unit, around) and intersects(around, unit)


def test_a_project_site_is_read_from_text_or_geojson_and_problems_are_named() -> None:
    shape, area = parse_project_polygon("116,36；116.1，36;116.1,36.1")
    assert shape["coordinates"][0][-1] == shape["coordinates"][0][0]  # closed for the caller
    assert area.covers((116.05, 36.01))
    feature = {"type": "Feature", "geometry": {"type": "MultiPolygon", "coordinates": [
        [[[0, 0], [1, 0], [1, 1], [0, 0]]], [[[2, 0], [3, 0], [3, 1], [2, 0]]]]}}  # fmt: skip
    assert len(parse_project_polygon(json.dumps(feature))[1].polygons) == 2
    for text, problem in (
        ("116,36;116.1,36", "fewer than 4"),
        ("116,36;x,y;1,2", "not 'longitude"),
        ('{"type": "Point"}', "not a Polygon"),
        ("{" + "[" * 100_000, "not a GeoJSON geometry"),
        ('{"a": ' + "[" * 5000 + "]" * 5000 + "}", "not a GeoJSON geometry"),  # too deep
    ):
        with pytest.raises(ValueError, match=problem):
            parse_project_polygon(text)
