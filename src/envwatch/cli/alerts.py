"""``envwatch alerts``, ``users``, ``notify``, ``cases`` and ``audit``: the
alert loop from the command line (the web pages come in the UI issue)."""

from __future__ import annotations

import getpass
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import Engine, insert, select

from envwatch.alerts.desk import AlertDesk, deadlines_of
from envwatch.alerts.notify import Mail, Notifier
from envwatch.alerts.policy import load_policy
from envwatch.alerts.queries import alert_view
from envwatch.alerts.sla import alert_times, sla_figures
from envwatch.alerts.workflow import load_workflow
from envwatch.audit.log import Actor, record, verify
from envwatch.auth.users import ROLES, NewUser, UserError, add_user, person_of, set_password
from envwatch.cli.common import DbOption, migrated_engine, peer, refuse
from envwatch.enforcement.cases import enterprise_history, open_case, update_case
from envwatch.errors import PeerError
from envwatch.rectification.evidence import Upload
from envwatch.settings import get_settings
from envwatch.store.schema import (
    Alert,
    AppUser,
    AuditEntry,
    Enterprise,
    Notification,
    NotificationTarget,
)
from envwatch.times import utc_as_cst_text

alerts_app = typer.Typer(help="Alerts: list, act, escalate, SLA (预警闭环).")
users_app = typer.Typer(help="Users and their roles.")
notify_app = typer.Typer(help="Who hears of alerts, and delivering what is queued.")
cases_app = typer.Typer(help="Enforcement cases opened from alerts (执法联动).")
audit_app = typer.Typer(help="The hash-chained audit log.")

UserOption = Annotated[str, typer.Option("--user", help="Who acts (a user of envwatch).")]
JsonOption = Annotated[bool, typer.Option("--json", help="JSON lines.")]


def desk(engine: Engine) -> AlertDesk:
    settings = get_settings()
    return AlertDesk(
        engine, load_policy(settings.alert_policy_file), load_workflow(settings.alert_workflow_file)
    )


# The keys of ``alerts list --json``, a contract other tools rely on.
ALERT_JSON_KEYS = ("id", "mn", "enterprise", "county", "pollutant", "rule", "level", "state",
                   "opened_at", "deadline", "evidence")  # fmt: skip


def alert_json(row: Any) -> dict[str, Any]:
    view = alert_view(row)
    return {key: view[key] for key in ALERT_JSON_KEYS}


