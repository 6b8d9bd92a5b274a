"""``envwatch seed demo``, ``envwatch simulate`` and ``envwatch demo`` (all in one)."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
from typing import Annotated

import typer
import uvicorn

from envwatch.demo.seed import DemoAlreadySeededError, seed_demo
from envwatch.demo.simulator import choose_faults, load_points, never_connecting, simulate
from envwatch.gateway.server import run_gateway
from envwatch.hj212.codes import now_cst
from envwatch.settings import get_settings
from envwatch.store.db import make_engine, upgrade
from envwatch.web.app import create_app

seed_app = typer.Typer(help="Sample data.")

DbOption = Annotated[
    str | None, typer.Option("--db", help="Database URL (default: ENVWATCH_DATABASE_URL).")
]


@seed_app.command("demo")
def seed_demo_command(db: DbOption = None) -> None:
    """Load the demo city (Liaocheng, ~120 fictional enterprises) into an empty registry."""
    url = db or get_settings().database_url
    upgrade(url)
    try:
        counts = seed_demo(make_engine(url))
    except DemoAlreadySeededError:
        typer.echo("the registry already holds data: demo not loaded", err=True)
        raise typer.Exit(1) from None
    typer.echo(json.dumps(counts))


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)


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
) -> None:
    """Run a simulated data logger for every registered monitoring point."""
    settings = get_settings()
    points = load_points(make_engine(db or settings.database_url))

    async def main() -> None:
        stop = asyncio.Event()
        _stop_on_signals(stop)
        if duration:
            asyncio.get_running_loop().call_later(duration, stop.set)
        start = now_cst()
        stats = await simulate(
            points,
            host,
            port or settings.gateway_port,
            scale=scale,
            stop=stop,
            faults=choose_faults(points, start, seed=7) if faults else None,
            start=start,
        )
        typer.echo(json.dumps(dict(stats.counts)))

    asyncio.run(main())


def demo_command(
    db: DbOption = None,
    web_port: Annotated[int, typer.Option(help="Web port.")] = 8000,
    scale: Annotated[float, typer.Option(help="Simulated seconds per real second.")] = 60.0,
) -> None:
    """Everything on one machine: database, demo city, gateway, simulated loggers, web."""
    settings = get_settings()
    url = db or settings.database_url
    upgrade(url)
    engine = make_engine(url)
    try:
        counts = seed_demo(engine)
        typer.echo(f"demo city loaded: {counts}")
    except DemoAlreadySeededError:
        typer.echo("demo city already loaded")
    settings = settings.model_copy(update={"database_url": url})
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")

    async def main() -> None:
        stop = asyncio.Event()
        gateway = asyncio.create_task(run_gateway(settings, engine, stop=stop))
        web = uvicorn.Server(
            uvicorn.Config(
                create_app(), host=settings.gateway_host, port=web_port, log_level="warning"
            )
        )
        web_task = asyncio.create_task(web.serve())
        _stop_on_signals(stop)
        await asyncio.sleep(0.5)  # the gateway is listening by now
        silent = never_connecting(load_points(engine), seed=7)
        points = [point for point in load_points(engine) if point.mn not in silent]
        start = now_cst()
        typer.echo(
            f"{len(points)} simulated loggers ({len(silent)} registered points stay silent) -> "
            f"{settings.gateway_host}:{settings.gateway_port}; "
            f"web on http://{settings.gateway_host}:{web_port}/ (Ctrl-C stops)"
        )
        await simulate(
            points,
            settings.gateway_host,
            settings.gateway_port,
            scale=scale,
            stop=stop,
            faults=choose_faults(points, start, seed=7),
            start=start,
        )
        web.should_exit = True
        await asyncio.gather(gateway, web_task)

    asyncio.run(main())
