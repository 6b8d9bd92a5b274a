"""Missing data and offline devices (rules.md §2.3 B9)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import Field

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
    """B9 离线: no upload for a while, by the city's data clock (the newest data
    time of any device), so replay and accelerated simulation judge alike."""

    id = "offline"
    kind = "transmission"
    version = 1
    params_model = OfflineParams
    severity = Severity.WARNING
    title_zh = "离线/数据缺失"
    watches_clock = True

    def on_upload(
        self, state: Any, upload: Upload, context: PointContext, rules: RuleSet
    ) -> list[Finding]:
        if not context.streams:
            return []  # readings in batches: silence between batches is no outage
        state["last"] = max(state.get("last", upload.data_time), upload.data_time)
        state["last_frame"] = upload.frame_id
        state["reported"] = False
        return []

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
        return [
            self.finding(
                probe,
                None,
                last,
                clock,
                f"自{clock_text(last)}起已{silent.total_seconds() / 60:.0f}分钟未收到数据（离线）",
                {"last_data_time": last.isoformat(), "frames": [state.get("last_frame")]},
                params,
            )
        ]
