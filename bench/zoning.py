"""Which control unit holds a point: the bounding-box grid index against
testing every unit, for a city of units (``--quick``: a few, same keys).

A synthetic province-sized layer: ``units`` square-ish star polygons of 60
vertices on a grid (Shandong has 2 358 land units, rules.md §7), a tenth with
a hole; ``points`` random points over the layer. Prints one JSON object:
lookups per second with the index and by scanning every unit, best of 3;
and planned projects' sites (8-vertex polygons about 1 km across) met
against the layer per second, with the index (checked against a scan).
Its smoke test: ``tests/zoning/test_bench_smoke.py``."""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from collections.abc import Callable, Sequence
from typing import Any

from envwatch.zoning.geometry import Area, Polygon, Ring, UnitIndex, intersects


def star(cx: float, cy: float, radius: float, vertices: int, rng: random.Random) -> Ring:
    points = [
        (cx + radius * rng.uniform(0.7, 1.0) * math.cos(2 * math.pi * k / vertices),
         cy + radius * rng.uniform(0.7, 1.0) * math.sin(2 * math.pi * k / vertices))
        for k in range(vertices)
    ]  # fmt: skip
    return (*points, points[0])


def layer(units: int, rng: random.Random) -> list[tuple[str, Area]]:
    side = math.ceil(math.sqrt(units))
    found = []
    for n in range(units):
        cx, cy = 115.0 + (n % side) * 0.05, 35.0 + (n // side) * 0.05
        holes = (star(cx, cy, 0.005, 12, rng),) if n % 10 == 0 else ()
        found.append((f"U{n:05d}", Area((Polygon(star(cx, cy, 0.024, 60, rng), holes),))))
    return found


def rate(lookup: Callable[[Any], object], items: Sequence[Any]) -> float:
    best = math.inf
    for _ in range(3):
        started = time.perf_counter()
        for item in items:
            lookup(item)
        best = min(best, time.perf_counter() - started)
    return len(items) / best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    quick = parser.parse_args().quick
    rng = random.Random(4754)
    units = layer(50 if quick else 2400, rng)
    side = math.ceil(math.sqrt(len(units))) * 0.05
    points = [(115.0 + rng.uniform(-0.03, side), 35.0 + rng.uniform(-0.03, side))
              for _ in range(200 if quick else 5000)]  # fmt: skip
    started = time.perf_counter()
    index = UnitIndex(units, cells=64)
    built = time.perf_counter() - started

    def scan(point: tuple[float, float]) -> list[str]:
        return [code for code, area in units if area.covers(point)]

    assert all(index.units_at(p) == scan(p) for p in points[:200])
    sites = [Area((Polygon(star(x, y, 0.005, 8, rng)),)) for x, y in points[:1000]]

    def scan_sites(site: Area) -> list[str]:
        return [code for code, area in units if intersects(area, site)]

    assert all(index.units_meeting(s) == scan_sites(s) for s in sites[:50])
    print(json.dumps({
        "units": len(units),
        "points": len(points),
        "index_build_s": round(built, 4),
        "lookups_per_s_index": round(rate(index.units_at, points)),
        "lookups_per_s_scan": round(rate(scan, points[: max(20, len(points) // 50)])),
        "sites": len(sites),
        "site_checks_per_s_index": round(rate(index.units_meeting, sites)),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
