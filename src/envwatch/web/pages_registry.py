"""The registry and coverage pages: key enterprises missing monitors or meters,
points never connected or offline, per county (应装尽装、应联尽联); imports and
exports with progress."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
