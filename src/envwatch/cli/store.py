"""``envwatch db``, ``envwatch archive`` and ``envwatch gateway``."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from envwatch.gateway.server import run_gateway
from envwatch.registry.coverage import coverage
from envwatch.settings import get_settings
from envwatch.store.archive import verify
from envwatch.store.db import make_engine, upgrade
from envwatch.store.partitions import PlanError, Retention, at_start, maintain, month_of

db_app = typer.Typer(help="Database: migrations.")
archive_app = typer.Typer(help="Raw archive: integrity.")
store_app = typer.Typer(help="Database storage: PostgreSQL partitions, value blocks.")

DbOption = Annotated[
    str | None, typer.Option("--db", help="Database URL (default: ENVWATCH_DATABASE_URL).")
]


def _url(db: str | None) -> str:
    return db or get_settings().database_url


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None) -> None:
    """Create or migrate the database to the current schema."""
    upgrade(_url(db))
    typer.echo("database is at the current schema")


@archive_app.command("verify")
def archive_verify(
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Check every hash chain of the raw archive; name the first broken link of each.

    Exit status 0 when every chain is intact, 1 otherwise.
    """
    report = verify(make_engine(_url(db)))
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "chains": report.chains,
                    "links": report.links,
                    "broken": [
                        {"chain": b.chain, "seq": b.seq, "id": b.row_id, "reason": b.reason}
                        for b in report.broken
                    ],
                }
            )
        )
    else:
        typer.echo(f"{report.chains} chains, {report.links} links checked")
        for broken in report.broken:
            row = "-" if broken.row_id is None else broken.row_id
            typer.echo(
                f"BROKEN chain {broken.chain}: link {broken.seq} (row {row}): {broken.reason}"
            )
    if report.broken:
        raise typer.Exit(1)


