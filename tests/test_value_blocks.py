"""Value blocks (``processing/blocks.py``): the encoding round-trips, and the
columnar replay reads the same columns and stores the same findings whether
closed days come from their blocks or from the rows, on SQLite and
PostgreSQL, also after a late frame invalidated a block."""

from __future__ import annotations

import asyncio
import json
import math
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from envwatch.cli import app
from envwatch.processing.blocks import cut, decode, encode, join
from envwatch.processing.columnar_replay import replay_columnar
from envwatch.processing.columns import read_columns
from envwatch.processing.compaction import LOOKBACK_DAYS, compact, day_pieces, follow_compaction
from envwatch.processing.worker import replay
from envwatch.rules.columnar import DeviceColumns, FactorColumn
from envwatch.settings import Settings
from envwatch.store.archive import Archive, MeasurementRow, ReceivedFrame
from envwatch.store.db import make_engine
from envwatch.store.schema import ValueBlock

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "bench"))
from rules import FLOW, POLLUTANT, START, store
from rules_fleet import fleet
from test_rules_columnar_replay import RULES, _plain, stored  # type: ignore[import-not-found]

MINUTES = 2 * 1440 + 300  # two whole days and a bit of a third
SINCE, UNTIL = START - timedelta(days=1), START + timedelta(minutes=MINUTES + 1)
TODAY = date(2026, 1, 10)  # START's days are closed

flags = st.sampled_from([None, "N", "D", "M", "长"])
levels = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.just(math.nan))


@st.composite
def device_columns(draw: st.DrawFn) -> DeviceColumns:
    n = draw(st.integers(0, 30))
    ids = sorted(draw(st.lists(st.integers(1, 2**40), min_size=n, max_size=n, unique=True)))
    base = np.datetime64("2026-01-05T00:00:00", "us")
    times = base + np.array(draw(st.lists(st.integers(0, 3 * 86_400_000_000), min_size=n,
                                          max_size=n)), dtype="timedelta64[us]")  # fmt: skip
    received = times.copy()
    if n:
        received[0] = np.datetime64("NaT")
    factors = {}
    names = st.lists(st.sampled_from(["a21026", "a00000", "w01018"]), unique=True)
    for name in draw(names) if n else []:  # a factor holds a value at least (as read)
        rows = sorted(draw(st.sets(st.integers(0, n - 1), min_size=1, max_size=n)))
        factors[name] = FactorColumn(
            np.array(rows, dtype=np.int64),
            np.array([draw(levels) for _ in rows], dtype=np.float64),
            np.array([draw(flags) for _ in rows], dtype=object),
        )
    cns = np.array([draw(st.sampled_from(["2011", "2051", None])) for _ in range(n)], dtype=object)
    return DeviceColumns("MN0001", np.array(ids, dtype=np.int64), cns, times, received, factors)


def _same(a: DeviceColumns, b: DeviceColumns) -> bool:
    def exact(columns: DeviceColumns) -> Any:
        plain = _plain(columns)
        return (
            *plain[:5],
            {k: (r, [repr(v) for v in lv], f) for k, (r, lv, f) in plain[5].items()},
        )

    return bool(exact(a) == exact(b))


@settings(max_examples=60, deadline=None)
@given(device_columns(), st.sampled_from([0, 1, 6]))
def test_a_block_round_trips(columns: DeviceColumns, level: int) -> None:
    assert _same(decode(encode(columns, level=level)), columns)
    # Cut by day and joined again: the same columns (the reader's merge).
    pieces = [piece for _, piece in day_pieces(columns)]
    if pieces:
        assert _same(join(pieces), columns) and _same(join(pieces[::-1]), columns)
    assert len(cut(columns, np.zeros(len(columns), dtype=bool))) == 0
    # Pieces already in frame order (consecutive days): joined as they are.
    first = np.arange(len(columns)) < len(columns) // 2
    halves = [piece for piece in (cut(columns, first), cut(columns, ~first)) if len(piece)]
    if halves:
        assert _same(join(halves), columns)


def _columns(engine: Engine, blocks: bool) -> list[Any]:
    mns = sorted(d.mn for d in fleet(8, MINUTES))
    return [_plain(c) for c in read_columns(engine, mns, SINCE, UNTIL, devices_per_pass=3,
                                            blocks=blocks)]  # fmt: skip


