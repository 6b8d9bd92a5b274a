"""``envwatch judge``: the weekly county judgement, 挂牌督办 listings,
interviews and eco-compensation; ``envwatch report weekly`` writes the weekly
report's files. A contract other tools rely on: JSON on stdout and exit 0, or
a refusal on stderr and exit 1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import Engine

from envwatch.audit.log import Actor
from envwatch.cli.common import DbOption, migrated_engine, peer, refuse
from envwatch.errors import PeerError
from envwatch.judgement.core import Parameters, load_parameters
from envwatch.judgement.store import (
    ListingDesk,
    compute_quarter,
    judge_week,
    record_interview,
    week_contract,
)
from envwatch.settings import get_settings

judge_app = typer.Typer(help="County judgement: weekly scores and ranks, 挂牌督办, 生态补偿.")
report_app = typer.Typer(help="Reports: the weekly judgement report (page, PDF, XLSX).")

ParametersOption = Annotated[
    Path | None,
    typer.Option("--parameters", help="A parameters TOML (default: the configured one)."),
]


def configured_parameters(path: Path | None = None) -> Parameters:
    return load_parameters(path or get_settings().judgement_parameters_file)


@contextmanager
def engine_for(db: str | None) -> Iterator[Engine]:
    """The migrated engine of ``db``, disposed when the command ends."""
    engine = migrated_engine(db)
    try:
        yield engine
    finally:
        engine.dispose()


def emit(document: Any) -> None:
    typer.echo(json.dumps(document, ensure_ascii=False, default=str))


@judge_app.command("week")
def week_command(
    week: Annotated[str, typer.Option("--week", help="ISO week, YYYY-Www (China Standard Time).")],
    db: DbOption = None,
    parameters: ParametersOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout (the contract).")] = True,
) -> None:
    """The week's snapshot (computed once and kept; an ended week only):
    {"week", "counties": [{"county", "score", "rank", "indicators"}], "listed"}."""
    with engine_for(db) as engine:
        try:
            snapshot = judge_week(engine, week, configured_parameters(parameters))
        except PeerError as error:
            raise refuse(error) from None
        with engine.connect() as connection:
            document = week_contract(connection, week, snapshot)
        if as_json:
            emit(document)
        else:
            for row in document["counties"]:
                typer.echo(f"{row['rank'] or '-':>3} {row['county']} {row['name']} {row['score']}")


@judge_app.command("listing")
def listing_command(
    listing_id: Annotated[int, typer.Argument(help="The listing's id.")],
    action: Annotated[str, typer.Argument(help="start, report, request_lift, lift, ...")],
    user: Annotated[str, typer.Option("--user", help="Who acts (a user of envwatch).")],
    note: Annotated[str, typer.Option("--note")] = "",
    db: DbOption = None,
) -> None:
    """Take an action on a 挂牌督办 listing as ``--user``; prints {"id", "state"}."""
    with engine_for(db) as engine:
        try:
            state = ListingDesk(engine).act(listing_id, action, user, peer=peer(), note=note)
        except PeerError as error:
            raise refuse(error) from None
        emit({"id": listing_id, "state": state})


@judge_app.command("interview")
def interview_command(
    county: Annotated[str, typer.Option("--county")],
    held_on: Annotated[str, typer.Option("--date", help="YYYY-MM-DD")],
    interviewees: Annotated[str, typer.Option("--interviewees")],
    problems: Annotated[str, typer.Option("--problems")],
    commitment: Annotated[
        list[str] | None, typer.Option("--commitment", help="TEXT@YYYY-MM-DD, repeatable.")
    ] = None,
    listing: Annotated[int | None, typer.Option("--listing")] = None,
    user: Annotated[str, typer.Option("--user")] = "admin",
    db: DbOption = None,
) -> None:
    """Record an accountability interview (约谈问责); prints {"id"}."""
    with engine_for(db) as engine:
        commitments = []
        for item in commitment or []:
            text, _, deadline = item.rpartition("@")
            commitments.append({"text": text or deadline, "deadline": deadline if text else None,
                                "done": False})  # fmt: skip
        try:
            interview = record_interview(
                engine, Actor(user, "city_supervisor", peer()), county=county,
                held_on=date.fromisoformat(held_on), interviewees=interviewees, problems=problems,
                commitments=commitments, listing_id=listing)  # fmt: skip
        except PeerError as error:
            raise refuse(error) from None
        emit({"id": interview})


@judge_app.command("eco")
def eco_command(
    quarter: Annotated[str, typer.Option("--quarter", help="YYYY-Qn")],
    db: DbOption = None,
    parameters: ParametersOption = None,
) -> None:
    """Each county's eco-compensation (生态补偿) for the quarter, computation shown."""
    with engine_for(db) as engine:
        try:
            rows = compute_quarter(engine, quarter, configured_parameters(parameters))
        except PeerError as error:
            raise refuse(error) from None
        emit({"quarter": quarter, "counties": rows})


@report_app.command("weekly")
def weekly_report_command(
    week: Annotated[str, typer.Option("--week", help="ISO week, YYYY-Www.")],
    out: Annotated[Path, typer.Option("--out", help="Directory for report.html/.pdf/.xlsx.")],
    db: DbOption = None,
    parameters: ParametersOption = None,
) -> None:
    """Write the week's report as report.html, report.pdf and report.xlsx."""
    from envwatch.judgement.report import weekly_report  # noqa: PLC0415

    with engine_for(db) as engine:
        try:
            report = weekly_report(engine, week, configured_parameters(parameters),
                                   now=datetime.now(UTC))  # fmt: skip
        except PeerError as error:
            raise refuse(error) from None
        out.mkdir(parents=True, exist_ok=True)
        (out / "report.html").write_text(report.html, encoding="utf-8")
        (out / "report.pdf").write_bytes(report.pdf)
        (out / "report.xlsx").write_bytes(report.xlsx)
        emit({"week": week, "snapshot": report.snapshot_id, "dir": str(out),
              "files": ["report.html", "report.pdf", "report.xlsx"]})  # fmt: skip


def analyse_command(
    measure: Annotated[str, typer.Option("--measure", help="alerts, exceedance, air, water, ...")],
    by: Annotated[
        str,
        typer.Option(
            "--by", help="county,industry,enterprise,pollutant,kind and day/week/month/quarter/year"
        ),
    ] = "county",
    period: Annotated[str, typer.Option("--period", help="YYYY, YYYY-Qn, YYYY-MM, YYYY-Www")] = "",
    zones: Annotated[
        str, typer.Option("--zones", help="apart, or host (with their district)")
    ] = "apart",
    top: Annotated[int | None, typer.Option("--top", min=1, max=1000)] = None,
    where: Annotated[
        list[str] | None, typer.Option("--where", help="DIMENSION=VALUE, repeatable.")
    ] = None,
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = True,
) -> None:
    """One analysis slice (分析研判): the measure by the dimensions over the
    period, with month-on-month and year-on-year; JSON on stdout."""
    from envwatch.judgement.facts import analyse  # noqa: PLC0415

    filters = dict(item.split("=", 1) for item in where or [] if "=" in item)
    chosen = period or datetime.now(UTC).strftime("%Y-%m")
    with engine_for(db) as engine:
        try:
            with engine.connect() as connection:
                document = analyse(connection, measure, by, chosen, filters=filters,
                                   zones=zones, top=top)  # fmt: skip
        except PeerError as error:
            raise refuse(error) from None
    if as_json:
        emit(document)
    else:
        for row in document["rows"]:
            typer.echo(" ".join(str(v) for v in row.values()))
