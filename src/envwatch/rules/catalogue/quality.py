"""Environmental-quality warnings (issue 13): a station's real-time AQI above a
level, a station's PM2.5 far above its neighbours', a section worse than its
target class for the month so far. They read the hourly uploads (2061) of
quality stations' loggers (``PointContext.station``) and judge them with the
calculations of ``quality/`` by the edition in force on the data's date."""

from __future__ import annotations

import math
import statistics
from collections import deque
from datetime import datetime, timedelta
from typing import Any

from pydantic import Field

from envwatch.quality.aqi import hourly_report, realtime_indicators
from envwatch.quality.editions import air_editions
from envwatch.quality.water import exceedance_multiple, meets, section_class, water_standard
from envwatch.rules.catalogue.base import HOURLY, POINTS, Rule, clock_text, register
from envwatch.rules.model import Finding, PointContext, Severity, StationTraits, Upload
from envwatch.rules.parameters import Params, RuleSet


def station_values(upload: Upload, station: StationTraits, rules: RuleSet) -> dict[str, float]:
    """The upload's valid values by calculation name, in the calculations' units."""
    out: dict[str, float] = {}
    for code, values in upload.values.items():
        known = station.readings.get(code)
        if known is None or values.level is None:
            continue
        if (values.flag or "N") not in rules.validity.valid_flags:
            continue
        name, scale = known
        out[name] = values.level * scale
    return out


def _air_station(context: PointContext) -> StationTraits | None:
    station = context.station
    return station if station is not None and station.kind == "air" else None


class StationAqiParams(Params):
    aqi_level: int = Field(ge=0, le=500)
    """The real-time AQI above which a station warns (200: heavily polluted next)."""
    moving_min_hours: int = Field(ge=1, le=24)
    """Hours a 24-h moving mean needs (the 2012 real-time report uses them)."""
    o3_8h_min_hours: int = Field(ge=1, le=8)


@register
class StationAqi(Rule):
    """A station's real-time (hourly) AQI above the configured level, by the
    real-time report of the edition in force (2012: 9 indicators with the PM
    24-h and O3 8-h moving means; 2026: the six 1-h values). Once per run of
    such hours."""

    id = "station_aqi"
    for_stations = True
    kind = "quality"
    version = 1
    params_model = StationAqiParams
    severity = Severity.WARNING
    title_zh = "站点空气质量超过预警级别"
    reads = frozenset({HOURLY})
    devices = POINTS

    def new_state(self) -> Any:
        return {"hours": deque(maxlen=24), "above": False}

    def on_upload(
        self, state: Any, upload: Upload, context: PointContext, rules: RuleSet
    ) -> list[Finding]:
        station = _air_station(context)
        if station is None:
            return []
        params = self.params_for(rules, context, None)
        values = station_values(upload, station, rules)
        hours: deque[tuple[datetime, dict[str, float]]] = state["hours"]
        hours.append((upload.data_time, values))
        edition = air_editions().edition_for(upload.data_time.date())
        indicators = realtime_indicators(
            hours, upload.data_time,
            moving_min_hours=params.moving_min_hours, o3_8h_min_hours=params.o3_8h_min_hours,
        )  # fmt: skip
        report = hourly_report(edition, indicators)
        if report.aqi is None or report.aqi <= params.aqi_level:
            state["above"] = False
            return []
        if state["above"]:
            return []
        state["above"] = True
        level = report.level
        assert level is not None
        severity = Severity.ALARM if report.aqi > 300 else Severity.WARNING
        return [
            self.finding(
                upload, None, upload.data_time, upload.data_time + timedelta(hours=1),
                f"站点{station.code}在{clock_text(upload.data_time)}时段实时AQI为{report.aqi}"
                f"（{level.category_zh}），超过预警级别{params.aqi_level}；"
                f"首要污染物{'、'.join(report.primary)}",
                {
                    "station": station.code, "edition": edition.id, "aqi": report.aqi,
                    "level": level.number, "category": level.category_zh,
                    "primary": list(report.primary),
                    "iaqi": {k: v.iaqi for k, v in report.indicators.items()},
                    "values": {k: v for k, v in indicators.items() if v is not None},
                    "frames": [upload.frame_id],
                },
                params, severity,
            )
        ]  # fmt: skip


class NeighboursParams(Params):
    ratio: float = Field(gt=1)
    """How many times the neighbours' median a station's PM2.5 must reach."""
    min_excess: float = Field(ge=0)
    """…and by how much above it [µg/m³] (clean hours make small ratios loud)."""
    radius_km: float = Field(gt=0)
    min_neighbours: int = Field(ge=1)
    keep_hours: int = Field(ge=1, le=168)
    """How long an hour waits for its neighbours' uploads."""


