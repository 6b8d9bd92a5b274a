"""The ``envwatch`` command line."""

from __future__ import annotations

import typer

from envwatch.cli import audit_file as _audit_file  # noqa: F401 - registers ``audit file``
from envwatch.cli.alerts import alerts_app, audit_app, cases_app, notify_app, users_app
from envwatch.cli.cluster import cluster_app, web, worker, writer
from envwatch.cli.contractors import contractors_app
from envwatch.cli.data import data_app
from envwatch.cli.demo import demo_command, seed_app, simulate_command
from envwatch.cli.electricity import electricity_app
from envwatch.cli.emergency import emergency_app
from envwatch.cli.hj212 import hj212_app
from envwatch.cli.judge import analyse_command, judge_app, report_app
from envwatch.cli.ledger import carbon_app, positive_app, quota_app
from envwatch.cli.maintenance import maintenance_app
from envwatch.cli.permits import permits_app
from envwatch.cli.quality import quality_app
from envwatch.cli.rectify import complaints_app, rectify_app
from envwatch.cli.registry import registry_app
from envwatch.cli.rules import findings_app, rules_app
from envwatch.cli.serve import serve
from envwatch.cli.store import (
    archive_app,
    backup_command,
    coverage_command,
    db_app,
    gateway,
    restore_command,
    store_app,
)
from envwatch.cli.tokens import token_app
from envwatch.cli.zoning import zoning_app

app = typer.Typer(
    name="envwatch",
    help="envwatch: smart environmental supervision platform (智慧环境监管平台).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(hj212_app, name="hj212")
app.add_typer(db_app, name="db")
app.add_typer(archive_app, name="archive")
app.add_typer(store_app, name="store")
app.add_typer(seed_app, name="seed")
app.add_typer(registry_app, name="registry")
app.add_typer(electricity_app, name="electricity")
app.add_typer(data_app, name="data")
app.add_typer(token_app, name="token")
app.add_typer(findings_app, name="findings")
app.add_typer(rules_app, name="rules")
app.add_typer(maintenance_app, name="maintenance")
app.add_typer(emergency_app, name="emergency")
app.add_typer(quality_app, name="quality")
app.add_typer(alerts_app, name="alerts")
app.add_typer(users_app, name="users")
app.add_typer(contractors_app, name="contractors")
app.add_typer(notify_app, name="notify")
app.add_typer(cases_app, name="cases")
app.add_typer(audit_app, name="audit")
app.add_typer(permits_app, name="permits")
app.add_typer(zoning_app, name="zoning")
app.add_typer(rectify_app, name="rectify")
app.add_typer(complaints_app, name="complaints")
app.add_typer(carbon_app, name="carbon")
app.add_typer(positive_app, name="positive-lists")
app.add_typer(quota_app, name="quota")
app.add_typer(judge_app, name="judge")
app.add_typer(report_app, name="report")
app.command()(serve)
app.command()(gateway)
app.command()(writer)
app.command()(worker)
app.command()(web)
app.add_typer(cluster_app, name="cluster")
app.command("simulate")(simulate_command)
app.command("demo")(demo_command)
app.command("coverage")(coverage_command)
app.command("backup")(backup_command)
app.command("restore")(restore_command)
app.command("analyse")(analyse_command)


def main() -> None:
    app()