def _month(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a month YYYY-MM") from None


@store_app.command("partitions")
def store_partitions(
    db: DbOption = None,
    ahead: Annotated[
        int | None,
        typer.Option(
            min=0, help="Months created ahead (default: ENVWATCH_PARTITIONS_AHEAD_MONTHS)."
        ),
    ] = None,
    detach_before: Annotated[
        str | None,
        typer.Option(
            help="Detach every table's partitions of months before YYYY-MM (default: the "
            "ENVWATCH_RETAIN_*_MONTHS settings; unset: none)."
        ),
    ] = None,
    dry_run: Annotated[bool, typer.Option(help="Print the plan, change nothing.")] = False,
) -> None:
    """Create the monthly partitions ahead, detach old ones for archive (PostgreSQL)
    and report rows waiting in the DEFAULT partitions; prints JSON."""
    settings = get_settings()
    today = datetime.now(UTC).date()
    cut = _month(detach_before)
    limits = (
        Retention(
            archive=settings.retain_archive_months,
            measurement=settings.retain_measurement_months,
            hourly=settings.retain_hourly_months,
        ).detach_before(today)
        if cut is None
        else dict.fromkeys(("archived_frame", "measurement", "hourly_emission"), month_of(cut))
    )
    engine = make_engine(_url(db))
    try:
        report = maintain(
            engine,
            today=today,
            ahead=settings.partitions_ahead_months if ahead is None else ahead,
            detach_before=limits,
            dry_run=dry_run,
        )
    except PlanError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    typer.echo(json.dumps(report, ensure_ascii=False))


def _day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a day YYYY-MM-DD") from None


@store_app.command("compact")
def store_compact(
    db: DbOption = None,
    since: Annotated[
        str | None,
        typer.Option(help="First day YYYY-MM-DD (default: the last closed days' lookback)."),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(
            help="Day after the last, YYYY-MM-DD (default and at most: the first open day)."
        ),
    ] = None,
    rebuild: Annotated[bool, typer.Option(help="Build again the blocks that exist, too.")] = False,
) -> None:
    """Build the value blocks of closed days (a device's day of uploads in
    column form, what the columnar replay reads) that lack one; prints JSON."""
    from envwatch.processing.compaction import compact  # noqa: PLC0415

    engine = make_engine(_url(db))
    try:
        report = compact(engine, _day(since), _day(until), rebuild=rebuild)
    finally:
        engine.dispose()
    typer.echo(json.dumps(report.as_dict()))


def gateway(
    db: DbOption = None,
    host: Annotated[str | None, typer.Option(help="Listen address.")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port.")] = None,
    nats: Annotated[
        str | None,
        typer.Option(
            "--nats",
            help="Cluster mode: publish to NATS JetStream at this URL "
            "(default: ENVWATCH_NATS_URL; none: store in --db directly).",
        ),
    ] = None,
    metrics_port: Annotated[
        int | None, typer.Option("--metrics-port", help="Cluster mode: /metrics, /livez, /readyz.")
    ] = None,
    partitions: Annotated[
        int | None, typer.Option("--partitions", help="Cluster mode: partitions of the stream.")
    ] = None,
) -> None:
    """Run the HJ 212 ingest gateway until SIGINT or SIGTERM."""
    settings = get_settings()
    updates: dict[str, object] = {"database_url": _url(db)}
    if nats is not None:
        updates["nats_url"] = nats
    if metrics_port is not None:
        updates["metrics_port"] = metrics_port
    if partitions is not None:
        updates["cluster_partitions"] = partitions
    if host is not None:
        updates["gateway_host"] = host
    if port is not None:
        updates["gateway_port"] = port
    settings = settings.model_copy(update=updates)
    if settings.nats_url is not None:
        from envwatch.cli.cluster import run_role  # noqa: PLC0415
        from envwatch.cluster.roles import run_gateway_role  # noqa: PLC0415

        run_role("gateway", settings, run_gateway_role)
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        engine = make_engine(settings.database_url)
        # PostgreSQL: this month's partitions before the first frame is stored.
        await asyncio.to_thread(at_start, engine, settings)
        await run_gateway(settings, engine, stop=stop)

    asyncio.run(main())


def coverage_command(
    db: DbOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON lines, one per county.")
    ] = False,
) -> None:
    """Coverage per county (应装尽装、应联尽联): key enterprises without a monitor or
    meter, points never connected or offline now, and the connection rate."""
    settings = get_settings()
    report = coverage(
        make_engine(_url(db)), datetime.now(UTC), timedelta(seconds=settings.offline_after_s)
    )
    for county in report:
        if as_json:
            typer.echo(
                json.dumps(
                    {
                        "county": county.code,
                        "name": county.name_zh,
                        "key_enterprises": county.key_enterprises,
                        "without_monitor": county.without_monitor,
                        "without_meter": county.without_meter,
                        "points": county.points,
                        "online": county.online,
                        "offline": county.offline,
                        "never_connected": county.never_connected,
                        "connection_rate": county.connection_rate,
                    },
                    ensure_ascii=False,
                )
            )
            continue
        rate = "-" if county.connection_rate is None else f"{county.connection_rate:.0%}"
        typer.echo(
            f"{county.name_zh} ({county.code}): 重点企业 {county.key_enterprises}, "
            f"未装监测 {len(county.without_monitor)}, 未装电表 {len(county.without_meter)}; "
            f"点位 {county.points}, 在线 {county.online}, 离线 {len(county.offline)}, "
            f"从未联网 {len(county.never_connected)}, 联网率 {rate}"
        )


def backup_command(
    target: Annotated[Path, typer.Argument(help="The backup file to write.")],
    db: DbOption = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing backup file.")] = False,
) -> None:
    """Back the SQLite database up while the platform runs (在线备份)."""
    from envwatch.store.backup import BackupError, backup  # noqa: PLC0415

    try:
        pages = backup(_url(db), target, overwrite=overwrite)
    except BackupError as error:
        raise typer.BadParameter(str(error)) from error
    typer.echo(f"backed up {pages} pages to {target}")


def restore_command(
    source: Annotated[Path, typer.Argument(help="The backup file to restore.")],
    db: DbOption = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing database.")] = False,
) -> None:
    """Restore a SQLite backup (stop the platform first), then verify its chains (恢复)."""
    from envwatch.store.backup import BackupError, restore  # noqa: PLC0415

    url = _url(db)
    try:
        pages = restore(source, url, overwrite=overwrite)
    except BackupError as error:
        raise typer.BadParameter(str(error)) from error
    upgrade(url)  # a backup of an older version comes to the current schema
    report = verify(make_engine(url))
    typer.echo(f"restored {pages} pages; {report.chains} chains, {report.links} links, "
               f"{len(report.broken)} broken")  # fmt: skip
    if report.broken:
        raise typer.Exit(1)
