"""The enforcement-case pages: the cases a user may see, one case with its
alerts, records, legal basis and penalty decision, and opening a case from
alerts."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
