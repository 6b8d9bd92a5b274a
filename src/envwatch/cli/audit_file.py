"""``envwatch audit file``: an enterprise's permit audit file of a period
(审计式监管) written as PDF and XLSX into a directory, recorded as an
``audit_run``. A contract: a JSON summary on stdout and exit 0, or
``{"error": {"code", "message", "message_zh"}}`` on stdout and exit 1."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from envwatch.audit.log import Actor
from envwatch.cli.alerts import audit_app
from envwatch.cli.common import DbOption, cst_time, database_url, peer
from envwatch.cli.quality import fail
from envwatch.errors import PeerError
from envwatch.hj212.codes import now_cst
from envwatch.permits.audit_file import AuditError
from envwatch.store.db import make_engine, upgrade


def summary(run_id: int, document: dict[str, Any], pdf: Path, xlsx: Path) -> dict[str, Any]:
    """What stdout tells: the run, the files and the checks' verdicts."""
    return {
        "run": run_id,
        "enterprise": document["enterprise"]["id"],
        "period": document["period"]["label"],
        "as_of": document["as_of"],
        "newest_frame_id": document["newest_frame_id"],
        "pdf": str(pdf),
        "xlsx": str(xlsx),
        "checks": {check["code"]: check["status"] for check in document["checks"]},
        "problems": len(document["problems"]),
        "annual": document["annual"],
    }


@audit_app.command("file")
def file_command(
    enterprise: Annotated[int, typer.Option("--enterprise", help="Enterprise id.")],
    period: Annotated[str, typer.Option("--period", help="2026, 2026-Q3 or 2026-07.")],
    out: Annotated[Path, typer.Option("--out", help="Directory for the PDF and XLSX.")],
    db: DbOption = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Judge at this time (China Standard Time; default now)."),
    ] = None,
    by: Annotated[str, typer.Option("--by", help="Who makes the file.")] = "cli",
) -> None:
    """Write the enterprise's audit file of the period (PDF and XLSX)."""
    # Imported here: the PDF and spreadsheet writers would slow every command's start.
    from envwatch.permits.audit_store import create_audit_file  # noqa: PLC0415
    from envwatch.permits.materialise import Materialiser  # noqa: PLC0415
    from envwatch.rules.engine import default_rule_set  # noqa: PLC0415

    try:
        moment = now_cst().replace(tzinfo=None) if as_of is None else cst_time(as_of)
    except typer.BadParameter as error:
        fail(AuditError("bad_time", str(error), f"时间无效：{as_of}"))
    try:
        url = database_url(db)
        upgrade(url)
        materialiser = Materialiser.create(make_engine(url))
        materialiser.catch_up(moment)
        with materialiser.engine.begin() as connection:
            made = create_audit_file(
                connection, enterprise, period, moment, Actor(by, "cli", peer()),
                parameters=materialiser.parameters, rules=default_rule_set(),
            )  # fmt: skip
    except PeerError as error:  # a bad period, a configuration that fails its checks
        fail(error)
    if made is None:
        fail(AuditError("unknown_enterprise", f"no enterprise {enterprise}",
                        f"没有企业{enterprise}"))  # fmt: skip
    try:
        out.mkdir(parents=True, exist_ok=True)
        stem = f"audit-{enterprise}-{made.document['period']['label']}"
        pdf, xlsx = out / f"{stem}.pdf", out / f"{stem}.xlsx"
        pdf.write_bytes(made.pdf)
        xlsx.write_bytes(made.xlsx)
    except OSError as error:
        fail(AuditError("cannot_write", f"cannot write to {out}: {error}",
                        f"无法写入{out}：{error}"))  # fmt: skip
    typer.echo(json.dumps(summary(made.run_id, made.document, pdf, xlsx), ensure_ascii=False))
