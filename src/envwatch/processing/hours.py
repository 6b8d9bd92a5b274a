"""A device's hours of one pollutant read from the store, for the API and the
CLI: the window's hours, every clock hour present (absent ones ``missing``),
with HJ 75 substitutes whose capture rate is the whole calendar quarter's and
whose look-back reaches into the device's stored history, whatever the
window (``rules/hours.py`` computes; this module only reads)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Connection, func, select

from envwatch.processing.inputs import device_uploads
from envwatch.registry.maintenance import declared_periods
from envwatch.rules.hours import (
    HOURLY,
    MINUTE_DATA,
    REALTIME,
    Hour,
    hours_of,
    hours_without_own_data,
    with_substitutes,
)
from envwatch.rules.model import O2_CODE, Period, Upload
from envwatch.rules.parameters import RuleSet
from envwatch.rules.units import FLOW_CODE_BY_MEDIUM
from envwatch.rules.validity import Validity, next_quarter, quarter_of
from envwatch.store.schema import Measurement

HOUR = timedelta(hours=1)


def _read(
    connection: Connection, mn: str, codes: tuple[str, ...], since: datetime, until: datetime
) -> list[Upload]:
    """The device's hourly and minute data of [since, until), and its real-time
    data for the hours with neither."""
    uploads = device_uploads(connection, mn, (MINUTE_DATA, HOURLY), since, until, codes=codes)
    runs = hours_without_own_data(uploads, since, until)
    if not runs:
        return uploads
    # Where the device sent real-time data at all: a year of hourly data with a
    # few percent gaps has hundreds of runs, and no query for those without any.
    first, last = connection.execute(
        select(func.min(Measurement.data_time), func.max(Measurement.data_time)).where(
            Measurement.mn == mn, Measurement.cn == REALTIME, Measurement.pollutant.in_(codes),
            Measurement.data_time >= runs[0][0], Measurement.data_time < runs[-1][1],
        )
    ).one()  # fmt: skip
    if first is None:
        return uploads
    for start, end in runs:
        if end > first and start <= last:
            uploads += device_uploads(connection, mn, (REALTIME,), start, end, codes=codes)
    return uploads


def _first_data(connection: Connection, mn: str) -> datetime | None:
    return connection.execute(
        select(func.min(Measurement.data_time)).where(
            Measurement.mn == mn, Measurement.cn.in_((REALTIME, MINUTE_DATA, HOURLY))
        )
    ).scalar()


def history_span(
    since: datetime, until: datetime, rules: RuleSet, now: datetime
) -> tuple[datetime, datetime]:
    """What to read for the window [since, until): from the look-back before
    the window's first quarter to the end of its last quarter (or the start
    of the current hour, if sooner)."""
    first = quarter_of(since) - timedelta(days=rules.substitution.history_days)
    last = next_quarter(quarter_of(until - timedelta(microseconds=1)))
    return first, max(until, min(last, now.replace(minute=0, second=0, microsecond=0)))


def stored_hours(
    connection: Connection,
    mn: str,
    pollutant: str,
    rules: RuleSet,
    *,
    since: datetime,
    until: datetime,
    now: datetime,
    reference_o2: float | None = None,
    minute_interval: float = 10.0,
    out_of_control: Sequence[Period] | None = None,
) -> list[Hour]:
    """The hours of [since, until) (China Standard Time, naive) of ``mn``'s
    ``pollutant``. Hours before the device's first data are not counted as
    missing, nor hours not yet over at ``now``. For a substituted pollutant
    with an invalid hour in the window, the quarters the window touches and
    ``history_days`` before them are read too: α is the quarter's, the
    look-back the device's stored history."""
    if out_of_control is None:  # as declared (envwatch maintenance add --kind out_of_control)
        out_of_control = declared_periods(connection, "out_of_control", mn=mn).get(mn, [])
    medium_flows = tuple(FLOW_CODE_BY_MEDIUM.values())
    codes = (pollutant, O2_CODE, *medium_flows)
    first_data = _first_data(connection, mn)
    if first_data is None:
        return []
    current_hour = now.replace(minute=0, second=0, microsecond=0)

    def hours(start: datetime, end: datetime) -> list[Hour]:
        uploads = _read(connection, mn, codes, start, end)
        return hours_of(uploads, pollutant, rules, reference_o2=reference_o2,
                        minute_interval=minute_interval, since=max(start, first_data),
                        until=min(end, current_hour), out_of_control=out_of_control)  # fmt: skip

    window = hours(since, until)
    if pollutant not in rules.substitution.pollutants or all(
        h.validity is not Validity.INVALID for h in window
    ):
        return window
    start, end = history_span(since, until, rules, now)
    substituted = with_substitutes(hours(start, end), pollutant, rules,
                                   out_of_control=out_of_control)  # fmt: skip
    return [h for h in substituted if since <= h.start < until]
