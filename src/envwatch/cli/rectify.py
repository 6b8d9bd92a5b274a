"""``envwatch rectify``: rectification to closure (集中整改) from the command
line: import a feedback list, list problems, act on one, sweep deadlines,
progress by county."""

from __future__ import annotations

import json
import tomllib
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from sqlalchemy import select

from envwatch.alerts.scope import UserScope
from envwatch.audit.log import Actor
from envwatch.cli.common import DbOption, migrated_engine, peer, refuse
from envwatch.errors import PeerError
from envwatch.rectification.campaign_desk import (
    create_campaign,
    record_results,
    visible_campaign,
    visible_campaigns,
)
from envwatch.rectification.campaigns import CampaignSpec
from envwatch.rectification.complaint_desk import (
    import_complaints,
    reply,
    to_problem,
    visible_complaints,
    visible_hotspots,
)
from envwatch.rectification.desk import ProblemError, configured_desk
from envwatch.rectification.evidence import Upload
from envwatch.rectification.fire_desk import import_fire_points
from envwatch.rectification.importing import import_problems
from envwatch.rectification.problems import GROUPS, list_view, progress_table, table_file
from envwatch.rectification.queries import problem_dossier, progress
from envwatch.registry.importing import ImportFileError, RowError, read_table
from envwatch.store.schema import RectificationProblem

rectify_app = typer.Typer(help="Rectification to closure (集中整改): 交办 → 整改 → 验收 → 销号.")

JsonOption = Annotated[bool, typer.Option("--json", help="JSON lines.")]
CITY = UserScope("city_admin", None, None, "")
"""The command line reads as the city bureau."""


@rectify_app.command("import")
def import_command(
    path: Annotated[
        Path, typer.Argument(help="A feedback list, .csv or .xlsx.", exists=True, dir_okay=False)
    ],
    db: DbOption = None,
) -> None:
    """Import every problem of the list, or none: each bad row is reported as
    row, column, reason on stderr (exit 1, nothing imported). Prints
    {"imported": N, "ids": [...]}; each problem is assigned (交办) to its county."""
    engine = migrated_engine(db)
    try:
        ids, errors = import_problems(configured_desk(engine), path.name, path.read_bytes(),
                                      Actor("envwatch", "system", peer()))  # fmt: skip
    except ImportFileError as error:
        raise refuse(error) from None
    for problem in errors:
        typer.echo(f"row {problem.row}, column {problem.column or '-'}: {problem.reason}",
                   err=True)  # fmt: skip
    if errors:
        typer.echo(f"{len(errors)} problems: nothing imported", err=True)
        raise typer.Exit(1)
    typer.echo(json.dumps({"imported": len(ids), "ids": ids}))


