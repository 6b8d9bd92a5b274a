"""The web application factory.

Until the platform's pages arrive, it serves a start page, a health check and
an HJ 212 decoding endpoint for operators checking a logger's output.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse

from envwatch import __version__
from envwatch.hj212 import DecodeOptions, Decoder
from envwatch.hj212.jsonform import item_to_json

_MAX_DECODE_BYTES = 1 << 20

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


def create_app() -> FastAPI:
    app = FastAPI(title="envwatch", version=__version__)

    @app.get("/", response_class=HTMLResponse)
    def start_page() -> str:
        return _START_PAGE

    @app.get("/healthz")
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.post("/api/v1/hj212/decode", response_model=None)
    async def decode(request: Request, lenient: bool = False) -> dict[str, Any] | JSONResponse:
        """Decode the HJ 212 frames in the request body (raw bytes)."""
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > _MAX_DECODE_BYTES:
                return JSONResponse(
                    status_code=413,
                    content={
                        "error": {
                            "code": "too_large",
                            "message": f"body exceeds {_MAX_DECODE_BYTES} bytes",
                            "message_zh": f"请求体超过{_MAX_DECODE_BYTES}字节",
                        }
                    },
                )
        decoder = Decoder(DecodeOptions(lenient=lenient))
        items = decoder.feed(bytes(body)) + decoder.close()
        data = [item_to_json(item) for item in items]
        return {"data": data, "count": len(data)}

    return app
