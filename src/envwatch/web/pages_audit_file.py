"""Pages of the permit audit (审计式监管): the city table of enterprises by
the share of their permit used (``/permits/usage``: sortable, downloadable as
CSV/XLSX through the API), an enterprise's audit files (``/enterprises/{id}/
audit``: the list, and a form supervisors make a file with) and one file
(``/audit-files/{id}``: every check with its status and evidence, the
problems with their rectification, the execution-report tables and the
PDF/XLSX downloads). Read within the one scope rule, like the API; rendered
whole on the server."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from envwatch.audit.log import Actor
from envwatch.glossary import factor
from envwatch.hj212.codes import now_cst
from envwatch.permits.audit_file import METHODS, AuditError
from envwatch.permits.audit_store import create_audit_file
from envwatch.permits.parameters import load_parameters
from envwatch.permits.usage import SORT_KEYS
from envwatch.rules.engine import default_rule_set
from envwatch.store.schema import MAX_ID, AuditRun
from envwatch.web.api_audit_file import MAKERS, run_summary, usage_document
from envwatch.web.api_measurements import visible_enterprise
from envwatch.web.i18n import language, translator
from envwatch.web.people import csrf_ok, current_user, peer_of
from envwatch.web.rendering import database, form, not_found, render

router = APIRouter()


def _year(text: str) -> int:
    return int(text) if text.isdigit() and 2000 <= int(text) <= 2100 else now_cst().year


def _names(english: bool) -> dict[str, str]:
    words = translator("en" if english else "zh")
    return {"ok": words["pm_status_ok"], "warning": words["pm_status_warning"],
            "alarm": words["pm_status_alarm"], "no_permit": words["pm_status_no_permit"],
            "problem": words["af_status_problem"]}  # fmt: skip


@router.get("/permits/usage", response_class=HTMLResponse, response_model=None)
async def usage_page(request: Request, year: str = "", sort: str = "", order: str = "") -> Response:
    user = await current_user(request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    wanted = _year(year)
    key = sort if sort in SORT_KEYS else "share"
    descending = order != "asc"
    english = language(request) == "en"
    document = await asyncio.to_thread(usage_document, database(request), user, wanted, key,
                                       descending)  # fmt: skip
    for row in document["items"]:
        known = factor(row["pollutant"])
        row["pollutant_name"] = (known.name_en if english else known.name_zh) if known else ""
    return render(request, "permit_usage.html", user, year=wanted, rows=document["items"],
                  sort=key, order="desc" if descending else "asc", sort_keys=SORT_KEYS,
                  statuses=_names(english))  # fmt: skip


@router.get("/enterprises/{enterprise_id}/audit", response_class=HTMLResponse,
            response_model=None)  # fmt: skip
async def audit_files_page(request: Request, enterprise_id: int) -> Response:
    user = await current_user(request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    if not 1 <= enterprise_id <= MAX_ID:
        return not_found(request, user)
    return await _files_page(request, user, enterprise_id, error=None)


async def _files_page(
    request: Request, user: Any, enterprise_id: int, error: str | None, status: int = 200
) -> Response:
    def read() -> dict[str, Any] | None:
        with database(request).connect() as connection:
            enterprise = visible_enterprise(connection, user, enterprise_id)
            if enterprise is None:
                return None
            rows = connection.execute(
                select(AuditRun).where(AuditRun.enterprise_id == enterprise_id)
                .order_by(AuditRun.id.desc()).limit(200)
            ).all()  # fmt: skip
        return {"enterprise": enterprise, "runs": [run_summary(row) for row in rows]}

    data = await asyncio.to_thread(read)
    if data is None:
        return not_found(request, user)
    now = now_cst()
    default = f"{now.year}-Q{(now.month - 1) // 3 + 1}"
    return render(request, "audit_files.html", user, status=status, error=error,
                  may_make=user.role in MAKERS, default_period=default, **data)  # fmt: skip


@router.post("/enterprises/{enterprise_id}/audit", response_class=HTMLResponse,
             response_model=None)  # fmt: skip
async def audit_file_make(request: Request, enterprise_id: int) -> Response:
    user = await current_user(request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    fields = await form(request)
    words = translator(language(request))
    if not csrf_ok(user, fields.get("csrf")):
        return render(request, "error.html", user, status=403, message=words["csrf_failed"])
    if not 1 <= enterprise_id <= MAX_ID:
        return not_found(request, user)

    def write() -> tuple[int, int | str]:
        """(303, the new run) or (status, the refusal's words)."""
        with database(request).begin() as connection:
            if visible_enterprise(connection, user, enterprise_id) is None:
                return 404, ""
            if user.role not in MAKERS:
                return 403, words["af_not_allowed"]
            try:
                made = create_audit_file(
                    connection, enterprise_id, fields.get("period", ""),
                    now_cst().replace(tzinfo=None),
                    Actor(user.username, user.role, peer_of(request)),
                    parameters=load_parameters(), rules=default_rule_set(),
                )  # fmt: skip
            except AuditError as error:
                return 422, error.message_en if language(request) == "en" else error.message_zh
            return (404, "") if made is None else (303, made.run_id)

    status, outcome = await asyncio.to_thread(write)
    if status == 404:
        return not_found(request, user)
    if status != 303:
        return await _files_page(request, user, enterprise_id, error=str(outcome), status=status)
    return RedirectResponse(f"/audit-files/{outcome}", status_code=303)


@router.get("/audit-files/{run_id}", response_class=HTMLResponse, response_model=None)
async def audit_file_page(request: Request, run_id: int) -> Response:
    user = await current_user(request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    if not 1 <= run_id <= MAX_ID:
        return not_found(request, user)
    english = language(request) == "en"

    def read() -> dict[str, Any] | None:
        with database(request).connect() as connection:
            row = connection.execute(select(AuditRun).where(AuditRun.id == run_id)).first()
            if row is None:
                return None
            enterprise = visible_enterprise(connection, user, row.enterprise_id)
            if enterprise is None:
                return None
        return {"enterprise": enterprise, "run": run_summary(row), "document": row.document}

    data = await asyncio.to_thread(read)
    if data is None:
        return not_found(request, user)
    names = data["document"].get("pollutant_names", {})
    return render(request, "audit_file.html", user, english=english, statuses=_names(english),
                  methods=METHODS, names=names, **data)  # fmt: skip
