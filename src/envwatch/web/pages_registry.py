"""The registry and coverage pages: key enterprises missing monitors or meters,
points never connected or offline, per county (应装尽装、应联尽联); imports and
exports with progress.

``/registry`` lists the enterprises in the user's scope with their outlets,
points and meters; a city administrator also gets the import form (a live
progress bar and the file's row errors, from the job API) and the export.
``/coverage`` shows the figures per county, each development zone under the
district that hosts it (as the map counts it), and below them who makes the
figures short. Enterprise users and contractors are refused (403), as the
coverage API refuses them.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from envwatch.alerts.queries import CITY_ROLES
from envwatch.registry.coverage import CountyCoverage, coverage
from envwatch.registry.importing import ImportKind, columns
from envwatch.settings import get_settings
from envwatch.store.schema import MAX_ID, County
from envwatch.web.api_registry import EnterpriseFilter, coverage_gaps, list_enterprises
from envwatch.web.errors import ApiError
from envwatch.web.i18n import language, translator
from envwatch.web.people import current_user
from envwatch.web.rendering import database, render

router = APIRouter()
PAGE_SIZE = 100
KEY_CATEGORIES = ("air", "water", "chemical_park", "acid", "hazardous_waste", "medical")


def _text(value: str | None, limit: int) -> str | None:
    """A filter from the query string: blank is no filter; overlong is cut;
    control characters dropped (PostgreSQL text holds no NUL)."""
    value = "".join(ch for ch in (value or "") if ch >= " ").strip()
    return value[:limit] or None


@router.get("/registry", response_class=HTMLResponse, response_model=None)
async def registry_page(
    request: Request,
    *,
    county: str | None = None,
    industry: str | None = None,
    key_category: str | None = None,
    q: str | None = None,
    offset: int = 0,
) -> Response:
    user = await current_user(request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    county_code = _text(county, 6) if (county or "").isdigit() else None
    industry_code = _text(industry, 4) if (industry or "").isdigit() else None
    category = key_category if key_category in (*KEY_CATEGORIES, "any", "none") else None
    where = EnterpriseFilter(county_code, industry_code, category, _text(q, 100))
    start = min(max(0, offset), MAX_ID)  # past the ids there is nothing to page to

    def read() -> dict[str, Any]:
        with database(request).connect() as connection:
            page = list_enterprises(connection, user, where, PAGE_SIZE, start)
            names = dict(connection.execute(
                select(County.code, County.name_zh).order_by(County.code)).all())  # fmt: skip
        return {"page": page, "names": names}

    data = await asyncio.to_thread(read)
    visible = data["names"]
    if user.role not in CITY_ROLES:
        visible = {code: name for code, name in visible.items() if code in user.counties}
    filters = {"county": county_code or "", "industry": industry_code or "",
               "key_category": category or "", "q": where.q or ""}  # fmt: skip
    query = urlencode({key: value for key, value in filters.items() if value})
    total = data["page"]["total"]
    return render(
        request, "registry.html", user,
        enterprises=data["page"]["items"], total=total, offset=start, page_size=PAGE_SIZE,
        county_names=data["names"], county_choices=visible, filters=filters, query=query,
        filtered=bool(query), categories=KEY_CATEGORIES,
        kinds=[kind.value for kind in ImportKind],
        columns={kind.value: columns(kind) for kind in ImportKind},
        is_admin=user.role == "city_admin",
    )  # fmt: skip


def _ordered(rows: list[CountyCoverage]) -> list[tuple[CountyCoverage, bool]]:
    """Counties in code order, each development zone right under its host
    district; a zone whose host is not shown stands on its own row."""
    shown = {row.code for row in rows}
    zones: dict[str, list[CountyCoverage]] = {}
    for row in rows:
        if row.host_code and row.host_code in shown:
            zones.setdefault(row.host_code, []).append(row)
    ordered: list[tuple[CountyCoverage, bool]] = []
    for row in rows:
        if row.host_code and row.host_code in shown:
            continue
        ordered.append((row, False))
        ordered.extend((zone, True) for zone in zones.get(row.code, []))
    return ordered


def _total(rows: list[CountyCoverage]) -> CountyCoverage:
    total = CountyCoverage("", "")
    for row in rows:
        total.key_enterprises += row.key_enterprises
        total.without_monitor += row.without_monitor
        total.without_meter += row.without_meter
        total.points += row.points
        total.online += row.online
        total.offline += row.offline
        total.never_connected += row.never_connected
    return total


@router.get("/coverage", response_class=HTMLResponse, response_model=None)
async def coverage_page(request: Request, county: str | None = None) -> Response:
    user = await current_user(request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    words = translator(language(request))
    if user.role not in CITY_ROLES and user.role != "county_officer":
        return render(request, "error.html", user, status=403,
                      message=words["reg_coverage_forbidden"])  # fmt: skip
    chosen = county if county and county.isdigit() and len(county) == 6 else None

    def read() -> dict[str, Any]:
        engine = database(request)
        rows = coverage(engine, datetime.now(UTC),
                        timedelta(seconds=get_settings().offline_after_s))  # fmt: skip
        visible = [r for r in rows if user.role in CITY_ROLES or r.code in user.counties]
        try:
            details = coverage_gaps(engine, user, chosen)
        except ApiError:  # a county out of scope or unknown: every county's details
            details = coverage_gaps(engine, user, None)
        return {"rows": _ordered(visible), "total": _total(visible), "gaps": details,
                "names": {r.code: r.name_zh for r in rows},
                "names_en": {r.code: r.name_en or r.name_zh for r in rows}}  # fmt: skip

    data = await asyncio.to_thread(read)
    names = data.pop("names_en") if language(request) == "en" else data["names"]
    return render(request, "coverage.html", user, chosen=data["gaps"]["county"],
                  show_total=len(data["rows"]) > 1, county_names=names, **data)  # fmt: skip