@rectify_app.command("list")
def list_command(
    db: DbOption = None,
    as_json: JsonOption = False,
    state: Annotated[str | None, typer.Option("--state", help="Only in this state.")] = None,
    county: Annotated[str | None, typer.Option("--county", help="Only this county.")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only overdue ones.")] = False,
) -> None:
    """The problems, oldest first: JSON lines {"id", "source", "batch", "county",
    "title", "state", "deadline", "overdue", "responsible"}."""
    engine = migrated_engine(db)
    query = select(RectificationProblem).order_by(RectificationProblem.id)
    if state is not None:
        query = query.where(RectificationProblem.state == state)
    if county is not None:
        query = query.where(RectificationProblem.county_code == county)
    now = datetime.now(UTC)
    with engine.connect() as connection:
        for row in connection.execute(query):
            view = list_view(row, now)
            if overdue and not view["overdue"]:
                continue
            if as_json:
                typer.echo(json.dumps(view, ensure_ascii=False))
            else:
                mark = " 【逾期】" if view["overdue"] else ""
                typer.echo(f"#{row.id} {row.state:10} {row.county_code} {row.batch} "
                           f"{row.item_no}: {row.title} ({row.lead_unit}, "
                           f"{view['deadline']}){mark}")  # fmt: skip


@rectify_app.command("act")
def act_command(
    problem_id: Annotated[int, typer.Argument(help="The problem's id.")],
    action: Annotated[str, typer.Argument(help="start, report, apply, check, sign, ...")],
    user: Annotated[str, typer.Option("--user", help="Who acts (a user of envwatch).")],
    note: Annotated[str, typer.Option("--note", help="What was done, found or decided.")] = "",
    attach: Annotated[
        list[Path] | None, typer.Option("--attach", help="A file backing the action (evidence).")
    ] = None,
    target: Annotated[
        int | None, typer.Option("--target", help="The similar problem to link (link).")
    ] = None,
    db: DbOption = None,
) -> None:
    """Take an action on a problem as ``--user``; prints {"id", "state"}. Files
    are kept in the evidence store (SHA-256, size and type checked)."""
    uploads = []
    for path in attach or []:
        try:
            uploads.append(Upload(path.name, path.read_bytes()))
        except OSError as error:
            raise typer.BadParameter(f"cannot read {path}: {error}") from None
    engine = migrated_engine(db)
    try:
        state = configured_desk(engine).act(problem_id, action, user, peer=peer(), note=note,
                                              target=target, files=uploads)  # fmt: skip
    except PeerError as error:
        raise refuse(error) from None
    typer.echo(json.dumps({"id": problem_id, "state": state}))


@rectify_app.command("sweep")
def sweep_command(db: DbOption = None) -> None:
    """Escalate problems past their deadline (督办); prints {"escalated": N}."""
    engine = migrated_engine(db)
    typer.echo(json.dumps({"escalated": configured_desk(engine).sweep()}))


@rectify_app.command("progress")
def progress_command(
    db: DbOption = None,
    by: Annotated[
        str, typer.Option("--by", help="county, source, category (comma-separated).")
    ] = "county",
    file_format: Annotated[
        str, typer.Option("--format", help="json (lines), csv or xlsx.")
    ] = "json",
    out: Annotated[Path | None, typer.Option("--out", help="The CSV/XLSX file to write.")] = None,
) -> None:
    """Progress (problems, open, overdue, closed, closed on time, reopened) by
    county, source and/or category: JSON lines {"county", ..., "reopened"}, or
    a CSV/XLSX file."""
    keys = tuple(dict.fromkeys(part.strip() for part in by.split(",") if part.strip()))
    if not keys or set(keys) - set(GROUPS):
        raise typer.BadParameter(f"--by takes {', '.join(GROUPS)}")
    if file_format not in {"json", "csv", "xlsx"} or (file_format != "json" and out is None):
        raise typer.BadParameter("--format json, or csv/xlsx with --out FILE")
    engine = migrated_engine(db)
    with engine.connect() as connection:
        figures = progress(connection, CITY, datetime.now(UTC), keys)
    if file_format == "json":
        for line in figures:
            typer.echo(json.dumps(line, ensure_ascii=False))
        return
    assert out is not None
    out.write_bytes(table_file(progress_table(figures, keys), file_format))
    typer.echo(json.dumps({"file": str(out), "rows": len(figures)}))


@rectify_app.command("dossier")
def dossier_command(
    problem_id: Annotated[int, typer.Argument(help="The problem's id.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the ZIP.")],
    db: DbOption = None,
) -> None:
    """Write the problem's dossier (一案一档): a ZIP of problem.json, 案卷.txt,
    its evidence files and their SHA256SUMS; prints {"id", "file", "bytes"}."""
    engine = migrated_engine(db)
    desk = configured_desk(engine)
    try:
        with engine.connect() as connection:
            archive = problem_dossier(connection, CITY, problem_id, desk.workflow,
                                      datetime.now(UTC))  # fmt: skip
    except PeerError as error:
        raise refuse(error) from None
    if archive is None:
        raise refuse(ProblemError("unknown_problem", f"no problem {problem_id}",
                                  f"没有编号为{problem_id}的整改事项"))  # fmt: skip
    out.write_bytes(archive)
    typer.echo(json.dumps({"id": problem_id, "file": str(out), "bytes": len(archive)}))


def _rejected(errors: list[RowError]) -> typer.Exit:
    """Print each bad row as row, column, reason on stderr; the exit to raise."""
    for problem in errors:
        typer.echo(f"row {problem.row}, column {problem.column or '-'}: {problem.reason}",
                   err=True)  # fmt: skip
    typer.echo(f"{len(errors)} problems: nothing imported", err=True)
    return typer.Exit(1)


@rectify_app.command("fire-import")
def fire_import_command(
    path: Annotated[
        Path,
        typer.Argument(
            help="A satellite fire-point export, .csv or .xlsx.", exists=True, dir_okay=False
        ),
    ],
    db: DbOption = None,
) -> None:
    """Import satellite fire points of straw burning (秸秆焚烧火点), every new
    one or none (row, column, reason on stderr, exit 1): each located to its
    county, each in a county a problem to check, assigned to the county; a fire
    id imported before is left as it is. Prints {"imported", "known", "outside",
    "problems"}."""
    engine = migrated_engine(db)
    try:
        done, errors = import_fire_points(configured_desk(engine), path.name, path.read_bytes(),
                                          Actor("envwatch", "system", peer()))  # fmt: skip
    except ImportFileError as error:
        raise refuse(error) from None
    if errors:
        raise _rejected(errors)
    typer.echo(json.dumps(done.as_json()))


campaign_app = typer.Typer(help="Inspection campaigns (大排查大整治): create, results, progress.")
rectify_app.add_typer(campaign_app, name="campaign")


def _spec_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, ValueError) as error:
        raise typer.BadParameter(f"cannot read {path}: {error}") from None
    if not isinstance(data, dict):
        raise typer.BadParameter(f"{path}: a table (TOML) or an object (JSON) is needed")
    return data


