"""``envwatch seed demo``, ``envwatch simulate`` and ``envwatch demo`` (all in one)."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import timedelta
from typing import Annotated

import typer

from envwatch.cli.serve import (
    DEMO_HISTORY_HOURS,
    DbOption,
    HistoryOption,
    serve,
    stop_on_signals,
)
from envwatch.demo.ledger import seed_ledger
from envwatch.demo.quality_seed import (
    HISTORY_DAYS,
    seed_province,
    seed_quality_history,
    seed_quality_targets,
)
from envwatch.demo.rectification import seed_bottom_line, seed_rectification
from envwatch.demo.seed import DEMO_PASSWORD, DemoAlreadySeededError, seed_demo
from envwatch.demo.simulator import (
    SimClock,
    catch_up_start,
    choose_faults,
    load_points,
    newest_data_time,
    simulate,
)
from envwatch.hj212.codes import now_cst
from envwatch.settings import get_settings
from envwatch.store.db import make_engine, upgrade

seed_app = typer.Typer(help="Sample data.")


@seed_app.command("demo")
def seed_demo_command(db: DbOption = None) -> None:
    """Load the demo city (Liaocheng, ~120 fictional enterprises) into an empty registry."""
    url = db or get_settings().database_url
    upgrade(url)
    try:
        engine = make_engine(url)
        counts = seed_demo(engine, emergency=True)
    except DemoAlreadySeededError:
        typer.echo("the registry already holds data: demo not loaded", err=True)
        raise typer.Exit(1) from None
    counts["rectification_problem"] = seed_rectification(engine)
    counts |= seed_bottom_line(engine)
    counts |= seed_ledger(engine)
    typer.echo(json.dumps(counts))


def simulate_command(
    db: DbOption = None,
    host: Annotated[str, typer.Option(help="Gateway address.")] = "127.0.0.1",
    port: Annotated[int | None, typer.Option(help="Gateway port.")] = None,
    scale: Annotated[float, typer.Option(help="Simulated seconds per real second.")] = 60.0,
    duration: Annotated[
        float, typer.Option(help="Stop after this many real seconds (0: never).")
    ] = 0.0,
    faults: Annotated[
        bool, typer.Option(help="Script faults on about 12 % of the loggers.")
    ] = True,
    history: HistoryOption = DEMO_HISTORY_HOURS,
) -> None:
    """Run a simulated data logger for every registered monitoring point."""
    settings = get_settings()
    engine = make_engine(db or settings.database_url)
    points = load_points(engine)
    now = now_cst()
    past = timedelta(hours=history) if scale > 1 else timedelta(0)
    start = catch_up_start(now, past, newest_data_time(engine))

    async def main() -> None:
        stop = asyncio.Event()
        stop_on_signals(stop)
        if duration:
            asyncio.get_running_loop().call_later(duration, stop.set)
        stats = await simulate(
            points,
            host,
            port or settings.gateway_port,
            stop=stop,
            faults=choose_faults(points, min(start, now - timedelta(hours=1)), seed=7)
            if faults
            else None,
            clock=SimClock(start, scale),
        )
        typer.echo(json.dumps(dict(stats.counts)))

    asyncio.run(main())


def demo_command(
    db: DbOption = None,
    hj212: Annotated[
        str, typer.Option(help="HJ 212 gateway address, HOST:PORT.")
    ] = "127.0.0.1:9212",
    http: Annotated[str, typer.Option(help="Web address, HOST:PORT.")] = "127.0.0.1:8000",
    scale: Annotated[float, typer.Option(help="Simulated seconds per real second.")] = 60.0,
    history: HistoryOption = DEMO_HISTORY_HOURS,
    quality_days: Annotated[
        int,
        typer.Option(
            min=0,
            max=3000,
            help="Days of air-station and river-section history seeded before the "
            "simulated loggers take over (the first run only).",
        ),
    ] = HISTORY_DAYS,
) -> None:
    """Everything on one machine: database, demo city, gateway, simulated loggers, web."""
    url = db or get_settings().database_url
    upgrade(url)
    engine = make_engine(url)
    try:
        counts = seed_demo(engine, emergency=True)
        counts["rectification_problem"] = seed_rectification(engine)
        counts |= seed_bottom_line(engine)
        counts |= seed_ledger(engine)
        typer.echo(f"demo city loaded: {counts}")
        if quality_days:
            started = time.monotonic()
            end = now_cst().replace(tzinfo=None) - timedelta(hours=history)
            frames = seed_quality_history(engine, end, quality_days)
            seed_quality_targets(engine, end.year)
            seed_province(engine, end.date())
            typer.echo(
                f"air and water quality history: {quality_days} days, {frames} frames "
                f"in {time.monotonic() - started:.0f} s"
            )
            # The closed days' value blocks, for the columnar replay (then kept by the sweep).
            from envwatch.processing.compaction import compact  # noqa: PLC0415

            built = compact(engine)
            typer.echo(f"value blocks: {built.blocks} of {built.days} closed days")
    except DemoAlreadySeededError:
        typer.echo("demo city already loaded")
    typer.echo(
        f"demo logins (password {DEMO_PASSWORD}): admin, supervisor, enforcer, viewer, "
        "county-371502 (东昌府区; county-<code> for each county), enterprise-1, contractor-1, "
        "contractor-2"
    )
    serve(db=url, hj212=hj212, http=http, simulate=True, scale=scale, history=history)
