"""``envwatch writer``, ``envwatch worker`` and ``envwatch cluster status``
(``envwatch gateway --nats URL`` is the cluster's gateway)."""

from __future__ import annotations

import asyncio
import faulthandler
import json
import signal
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated

import typer
from sqlalchemy import Engine

from envwatch.cli.serve import stop_on_signals
from envwatch.settings import Settings, get_settings
from envwatch.store.db import make_engine

cluster_app = typer.Typer(help="Cluster mode on NATS JetStream (集群模式).")

NatsOption = Annotated[
    str | None,
    typer.Option(
        "--nats", help="NATS server URL(s), comma-separated (default: ENVWATCH_NATS_URL)."
    ),
]
DbOption = Annotated[
    str | None, typer.Option("--db", help="PostgreSQL URL (default: ENVWATCH_DATABASE_URL).")
]
MetricsOption = Annotated[
    int | None,
    typer.Option("--metrics-port", help="Serve /metrics, /livez and /readyz on this port."),
]
PartitionsOption = Annotated[
    int | None, typer.Option("--partitions", help="Partitions of the stream (all roles alike).")
]


def cluster_settings(
    nats: str | None, db: str | None, metrics_port: int | None = None, partitions: int | None = None
) -> Settings:
    settings = get_settings()
    updates: dict[str, object] = {}
    if nats is not None:
        updates["nats_url"] = nats
    if db is not None:
        updates["database_url"] = db
    if metrics_port is not None:
        updates["metrics_port"] = metrics_port
    if partitions is not None:
        updates["cluster_partitions"] = partitions
    settings = settings.model_copy(update=updates)
    if settings.nats_url is None:
        raise typer.BadParameter("cluster mode needs --nats or ENVWATCH_NATS_URL")
    return settings


def run_role(
    role: str,
    settings: Settings,
    main: Callable[[Settings, Engine, asyncio.Event], Awaitable[None]],
) -> None:
    from envwatch.cluster.metrics import json_logging  # noqa: PLC0415

    json_logging(role)
    # ``kill -USR1 PID`` prints every thread's stack: what a role that will not stop waits on.
    faulthandler.register(signal.SIGUSR1)

    async def run() -> None:
        # Every partition, lease round and desk loop waits on the database in a
        # thread: enough threads that a long pass never holds up a lease renewal.
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(max_workers=64, thread_name_prefix=role)
        )
        stop = asyncio.Event()
        stop_on_signals(stop)
        engine = make_engine(settings.database_url)
        try:
            await main(settings, engine, stop)
        finally:
            engine.dispose()

    asyncio.run(run())


def writer(
    nats: NatsOption = None,
    db: DbOption = None,
    metrics_port: MetricsOption = None,
    partitions: PartitionsOption = None,
) -> None:
    """Run an archive writer: stream partitions into PostgreSQL (归档写入)."""
    from envwatch.cluster.roles import run_writer_role  # noqa: PLC0415

    run_role("writer", cluster_settings(nats, db, metrics_port, partitions), run_writer_role)


def worker(
    nats: NatsOption = None,
    db: DbOption = None,
    metrics_port: MetricsOption = None,
    partitions: PartitionsOption = None,
) -> None:
    """Run a rule and alert worker (规则与告警).

    ``--nats`` is accepted for symmetry; the worker follows PostgreSQL."""
    from envwatch.cluster.roles import run_worker_role  # noqa: PLC0415

    run_role("worker", cluster_settings(nats, db, metrics_port, partitions), run_worker_role)


@cluster_app.command("status")
def status(nats: NatsOption = None, db: DbOption = None) -> None:
    """The stream, its consumers and their lag, positions and who holds what (JSON)."""
    from envwatch.cluster.status import cluster_status  # noqa: PLC0415

    settings = cluster_settings(nats, db)
    engine = make_engine(settings.database_url)
    try:
        report = asyncio.run(cluster_status(settings, engine))
    finally:
        engine.dispose()
    typer.echo(json.dumps(report, indent=2, ensure_ascii=False))


def web(
    db: DbOption = None,
    http: Annotated[str, typer.Option(help="Web address, HOST:PORT.")] = "127.0.0.1:8000",
) -> None:
    """Run the web application alone (a cluster's web tier; any number of them)."""
    import uvicorn  # noqa: PLC0415

    from envwatch.cli.serve import host_port  # noqa: PLC0415
    from envwatch.web.app import create_app  # noqa: PLC0415

    settings = get_settings()
    host, port = host_port(http)
    engine = make_engine(db or settings.database_url)
    uvicorn.run(create_app(engine), host=host, port=port, log_level="warning")
