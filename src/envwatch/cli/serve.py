"""``envwatch serve``: the HJ 212 gateway and the web together in one process,
optionally with the simulated loggers of the registry (as ``envwatch demo`` does)."""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from datetime import timedelta
from typing import Annotated

import typer
from sqlalchemy import Engine

from envwatch.settings import Settings, get_settings
from envwatch.store import partitions
from envwatch.store.db import make_engine, upgrade

# Hours of past data the simulated loggers start with (``--history``).
DEMO_HISTORY_HOURS = 6.0
HistoryOption = Annotated[
    float,
    typer.Option(
        min=0,
        max=24 * 30,
        help="Simulated loggers start this many hours in the past and catch up with the "
        "clock at --scale, then run in real time (never a data time in the future).",
    ),
]
DbOption = Annotated[
    str | None, typer.Option("--db", help="Database URL (default: ENVWATCH_DATABASE_URL).")
]


def host_port(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (an IPv6 host in brackets) as a pair."""
    host, colon, port = text.rpartition(":")
    if not colon or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise typer.BadParameter(f"{text!r} is not HOST:PORT")
    return host.strip("[]") or "127.0.0.1", int(port)


def stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)


async def run_platform(
    settings: Settings,
    engine: Engine,
    http: tuple[str, int],
    *,
    stop: asyncio.Event,
    simulate_scale: float | None = None,
    simulate_history: timedelta = timedelta(0),
) -> None:
    """Gateway, rules processing and web until ``stop``; with ``simulate_scale``,
    the registry's simulated loggers too (faults scripted on some, a few left
    silent), from ``simulate_history`` before now, catching up at that scale."""
    # Imported here so that the codec commands start without the web stack.
    import uvicorn  # noqa: PLC0415

    from envwatch.alerts.desk import AlertDesk  # noqa: PLC0415
    from envwatch.alerts.notify import Mail, Notifier  # noqa: PLC0415
    from envwatch.alerts.policy import load_policy  # noqa: PLC0415
    from envwatch.alerts.service import run_alert_loop  # noqa: PLC0415
    from envwatch.alerts.workflow import load_workflow  # noqa: PLC0415
    from envwatch.demo.judgement import seed_judgement  # noqa: PLC0415
    from envwatch.demo.simulator import (  # noqa: PLC0415
        SimClock,
        catch_up_start,
        choose_faults,
        load_points,
        never_connecting,
        newest_data_time,
        simulate,
    )
    from envwatch.gateway.server import run_gateway  # noqa: PLC0415
    from envwatch.hj212.codes import now_cst  # noqa: PLC0415
    from envwatch.judgement.core import load_parameters  # noqa: PLC0415
    from envwatch.judgement.scheduler import follow_judgement  # noqa: PLC0415
    from envwatch.permits.materialise import Materialiser, follow_emissions  # noqa: PLC0415
    from envwatch.processing import compaction  # noqa: PLC0415
    from envwatch.processing.worker import Processor, follow_archive  # noqa: PLC0415
    from envwatch.quality.daily import follow_quality  # noqa: PLC0415
    from envwatch.rectification.desk import configured_desk  # noqa: PLC0415
    from envwatch.rules.engine import default_rule_set  # noqa: PLC0415
    from envwatch.web.app import create_app  # noqa: PLC0415

    # PostgreSQL: this month's and the coming months' partitions before the
    # first insert, then kept so by the alert loop's sweeps.
    await asyncio.to_thread(partitions.at_start, engine, settings)
    gateway = asyncio.create_task(run_gateway(settings, engine, stop=stop))
    # Simulated loggers catching up send past data as if live: their data times
    # stand for arrival, and the wall clock must not move the arrival clock
    # (every device would seem offline, every upload back-filled).
    processor = Processor.create(
        engine, default_rule_set(settings.rules_file), simulated=simulate_scale is not None
    )
    processor.live_clock = simulate_scale is None
    processor.warm_up = timedelta(hours=settings.rules_warm_up_h)
    processing = asyncio.create_task(follow_archive(processor, stop))
    # Hourly emissions against the permits (排污审计), kept current as data arrive.
    emissions = asyncio.create_task(follow_emissions(Materialiser.create(engine), stop))
    desk = AlertDesk(
        engine, load_policy(settings.alert_policy_file), load_workflow(settings.alert_workflow_file)
    )
    notifier = Notifier(
        engine,
        Mail(settings.smtp_host, settings.smtp_port, settings.smtp_sender),
        settings.notify_timeout_s,
        settings.notify_max_attempts,
    )
    rectification = configured_desk(engine)
    keep_partitions = partitions.periodic(engine, settings, time.monotonic)
    alerting = asyncio.create_task(
        run_alert_loop(desk, notifier, stop, sweepers=(rectification.sweep, keep_partitions))
    )
    # The value blocks of closed days, for the columnar replay (processing/compaction.py).
    compacting = asyncio.create_task(compaction.follow_compaction(engine, settings, stop))
    quality = asyncio.create_task(follow_quality(engine, stop))
    # The weekly county judgement and its report, after each week ends.
    # A simulated city (the demo) gets its year of weekly snapshots in the
    # background, so the first page does not wait for them.
    judged_parameters = load_parameters(settings.judgement_parameters_file)
    backfill = None
    if simulate_scale is not None:
        history_end = now_cst().replace(tzinfo=None) - simulate_history

        def backfill() -> object:
            return seed_judgement(engine, history_end, judged_parameters)

    judging = asyncio.create_task(
        follow_judgement(engine, judged_parameters, stop, backfill=backfill)
    )
    web = uvicorn.Server(
        uvicorn.Config(create_app(engine), host=http[0], port=http[1], log_level="warning")
    )
    web_task = asyncio.create_task(web.serve())
    await asyncio.sleep(0.5)  # the gateway is listening by now
    typer.echo(
        f"HJ 212 gateway on {settings.gateway_host}:{settings.gateway_port}; "
        f"web on http://{http[0]}:{http[1]}/ (Ctrl-C stops)"
    )
    if simulate_scale is not None:
        every = load_points(engine)
        silent = never_connecting(every, seed=7)
        points = [point for point in every if point.mn not in silent]
        now = now_cst()
        history = simulate_history if simulate_scale > 1 else timedelta(0)
        start = catch_up_start(now, history, newest_data_time(engine))
        clock = SimClock(start, simulate_scale)
        typer.echo(
            f"{len(points)} simulated loggers and meters "
            f"({len(silent)} registered devices stay silent), from {start:%Y-%m-%d %H:%M} "
            f"at {simulate_scale:g}x real time until they catch up with the clock, "
            "then in real time"
        )

        async def live_clock_once_caught_up() -> None:
            if await clock.wait_caught_up(stop):
                processor.live_clock = True

        watcher = asyncio.create_task(live_clock_once_caught_up())
        await simulate(
            points,
            settings.gateway_host,
            settings.gateway_port,
            scale=simulate_scale,
            stop=stop,
            # Faults from the second simulated hour, or at once when there is
            # no past to catch up (a restarted demo).
            faults=choose_faults(points, min(start, now - timedelta(hours=1)), seed=7),
            clock=clock,
        )
        await watcher
    await stop.wait()
    web.should_exit = True
    await asyncio.gather(
        gateway, web_task, processing, alerting, quality, emissions, judging, compacting
    )


def for_simulated_loggers(settings: Settings) -> Settings:
    """``settings`` for a gateway that also serves the simulated city: its
    loggers all connect from this host, one address for hundreds of devices,
    whose scripted faults (garbage, bad CRC) at 60x real time would otherwise
    put the address over a single peer's connection and rejected-input budgets
    within minutes and stop the whole demo city for ``peer_ban_s``."""
    return settings.model_copy(
        update={
            "max_connections_per_peer": max(settings.max_connections_per_peer, 100_000),
            "peer_rejected_records_per_min": max(settings.peer_rejected_records_per_min, 1_000_000),
            "peer_rejected_bytes_per_min": max(settings.peer_rejected_bytes_per_min, 1 << 30),
        }
    )


def serve(
    db: DbOption = None,
    hj212: Annotated[
        str, typer.Option(help="HJ 212 gateway address, HOST:PORT.")
    ] = "127.0.0.1:9212",
    http: Annotated[str, typer.Option(help="Web address, HOST:PORT.")] = "127.0.0.1:8000",
    simulate: Annotated[
        bool, typer.Option(help="Also run a simulated logger for every registered device.")
    ] = False,
    scale: Annotated[float, typer.Option(help="Simulated seconds per real second.")] = 60.0,
    history: HistoryOption = DEMO_HISTORY_HOURS,
) -> None:
    """Run the platform: HJ 212 gateway, processing and web (平台服务)."""
    settings = get_settings()
    url = db or settings.database_url
    gateway_host, gateway_port = host_port(hj212)
    web = host_port(http)
    upgrade(url)
    settings = settings.model_copy(
        update={"database_url": url, "gateway_host": gateway_host, "gateway_port": gateway_port}
    )
    if simulate:
        settings = for_simulated_loggers(settings)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")

    async def main() -> None:
        stop = asyncio.Event()
        stop_on_signals(stop)
        await run_platform(
            settings, make_engine(url), web, stop=stop,
            simulate_scale=scale if simulate else None,
            simulate_history=timedelta(hours=history),
        )  # fmt: skip

    asyncio.run(main())
