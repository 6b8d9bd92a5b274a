"""The rules' processing as administrators see it: uploads set aside
(quarantined) with their error, and how many (the metric); replays of stored
history started as jobs, with their progress (``processing/replay_jobs.py``)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator

from envwatch.alerts.queries import Viewer
from envwatch.audit.log import Actor
from envwatch.auth.sessions import SessionUser
from envwatch.processing.quarantine import list_quarantined
from envwatch.processing.replay_jobs import (
    DIRECTION,
    ReplayRequest,
    cancel,
    start_replay_job,
)
from envwatch.registry.jobs import JobState, job_view, read_job
from envwatch.rules.catalogue import RULES
from envwatch.times import as_data_time
from envwatch.web.errors import ApiError, csrf_failed
from envwatch.web.people import CSRF_HEADER, api_user, csrf_ok, peer_of

router = APIRouter()


@router.get("/api/v1/processing/quarantine")
async def get_quarantine(
    request: Request,
    user: Annotated[Viewer, Depends(api_user)],
    mn: Annotated[str | None, Query(pattern=r"^[0-9A-Za-z_\-]{1,32}$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> dict[str, Any]:
    """Uploads a rule failed on, newest first, with the error (city administrators):
    processing went on past each; ``total`` is the count."""
    if user.role != "city_admin":
        raise ApiError(403, "forbidden", "processing is for city administrators",
                       "仅市局管理员可查看数据处理情况")  # fmt: skip
    engine = request.app.state.database()
    return await asyncio.to_thread(list_quarantined, engine, mn=mn, limit=limit, offset=offset)


# ---- replaying history as a job ---------------------------------------------

REPLAYS = "/api/v1/processing/replays"
JobId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class ReplayIn(BaseModel):
    """A replay of stored history: the findings of ``rules`` (all: omitted)
    for uploads with DataTime in [since, until) are recomputed and replaced;
    ``dry_run`` only counts what would change; ``resume`` goes on after the
    devices a stopped job of the same window, rules and county replaced."""

    model_config = ConfigDict(extra="forbid")

    since: datetime
    until: datetime
    """ISO 8601; without a zone, China Standard Time."""
    rules: list[str] | None = Field(default=None, min_length=1, max_length=len(RULES))
    county: str | None = Field(default=None, pattern=r"^[0-9]{6}$")
    dry_run: bool = False
    resume: bool = False

    @field_validator("rules")
    @classmethod
    def _known(cls, value: list[str] | None) -> list[str] | None:
        unknown = [rule for rule in value or [] if rule not in RULES]
        if unknown:
            raise ValueError(f"unknown rules: {', '.join(unknown)}")
        return value


def _replayer(request: Request, user: Viewer) -> SessionUser:
    """A city administrator's session sending its CSRF token."""
    if not isinstance(user, SessionUser) or user.role != "city_admin":
        raise ApiError(403, "forbidden", "replays are for city administrators",
                       "仅市局管理员可重新研判历史数据")  # fmt: skip
    if not csrf_ok(user, request.headers.get(CSRF_HEADER)):
        raise csrf_failed()
    return user


@router.post(REPLAYS, status_code=202)
async def start_replay(
    request: Request, body: ReplayIn, user: Annotated[Viewer, Depends(api_user)]
) -> dict[str, Any]:
    """Start a replay as a job: poll ``GET .../replays/{id}`` for its progress
    (steps: a device judged, then written) and its report."""
    admin = _replayer(request, user)
    since, until = as_data_time(body.since), as_data_time(body.until)
    if until <= since:
        raise ApiError(422, "invalid_window", "until must be after since",
                       "结束时间须晚于开始时间")  # fmt: skip
    replay = ReplayRequest(since, until, tuple(body.rules) if body.rules else None, body.county,
                           body.dry_run, body.resume)  # fmt: skip
    engine = request.app.state.database()
    actor = Actor(admin.username, admin.role, peer_of(request))
    job_id = await asyncio.to_thread(start_replay_job, engine, replay, actor)
    return {"id": job_id, "state": "queued", "href": f"{REPLAYS}/{job_id}"}


async def _replay_job(request: Request, user: Viewer, job_id: int) -> Any:
    if user.role != "city_admin":
        raise ApiError(403, "forbidden", "replays are for city administrators",
                       "仅市局管理员可查看重新研判任务")  # fmt: skip
    job = await asyncio.to_thread(read_job, request.app.state.database(), job_id)
    if job is None or job.direction != DIRECTION:
        raise ApiError(404, "not_found", f"no replay job {job_id}", f"重新研判任务{job_id}不存在")
    return job


@router.get(REPLAYS + "/{job_id}")
async def get_replay(
    request: Request, job_id: JobId, user: Annotated[Viewer, Depends(api_user)]
) -> dict[str, Any]:
    """A replay job: state (queued, running, done, failed: ``cancelled``,
    ``interrupted``), steps done of steps, and its report when done."""
    return replay_view(await _replay_job(request, user, job_id))


def replay_view(job: Any) -> dict[str, Any]:
    """A replay job as the API (and the administrators' page) shows it:
    its progress in steps rather than rows."""
    view = job_view(job)
    view["steps_done"], view["steps_total"] = view.pop("rows_done"), view.pop("rows_total")
    view["href"] = f"{REPLAYS}/{job.id}"
    return view


@router.post(REPLAYS + "/{job_id}/cancel", status_code=202)
async def cancel_replay(
    request: Request, job_id: JobId, user: Annotated[Viewer, Depends(api_user)]
) -> dict[str, Any]:
    """Stop a running replay after the device at hand."""
    _replayer(request, user)
    job = await _replay_job(request, user, job_id)
    if job.state not in {JobState.QUEUED.value, JobState.RUNNING.value} or not cancel(job_id):
        raise ApiError(409, "not_running", f"replay job {job_id} is not running here",
                       f"重新研判任务{job_id}未在运行")  # fmt: skip
    return {"id": job_id, "state": "cancelling", "href": f"{REPLAYS}/{job_id}"}
