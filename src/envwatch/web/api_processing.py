"""The rules' processing as administrators see it: uploads set aside
(quarantined) with their error, and how many (the metric)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from envwatch.alerts.queries import Viewer
from envwatch.processing.quarantine import list_quarantined
from envwatch.web.errors import ApiError
from envwatch.web.people import api_user

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
