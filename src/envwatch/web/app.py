"""The web application factory.

The pages (``pages.py``) and the alert API (``api_alerts.py``) for people
logged in; a health check; an HJ 212 decoding endpoint for operators checking
a logger's output; and the batch endpoint where machine clients (bearer
tokens) upload meter readings. Every asset is served from ``static/``.
"""

from __future__ import annotations

import asyncio
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from starlette.exceptions import HTTPException

from envwatch import __version__
from envwatch.alerts.desk import AlertDesk
from envwatch.alerts.policy import load_policy
from envwatch.alerts.workflow import load_workflow
from envwatch.auth.tokens import Client, authenticate
from envwatch.electricity.batch import store_batch
from envwatch.hj212 import DecodeOptions, Decoder
from envwatch.hj212.jsonform import item_to_json
from envwatch.rectification.desk import RectificationDesk, configured_desk
from envwatch.rectification.policy import load_policy as load_rectification_policy
from envwatch.registry.importing import ImportFileError
from envwatch.settings import get_settings
from envwatch.store.db import make_engine
from envwatch.web.api_alerts import router as alerts_api_router
from envwatch.web.api_audit_file import router as audit_file_api_router
from envwatch.web.api_bottom_line import router as bottom_line_api_router
from envwatch.web.api_campaigns import CAMPAIGN_EVIDENCE, FIRE_IMPORTS
from envwatch.web.api_campaigns import router as campaigns_api_router
from envwatch.web.api_cases import router as cases_api_router
from envwatch.web.api_data import router as data_api_router
from envwatch.web.api_emergency import router as emergency_api_router
from envwatch.web.api_judgement import router as judgement_api_router
from envwatch.web.api_ledger import router as ledger_api_router
from envwatch.web.api_measurements import router as measurements_api_router
from envwatch.web.api_permits import router as permits_api_router
from envwatch.web.api_processing import router as processing_api_router
from envwatch.web.api_quality import router as quality_api_router
from envwatch.web.api_rectification import ALERT_EVIDENCE, MAX_LIST_BYTES
from envwatch.web.api_rectification import router as rectification_api_router
from envwatch.web.api_registers import router as registers_api_router
from envwatch.web.api_registry import MAX_IMPORT_BYTES
from envwatch.web.api_registry import router as registry_api_router
from envwatch.web.api_users import router as users_api_router
from envwatch.web.api_zoning import router as zoning_api_router
from envwatch.web.body_limit import BodyLimit
from envwatch.web.errors import ApiError
from envwatch.web.pages import router as pages_router
from envwatch.web.pages_audit_file import router as audit_file_pages_router
from envwatch.web.pages_campaigns import router as campaigns_pages_router
from envwatch.web.pages_cases import router as cases_pages_router
from envwatch.web.pages_judgement import router as judgement_pages_router
from envwatch.web.pages_ledger import router as ledger_pages_router
from envwatch.web.pages_permits import router as permits_pages_router
from envwatch.web.pages_points import router as points_pages_router
from envwatch.web.pages_processing import router as processing_pages_router
from envwatch.web.pages_quality import router as quality_pages_router
from envwatch.web.pages_rectification import router as rectification_pages_router
from envwatch.web.pages_registers import router as registers_pages_router
from envwatch.web.pages_registry import router as registry_pages_router
from envwatch.web.pages_users import router as users_pages_router
from envwatch.web.pages_zoning import router as zoning_pages_router
from envwatch.web.people import Principal, api_user

# FastAPI's own refusals, in envwatch's error envelope: code and Chinese words.
_HTTP_ERRORS = {
    400: ("bad_request", "请求无法解析"),
    404: ("not_found", "没有这个地址"),
    405: ("method_not_allowed", "不支持此请求方法"),
}
MAX_BODY_BYTES = 1 << 20
"""The largest request body of any route that takes no file [bytes]."""
_MAX_DECODE_BYTES = 256 << 10
_MAX_BATCH_BYTES = 16 << 20
# Media type -> the file kind the batch reader knows.
_BATCH_TYPES = {
    "text/csv": ".csv",
    "application/x-ndjson": ".jsonl",
    "application/jsonl": ".jsonl",
    "application/json-lines": ".jsonl",
}


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