def _late(mn: str, moment: datetime, value: float) -> ReceivedFrame:
    rows = (MeasurementRow(mn, "2011", moment, POLLUTANT, rtd=value, flag="N"),
            MeasurementRow(mn, "2011", moment, FLOW, rtd=100.0, flag="N"))  # fmt: skip
    return ReceivedFrame(datetime.now(UTC), "late", b"##", "accepted", mn=mn, cn="2011",
                         measurements=rows)  # fmt: skip


def _blocks(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(ValueBlock)).scalar_one())


def test_blocks_read_as_the_rows_and_late_frames_invalidate_them(engine: Engine) -> None:
    devices = fleet(8, MINUTES)
    store(engine, devices, MINUTES)
    rows = _columns(engine, blocks=False)
    replay(engine, SINCE, UNTIL, trust_arrival=False)
    streamed = stored(engine)
    assert {row[1] for row in streamed} >= {"negative", "zero", "constant", "spike"}

    # One closed day compacted, the others from the rows.
    report = compact(engine, START.date(), START.date() + timedelta(days=1), today=TODAY)
    assert report.blocks == 8 and report.points > 0
    assert _columns(engine, blocks=True) == rows
    # Both closed days compacted (the third day: rows); a second run builds nothing.
    compact(engine, START.date(), START.date() + timedelta(days=3), today=TODAY)
    assert _blocks(engine) == 8 * 3
    assert compact(engine, START.date(), START.date() + timedelta(days=3), today=TODAY).blocks == 0
    assert _columns(engine, blocks=True) == rows
    replay_columnar(engine, SINCE, UNTIL, rules=RULES, trust_arrival=False)
    assert stored(engine) == streamed

    # A late frame of a compacted day: its block goes, the replay sees the frame.
    archive = Archive(engine, today=lambda: TODAY)
    late_mn = devices[0].mn
    archive.write_batch([_late(late_mn, START + timedelta(seconds=30), 1e6)])
    assert _blocks(engine) == 8 * 3 - 1
    rows = _columns(engine, blocks=False)
    assert _columns(engine, blocks=True) == rows
    replay(engine, SINCE, UNTIL, trust_arrival=False)
    streamed = stored(engine)
    replay_columnar(engine, SINCE, UNTIL, rules=RULES, trust_arrival=False)
    assert stored(engine) == streamed
    compact(engine, START.date(), START.date() + timedelta(days=3), today=TODAY)
    assert _blocks(engine) == 8 * 3
    assert _columns(engine, blocks=True) == rows

    # A resend stores no measurement: nothing changes.
    archive.write_batch([_late(late_mn, START + timedelta(seconds=30), 1e6)])
    assert _columns(engine, blocks=True) == rows
    replay_columnar(engine, SINCE, UNTIL, rules=RULES, trust_arrival=False)
    assert stored(engine) == streamed


def test_the_cli_and_the_sweep_build_the_closed_days_blocks(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    try:
        devices = fleet(2, 600)
        store(engine, devices, 600)  # on START's day, long closed
        day = START.date()
        result = CliRunner().invoke(
            app, ["store", "compact", "--db", sqlite_url, "--since", f"{day}",
                  "--until", f"{day + timedelta(days=2)}"],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        report = json.loads(result.output)
        assert (report["blocks"], report["points"]) == (4, 2 * 600 * 2 - _gaps(devices, 600))
        assert _blocks(engine) == 4  # the second day's are empty
        bad = CliRunner().invoke(app, ["store", "compact", "--db", sqlite_url, "--since", "x"])
        assert bad.exit_code != 0

        # The task serve runs: the last closed days (nothing stored then:
        # empty blocks), then waits the check interval until stopped.
        async def follow() -> None:
            stop = asyncio.Event()
            task = asyncio.create_task(
                follow_compaction(engine, Settings(compact_check_s=3600), stop)
            )
            for _ in range(400):
                if _blocks(engine) == 4 + 2 * LOOKBACK_DAYS:
                    break
                await asyncio.sleep(0.05)
            stop.set()
            await asyncio.wait_for(task, 10)

        asyncio.run(follow())
        assert _blocks(engine) == 4 + 2 * LOOKBACK_DAYS
    finally:
        engine.dispose()


def _gaps(devices: list[Any], minutes: int) -> int:
    return 2 * sum(1 for d in devices for m in range(minutes) if d.values[m] is None)
