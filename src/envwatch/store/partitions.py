"""Monthly partitions of the big tables on PostgreSQL: the plan (pure) and its edge.

On PostgreSQL the raw archive (``archived_frame``, by ``received_at``, UTC
months), the measurements (``measurement``, by ``data_time``, China Standard
Time months) and the hourly emissions (``hourly_emission``, by ``hour``) are
declaratively partitioned by month (migration 0044); SQLite keeps plain
tables and everything here is a no-op there.

Each table has one partition per month, ``<table>_pYYYYMM``, and a DEFAULT
partition ``<table>_default`` that catches a row of a month without a
partition (a logger whose clock is years off, a month nobody created): an
insert never fails for want of a partition. ``plan`` decides, from today and
the partitions that exist, which months to create (this month and
``ahead`` more) and which to detach (those before a retention month);
``maintain`` reads the catalogue, applies the plan and says what it did.

A detached partition is an ordinary table again (``archived_frame_p202401``),
with every row it held: dump it (``pg_dump -t``) to the archive, then drop
it. Detaching archive months records, in the audit log, each chain's newest
detached link (its anchor), so ``archive verify`` checks the chains that
remain from there (``verify`` in ``archive.py``).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import Connection, Engine, MetaData, select, text

from envwatch.audit.log import SYSTEM, record
from envwatch.store.db import error_summary
from envwatch.store.schema import AuditEntry

if TYPE_CHECKING:  # the settings' pydantic is slow to import: the archive writer's child
    from envwatch.settings import Settings


class PlanError(ValueError):
    """An operator asked for a plan that cannot be (the current month detached)."""


@dataclass(frozen=True, slots=True)
class PartitionedTable:
    name: str
    column: str
    zoned: bool
    """The column is ``timestamptz``: months are UTC months."""


TABLES: Final = (
    PartitionedTable("archived_frame", "received_at", zoned=True),
    PartitionedTable("measurement", "data_time", zoned=False),
    PartitionedTable("hourly_emission", "hour", zoned=False),
)
TABLE_NAMES: Final = tuple(table.name for table in TABLES)
_BY_NAME: Final = {table.name: table for table in TABLES}
log = logging.getLogger(__name__)
DETACH_ACTION = "store.partition.detach"
# Months before this have no partitions of their own: their rows (a logger's
# clock decades off) stay in the DEFAULT partition.
EARLIEST_MONTH: Final = date(2000, 1, 1)


def month_of(day: date | datetime) -> date:
    return date(day.year, day.month, 1)


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def partition_name(table: str, month: date) -> str:
    return f"{table}_p{month:%Y%m}"


def default_name(table: str) -> str:
    return f"{table}_default"


_PARTITION_NAME = re.compile(r"^(?P<table>[a-z_]+)_(?:p(?P<month>\d{6})|default)$")


def month_of_partition(table: str, name: str) -> date | None:
    """The month a partition of ``table`` named ``name`` holds; None for the
    default partition or a name that is not one of ``table``'s."""
    match = _PARTITION_NAME.match(name)
    if match is None or match["table"] != table or match["month"] is None:
        return None
    return date(int(match["month"][:4]), int(match["month"][4:]), 1)


def is_partition_name(name: str) -> bool:
    """Whether ``name`` is a partition (attached or detached) of a partitioned table."""
    match = _PARTITION_NAME.match(name)
    return match is not None and match["table"] in _BY_NAME


def bounds(table: str, month: date) -> tuple[str, str]:
    """The ``FOR VALUES FROM (..) TO (..)`` literals of ``table``'s ``month``."""
    zone = "+00" if _BY_NAME[table].zoned else ""
    following = add_months(month, 1)
    return f"{month:%Y-%m-%d} 00:00:00{zone}", f"{following:%Y-%m-%d} 00:00:00{zone}"


@dataclass(frozen=True, slots=True)
class TableState:
    """What exists of one partitioned table."""

    months: frozenset[date]
    """Months with an attached partition."""
    default_rows: Mapping[date, int] = field(default_factory=dict)
    """Rows in the DEFAULT partition, by month."""


