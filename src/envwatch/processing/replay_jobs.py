"""A replay of stored history (``columnar_replay.replay_columnar``) as a job an
administrator starts from the web: it runs in the registry jobs' worker
(``registry/jobs.py``: the ``registry_job`` row, direction ``replay``, holds
its state, progress in steps, and its report as the result), so it survives a
restart as a row and one its process left open reads as interrupted.

It can be stopped (``cancel``): it ends failed with the code ``cancelled``
after the device at hand. The findings of the devices it replaced stay, with
the job's cursor, so a new job of the same window, rules and county started
with ``resume`` goes on after them.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Engine, select

from envwatch.audit.log import Actor, record
from envwatch.processing.columnar_replay import replay_columnar
from envwatch.registry.jobs import (
    JobState,
    _fail,
    _now,
    _Progress,
    _set,
    _start,
    create_job,
    submit,
)
from envwatch.rules.engine import default_rule_set
from envwatch.settings import get_settings
from envwatch.store.schema import Enterprise, MonitoringPoint
from envwatch.times import cst_text

DIRECTION: Final = "replay"
"""The jobs' ``direction`` in ``registry_job``."""


@dataclass(frozen=True, slots=True)
class ReplayRequest:
    since: datetime
    until: datetime
    """DataTime window [since, until), China Standard Time."""
    rules: tuple[str, ...] | None = None
    county: str | None = None
    dry_run: bool = False
    resume: bool = False


class CancelledError(Exception):
    """The job was asked to stop."""


_stops: dict[int, threading.Event] = {}
_stops_lock = threading.Lock()


def cancel(job_id: int) -> bool:
    """Ask a running replay job of this process to stop; whether it runs here."""
    with _stops_lock:
        event = _stops.get(job_id)
    if event is None:
        return False
    event.set()
    return True


def county_devices(engine: Engine, county: str) -> list[str]:
    """The monitoring points of the enterprises in ``county``."""
    with engine.connect() as connection:
        return list(
            connection.execute(
                select(MonitoringPoint.mn)
                .join(Enterprise, Enterprise.id == MonitoringPoint.enterprise_id)
                .where(Enterprise.county_code == county)
            ).scalars()
        )


def create_replay_job(engine: Engine, request: ReplayRequest, owner: str) -> int:
    """Store a queued replay job; its id."""
    kind = "dry_run" if request.dry_run else "replace"
    window = f"{cst_text(request.since)}/{cst_text(request.until)}"
    return create_job(engine, direction=DIRECTION, kind=kind, file_format="",
                      file_name=window, owner=owner)  # fmt: skip


def start_replay_job(engine: Engine, request: ReplayRequest, actor: Actor) -> int:
    """Store the job and run it in the jobs' worker; its id (the API and the
    administrators' page start replays alike)."""
    job_id = create_replay_job(engine, request, actor.name)
    submit(engine, job_id, lambda: run_replay_job(engine, job_id, request, actor=actor))
    return job_id


def run_replay_job(
    engine: Engine,
    job_id: int,
    request: ReplayRequest,
    *,
    actor: Actor,
    stop: threading.Event | None = None,
) -> None:
    """Run the replay as the job ``job_id``: progress as it goes, the report
    as the result, an audit entry when done; ``stop`` (``cancel`` sets it)
    ends it after the device at hand."""
    stop = stop or threading.Event()
    with _stops_lock:
        _stops[job_id] = stop
    _start(engine, job_id)
    written = _Progress(engine, job_id)

    def progress(done: int, total: int) -> None:
        if stop.is_set():
            raise CancelledError
        written(done, total)

    devices = None if request.county is None else county_devices(engine, request.county)
    try:
        report = replay_columnar(
            engine, request.since, request.until, default_rule_set(get_settings().rules_file),
            rules=list(request.rules) if request.rules is not None else None,
            dry_run=request.dry_run, resume=request.resume, devices=devices, progress=progress,
        )  # fmt: skip
    except CancelledError:
        _fail(engine, job_id, "cancelled", "stopped: the devices done keep their new findings; "
              "start it again with resume to go on", "已停止：已完成设备的研判结果已保存，"
              "可选择“继续”重新提交以接着执行")  # fmt: skip
        return
    finally:
        with _stops_lock:
            _stops.pop(job_id, None)
    result: dict[str, Any] = {**asdict(report), "request": _request_json(request)}
    with engine.begin() as connection:
        if not request.dry_run:  # what changed the findings is on record
            record(connection, actor, "rules.replay", "registry_job", job_id,
                   after=result["request"] | {"findings": report.findings})  # fmt: skip
        _set(connection, job_id, state=JobState.DONE.value, result=result,
             finished_at=_now(), heartbeat_at=_now())  # fmt: skip


def _request_json(request: ReplayRequest) -> dict[str, Any]:
    return {"since": cst_text(request.since), "until": cst_text(request.until),
            "rules": list(request.rules) if request.rules is not None else None,
            "county": request.county, "dry_run": request.dry_run,
            "resume": request.resume}  # fmt: skip
