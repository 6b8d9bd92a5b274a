"""Times as envwatch keeps them. Data times are China Standard Time without a
zone, as loggers state them; envwatch's own moments (received, opened,
deadlines) are stored as UTC, which SQLite gives back naive and PostgreSQL
in the session's zone. One place for the conversions between the two."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload

from envwatch.hj212.codes import CHINA_STANDARD_TIME


@overload
def as_utc(moment: datetime) -> datetime: ...
@overload
def as_utc(moment: None) -> None: ...
def as_utc(moment: datetime | None) -> datetime | None:
    """A stored UTC moment, zone-aware (naive ones are UTC)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def cst_text(data_time: datetime) -> str:
    """A data time (naive China Standard Time) in ISO 8601 with +08:00."""
    return data_time.replace(tzinfo=CHINA_STANDARD_TIME).isoformat()


def utc_as_cst_text(moment: datetime | None) -> str | None:
    """A stored UTC moment shown in China Standard Time, ISO 8601."""
    if moment is None:
        return None
    return as_utc(moment).astimezone(CHINA_STANDARD_TIME).isoformat()


def as_data_time(moment: datetime) -> datetime:
    """``moment`` as a data time: a zone-aware one converted to China Standard
    Time and made naive; a naive one taken to be China Standard Time already."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(CHINA_STANDARD_TIME).replace(tzinfo=None)
