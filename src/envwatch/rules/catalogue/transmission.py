"""Missing data, offline devices (rules.md §2.3 B9), back-filled data (补传) and
data times no logger can mean."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import Field

from envwatch.rules.backfill import BackfillEpisode
from envwatch.rules.catalogue.base import (
    Rule,
    clock_text,
    register,
)
from envwatch.rules.model import (
    Finding,
    PointContext,
    Severity,
    Upload,
)
from envwatch.rules.parameters import Params, RuleSet


class OfflineParams(Params):
    after_minutes: float = Field(gt=0)


@register
class Offline(Rule):
    """B9 离线: nothing has arrived from the device for a while, by the city's
    arrival clock (when frames arrived, not the data times they carry), so a
    back-fill of old data is an arrival and a replay judges as live did."""

    id = "offline"
    for_stations = True
    kind = "transmission"
    version = 2
    params_model = OfflineParams
    severity = Severity.WARNING
    title_zh = "离线/数据缺失"
    watches_clock = True

    def on_arrival(
        self, state: Any, upload: Upload, arrival: datetime, context: PointContext, rules: RuleSet
    ) -> None:
        if not context.streams:
            return  # readings in batches: silence between batches is no outage
        last: datetime | None = state.get("last")
        if last is None or arrival > last:
            state["last"] = arrival
            state["last_frame"] = upload.frame_id
            state["last_data_time"] = upload.data_time
            state["reported"] = False  # a new arrival ends a silence, nothing else does

    def on_clock(
        self, state: Any, clock: datetime, context: PointContext, rules: RuleSet
    ) -> list[Finding]:
        last: datetime | None = state.get("last")
        if last is None or state.get("reported"):
            return []
        params = self.params_for(rules, context, None)
        silent = clock - last
        if silent < timedelta(minutes=params.after_minutes):
            return []
        state["reported"] = True
        probe = Upload(mn=context.mn, cn="", data_time=clock, values={})
        data_time: datetime | None = state.get("last_data_time")
        return [
            self.finding(
                probe,
                None,
                last,
                clock,
                f"自{clock_text(last)}起已{silent.total_seconds() / 60:.0f}分钟未收到数据（离线）",
                {
                    "last_received_at": last.isoformat(),
                    "last_data_time": None if data_time is None else data_time.isoformat(),
                    "frames": [state.get("last_frame")],
                },
                params,
            )
        ]


class BackfillParams(Params):
    late_after_minutes: float = Field(gt=0)
    """An upload arriving this long after its period ended is back-filled."""
    quiet_minutes: float = Field(gt=0)
    """A back-fill is over when no late upload arrived for this long."""
    longest_hours: float = Field(gt=0)
    """... or when it has lasted this long (reported, and a new one begins)."""
    max_held: int = Field(gt=0)
    """Out-of-order uploads held per device before a part of them is judged."""
    period_minutes: dict[str, float]
    """How long each command's data take (2061: an hour), by CN."""


@register
class Backfill(Rule):
    """补传: a device re-sent data late (``rules/backfill.py``); reported once
    per episode with its span, after its held uploads were judged."""

    id = "backfill"
    for_stations = True
    kind = "transmission"
    version = 1
    params_model = BackfillParams
    severity = Severity.NOTICE
    title_zh = "补传数据"
    reads = frozenset[str]()  # the engine routes late uploads; this rule reports them

    def report(self, episode: BackfillEpisode, context: PointContext, rules: RuleSet) -> Finding:
        params = self.params_for(rules, context, None)
        probe = Upload(mn=episode.mn, cn="", data_time=episode.first_data, values={})
        commands = "、".join(sorted(episode.commands))
        return self.finding(
            probe,
            None,
            episode.first_data,
            episode.last_data_end,
            f"补传数据{episode.uploads}条（{commands}），数据时间{clock_text(episode.first_data)}"
            f"至{clock_text(episode.last_data_end)}，于{clock_text(episode.first_arrival)}"
            f"至{clock_text(episode.last_arrival)}收到；已按数据时间顺序判定，"
            f"其中发现问题{episode.findings}项",
            {
                "uploads": episode.uploads,
                "judged_apart": episode.judged_held,
                "commands": sorted(episode.commands),
                "first_received_at": episode.first_arrival.isoformat(),
                "last_received_at": episode.last_arrival.isoformat(),
                "findings": episode.findings,
                "frames": episode.frames,
            },
            params,
        )


class ImplausibleDataTimeParams(Params):
    max_age_days: float = Field(gt=0)
    """Older than this before it arrived: not an upload the rules can judge."""
    max_ahead_hours: float = Field(gt=0)
    """Ahead of its arrival by more than this: a logger clock gone wrong."""
    earliest: datetime
    latest: datetime
    """Bounds for data whose arrival is unknown (and for any data)."""


@register
class ImplausibleDataTime(Rule):
    """A data time outside the plausible window around the frame's arrival
    (or outside absolute bounds): the upload is this finding, once an hour per
    device, and no input to the rules (nor to the data clock)."""

    id = "implausible_data_time"
    for_stations = True
    kind = "transmission"
    version = 1
    params_model = ImplausibleDataTimeParams
    severity = Severity.WARNING
    title_zh = "数据时间异常"
    gate = True

    def refuses(
        self, state: Any, upload: Upload, context: PointContext, rules: RuleSet
    ) -> list[Finding] | None:
        params = self.params_for(rules, context, None)
        when, arrived = upload.data_time, upload.received_at
        # Differences of times, never sums: total at the calendar's ends too.
        if params.earliest <= when <= params.latest and (
            arrived is None
            or (
                arrived - when <= timedelta(days=params.max_age_days)
                and when - arrived <= timedelta(hours=params.max_ahead_hours)
            )
        ):
            return None
        anchor = min(max(arrived or when, params.earliest), params.latest)
        hour = anchor.replace(minute=0, second=0, microsecond=0)
        if state.get("reported_hour") == hour:
            return []
        state["reported_hour"] = hour
        arrival = f"，接收时间{clock_text(arrived)}" if arrived is not None else ""
        return [
            self.finding(
                upload,
                None,
                hour,
                hour + timedelta(hours=1),
                f"数据时间{clock_text(when)}不可信{arrival}（允许提前{params.max_ahead_hours:g}小时、"
                f"补传{params.max_age_days:g}天以内）：该数据未参与规则判定，请核查数采仪时钟",
                {
                    "data_time": clock_text(when),
                    "received_at": None if arrived is None else clock_text(arrived),
                    "cn": upload.cn,
                    "frames": [upload.frame_id],
                },
                params,
            )
        ]
