"""Complaints (信访, 12345), pure: the row of a hotline export, distances,
the enterprises nearest to a complaint's place, and hotspots (complaints
close in place and time, clustered). The store's edge is ``complaint_desk.py``."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import Field, model_validator

from envwatch.rectification.policy import ComplaintPolicy
from envwatch.registry.importing import _Row

EARTH_RADIUS_M = 6_371_008.8
"""The mean Earth radius (IUGG), for great-circle distances."""


class ComplaintRow(_Row):
    """One row of a hotline export; the headers are the Chinese names (or the field names)."""

    channel: str = Field(alias="渠道", min_length=1, max_length=16)
    reference: str = Field(alias="工单号", min_length=1, max_length=64)
    received_at: datetime = Field(alias="受理时间")
    category: str = Field(alias="类别", min_length=1, max_length=32)
    content: str = Field(alias="诉求内容", min_length=2, max_length=10_000)
    address: str = Field(default="", alias="地址", max_length=300)
    longitude: float | None = Field(default=None, alias="经度", ge=73, le=136)
    latitude: float | None = Field(default=None, alias="纬度", ge=3, le=54)
    county: str = Field(alias="区县", min_length=1, max_length=64)
    complainant: str = Field(default="", alias="联系方式", max_length=200)

    @model_validator(mode="after")
    def _a_place(self) -> ComplaintRow:
        if (self.longitude is None) != (self.latitude is None):
            raise ValueError("经度 and 纬度 come together")
        if self.longitude is None and not self.address:
            raise ValueError("a place is needed: 地址, or 经度 and 纬度")
        return self


COMPLAINT_COLUMNS = [str(info.alias) for info in ComplaintRow.model_fields.values()]


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """The great-circle distance between two points (haversine), in metres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True, slots=True)
class Place:
    id: int
    name: str
    longitude: float
    latitude: float


def nearest(
    longitude: float, latitude: float, places: Iterable[Place], policy: ComplaintPolicy
) -> list[tuple[Place, float]]:
    """The places (enterprises) nearest to a point, within the policy's reach,
    nearest first, with their distances in metres."""
    reach = policy.nearest_within_km * 1000
    found = [(place, distance_m(longitude, latitude, place.longitude, place.latitude))
             for place in places]  # fmt: skip
    within = sorted(((p, d) for p, d in found if d <= reach), key=lambda pd: (pd[1], pd[0].id))
    return within[: policy.nearest]


@dataclass(frozen=True, slots=True)
class Located:
    """A complaint as the clustering sees it."""

    id: int
    received_at: datetime
    longitude: float
    latitude: float
    category: str


@dataclass(frozen=True, slots=True)
class Hotspot:
    complaint_ids: tuple[int, ...]
    longitude: float
    latitude: float
    first: datetime
    last: datetime
    categories: tuple[str, ...]


def hotspots(complaints: Sequence[Located], policy: ComplaintPolicy) -> list[Hotspot]:
    """Complaints linked when within ``hotspot_radius_m`` and ``hotspot_days``
    of each other, grouped by the links (single linkage); the groups of at
    least ``hotspot_min``, largest first. Quadratic in the complaints: a
    county's few hundred a season are what it is for."""
    parent = list(range(len(complaints)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    window = timedelta(days=policy.hotspot_days)
    ordered = sorted(range(len(complaints)), key=lambda i: complaints[i].received_at)
    for position, i in enumerate(ordered):
        a = complaints[i]
        for j in ordered[position + 1 :]:
            b = complaints[j]
            if b.received_at - a.received_at > window:
                break  # sorted by time: none later is within the window
            if distance_m(a.longitude, a.latitude, b.longitude, b.latitude) <= (
                policy.hotspot_radius_m
            ):
                parent[root(j)] = root(i)
    groups: dict[int, list[Located]] = {}
    for i, complaint in enumerate(complaints):
        groups.setdefault(root(i), []).append(complaint)
    found = [
        Hotspot(
            tuple(sorted(c.id for c in group)),
            sum(c.longitude for c in group) / len(group),
            sum(c.latitude for c in group) / len(group),
            min(c.received_at for c in group),
            max(c.received_at for c in group),
            tuple(sorted({c.category for c in group})),
        )
        for group in groups.values()
        if len(group) >= policy.hotspot_min
    ]
    return sorted(found, key=lambda h: (-len(h.complaint_ids), h.complaint_ids))
