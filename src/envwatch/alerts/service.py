"""The alert loop as ``envwatch serve`` runs it: new findings become alerts
at once, missed deadlines escalate every minute, and queued notifications go
out as they fall due. Deadlines live in the store, so they keep counting
across restarts."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence

from envwatch.alerts.desk import AlertDesk
from envwatch.alerts.notify import Notifier

log = logging.getLogger(__name__)


async def run_alert_loop(
    desk: AlertDesk,
    notifier: Notifier,
    stop: asyncio.Event,
    *,
    interval_s: float = 0.2,
    sweep_s: float = 60.0,
    sweepers: Sequence[Callable[[], int]] = (),
) -> None:
    """``sweepers``: other deadline sweeps run with the alerts' every
    ``sweep_s`` (the rectification desk's), so one loop escalates all."""
    # Delivery runs beside, never in, the loop that opens alerts: a slow
    # receiver delays no alert (and, delivered per target, no other receiver).
    delivery = asyncio.create_task(run_delivery_loop(notifier, stop), name="notify")
    loop = asyncio.get_running_loop()
    swept = loop.time() - sweep_s
    while not stop.is_set():
        taken = 0
        try:
            taken = await asyncio.to_thread(desk.run_once)
            if loop.time() - swept >= sweep_s:
                await asyncio.to_thread(desk.sweep)
                for sweep in sweepers:
                    await asyncio.to_thread(sweep)
                swept = loop.time()
        except Exception as error:  # the store may be down: try again
            log.warning("alert pass failed: %s", error)
        if not taken:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval_s)
    await delivery


async def run_delivery_loop(
    notifier: Notifier, stop: asyncio.Event, *, interval_s: float = 1.0
) -> None:
    """Deliver due notifications until ``stop``."""
    while not stop.is_set():
        try:
            await asyncio.to_thread(notifier.deliver_due)
        except Exception as error:  # the store may be down: try again
            log.warning("notification pass failed: %s", error)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval_s)
