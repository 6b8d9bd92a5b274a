"""The city administrators' replay page (重新研判): a form that starts a
replay of stored history as a job, and the replay jobs with their state,
progress (``static/replays.js`` polls the job API while one runs), who
started each and when, a stop button for a running one and the report of a
finished one (for a dry run: the findings that would be new, removed,
changed and unchanged).

The jobs are those of the API (``api_processing.py``, ``processing/
replay_jobs.py``): the page starts and stops them through the same functions,
so the audit entry, the job's row and its progress are one and the same.
Like the API, the page is for city administrators only (403 for others).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any, Final

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from envwatch.audit.log import Actor
from envwatch.auth.sessions import SessionUser
from envwatch.hj212.codes import CHINA_STANDARD_TIME
from envwatch.processing.replay_jobs import DIRECTION, ReplayRequest, cancel, start_replay_job
from envwatch.registry.jobs import JobState, list_jobs, read_job
from envwatch.rules.catalogue import RULES
from envwatch.rules.catalogue.base import RULE_KINDS
from envwatch.store.schema import County
from envwatch.times import as_data_time
from envwatch.web.api_processing import replay_view
from envwatch.web.i18n import language, translator
from envwatch.web.people import csrf_ok, current_user, peer_of
from envwatch.web.rendering import database, form_lists, not_found, render

router = APIRouter()

PAGE: Final = "/processing/replays"
JOBS_SHOWN: Final = 50
"""The newest replay jobs the page lists."""
FORM_TIME: Final = "%Y-%m-%dT%H:%M"
"""How a moment stands in the form (an HTML ``datetime-local`` field)."""
JobId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@dataclass
class Entries:
    """What the form holds: the defaults, or what the administrator sent."""

    since: str = ""
    until: str = ""
    rules: list[str] = field(default_factory=list)
    county: str = ""
    dry_run: bool = True
    resume: bool = False


def _default_entries() -> Entries:
    """Yesterday, China Standard Time, as a dry run of every rule."""
    today = datetime.now(CHINA_STANDARD_TIME).replace(
        tzinfo=None, hour=0, minute=0, second=0, microsecond=0
    )
    return Entries((today - timedelta(days=1)).strftime(FORM_TIME), today.strftime(FORM_TIME))


def _moment(text: str) -> datetime | None:
    """A moment as the form sends it (``2026-11-29T00:00``; a space or
    seconds or a zone will do); None when it is none."""
    try:
        return as_data_time(datetime.fromisoformat(text.strip()))
    except ValueError:
        return None


def _read_form(
    fields: dict[str, list[str]], counties: dict[str, str], words: dict[str, str]
) -> tuple[Entries, ReplayRequest | None, list[str]]:
    """The form's entries, the replay they ask for, and what is wrong with
    them (each problem named; no request when there is one)."""

    def one(name: str) -> str:
        return (fields.get(name) or [""])[-1].strip()

    entries = Entries(one("since"), one("until"), [r for r in fields.get("rules", []) if r],
                      one("county"), one("dry_run") == "1", one("resume") == "1")  # fmt: skip
    errors: list[str] = []
    since, until = _moment(entries.since), _moment(entries.until)
    if since is None:
        errors.append(f"{words['rp_bad_since']}: “{entries.since[:40]}”")
    if until is None:
        errors.append(f"{words['rp_bad_until']}: “{entries.until[:40]}”")
    if since is not None and until is not None and until <= since:
        errors.append(words["rp_until_after_since"])
    unknown = [rule[:40] for rule in entries.rules if rule not in RULES]
    if unknown:
        errors.append(f"{words['rp_unknown_rule']}: {', '.join(unknown)}")
    if entries.county and entries.county not in counties:
        errors.append(f"{words['rp_unknown_county']}: {entries.county[:12]}")
    if errors or since is None or until is None:
        return entries, None, errors
    rules = tuple(dict.fromkeys(entries.rules)) or None
    replay = ReplayRequest(since, until, rules, entries.county or None, entries.dry_run,
                           entries.resume)  # fmt: skip
    return entries, replay, errors


def _counties(request: Request, lang: str) -> dict[str, str]:
    with database(request).connect() as connection:
        rows = connection.execute(
            select(County.code, County.name_zh, County.name_en).order_by(County.code)
        ).all()
    return {
        code: (name_en or name_zh) if lang == "en" else name_zh for code, name_zh, name_en in rows
    }


async def _page(
    request: Request,
    user: SessionUser,
    *,
    status: int = 200,
    entries: Entries | None = None,
    errors: list[str] | None = None,
) -> HTMLResponse:
    lang = language(request)

    def read() -> tuple[list[dict[str, Any]], dict[str, str]]:
        jobs = list_jobs(database(request), DIRECTION, JOBS_SHOWN)
        return [replay_view(job) for job in jobs], _counties(request, lang)

    jobs, counties = await asyncio.to_thread(read)
    rule_names = {rule_id: rule.title_zh if lang == "zh" else rule_id
                  for rule_id, rule in RULES.items()}  # fmt: skip
    groups = [(kind, [r for r in RULES if RULES[r].kind == kind]) for kind in RULE_KINDS]
    return render(request, "replays.html", user, status=status, jobs=jobs, counties=counties,
                  rule_names=rule_names, rule_groups=[g for g in groups if g[1]],
                  entries=entries or _default_entries(), errors=errors or [],
                  started=request.query_params.get("started", ""),
                  stopping=request.query_params.get("stopping", ""))  # fmt: skip


async def _administrator(request: Request) -> tuple[SessionUser | None, Response | None]:
    """The city administrator behind the request, or the answer for anyone
    else: the login for nobody, 403 as the API answers other roles."""
    user = await current_user(request)
    if user is None:
        return None, RedirectResponse("/login", status_code=303)
    if user.role != "city_admin":
        words = translator(language(request))
        return user, render(request, "error.html", user, status=403,
                            message=words["rp_forbidden"])  # fmt: skip
    return user, None


def _back(request: Request, **query: int) -> RedirectResponse:
    shown = "&".join(f"{key}={value}" for key, value in query.items())
    return RedirectResponse(f"{PAGE}?{shown}&lang={language(request)}", status_code=303)


@router.get(PAGE, response_class=HTMLResponse, response_model=None)
async def replays_page(request: Request) -> Response:
    user, answer = await _administrator(request)
    if answer is not None or user is None:
        return answer or RedirectResponse("/login", status_code=303)
    return await _page(request, user)


@router.post(PAGE, response_model=None)
async def replays_start(request: Request) -> Response:
    """Start a replay from the form; back to the page, where it shows."""
    user, answer = await _administrator(request)
    if answer is not None or user is None:
        return answer or RedirectResponse("/login", status_code=303)
    fields = await form_lists(request)
    lang = language(request)
    words = translator(lang)
    if not csrf_ok(user, (fields.get("csrf") or [""])[-1]):
        return await _page(request, user, status=403, errors=[words["csrf_failed"]])
    counties = await asyncio.to_thread(_counties, request, lang)
    entries, replay, errors = _read_form(fields, counties, words)
    if replay is None:
        return await _page(request, user, status=422, entries=entries, errors=errors)
    actor = Actor(user.username, user.role, peer_of(request))
    job_id = await asyncio.to_thread(start_replay_job, database(request), replay, actor)
    return _back(request, started=job_id)


@router.post(PAGE + "/{job_id}/cancel", response_model=None)
async def replays_cancel(request: Request, job_id: JobId) -> Response:
    """Stop a running replay after the device at hand (as the API's cancel)."""
    user, answer = await _administrator(request)
    if answer is not None or user is None:
        return answer or RedirectResponse("/login", status_code=303)
    fields = await form_lists(request)
    words = translator(language(request))
    if not csrf_ok(user, (fields.get("csrf") or [""])[-1]):
        return await _page(request, user, status=403, errors=[words["csrf_failed"]])
    job = await asyncio.to_thread(read_job, database(request), job_id)
    if job is None or job.direction != DIRECTION:
        return not_found(request, user)
    if job.state not in {JobState.QUEUED.value, JobState.RUNNING.value} or not cancel(job_id):
        return await _page(request, user, status=409, errors=[words["rp_not_running"]])
    return _back(request, stopping=job_id)
