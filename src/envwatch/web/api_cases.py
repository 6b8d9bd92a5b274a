"""The enforcement-case and notification API: cases linked to alerts, their
records and outcomes; the notification log."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