@campaign_app.command("create")
def campaign_create_command(
    path: Annotated[
        Path, typer.Argument(help="The campaign, .toml or .json.", exists=True, dir_okay=False)
    ],
    db: DbOption = None,
) -> None:
    """Create a campaign: name, theme, starts_on, ends_on, counties, items
    [{text, legal_basis, severity}], targets [{kind, id}]; every part or none
    (each problem on stderr, exit 1). Prints {"id"}."""
    try:
        spec = CampaignSpec.model_validate(_spec_file(path))
    except ValidationError as error:
        raise _rejected([RowError(0, ".".join(str(p) for p in e["loc"]), e["msg"])
                         for e in error.errors()]) from None  # fmt: skip
    engine = migrated_engine(db)
    campaign, errors = create_campaign(configured_desk(engine), spec,
                                       Actor("envwatch", "system", peer()))  # fmt: skip
    if errors:
        raise _rejected(errors)
    typer.echo(json.dumps({"id": campaign}))


@campaign_app.command("results")
def campaign_results_command(
    campaign: Annotated[int, typer.Argument(help="The campaign's id.")],
    path: Annotated[
        Path, typer.Argument(help="Results, .csv or .xlsx.", exists=True, dir_okay=False)
    ],
    user: Annotated[str, typer.Option("--user", help="Who inspected (a user of envwatch).")],
    db: DbOption = None,
) -> None:
    """Record inspection results (对象类型, 对象编号, 检查项, 结果, 说明), every
    row or none (row, column, reason on stderr, exit 1); each failed item opens
    one problem. Prints {"recorded", "problems"}."""
    engine = migrated_engine(db)
    try:
        rows = read_table(path.name, path.read_bytes())
        opened, errors = record_results(configured_desk(engine), campaign, user, rows,
                                        peer=peer())  # fmt: skip
    except PeerError as error:
        raise refuse(error) from None
    if errors:
        raise _rejected(errors)
    typer.echo(json.dumps({"recorded": len(rows), "problems": opened}))


@campaign_app.command("list")
def campaign_list_command(db: DbOption = None) -> None:
    """The campaigns, newest first, as JSON lines."""
    engine = migrated_engine(db)
    with engine.connect() as connection:
        items, _ = visible_campaigns(connection, CITY, configured_desk(engine), limit=100_000)
    for item in items:
        typer.echo(json.dumps(item, ensure_ascii=False))


@campaign_app.command("progress")
def campaign_progress_command(
    campaign: Annotated[int, typer.Argument(help="The campaign's id.")], db: DbOption = None
) -> None:
    """Progress by county (targets, inspected, items failed, problems opened and
    closed; the last line is the whole campaign's) as JSON lines."""
    engine = migrated_engine(db)
    with engine.connect() as connection:
        found = visible_campaign(connection, CITY, campaign, configured_desk(engine))
    if found is None:
        raise refuse(ProblemError("unknown_campaign", f"no campaign {campaign}",
                                  f"没有编号为{campaign}的排查整治行动"))  # fmt: skip
    for line in found["progress"]:
        typer.echo(json.dumps(line, ensure_ascii=False))