@dataclass(frozen=True, slots=True)
class Step:
    table: str
    month: date

    @property
    def partition(self) -> str:
        return partition_name(self.table, self.month)


@dataclass(frozen=True, slots=True)
class Plan:
    create: tuple[Step, ...]
    detach: tuple[Step, ...]
    default_rows: Mapping[str, Mapping[date, int]]
    """Tables whose DEFAULT partition holds rows, by month: a clock far off, or
    months without a partition; each asks an operator's look."""

    def as_json(self) -> dict[str, Any]:
        return {
            "create": [step.partition for step in self.create],
            "detach": [step.partition for step in self.detach],
            "default_rows": {
                table: {f"{month:%Y-%m}": count for month, count in sorted(rows.items())}
                for table, rows in self.default_rows.items()
            },
        }


def plan(
    today: date,
    state: Mapping[str, TableState],
    *,
    ahead: int,
    detach_before: Mapping[str, date | None],
) -> Plan:
    """Partitions to create and to detach.

    Creates this month's partition and the ``ahead`` following of every table
    that lacks one, and the partition of any month (from ``EARLIEST_MONTH``)
    whose rows wait in the DEFAULT partition (they move into it), unless the
    month is to be detached. Detaches every partition of a month before
    ``detach_before[table]`` (None: keep every month); never this month's or
    a later one.
    """
    if ahead < 0:
        raise PlanError(f"ahead must be 0 or more months, not {ahead}")
    current = month_of(today)
    create: list[Step] = []
    detach: list[Step] = []
    waiting: dict[str, Mapping[date, int]] = {}
    for table in TABLE_NAMES:
        existing = state.get(table)
        if existing is None:
            continue
        cut = detach_before.get(table)
        if cut is not None and cut > current:
            raise PlanError(
                f"{table}: detaching the months before {cut:%Y-%m} would detach the current "
                f"month ({current:%Y-%m}), which still takes rows; give {current:%Y-%m} or earlier"
            )
        wanted = {add_months(current, n) for n in range(ahead + 1)}
        wanted |= {
            month
            for month in existing.default_rows
            if EARLIEST_MONTH <= month <= add_months(current, ahead)
            and (cut is None or month >= cut)
        }
        create += [Step(table, month) for month in sorted(wanted - existing.months)]
        if cut is not None:
            detach += [Step(table, month) for month in sorted(existing.months) if month < cut]
        if existing.default_rows:
            waiting[table] = dict(existing.default_rows)
    return Plan(tuple(create), tuple(detach), waiting)


# --- the edge: PostgreSQL's catalogue and DDL ----------------------------------------


def partitioned(connection: Connection) -> bool:
    """Whether this database partitions its tables (PostgreSQL after migration 0044)."""
    if connection.dialect.name != "postgresql":
        return False
    found = connection.execute(
        text(
            "SELECT count(*) FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
            "WHERE c.relname = ANY(:names) AND c.relnamespace = current_schema()::regnamespace"
        ),
        {"names": list(TABLE_NAMES)},
    ).scalar_one()
    return bool(found)


def _month_expression(table: PartitionedTable) -> str:
    column = f"{table.column} AT TIME ZONE 'UTC'" if table.zoned else table.column
    return f"date_trunc('month', {column})::date"


def read_state(connection: Connection) -> dict[str, TableState]:
    """The attached partitions of each table and what waits in its DEFAULT partition."""
    state: dict[str, TableState] = {}
    for table in TABLES:
        children = connection.execute(
            text(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = CAST(:table AS regclass)"
            ),
            {"table": table.name},
        ).scalars()
        months = frozenset(
            month for name in children if (month := month_of_partition(table.name, name))
        )
        waiting = connection.execute(
            text(
                f"SELECT {_month_expression(table)} AS month, count(*) "
                f"FROM {default_name(table.name)} GROUP BY 1"
            )
        ).all()
        state[table.name] = TableState(months, {month: int(count) for month, count in waiting})
    return state