def create_app(engine: Engine | None = None) -> FastAPI:
    """The application; ``engine`` by default from ENVWATCH_DATABASE_URL, made on first use."""
    # FastAPI's own /docs and /redoc pages load their scripts from a CDN: off.
    # /docs below serves Swagger UI from envwatch's own copy instead.
    app = FastAPI(title="envwatch", version=__version__, docs_url=None, redoc_url=None)

    @cache
    def database() -> Engine:
        return engine if engine is not None else make_engine(get_settings().database_url)

    app.state.database = database
    # Every body capped before it is read: forms and JSON at the default, the
    # routes that take files at twice their own (specific) limits.
    app.add_middleware(
        BodyLimit,
        default=MAX_BODY_BYTES,
        larger={"/api/v1/registry/imports": 2 * MAX_IMPORT_BYTES,
                "/api/v1/permits/manual-results": 2 * MAX_IMPORT_BYTES,
                "/api/v1/electricity/readings": 2 * _MAX_BATCH_BYTES,
                "/api/v1/evidence": 2 * load_rectification_policy(
                    get_settings().rectification_policy_file).evidence.max_bytes,
                "/api/v1/problems/imports": 2 * MAX_LIST_BYTES,
                FIRE_IMPORTS: 2 * MAX_LIST_BYTES,
                ALERT_EVIDENCE: 2 * load_rectification_policy(
                    get_settings().rectification_policy_file).evidence.max_bytes,
                CAMPAIGN_EVIDENCE: 2 * load_rectification_policy(
                    get_settings().rectification_policy_file).evidence.max_bytes},
    )  # fmt: skip

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, error: RequestValidationError) -> JSONResponse:
        fields = [
            {"field": ".".join(str(part) for part in problem["loc"]), "reason": problem["msg"]}
            for problem in error.errors()
        ]
        body = {"code": "invalid_request", "message": "the request has invalid fields",
                "message_zh": "请求中有无效字段", "fields": fields}  # fmt: skip
        return JSONResponse(status_code=422, content={"error": body})

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, error: HTTPException) -> JSONResponse:
        code, words = _HTTP_ERRORS.get(error.status_code, ("http_error", "请求无法处理"))
        body = {"code": code, "message": str(error.detail), "message_zh": words}
        return JSONResponse(
            status_code=error.status_code, content={"error": body}, headers=error.headers
        )

    @app.exception_handler(ApiError)
    async def api_error(_request: Request, error: ApiError) -> JSONResponse:
        return JSONResponse(
            status_code=error.status, content={"error": error.body}, headers=error.headers
        )

    @cache
    def alert_desk() -> AlertDesk:
        settings = get_settings()
        return AlertDesk(
            database(),
            load_policy(settings.alert_policy_file),
            load_workflow(settings.alert_workflow_file),
        )

    app.state.alert_desk = alert_desk

    @cache
    def rectification_desk() -> RectificationDesk:
        return configured_desk(database())

    app.state.rectification_desk = rectification_desk
    app.state.stream_interval_s = 2.0
    app.include_router(pages_router)
    app.include_router(alerts_api_router)
    app.include_router(data_api_router)
    app.include_router(measurements_api_router)
    app.include_router(registry_api_router)
    app.include_router(cases_api_router)
    app.include_router(users_api_router)
    app.include_router(processing_api_router)
    app.include_router(quality_api_router)
    app.include_router(permits_api_router)
    app.include_router(permits_pages_router)
    app.include_router(zoning_api_router)
    app.include_router(emergency_api_router)
    app.include_router(rectification_api_router)
    app.include_router(campaigns_api_router)
    app.include_router(registers_api_router)
    app.include_router(bottom_line_api_router)
    app.include_router(ledger_api_router)
    app.include_router(judgement_api_router)
    app.include_router(judgement_pages_router)
    app.include_router(points_pages_router)
    app.include_router(registry_pages_router)
    app.include_router(zoning_pages_router)
    app.include_router(registers_pages_router)
    app.include_router(cases_pages_router)
    app.include_router(users_pages_router)
    app.include_router(processing_pages_router)
    app.include_router(quality_pages_router)
    app.include_router(rectification_pages_router)
    app.include_router(campaigns_pages_router)
    app.include_router(ledger_pages_router)
    app.include_router(audit_file_api_router)
    app.include_router(audit_file_pages_router)
    app.mount("/static", StaticFiles(directory=Path(__file__).with_name("static")), name="static")

    @app.get("/docs", include_in_schema=False)
    def api_documentation() -> HTMLResponse:
        """Swagger UI over /openapi.json, from envwatch's own copy (static/vendor)."""
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="envwatch API",
            swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/vendor/swagger-ui/favicon-32x32.png",
            # No schema validator badge: it would ask an outside server.
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get("/healthz")
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.post("/api/v1/hj212/decode", response_model=None)
    async def decode(
        request: Request, _user: Annotated[Principal, Depends(api_user)], lenient: bool = False
    ) -> dict[str, Any]:
        """Decode the HJ 212 frames in the request body (raw bytes), for a
        logged-in operator checking a logger's output; nothing is stored."""
        body = await _body(request, _MAX_DECODE_BYTES)

        def decoded() -> list[Any]:
            decoder = Decoder(DecodeOptions(lenient=lenient))
            return [item_to_json(item) for item in decoder.feed(body) + decoder.close()]

        # Off the event loop: the gateway and the other pages go on meanwhile.
        data = await asyncio.to_thread(decoded)
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