complaints_app = typer.Typer(
    help="Complaints (信访/12345): import, list, hotspots, reply, to a problem."
)
CITY = UserScope("city_admin", None, None, "")
"""The command line reads as the city bureau."""


@complaints_app.command("import")
def complaints_import_command(
    path: Annotated[
        Path, typer.Argument(help="A hotline export, .csv or .xlsx.", exists=True, dir_okay=False)
    ],
    db: DbOption = None,
) -> None:
    """Import every complaint of the export, or none (row, column, reason on stderr, exit 1)."""
    engine = migrated_engine(db)
    try:
        ids, errors = import_complaints(configured_desk(engine), path.name, path.read_bytes(),
                                        Actor("envwatch", "system", peer()))  # fmt: skip
    except ImportFileError as error:
        raise refuse(error) from None
    for problem in errors:
        typer.echo(f"row {problem.row}, column {problem.column or '-'}: {problem.reason}",
                   err=True)  # fmt: skip
    if errors:
        typer.echo(f"{len(errors)} problems: nothing imported", err=True)
        raise typer.Exit(1)
    typer.echo(json.dumps({"imported": len(ids), "ids": ids}))


@complaints_app.command("list")
def complaints_list_command(
    db: DbOption = None,
    county: Annotated[str | None, typer.Option("--county", help="Only this county.")] = None,
) -> None:
    """The complaints, newest first, as JSON lines."""
    engine = migrated_engine(db)
    with engine.connect() as connection:
        items, _ = visible_complaints(connection, CITY, county=county, limit=100_000)
    for item in items:
        typer.echo(json.dumps(item, ensure_ascii=False))


@complaints_app.command("hotspots")
def complaints_hotspots_command(db: DbOption = None) -> None:
    """Complaints close in place and time, clustered (policy.toml [complaints]), as JSON lines."""
    engine = migrated_engine(db)
    with engine.connect() as connection:
        for spot in visible_hotspots(connection, CITY, configured_desk(engine)):
            typer.echo(json.dumps(spot, ensure_ascii=False))


@complaints_app.command("reply")
def complaints_reply_command(
    complaint_id: Annotated[int, typer.Argument(help="The complaint's id.")],
    user: Annotated[str, typer.Option("--user", help="Who replies.")],
    text: Annotated[str, typer.Option("--text", help="The reply to the complainant.")],
    db: DbOption = None,
) -> None:
    """Record the reply to the complainant (答复)."""
    engine = migrated_engine(db)
    try:
        reply(configured_desk(engine), complaint_id, user, text, peer=peer())
    except PeerError as error:
        raise refuse(error) from None
    typer.echo(json.dumps({"id": complaint_id, "state": "replied"}))


@complaints_app.command("to-problem")
def complaints_to_problem_command(
    complaint_id: Annotated[int, typer.Argument(help="The complaint's id.")],
    user: Annotated[str, typer.Option("--user", help="Who decides.")],
    lead_unit: Annotated[str, typer.Option("--lead-unit", help="The responsible unit.")],
    deadline: Annotated[str, typer.Option("--deadline", help="The last day, YYYY-MM-DD.")],
    measures: Annotated[str, typer.Option("--measures", help="What is to be done.")] = "",
    db: DbOption = None,
) -> None:
    """Turn the complaint into a rectification problem, assigned to its county;
    prints {"complaint", "problem"}."""
    try:
        last_day = date.fromisoformat(deadline)
    except ValueError:
        raise typer.BadParameter(f"{deadline!r} is not a day (YYYY-MM-DD)") from None
    engine = migrated_engine(db)
    try:
        problem = to_problem(configured_desk(engine), complaint_id, user, lead_unit=lead_unit,
                             deadline=last_day, measures=measures, peer=peer())  # fmt: skip
    except PeerError as error:
        raise refuse(error) from None
    typer.echo(json.dumps({"complaint": complaint_id, "problem": problem}))
