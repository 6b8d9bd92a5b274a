"""The enterprise and monitoring-point pages: time-series charts (real-time,
minute, hour, day; raw and O2-corrected; flags; permit limits) and
electricity of production against treatment circuits."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from envwatch.alerts.queries import CITY_ROLES
from envwatch.auth.sessions import SessionUser
from envwatch.enforcement.cases import CaseError, enterprise_history
from envwatch.store.schema import Enterprise
from envwatch.web.people import current_user
from envwatch.web.rendering import database, not_found, render

router = APIRouter()


@router.get("/enterprises/{enterprise_id}", response_class=HTMLResponse, response_model=None)
async def enterprise_page(request: Request, enterprise_id: int) -> Response:
    user = await current_user(request)
    if user is None:
        return RedirectResponse("/login", status_code=303)

    def read() -> dict[str, Any] | None:
        with database(request).connect() as connection:
            county = connection.execute(
                select(Enterprise.county_code).where(Enterprise.id == enterprise_id)
            ).scalar()
            if county is None or not _may_see_enterprise(user, enterprise_id, county):
                return None
            try:
                return enterprise_history(connection, enterprise_id)
            except CaseError:
                return None

    history = await asyncio.to_thread(read)
    if history is None:
        return not_found(request, user)
    return render(request, "enterprise.html", user, history=history)


def _may_see_enterprise(user: SessionUser, enterprise_id: int, county: str) -> bool:
    if user.role in {"enterprise_user", "contractor"}:
        return user.enterprise_id == enterprise_id
    if user.role == "county_officer":
        return county in user.counties
    return user.role in CITY_ROLES