def create_default(connection: Connection, table: str) -> None:
    connection.execute(
        text(f"CREATE TABLE IF NOT EXISTS {default_name(table)} PARTITION OF {table} DEFAULT")
    )


PARENT_LOCK_TIMEOUT: Final = "5s"
"""[I] How long a partition's creation waits for the table's running readers
and writers to finish. New ones queue behind it meanwhile (ingest stalls
that long at most); past it, the step fails, the month's rows stay readable
in DEFAULT, and the next maintenance tries again."""


def lock_parent(connection: Connection, table: str) -> None:
    """Take ``table`` (the parent) in ACCESS EXCLUSIVE mode until the caller's
    transaction ends, waiting at most ``PARENT_LOCK_TIMEOUT``.

    ATTACH PARTITION alone takes the parent in SHARE UPDATE EXCLUSIVE mode, so
    a query may plan meanwhile, from the partitions as they were: it scans
    DEFAULT but not the new partition, and, run after the commit, misses
    every row moved between them (the rules then judged frames without their
    values). Locked first, a query waits before it plans. CREATE TABLE ...
    PARTITION OF takes this lock anyway; taken before the count of waiting
    rows, no insert into DEFAULT can slip between the count and the DDL.
    """
    connection.execute(text(f"SET LOCAL lock_timeout = '{PARENT_LOCK_TIMEOUT}'"))
    connection.execute(text(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))


def create_partition(connection: Connection, table: str, month: date) -> int:
    """Create ``table``'s partition of ``month``; rows of that month waiting in
    the DEFAULT partition move into it (in the caller's transaction, which
    holds ``table`` locked: ``lock_parent``). The rows moved."""
    spec = _BY_NAME[table]
    name = partition_name(table, month)
    lock_parent(connection, table)
    if connection.execute(text("SELECT to_regclass(:name)"), {"name": name}).scalar():
        return 0  # made meanwhile by another process
    low, high = bounds(table, month)
    within = f"{spec.column} >= '{low}' AND {spec.column} < '{high}'"
    waiting = connection.execute(
        text(f"SELECT count(*) FROM {default_name(table)} WHERE {within}")
    ).scalar_one()
    if not waiting:
        connection.execute(
            text(
                f"CREATE TABLE {name} PARTITION OF {table} FOR VALUES FROM ('{low}') TO ('{high}')"
            )
        )
        return 0
    # The DEFAULT partition holds rows of the month: a partition cannot be
    # created over them. Build it apart, move them, then attach it.
    connection.execute(text(f"CREATE TABLE {name} (LIKE {table} INCLUDING DEFAULTS)"))
    connection.execute(
        text(
            f"WITH moved AS (DELETE FROM {default_name(table)} WHERE {within} RETURNING *) "
            f"INSERT INTO {name} SELECT * FROM moved"
        )
    )
    connection.execute(
        text(f"ALTER TABLE {table} ATTACH PARTITION {name} FOR VALUES FROM ('{low}') TO ('{high}')")
    )
    return int(waiting)


def chain_anchors(connection: Connection, partition: str) -> dict[str, list[Any]]:
    """Each chain's newest link in an archive partition: ``{chain: [seq, hash]}``."""
    rows = connection.execute(
        text(
            f"SELECT DISTINCT ON (chain) chain, seq, hash FROM {partition} ORDER BY chain, seq DESC"
        )
    ).all()
    return {chain: [int(seq), digest] for chain, seq, digest in rows}


