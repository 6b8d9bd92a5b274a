"""The enterprise's permit and emissions page (排污许可与排放量): the year's
totals per pollutant against the permit (by method: measured, substituted,
direct discharge, manual; share, projection, status), the permits in force,
the year's manual monitoring results (手工监测), and monthly bars against the
monthly share of the permit, drawn by
``static/charts.js`` from ``/api/v1/enterprises/{id}/emissions``. Rendered
whole on the server, so it reads without JavaScript."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import true

from envwatch.glossary import factor
from envwatch.hj212.codes import now_cst
from envwatch.permits.manual_store import list_results
from envwatch.permits.parameters import load_parameters
from envwatch.permits.report import cap_json, cap_totals, permit_checks, year_totals
from envwatch.permits.store import current_permits, permit_view
from envwatch.permits.totals import year_bounds
from envwatch.store.schema import MAX_ID
from envwatch.web.api_measurements import visible_enterprise
from envwatch.web.i18n import language, translator
from envwatch.web.people import current_user
from envwatch.web.rendering import database, not_found, render

router = APIRouter()

MANUAL_ROWS = 50
"""The newest manual results the page lists (all: ``/api/v1/permits/manual-results``)."""


@router.get("/enterprises/{enterprise_id}/emissions", response_class=HTMLResponse,
            response_model=None)  # fmt: skip
async def emissions_page(request: Request, enterprise_id: int, year: str = "") -> Response:
    user = await current_user(request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    wanted = int(year) if year.isdigit() and 2000 <= int(year) <= 2100 else now_cst().year
    if not 1 <= enterprise_id <= MAX_ID:
        return not_found(request, user)
    english = language(request) == "en"
    words = translator(language(request))
    statuses = {
        "ok": words["pm_status_ok"],
        "warning": words["pm_status_warning"],
        "alarm": words["pm_status_alarm"],
        "no_permit": words["pm_status_no_permit"],
    }
    categories = {"key": words["pm_category_key"], "simplified": words["pm_category_simplified"],
                  "registration": words["pm_category_registration"]}  # fmt: skip

    def read() -> dict[str, Any] | None:
        with database(request).connect() as connection:
            enterprise = visible_enterprise(connection, user, enterprise_id)
            if enterprise is None:
                return None
            parameters = load_parameters()
            totals = year_totals(connection, enterprise_id, wanted, parameters)
            now = now_cst().replace(tzinfo=None)
            checks = permit_checks(connection, enterprise_id, now, totals, parameters)
            caps = cap_json(cap_totals(connection, enterprise_id, now, parameters))
            permits = [permit_view(connection, row)
                       for row in current_permits(connection, enterprise_id)]  # fmt: skip
            start, end = year_bounds(wanted)
            manual, manual_total = list_results(
                connection, true(), enterprise_id=enterprise_id, since=start, until=end,
                limit=MANUAL_ROWS,
            )  # fmt: skip
        rows = []
        for total in totals:
            known = factor(total.code)
            name = (known.name_en if english else known.name_zh) if known else total.code
            status = str(total.status)
            rows.append({"code": total.code, "name": name, "total": total, "status": status,
                         "status_label": statuses.get(status, status)})  # fmt: skip
        for permit in permits:
            permit["category_label"] = categories.get(permit["category"], permit["category"])
        shown = [{"status": str(c.status), "text": c.detail_en if english else c.detail_zh}
                 for c in checks]  # fmt: skip
        return {"enterprise": enterprise, "year": wanted, "totals": rows, "permits": permits,
                "checks": shown, "manual": manual, "manual_total": manual_total,
                "caps": [{**cap, "status_label": statuses.get(cap["status"], cap["status"])}
                         for cap in caps]}  # fmt: skip

    data = await asyncio.to_thread(read)
    if data is None:
        return not_found(request, user)
    return render(request, "permits_emissions.html", user, **data)
