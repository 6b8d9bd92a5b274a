"""The judgement inside ``envwatch serve``: after each week ends (China
Standard Time) its snapshot is computed, the listing rule applied and the
weekly report kept; missed listing deadlines escalate."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Engine

from envwatch.hj212.codes import CHINA_STANDARD_TIME
from envwatch.judgement.core import Parameters
from envwatch.judgement.report import weekly_report
from envwatch.judgement.store import ListingDesk
from envwatch.judgement.weeks import last_ended_week

log = logging.getLogger(__name__)


def judge_once(engine: Engine, parameters: Parameters, now: datetime | None = None) -> str:
    """Judge the newest ended week (once: a kept snapshot and report are
    reused) and sweep the listings; the week judged."""
    now = now or datetime.now(UTC)
    week = last_ended_week(now.astimezone(CHINA_STANDARD_TIME))
    weekly_report(engine, week, parameters, now=now)
    ListingDesk(engine).sweep(now)
    return week


async def follow_judgement(
    engine: Engine,
    parameters: Parameters,
    stop: asyncio.Event,
    *,
    interval_s: float = 600.0,
    backfill: Callable[[], object] | None = None,
) -> None:
    """Keep the weekly judgement current while ``envwatch serve`` runs;
    ``backfill`` (the demo's year of weeks) runs first, off the web's way."""
    if backfill is not None:
        try:
            await asyncio.to_thread(backfill)
        except Exception as error:
            log.warning("judgement backfill failed: %s", error)
    while not stop.is_set():
        try:
            await asyncio.to_thread(judge_once, engine, parameters)
        except Exception as error:  # the store may be down: try again
            log.warning("judgement pass failed: %s", error)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval_s)