def detach_partition(connection: Connection, table: str, month: date) -> dict[str, Any]:
    """Detach ``table``'s partition of ``month`` (it stays, a table with its rows)
    and record it in the audit log, with the archive chains' anchors; the record."""
    name = partition_name(table, month)
    attached = connection.execute(
        text(
            "SELECT count(*) FROM pg_inherits WHERE inhrelid = to_regclass(:name) "
            "AND inhparent = CAST(:table AS regclass)"
        ),
        {"name": name, "table": table},
    ).scalar_one()
    if not attached:
        return {"table": table, "partition": name, "rows": 0, "already": True}
    rows = connection.execute(text(f"SELECT count(*) FROM {name}")).scalar_one()
    detail: dict[str, Any] = {"table": table, "partition": name, "month": f"{month:%Y-%m}",
                              "rows": int(rows)}  # fmt: skip
    if table == "archived_frame":
        detail["anchors"] = chain_anchors(connection, name)
    connection.execute(text(f"ALTER TABLE {table} DETACH PARTITION {name}"))
    if table == "measurement":  # the month's value blocks go with its rows
        after = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
        blocks = connection.execute(
            text("DELETE FROM value_block WHERE day >= :since AND day < :until"),
            {"since": month, "until": after},
        )
        detail["value_blocks"] = int(blocks.rowcount or 0)
    record(connection, SYSTEM, DETACH_ACTION, "partition", name, after=detail)
    return detail


def archive_anchors(connection: Connection) -> dict[str, tuple[int, str]]:
    """The newest detached link of each archive chain, from the audit log's
    detach records: the chain is verified from there on."""
    anchors: dict[str, tuple[int, str]] = {}
    records = connection.execute(
        select(AuditEntry.after).where(AuditEntry.action == DETACH_ACTION)
    ).scalars()
    for after in records:
        for chain, (seq, digest) in (json.loads(after).get("anchors") or {}).items():
            if chain not in anchors or anchors[chain][0] < seq:
                anchors[chain] = (int(seq), str(digest))
    return anchors


@dataclass(frozen=True, slots=True)
class Retention:
    """Months each table keeps attached (None: all)."""

    archive: int | None = None
    measurement: int | None = None
    hourly: int | None = None

    def detach_before(self, today: date) -> dict[str, date | None]:
        current = month_of(today)
        months = {"archived_frame": self.archive, "measurement": self.measurement,
                  "hourly_emission": self.hourly}  # fmt: skip
        return {
            table: None if kept is None else add_months(current, -kept)
            for table, kept in months.items()
        }


# Writers starting together each maintain the partitions: one at a time.
_LOCK_KEY: Final = 0x656E7670  # "envp"


def _one_at_a_time(connection: Connection) -> None:
    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})


def maintain(
    engine: Engine,
    *,
    today: date | None = None,
    ahead: int,
    detach_before: Mapping[str, date | None],
    dry_run: bool = False,
) -> dict[str, Any]:
    """Plan and (unless ``dry_run``) apply: what was planned and done, as JSON.

    On a database without partitions (SQLite, or PostgreSQL before 0044) it
    reports so and does nothing. Each creation and detachment is its own
    transaction, so one failure leaves the others done.
    """
    today = today or datetime.now(UTC).date()
    with engine.connect() as connection:
        if not partitioned(connection):
            return {"partitioned": False, "create": [], "detach": [], "default_rows": {}}
        planned = plan(today, read_state(connection), ahead=ahead, detach_before=detach_before)
    report: dict[str, Any] = {"partitioned": True, "dry_run": dry_run, **planned.as_json()}
    if dry_run:
        return report
    moved: dict[str, int] = {}
    detached: list[dict[str, Any]] = []
    for step in planned.create:
        with engine.begin() as connection:
            _one_at_a_time(connection)
            count = create_partition(connection, step.table, step.month)
        if count:
            moved[step.partition] = count
    for step in planned.detach:
        with engine.begin() as connection:
            _one_at_a_time(connection)
            detail = detach_partition(connection, step.table, step.month)
        if not detail.get("already"):
            detached.append({key: detail[key] for key in ("partition", "rows")})
    report["moved_from_default"] = moved
    report["detached"] = detached
    return report


