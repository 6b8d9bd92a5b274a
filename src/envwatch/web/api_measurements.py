"""The measurement API: a monitoring point's raw frames, real-time, minute,
hourly and daily values (validity, O2-corrected, flags) and an enterprise's
electricity, each scoped like the alerts."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
