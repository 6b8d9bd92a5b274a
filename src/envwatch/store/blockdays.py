"""Which China Standard Time days are closed: they get value blocks
(``processing/blocks.py``, built by ``processing/compaction.py``), and a
frame stored for one of them invalidates its device's block there
(``store/archive.py``)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Final

COMPACT_AFTER_DAYS: Final = 2
"""[I] A CST day is closed, and gets blocks, once it is this many days behind
today (2: the days before yesterday), so uploads buffered over midnight land
in rows first. Writers invalidate blocks of days one day less behind, so a
clock a little off between a writer and the compactor never leaves a stale
block."""


def closed_before(today: date, after_days: int = COMPACT_AFTER_DAYS) -> date:
    """The first day not closed on ``today``: blocks are built for earlier days."""
    return today - timedelta(days=after_days - 1)


def invalidated_before(today: date, after_days: int = COMPACT_AFTER_DAYS) -> date:
    """A stored upload of a day before this invalidates that day's block."""
    return today - timedelta(days=max(after_days - 2, 0))