EARTH_RADIUS_KM = 6371.0


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (longitude, latitude) points [km]."""
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


@register
class StationNeighbours(Rule):
    """A station's hourly PM2.5 far above the median of its neighbours' (the
    stations within the radius) in the same hour: a local source next to the
    analyser, or an analyser fault. Judged once per station-hour, when enough
    neighbours have reported; the state is shared by all air stations."""

    id = "station_neighbours"
    for_stations = True
    kind = "quality"
    version = 1
    params_model = NeighboursParams
    severity = Severity.NOTICE
    title_zh = "站点PM2.5显著高于周边站点"
    reads = frozenset({HOURLY})
    devices = POINTS

    def scope(self, context: PointContext) -> str:
        return "quality:air" if _air_station(context) else context.mn

    def new_state(self) -> Any:
        return {"hours": {}, "judged": set()}

    def on_upload(
        self, state: Any, upload: Upload, context: PointContext, rules: RuleSet
    ) -> list[Finding]:
        station = _air_station(context)
        if station is None or station.longitude is None or station.latitude is None:
            return []
        params = self.params_for(rules, context, "a34004")
        value = station_values(upload, station, rules).get("PM2_5")
        hour = upload.data_time
        seen: dict[datetime, dict[str, tuple[float, tuple[float, float], str, int | None]]] = state[
            "hours"
        ]
        if value is not None:
            seen.setdefault(hour, {})[context.mn] = (
                value, (station.longitude, station.latitude), station.code, upload.frame_id,
            )  # fmt: skip
        for old in [h for h in seen if h < hour - timedelta(hours=params.keep_hours)]:
            del seen[old]
            state["judged"] = {key for key in state["judged"] if key[1] != old}
        found = []
        reports = seen.get(hour, {})
        for mn, (level, position, code, frame) in reports.items():
            if (mn, hour) in state["judged"]:
                continue
            around = [
                other[0] for other_mn, other in reports.items()
                if other_mn != mn and distance_km(position, other[1]) <= params.radius_km
            ]  # fmt: skip
            if len(around) < params.min_neighbours:
                continue
            state["judged"].add((mn, hour))
            median = statistics.median(around)
            if level < median * params.ratio or level - median < params.min_excess:
                continue
            probe = Upload(mn=mn, cn=HOURLY, data_time=hour, values={}, frame_id=frame)
            found.append(self.finding(
                probe, "a34004", hour, hour + timedelta(hours=1),
                f"站点{code}在{clock_text(hour)}时段PM2.5为{level:.0f}µg/m³，"
                f"为周边{len(around)}个站点中位数{median:.0f}µg/m³的{level / median:.1f}倍",
                {"station": code, "value": round(level, 1), "neighbour_median": round(median, 1),
                 "neighbours": len(around), "frames": [frame]},
                params, mn=mn,
            ))  # fmt: skip
        return found


class SectionTargetParams(Params):
    min_samples: int = Field(ge=1)
    """Samples the month needs before its class is judged."""


@register
class SectionBelowTarget(Rule):
    """A section's water, by the mean of the month's samples so far, worse
    than its target class (GB 3838, single-factor method). Once per run:
    again only after the month meets its target or a new month begins."""

    id = "section_below_target"
    for_stations = True
    kind = "quality"
    version = 1
    params_model = SectionTargetParams
    severity = Severity.WARNING
    title_zh = "断面水质劣于目标类别"
    reads = frozenset({HOURLY})
    devices = POINTS

    def new_state(self) -> Any:
        return {"month": None, "sums": {}, "below": False}

    def on_upload(
        self, state: Any, upload: Upload, context: PointContext, rules: RuleSet
    ) -> list[Finding]:
        section = context.station
        if section is None or section.kind != "water" or section.target_class is None:
            return []
        params = self.params_for(rules, context, None)
        month = (upload.data_time.year, upload.data_time.month)
        if state["month"] != month:
            state.update(month=month, sums={}, below=False, frames=[])
        sums: dict[str, list[float]] = state["sums"]
        standard = water_standard()
        for name, value in station_values(upload, section, rules).items():
            if name in standard.items:
                total = sums.setdefault(name, [0.0, 0.0])
                total[0] += value
                total[1] += 1
        state["frames"] = [*state["frames"][-49:], upload.frame_id]
        samples = max((int(n) for _, n in sums.values()), default=0)
        if samples < params.min_samples:
            return []
        values = {name: total / n for name, (total, n) in sums.items() if n}
        judged = section_class(standard, values, lake=section.lake)
        if judged.water_class is None or meets(standard, judged.water_class, section.target_class):
            state["below"] = False
            return []
        if state["below"]:
            return []
        state["below"] = True
        exceeding = []
        for item in judged.items:
            multiple = exceedance_multiple(
                standard, item.item, item.value, section.target_class, lake=section.lake
            )
            if multiple is not None:
                exceeding.append({"item": item.item, "value": round(item.value, 3),
                                  "multiple": round(multiple, 2)})  # fmt: skip
        worst = judged.worst[0]
        codes = {name: code for code, (name, _) in section.readings.items()}
        words = "、".join(
            f"{standard.name_zh(str(e['item']))}超标{e['multiple']}倍" for e in exceeding
        )
        return [
            self.finding(
                upload, codes.get(worst.item), upload.data_time, upload.data_time,
                f"断面{section.code}本月截至{clock_text(upload.data_time)}水质为"
                f"{judged.water_class}类，劣于目标{section.target_class}类"
                + (f"（{words}）" if words else ""),
                {
                    "section": section.code, "month": f"{month[0]:04d}-{month[1]:02d}",
                    "water_class": judged.water_class, "target_class": section.target_class,
                    "samples": samples, "values": {k: round(v, 4) for k, v in values.items()},
                    "worst": [{"item": i.item, "value": round(i.value, 4), "class": i.water_class}
                              for i in judged.worst],
                    "exceeding": exceeding, "frames": [f for f in state["frames"] if f],
                },
                params,
            )
        ]  # fmt: skip
