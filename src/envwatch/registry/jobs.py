"""Registry imports and exports as jobs (名录导入导出任务): a row in
``registry_job`` holds each job's state (queued, running, done, failed),
progress in rows, result counts and an import's row errors; a worker thread
runs it.

An import is all or nothing: the rows, the audit entry and the job's "done"
commit in one transaction, so a job is done exactly when its rows are
stored. A job survives a restart as a row; one left queued or running by a
process that stopped (its runner no longer beats) is reported failed with
the code ``interrupted`` on the next read, never as still running.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from envwatch.audit.log import Actor, record
from envwatch.errors import PeerError
from envwatch.registry.export import registry_tables, write_export
from envwatch.registry.importing import ImportFileError, ImportKind, RowError, import_file
from envwatch.store.schema import RegistryJob
from envwatch.times import utc_as_cst_text

RUNNER_ID: Final = f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
"""This process, as the runner of the jobs it starts."""
STALE_AFTER: Final = timedelta(seconds=60)
"""A job of another process whose heartbeat is older than this is taken for dead."""
PROGRESS_EVERY_S: Final = 0.25
"""How often a running job writes its progress (and heartbeat) at most [s]."""
MAX_STORED_ERRORS: Final = 1000
"""Row errors kept with a failed import; their total is in its result."""
WORKERS: Final = 2
"""Jobs running at once; more wait as queued."""


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


_OPEN = (JobState.QUEUED.value, JobState.RUNNING.value)
_live: set[int] = set()
_live_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _executor  # noqa: PLW0603 -- one pool per process, made on first use
    with _live_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(WORKERS, thread_name_prefix="registry-job")
        return _executor


def _now() -> datetime:
    return datetime.now(UTC)


def create_job(
    engine: Engine, *, direction: str, kind: str, file_format: str, file_name: str, owner: str
) -> int:
    """Store a queued job of this process; its id."""
    now = _now()
    with engine.begin() as connection:
        job_id = connection.execute(
            insert(RegistryJob)
            .values(direction=direction, kind=kind, file_format=file_format,
                    file_name=file_name[:200], state=JobState.QUEUED.value, owner=owner,
                    runner=RUNNER_ID, created_at=now, heartbeat_at=now, rows_total=0,
                    rows_done=0, result={}, errors=[], error_message="", error_message_zh="")
            .returning(RegistryJob.id)
        ).scalar_one()  # fmt: skip
    return int(job_id)


def _set(engine: Engine | Connection, job_id: int, **values: Any) -> None:
    statement = update(RegistryJob).where(RegistryJob.id == job_id).values(**values)
    if isinstance(engine, Connection):
        engine.execute(statement)
        return
    with engine.begin() as connection:
        connection.execute(statement)


def _fail(engine: Engine, job_id: int, code: str, message: str, message_zh: str,
          **values: Any) -> None:  # fmt: skip
    """End an open job as failed. A job ends once: a reader that saw it open
    while its runner was finishing must not overwrite how it really ended."""
    with engine.begin() as connection:
        connection.execute(
            update(RegistryJob)
            .where(RegistryJob.id == job_id, RegistryJob.state.in_(_OPEN))
            .values(state=JobState.FAILED.value, error_code=code, error_message=message,
                    error_message_zh=message_zh, finished_at=_now(), heartbeat_at=_now(),
                    **values)
        )  # fmt: skip


class _Progress:
    """Writes rows done (and the heartbeat) at most every PROGRESS_EVERY_S, and
    always the last row, so a poller sees the job move and end exactly."""

    def __init__(self, engine: Engine, job_id: int) -> None:
        self.engine, self.job_id, self.written_at = engine, job_id, 0.0

    def __call__(self, done: int, total: int) -> None:
        moment = time.monotonic()
        if done < total and moment - self.written_at < PROGRESS_EVERY_S:
            return
        self.written_at = moment
        _set(self.engine, self.job_id, rows_done=done, rows_total=total, heartbeat_at=_now())


def _start(engine: Engine, job_id: int) -> None:
    _set(engine, job_id, state=JobState.RUNNING.value, heartbeat_at=_now())


def run_import(engine: Engine, job_id: int, kind: ImportKind, name: str, content: bytes, *,
               actor: Actor) -> None:  # fmt: skip
    """Import ``content`` as the job's file, all or nothing."""
    _start(engine, job_id)
    progress = _Progress(engine, job_id)

    def finish(connection: Connection, written: int) -> None:
        # In the import's own transaction: done, audited and stored, or none of them.
        record(connection, actor, "registry.import", "registry_job", job_id,
               after={"kind": kind.value, "file": name, "rows": written})  # fmt: skip
        _set(connection, job_id, state=JobState.DONE.value, rows_done=written,
             rows_total=written, result={"imported": written}, finished_at=_now(),
             heartbeat_at=_now())  # fmt: skip

    try:
        errors = import_file(engine, kind, name, content, progress=progress, before_commit=finish)
    except ImportFileError as error:
        _fail(engine, job_id, error.code, error.message_en, error.message_zh)
        return
    except IntegrityError:
        # Checked clean, then another change took a key first (two imports at once).
        _fail(engine, job_id, "conflict", "the registry changed while the file was checked: "
              "nothing imported, import it again",
              "核对期间名录已被修改，未导入任何数据，请重新导入")  # fmt: skip
        return
    if errors:
        _fail(engine, job_id, "invalid_rows", f"{len(errors)} problems: nothing imported",
              f"{len(errors)}处错误，未导入任何数据", result={"imported": 0, "errors": len(errors)},
              errors=[_row_error(e) for e in errors[:MAX_STORED_ERRORS]])  # fmt: skip


