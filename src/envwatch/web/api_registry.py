"""The registry API: enterprises, outlets, monitoring points and their factors,
permit limits, meters (read in scope; written by city administrators, every
change audited), and registry imports and exports as jobs with progress."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