def maintain_configured(
    engine: Engine, settings: Settings, *, today: date | None = None
) -> dict[str, Any]:
    """``maintain`` with the settings' months ahead and retention."""
    today = today or datetime.now(UTC).date()
    retention = Retention(
        archive=settings.retain_archive_months,
        measurement=settings.retain_measurement_months,
        hourly=settings.retain_hourly_months,
    )
    return maintain(
        engine,
        today=today,
        ahead=settings.partitions_ahead_months,
        detach_before=retention.detach_before(today),
    )


def at_start(engine: Engine, settings: Settings) -> dict[str, Any] | None:
    """``maintain_configured`` before a process's first insert. A failure (no
    right to create tables, say) is logged, not raised: the DEFAULT partition
    takes the rows meanwhile, and the desk's sweep tries again."""
    try:
        report = maintain_configured(engine, settings)
    except Exception as error:
        log.warning("partitions not maintained: %s", error_summary(error))
        return None
    if report["partitioned"]:
        log.info("partitions: %s", json.dumps(report))
    return report


def periodic(engine: Engine, settings: Settings, clock: Callable[[], float]) -> Callable[[], int]:
    """A sweeper for the single-active desk: ``maintain_configured`` at most
    every ``settings.partitions_check_s``; the partitions it created or detached."""
    last: list[float] = []

    def sweep() -> int:
        now = clock()
        if last and now - last[0] < settings.partitions_check_s:
            return 0
        last[:] = [now]
        report = maintain_configured(engine, settings)
        if report["create"] or report["detach"]:
            log.info("partitions: %s", json.dumps(report))
        return len(report["create"]) + len(report["detach"])

    return sweep


# --- the declared schema on PostgreSQL ------------------------------------------------


def include_name(name: str | None, type_: str, _parents: Any) -> bool:
    """Alembic's filter: partitions (attached or detached) are not tables of the schema."""
    return not (type_ == "table" and name is not None and is_partition_name(name))


def declared_metadata(base: MetaData, dialect: str) -> MetaData:
    """The schema a database of ``dialect`` must have: the models as declared
    (SQLite), or on PostgreSQL with what partitioning changes (see
    ``postgres_adjust``)."""
    if dialect != "postgresql":
        return base
    copy = MetaData()
    for table in base.sorted_tables:
        table.to_metadata(copy)
    postgres_adjust(copy)
    return copy


def postgres_adjust(metadata: MetaData) -> None:
    """What the partitioned tables hold on PostgreSQL beside the models:

    - ``archived_frame``: the key (id, received_at) (a key of a partitioned
      table holds its partition column; alembic does not compare keys), so
      (chain, seq) is an index, not a unique constraint: each chain's order is
      kept by the writer's compare-and-set on ``chain_head``
      (``Archive._write``); a BRIN index on ``received_at`` and a btree
      (chain, received_at) for a device's frames in a time range.
    - ``measurement``: no foreign key to the archive (PostgreSQL would need
      the frame's receive time in it, and no archive month could be detached
      while measurements name it); a BRIN index on ``data_time``.
    """
    from sqlalchemy import ForeignKeyConstraint, Index, UniqueConstraint  # noqa: PLC0415

    frames = metadata.tables["archived_frame"]
    for constraint in list(frames.constraints):
        if isinstance(constraint, UniqueConstraint) and [c.name for c in constraint.columns] == [
            "chain",
            "seq",
        ]:
            frames.constraints.discard(constraint)
    Index("ix_archived_frame_chain_seq", frames.c.chain, frames.c.seq)
    Index("ix_archived_frame_chain_received", frames.c.chain, frames.c.received_at)
    Index("brin_archived_frame_received", frames.c.received_at, postgresql_using="brin")
    measurements = metadata.tables["measurement"]
    for constraint in list(measurements.constraints):
        if isinstance(constraint, ForeignKeyConstraint):
            measurements.constraints.discard(constraint)
            for element in constraint.elements:
                element.parent.foreign_keys.discard(element)
    Index("brin_measurement_data_time", measurements.c.data_time, postgresql_using="brin")