@alerts_app.command("list")
def list_command(
    db: DbOption = None,
    as_json: JsonOption = False,
    state: Annotated[str | None, typer.Option("--state", help="Only in this state.")] = None,
    county: Annotated[str | None, typer.Option("--county", help="Only this county.")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only overdue ones.")] = False,
) -> None:
    """The alerts, oldest first: JSON lines {"id", "mn", "enterprise", "county",
    "pollutant", "rule", "level", "state", "opened_at", "deadline", "evidence"}."""
    engine = migrated_engine(db)
    query = select(Alert, Enterprise.name.label("enterprise_name")).outerjoin(
        Enterprise, Alert.enterprise_id == Enterprise.id
    )
    if state is not None:
        query = query.where(Alert.state == state)
    if county is not None:
        query = query.where(Alert.county_code == county)
    now = datetime.now(UTC)
    with engine.connect() as connection:
        for row in connection.execute(query.order_by(Alert.id)):
            deadline = deadlines_of(row).next_after(row.state)
            late = deadline is not None and now > deadline
            if overdue and not late:
                continue
            if as_json:
                typer.echo(json.dumps(alert_json(row), ensure_ascii=False))
            else:
                mark = " 【逾期】" if late else ""
                typer.echo(
                    f"#{row.id} {row.level:7} {row.state:12} {row.county_code or '-'} "
                    f"{row.enterprise_name or row.mn}: {row.explanation}{mark}"
                )


@alerts_app.command("act")
def act_command(
    alert_id: Annotated[int, typer.Argument(help="The alert's id.")],
    action: Annotated[str, typer.Argument(help="dispatch, acknowledge, handle, review, ...")],
    user: UserOption,
    note: Annotated[str, typer.Option("--note", help="Why, what was found.")] = "",
    outcome: Annotated[
        str | None, typer.Option("--outcome", help="How it was handled (for handle).")
    ] = None,
    into: Annotated[int | None, typer.Option("--into", help="The alert to merge into.")] = None,
    attach: Annotated[
        list[Path] | None, typer.Option("--attach", help="A file backing the action.")
    ] = None,
    db: DbOption = None,
) -> None:
    """Take an action on an alert as ``--user``; prints {"id", "state"}."""
    files = []
    for path in attach or []:
        try:
            files.append(Upload(path.name, path.read_bytes()))
        except OSError as error:
            raise typer.BadParameter(f"cannot read {path}: {error}") from None
    engine = migrated_engine(db)
    try:
        # The files go to the evidence store (SHA-256, size and type checked).
        state = desk(engine).act(alert_id, action, user, peer=peer(), note=note, outcome=outcome,
                                 into=into, files=files)  # fmt: skip
    except PeerError as error:
        raise refuse(error) from None
    typer.echo(json.dumps({"id": alert_id, "state": state}))


@alerts_app.command("process")
def process_command(db: DbOption = None) -> None:
    """Turn the findings stored since the last pass into alerts (``serve`` does this live)."""
    engine = migrated_engine(db)
    alert_desk = desk(engine)
    total = 0
    while taken := alert_desk.run_once():
        total += taken
    typer.echo(json.dumps({"findings": total}))


@alerts_app.command("sweep")
def sweep_command(db: DbOption = None) -> None:
    """Escalate every alert past a deadline now (``serve`` does this every minute)."""
    typer.echo(json.dumps({"escalated": desk(migrated_engine(db)).sweep()}))


@alerts_app.command("sla")
def sla_command(db: DbOption = None) -> None:
    """SLA figures per county and level, as JSON lines."""
    engine = migrated_engine(db)
    with engine.connect() as connection:
        rows = connection.execute(select(Alert)).all()
    for figure in sla_figures(alert_times(row) for row in rows):
        typer.echo(json.dumps(figure, ensure_ascii=False))


@users_app.command("add")
def add_user_command(
    username: Annotated[str, typer.Option("--username")],
    role: Annotated[str, typer.Option("--role", help=f"One of {', '.join(ROLES)}.")],
    name: Annotated[str, typer.Option("--name", help="Display name.")] = "",
    county: Annotated[list[str] | None, typer.Option("--county", help="A county covered.")] = None,
    enterprise: Annotated[int | None, typer.Option("--enterprise")] = None,
    email: Annotated[str | None, typer.Option("--email")] = None,
    contractor: Annotated[
        int | None,
        typer.Option("--contractor", help="A contractor user's operation contractor (its id)."),
    ] = None,
    db: DbOption = None,
) -> None:
    """Add a user; prints {"id"}."""
    engine = migrated_engine(db)
    try:
        with engine.begin() as connection:
            user_id = add_user(
                connection,
                NewUser(username, name, role, tuple(county or ()), enterprise, email, contractor),
                Actor(getpass.getuser(), "city_admin", peer()),
            )
    except PeerError as error:
        raise refuse(error) from None
    typer.echo(json.dumps({"id": user_id}))


@users_app.command("passwd")
def passwd_command(
    username: Annotated[str, typer.Option("--username")],
    password: Annotated[
        str, typer.Option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
    ],
    db: DbOption = None,
) -> None:
    """Set a user's password (scrypt; at least 8 characters) and unlock the account."""
    engine = migrated_engine(db)
    with engine.begin() as connection:
        user_id = connection.execute(
            select(AppUser.id).where(AppUser.username == username)
        ).scalar()
        if user_id is None:
            raise refuse(
                PeerError("unknown_user", f"no user {username!r}", f"没有用户“{username}”")
            )
        try:
            set_password(connection, user_id, password,
                         Actor(getpass.getuser(), "city_admin", peer()))  # fmt: skip
        except UserError as error:
            raise refuse(error) from None
    typer.echo(json.dumps({"id": user_id, "password_set": True}))


@users_app.command("list")
def list_users_command(db: DbOption = None) -> None:
    """The users as JSON lines."""
    with migrated_engine(db).connect() as connection:
        for row in connection.execute(select(AppUser).order_by(AppUser.id)):
            typer.echo(json.dumps({"id": row.id, "username": row.username, "role": row.role,
                                   "name": row.display_name,
                                   "counties": [c for c in row.county_codes.split(",") if c],
                                   "enterprise": row.enterprise_id,
                                   "contractor": row.contractor_id, "email": row.email,
                                   "active": row.active}, ensure_ascii=False))  # fmt: skip


@notify_app.command("add-target")
def add_target_command(
    role: Annotated[str, typer.Option("--role", help="county_officer, county_head, city_bureau")],
    channel: Annotated[str, typer.Option("--channel", help="webhook or email")],
    address: Annotated[str, typer.Option("--address", help="URL or e-mail address")],
    county: Annotated[str | None, typer.Option("--county", help="None: the city")] = None,
    secret: Annotated[str | None, typer.Option("--secret", help="HMAC key of webhooks")] = None,
    enterprise: Annotated[
        int | None,
        typer.Option("--enterprise", help="An enterprise's own target: it hears of warnings."),
    ] = None,
    db: DbOption = None,
) -> None:
    """Register who hears of alerts of a county (or the city) and role, or (with
    --enterprise) the heavy-pollution-weather warnings of an enterprise; prints {"id"}."""
    if channel not in {"webhook", "email"}:
        raise typer.BadParameter("--channel must be webhook or email")
    if channel == "webhook" and not address.startswith(("http://", "https://")):
        raise typer.BadParameter("a webhook address is an http(s) URL")
    engine = migrated_engine(db)
    values = {"county_code": county, "role": role, "channel": channel, "address": address,
              "secret": secret, "active": True, "enterprise_id": enterprise}  # fmt: skip
    with engine.begin() as connection:
        target_id = connection.execute(
            insert(NotificationTarget).values(**values).returning(NotificationTarget.id)
        ).scalar_one()
        shown = {**values, "secret": "***" if secret else None}
        record(connection, Actor(getpass.getuser(), "city_admin", peer()), "notify.add_target",
               "notification_target", target_id, after=shown)  # fmt: skip
    typer.echo(json.dumps({"id": target_id}))


@notify_app.command("deliver")
def deliver_command(db: DbOption = None) -> None:
    """Deliver the notifications that are due now (``serve`` does this continuously)."""
    settings = get_settings()
    notifier = Notifier(
        migrated_engine(db),
        Mail(settings.smtp_host, settings.smtp_port, settings.smtp_sender),
        settings.notify_timeout_s,
        settings.notify_max_attempts,
    )
    typer.echo(json.dumps({"sent": notifier.deliver_due()}))


@notify_app.command("list")
def notifications_command(db: DbOption = None) -> None:
    """The notification log as JSON lines: what went to whom, and how delivery went."""
    with migrated_engine(db).connect() as connection:
        rows = connection.execute(
            select(Notification, NotificationTarget.channel, NotificationTarget.address,
                   NotificationTarget.role)
            .join(NotificationTarget, Notification.target_id == NotificationTarget.id)
            .order_by(Notification.id)
        ).all()  # fmt: skip
    for row in rows:
        typer.echo(
            json.dumps(
                {
                    "id": row.id,
                    "alert": row.alert_id,
                    "event": row.event,
                    "role": row.role,
                    "channel": row.channel,
                    "to": row.address,
                    "state": row.state,
                    "attempts": row.attempts,
                    "last_error": row.last_error,
                    "created_at": utc_as_cst_text(row.created_at),
                    "sent_at": utc_as_cst_text(row.sent_at),
                },
                ensure_ascii=False,
            )
        )


@cases_app.command("open")
def open_case_command(
    alert: Annotated[list[int], typer.Option("--alert", help="An alert of the case.")],
    user: UserOption,
    kind: Annotated[str | None, typer.Option("--kind", help="onsite or offsite")] = None,
    db: DbOption = None,
) -> None:
    """Open an enforcement case from alerts; prints {"id", "kind"}."""
    engine = migrated_engine(db)
    try:
        with engine.begin() as connection:
            actor, viewer = person_of(connection, user, peer())
            case_id, chosen = open_case(connection, alert, actor, viewer=viewer, kind=kind)
    except PeerError as error:
        raise refuse(error) from None
    typer.echo(json.dumps({"id": case_id, "kind": chosen}))


@cases_app.command("record")
def record_case_command(
    case_id: Annotated[int, typer.Argument(help="The case's id.")],
    user: UserOption,
    findings: Annotated[str | None, typer.Option("--findings")] = None,
    legal_basis: Annotated[str | None, typer.Option("--legal-basis")] = None,
    penalty: Annotated[str | None, typer.Option("--penalty", help="处罚决定书文号")] = None,
    close: Annotated[bool, typer.Option("--close", help="Close the case.")] = False,
    db: DbOption = None,
) -> None:
    """Record a case's findings, legal basis and penalty reference; close it."""
    changes = {key: value for key, value in (("findings", findings), ("legal_basis", legal_basis),
               ("penalty_reference", penalty)) if value is not None}  # fmt: skip
    engine = migrated_engine(db)
    try:
        with engine.begin() as connection:
            actor, viewer = person_of(connection, user, peer())
            update_case(connection, case_id, actor, viewer=viewer, changes=changes, close=close)
    except PeerError as error:
        raise refuse(error) from None
    typer.echo(json.dumps({"id": case_id, "closed": close}))


@cases_app.command("history")
def history_command(
    enterprise: Annotated[int, typer.Option("--enterprise", help="The enterprise's id.")],
    db: DbOption = None,
) -> None:
    """An enterprise's alerts, cases and outcomes together, as JSON."""
    try:
        with migrated_engine(db).connect() as connection:
            history = enterprise_history(connection, enterprise)
    except PeerError as error:
        raise refuse(error) from None
    typer.echo(json.dumps(history, ensure_ascii=False, default=utc_as_cst_text))


@audit_app.command("verify")
def audit_verify_command(db: DbOption = None) -> None:
    """Check the audit log's hash chain; exit status 1 where it is broken."""
    with migrated_engine(db).connect() as connection:
        broken = verify(connection)
        entries = connection.execute(select(AuditEntry.id)).all()
    if broken is None:
        typer.echo(json.dumps({"entries": len(entries), "intact": True}))
        return
    typer.echo(json.dumps({"entries": len(entries), "intact": False, "seq": broken.seq,
                           "entry_id": broken.entry_id, "reason": broken.reason}))  # fmt: skip
    raise typer.Exit(1)


@audit_app.command("list")
def audit_list_command(db: DbOption = None) -> None:
    """The audit log as JSON lines, oldest first."""
    with migrated_engine(db).connect() as connection:
        for row in connection.execute(select(AuditEntry).order_by(AuditEntry.seq)):
            typer.echo(
                json.dumps(
                    {
                        "seq": row.seq,
                        "at": utc_as_cst_text(row.at),
                        "actor": row.actor,
                        "role": row.role,
                        "peer": row.peer,
                        "action": row.action,
                        "entity": row.entity,
                        "entity_id": row.entity_id,
                        "before": row.before,
                        "after": row.after,
                    },
                    ensure_ascii=False,
                )
            )
