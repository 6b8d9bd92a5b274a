"""``envwatch findings list`` and ``envwatch rules replay``."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

import typer
from sqlalchemy import Engine, select

from envwatch.cli.common import DbOption, cst_time, database_url
from envwatch.processing.columnar_replay import Shard, replay_columnar, shard_of
from envwatch.processing.quarantine import list_quarantined
from envwatch.processing.replay_jobs import county_devices
from envwatch.processing.worker import replay
from envwatch.rules.engine import default_rule_set
from envwatch.rules.parameters import RuleSet
from envwatch.settings import get_settings
from envwatch.store.db import make_engine
from envwatch.store.schema import FindingRecord
from envwatch.times import cst_text

findings_app = typer.Typer(help="Findings of the rules (去伪存真).")
rules_app = typer.Typer(help="The rules engine.")


def finding_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "mn": row.mn,
        "pollutant": row.pollutant or None,
        "rule": row.rule,
        "rule_version": row.rule_version,
        "window_start": cst_text(row.window_start),
        "window_end": cst_text(row.window_end),
        "severity": row.severity,
        "explanation": row.explanation,
        "evidence": row.evidence,
    }


@findings_app.command("list")
def list_command(
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines.")] = False,
    mn: Annotated[str | None, typer.Option("--mn", help="Only this device.")] = None,
    rule: Annotated[str | None, typer.Option("--rule", help="Only this rule.")] = None,
) -> None:
    """The findings, oldest first: as JSON lines {"id", "mn", "pollutant", "rule",
    "rule_version", "window_start", "window_end", "severity", "explanation", "evidence"}."""
    query = select(FindingRecord).order_by(FindingRecord.window_start, FindingRecord.id)
    if mn is not None:
        query = query.where(FindingRecord.mn == mn)
    if rule is not None:
        query = query.where(FindingRecord.rule == rule)
    engine = make_engine(database_url(db))
    with engine.connect() as connection:
        for row in connection.execute(query.execution_options(yield_per=1000)):
            if as_json:
                typer.echo(json.dumps(finding_json(row), ensure_ascii=False))
            else:
                typer.echo(
                    f"{row.window_start:%Y-%m-%d %H:%M} {row.severity:7} {row.rule:14} "
                    f"{row.mn} {row.pollutant or '-'}: {row.explanation}"
                )


@rules_app.command("replay")
def replay_command(
    since: Annotated[str, typer.Option("--since", help="From (China Standard Time).")],
    until: Annotated[str, typer.Option("--until", help="Until, exclusive.")],
    db: DbOption = None,
    simulated: Annotated[
        bool,
        typer.Option(
            "--simulated",
            help="The frames came from the demo's simulated loggers: receive times "
            "say nothing (history they sent live would be judged a back-fill).",
        ),
    ] = False,
    columnar: Annotated[
        bool,
        typer.Option(
            "--columnar",
            help="The rules with a columnar form judge each device's window in column "
            "form (fast); the others stream. Findings are replaced device by device.",
        ),
    ] = False,
    rules: Annotated[
        str | None, typer.Option("--rules", help="Only these rules (R,...; with --columnar).")
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Report new, removed and changed findings; write nothing."),
    ] = False,
    resume: Annotated[
        bool,
        typer.Option("--resume", help="Go on after the devices an interrupted run replaced."),
    ] = False,
    shard: Annotated[
        str | None,
        typer.Option(
            "--shard",
            help="k/n: replay only every n-th device from the k-th (k from 0), so n "
            "processes split the devices (with --columnar).",
        ),
    ] = None,
    county: Annotated[
        str | None,
        typer.Option("--county", help="Only the points of this county's enterprises (code)."),
    ] = None,
) -> None:
    """Recompute the findings of the stored uploads with DataTime in [since, until):
    the window's findings are replaced by what the current rules find."""
    start, end = cst_time(since), cst_time(until)
    if end <= start:
        raise typer.BadParameter("--until must be after --since")
    settings = get_settings()
    if columnar or rules is not None or dry_run or resume or shard or county:
        try:
            share = shard_of(shard) if shard else None
        except ValueError as error:
            raise typer.BadParameter(str(error)) from error
        engine = make_engine(db or settings.database_url)
        _replay_columnar(
            engine,
            start,
            end,
            default_rule_set(settings.rules_file),
            rules=rules.split(",") if rules else None,
            trust_arrival=not simulated,
            dry_run=dry_run,
            resume=resume,
            shard=share,
            devices=county_devices(engine, county) if county else None,
        )
        return
    count = replay(
        make_engine(db or settings.database_url),
        start,
        end,
        default_rule_set(settings.rules_file),
        trust_arrival=not simulated,
    )
    typer.echo(json.dumps({"since": cst_text(start), "until": cst_text(end), "findings": count}))


def _replay_columnar(
    engine: Engine,
    start: datetime,
    end: datetime,
    rule_set: RuleSet,
    *,
    rules: list[str] | None,
    trust_arrival: bool,
    dry_run: bool,
    resume: bool,
    shard: Shard | None,
    devices: list[str] | None,
) -> None:
    """The columnar replay, with a progress bar on a terminal; prints its report as JSON."""
    show = sys.stderr.isatty()

    def progress(done: int, total: int) -> None:
        if show:
            width = 40
            filled = width * done // max(total, 1)
            sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
            sys.stderr.flush()

    try:
        report = replay_columnar(
            engine, start, end, rule_set, rules=rules, trust_arrival=trust_arrival,
            dry_run=dry_run, resume=resume, shard=shard, devices=devices, progress=progress,
        )  # fmt: skip
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error
    if show:
        sys.stderr.write("\n")
    typer.echo(
        json.dumps({"since": cst_text(start), "until": cst_text(end), **asdict(report)},
                   ensure_ascii=False)
    )  # fmt: skip


@rules_app.command("quarantine")
def quarantine_command(
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines.")] = False,
    mn: Annotated[str | None, typer.Option("--mn", help="Only this device.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000)] = 100,
) -> None:
    """Uploads the rules set aside (a rule failed on them), newest first: as JSON
    lines {"id", "mn", "cn", "data_time", "frame_id", "rule", "error",
    "quarantined_at"}; processing went on past each."""
    listed = list_quarantined(make_engine(database_url(db)), mn=mn, limit=limit)
    for item in listed["items"]:
        if as_json:
            typer.echo(json.dumps(item, ensure_ascii=False))
        else:
            typer.echo(
                f"{item['quarantined_at']} {item['mn']} {item['cn'] or '-'} "
                f"{item['data_time'] or '-'} {item['rule']}: {item['error']}"
            )
    if not as_json:
        typer.echo(f"{listed['total']} quarantined")
