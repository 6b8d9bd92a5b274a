"""The API's errors: JSON with a stable code, in English and Chinese."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error answered as ``{"error": {"code", "message", "message_zh", ...}}``."""

    def __init__(self, status: int, code: str, message: str, message_zh: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"code": code, "message": message, "message_zh": message_zh, **extra}
        self.headers: dict[str, str] = {}


def csrf_failed() -> ApiError:
    return ApiError(403, "csrf_failed", "X-CSRF-Token is missing or wrong", "缺少或错误的CSRF令牌")


def unknown_alert(alert_id: int) -> ApiError:
    return ApiError(404, "unknown_alert", f"no alert {alert_id}", f"没有编号为{alert_id}的预警")