def _row_error(error: RowError) -> dict[str, Any]:
    return {"row": error.row, "column": error.column, "reason": error.reason}


def run_export(engine: Engine, job_id: int, kinds: tuple[ImportKind, ...], file_format: str, *,
               actor: Actor, passwords: bool = False) -> None:  # fmt: skip
    """Write the registry's ``kinds`` as one file into the job (device
    passwords only if ``passwords``)."""
    _start(engine, job_id)
    tables = registry_tables(engine, kinds, passwords=passwords)
    counts = {kind.value: len(rows) for kind, rows in tables.items()}
    content = write_export(tables, file_format, _Progress(engine, job_id))
    with engine.begin() as connection:
        # Who took the registry is on record, and whether with device passwords.
        record(connection, actor, "registry.export", "registry_job", job_id,
               after={"format": file_format, "rows": counts,
                      "passwords": passwords})  # fmt: skip
        _set(connection, job_id, state=JobState.DONE.value, content=content, result=counts,
             rows_done=sum(counts.values()), rows_total=sum(counts.values()),
             finished_at=_now(), heartbeat_at=_now())  # fmt: skip


def submit(engine: Engine, job_id: int, work: Callable[[], None]) -> None:
    """Run ``work`` (the job ``job_id``) in a worker thread; any failure of ours
    fails the job with the code ``job_failed`` rather than leaving it open."""
    with _live_lock:
        _live.add(job_id)

    def run() -> None:
        try:
            work()
        except PeerError as error:
            _fail(engine, job_id, error.code, error.message_en, error.message_zh)
        except Exception as error:  # the job must end; the reason is kept with it
            _fail(engine, job_id, "job_failed", f"the job failed: {type(error).__name__}",
                  "任务执行失败，请重试或联系管理员")  # fmt: skip
        finally:
            with _live_lock:
                _live.discard(job_id)

    _pool().submit(run)


def read_job(engine: Engine, job_id: int) -> Any:
    """The job's row (None: no such job), with the honest state of one its
    process left open."""
    with engine.connect() as connection:
        job = connection.execute(select(RegistryJob).where(RegistryJob.id == job_id)).first()
    if job is None or job.state not in _OPEN:
        return job
    with _live_lock:
        alive = job_id in _live
    beat = job.heartbeat_at if job.heartbeat_at.tzinfo else job.heartbeat_at.replace(tzinfo=UTC)
    ours = job.runner == RUNNER_ID
    if (ours and not alive) or (not ours and _now() - beat > STALE_AFTER):
        _fail(engine, job_id, "interrupted", "the job was interrupted (the server stopped): "
              "start it again", "任务因服务重启而中断，请重新提交")  # fmt: skip
        return read_job(engine, job_id)
    return job


def list_jobs(engine: Engine, direction: str, limit: int) -> list[Any]:
    """The newest ``limit`` jobs of ``direction``, each open one as
    ``read_job`` tells its state."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(RegistryJob)
            .where(RegistryJob.direction == direction)
            .order_by(RegistryJob.id.desc())
            .limit(limit)
        ).all()
    return [read_job(engine, job.id) if job.state in _OPEN else job for job in rows]


def job_view(job: Any) -> dict[str, Any]:
    """A job as the API shows it (times in China Standard Time)."""
    error = None
    if job.error_code:
        error = {"code": job.error_code, "message": job.error_message,
                 "message_zh": job.error_message_zh}  # fmt: skip
    total = job.rows_total
    view: dict[str, Any] = {
        "id": job.id, "direction": job.direction, "kind": job.kind, "format": job.file_format,
        "file_name": job.file_name, "state": job.state, "owner": job.owner,
        "created_at": utc_as_cst_text(job.created_at),
        "finished_at": utc_as_cst_text(job.finished_at),
        "rows_total": total, "rows_done": job.rows_done,
        "progress": (job.rows_done / total if total else (1.0 if job.state == "done" else 0.0)),
        "result": job.result, "errors": job.errors, "error": error,
    }  # fmt: skip
    if job.direction == "export" and job.state == JobState.DONE.value:
        view["file"] = f"/api/v1/registry/exports/{job.id}/file"
    return view
