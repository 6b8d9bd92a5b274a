"""A cap on every request body, checked before it is read (issue 12 item 11):
a declared Content-Length over the cap is refused at once, and a body without
one (chunked) is read here only up to the cap (refused past it) and handed on,
so no route reads more than its cap into memory."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


def _refusal(limit: int) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    body = json.dumps({"error": {
        "code": "too_large", "message": f"the request body exceeds {limit} bytes",
        "message_zh": f"请求体超过{limit}字节"}}, ensure_ascii=False).encode()  # fmt: skip
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
               (b"connection", b"close")]  # fmt: skip
    return body, headers


class BodyLimit:
    """``default`` bytes for any body; ``larger`` by path prefix (imports, batches)."""

    def __init__(self, app: App, default: int, larger: Mapping[str, int]) -> None:
        self.app = app
        self.default = default
        self.larger = dict(larger)

    def limit_for(self, path: str) -> int:
        return next((cap for prefix, cap in self.larger.items() if path.startswith(prefix)),
                    self.default)  # fmt: skip

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await self._refuse(send, limit)
            return
        if declared is not None:
            # The server holds the client to its Content-Length.
            await self.app(scope, receive, send)
            return
        # No length given (chunked): read it here, never past the cap, then replay it.
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            body += message.get("body", b"")
            if len(body) > limit:
                await self._refuse(send, limit)
                return
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _refuse(send: Send, limit: int) -> None:
        body, headers = _refusal(limit)
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})
