"""Stored measurements read back as uploads (``envwatch data export``): one
record per (MN, CN, DataTime) with each factor's values under their HJ 212 names."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Engine, select

from envwatch.store.schema import Measurement
from envwatch.times import cst_text

# Column -> the HJ 212 suffix it came from.
SUFFIX_OF_COLUMN = {
    "rtd": "Rtd",
    "avg": "Avg",
    "min": "Min",
    "max": "Max",
    "cou": "Cou",
    "zs_rtd": "ZsRtd",
    "zs_avg": "ZsAvg",
    "flag": "Flag",
    "eflag": "EFlag",
}


def iter_uploads(engine: Engine, mn: str, cn: str | None = None) -> Iterator[dict[str, Any]]:
    """The uploads of ``mn`` (of command ``cn`` only, if given), oldest first:
    ``{"mn", "cn", "data_time", "values": {"a21026": {"Rtd": 12.3, "Flag": "N"}}}``.
    ``data_time`` is ISO 8601 in China Standard Time, as loggers state it."""
    query = select(Measurement).where(Measurement.mn == mn)
    if cn is not None:
        query = query.where(Measurement.cn == cn)
    query = query.order_by(Measurement.data_time, Measurement.cn, Measurement.pollutant)
    current: dict[str, Any] | None = None
    with engine.connect() as connection:
        result = connection.execute(query.execution_options(yield_per=5000))
        try:
            for row in result:
                data_time = cst_text(row.data_time)
                if current is None or (current["cn"], current["data_time"]) != (
                    row.cn,
                    data_time,
                ):
                    if current is not None:
                        yield current
                    current = {"mn": row.mn, "cn": row.cn, "data_time": data_time, "values": {}}
                current["values"][row.pollutant] = {
                    suffix: getattr(row, column)
                    for column, suffix in SUFFIX_OF_COLUMN.items()
                    if getattr(row, column) is not None
                }
        finally:
            result.close()
    if current is not None:
        yield current
