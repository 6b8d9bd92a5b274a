"""The web application factory.

Until the platform's pages arrive, it serves a start page, a health check, an
HJ 212 decoding endpoint for operators checking a logger's output, and the
batch endpoint where machine clients (bearer tokens) upload meter readings.
"""

from __future__ import annotations

import asyncio
from functools import cache
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Request
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy import Engine

from envwatch import __version__
from envwatch.auth.tokens import Client, authenticate
from envwatch.electricity.batch import store_batch
from envwatch.hj212 import DecodeOptions, Decoder
from envwatch.hj212.jsonform import item_to_json
from envwatch.registry.importing import ImportFileError
from envwatch.settings import get_settings
from envwatch.store.db import make_engine

_MAX_DECODE_BYTES = 1 << 20
_MAX_BATCH_BYTES = 16 << 20
# Media type -> the file kind the batch reader knows.
_BATCH_TYPES = {
    "text/csv": ".csv",
    "application/x-ndjson": ".jsonl",
    "application/jsonl": ".jsonl",
    "application/json-lines": ".jsonl",
}


class ApiError(Exception):
    """An error answered as ``{"error": {"code", "message", "message_zh", ...}}``."""

    def __init__(self, status: int, code: str, message: str, message_zh: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"code": code, "message": message, "message_zh": message_zh, **extra}
        self.headers: dict[str, str] = {}


async def _body(request: Request, limit: int) -> bytes:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise ApiError(
                413, "too_large", f"body exceeds {limit} bytes", f"请求体超过{limit}字节"
            )
    return bytes(body)


async def machine_client(
    request: Request, authorization: Annotated[str | None, Header()] = None
) -> Client:
    """The machine client of the request's bearer token (401 without a valid one)."""
    scheme, _, token = (authorization or "").partition(" ")
    client = None
    if scheme.lower() == "bearer" and token.strip():
        client = await asyncio.to_thread(authenticate, request.app.state.database(), token.strip())
    if client is None:
        error = ApiError(
            401,
            "unauthenticated",
            "a valid bearer token is required (Authorization: Bearer ew_...)",
            "需要有效的访问令牌（Authorization: Bearer ew_...）",
        )
        error.headers["WWW-Authenticate"] = "Bearer"
        raise error
    return client


_START_PAGE = """<!doctype html>
<html lang="zh-CN">
<head><meta charset="utf-8"><title>envwatch 智慧环境监管平台</title></head>
<body>
<h1>envwatch 智慧环境监管平台</h1>
<p>平台正在建设中。当前可用：HJ 212 数据包在线解析接口 <code>POST /api/v1/hj212/decode</code>。</p>
<p lang="en">Smart environmental supervision platform. Available now: HJ 212 frame decoding at
<code>POST /api/v1/hj212/decode</code>.</p>
</body>
</html>
"""


def create_app(engine: Engine | None = None) -> FastAPI:
    """The application; ``engine`` by default from ENVWATCH_DATABASE_URL, made on first use."""
    app = FastAPI(title="envwatch", version=__version__)

    @cache
    def database() -> Engine:
        return engine if engine is not None else make_engine(get_settings().database_url)

    app.state.database = database

    @app.exception_handler(ApiError)
    async def api_error(_request: Request, error: ApiError) -> JSONResponse:
        return JSONResponse(
            status_code=error.status, content={"error": error.body}, headers=error.headers
        )

    @app.get("/", response_class=HTMLResponse)
    def start_page() -> str:
        return _START_PAGE

    @app.get("/healthz")
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.post("/api/v1/hj212/decode", response_model=None)
    async def decode(request: Request, lenient: bool = False) -> dict[str, Any]:
        """Decode the HJ 212 frames in the request body (raw bytes)."""
        body = await _body(request, _MAX_DECODE_BYTES)
        decoder = Decoder(DecodeOptions(lenient=lenient))
        items = decoder.feed(body) + decoder.close()
        data = [item_to_json(item) for item in items]
        return {"data": data, "count": len(data)}

    @app.post("/api/v1/electricity/readings")
    async def electricity_readings(
        request: Request, client: Annotated[Client, Depends(machine_client)]
    ) -> dict[str, Any]:
        """Store a batch of meter readings, all or none: CSV (``text/csv``) or JSON
        lines (``application/x-ndjson``) of meter, time, power_kw, energy_kwh,
        current_a. A batch sent twice is stored once."""
        if "electricity:write" not in client.scopes:
            raise ApiError(
                403,
                "forbidden",
                "this token may not upload electricity readings",
                "该令牌无权上传用电数据",
            )
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        suffix = _BATCH_TYPES.get(media_type)
        if suffix is None:
            raise ApiError(
                415,
                "unsupported_media_type",
                f"send text/csv or application/x-ndjson, not {media_type or 'nothing'}",
                "请以 text/csv 或 application/x-ndjson 格式上传",
            )
        body = await _body(request, _MAX_BATCH_BYTES)
        try:
            result = await asyncio.to_thread(
                store_batch,
                database(),
                f"batch{suffix}",
                body,
                enterprise_id=client.enterprise_id,
            )
        except ImportFileError as error:
            raise ApiError(400, error.code, error.message_en, error.message_zh) from None
        if result.errors:
            raise ApiError(
                422,
                "invalid_rows",
                f"{len(result.errors)} problems: nothing stored",
                f"{len(result.errors)}处错误，未保存任何数据",
                rows=[
                    {"row": problem.row, "column": problem.column, "reason": problem.reason}
                    for problem in result.errors
                ],
            )
        return {"readings": result.readings}

    return app
