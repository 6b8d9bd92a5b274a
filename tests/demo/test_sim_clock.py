"""The simulated loggers' clock: an accelerated demo starts in the past, catches
up with the wall clock and then runs in real time; it never reads a time still
to come (a data time ahead of its receipt is a finding of its own)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from envwatch.demo.seed import seed_demo
from envwatch.demo.simulator import (
    SimClock,
    catch_up_start,
    load_points,
    newest_data_time,
    simulate,
)
from envwatch.gateway.committer import GroupCommitter
from envwatch.gateway.server import Gateway, load_devices
from envwatch.hj212.codes import now_cst
from envwatch.settings import Settings
from envwatch.store.archive import Archive
from envwatch.store.schema import ArchivedFrame
from envwatch.times import as_data_time, as_utc

WALL_START = datetime(2026, 12, 4, 9, 0)


class FakeTime:
    """Real seconds since the test began, and the wall clock (naive CST) they move."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def monotonic(self) -> float:
        return self.seconds

    def wall(self) -> datetime:
        return WALL_START + timedelta(seconds=self.seconds)


def clock_at(start: datetime, scale: float) -> tuple[SimClock, FakeTime]:
    fake = FakeTime()
    return SimClock(start, scale, wall=fake.wall, monotonic=fake.monotonic), fake


def test_an_accelerated_clock_catches_up_then_runs_in_real_time() -> None:
    clock, fake = clock_at(WALL_START - timedelta(hours=6), 60.0)
    assert clock.now() == WALL_START - timedelta(hours=6)
    assert not clock.caught_up()
    fake.seconds = 60.0  # an hour of data in a real minute
    assert clock.now() == WALL_START - timedelta(hours=5)
    # 6 h behind, gaining 59 s a second: caught up after 6 h / 59.
    catch_up = 6 * 3600 / 59
    assert abs(clock.catch_up_delay() - (catch_up - 60.0)) < 1e-6
    fake.seconds = catch_up + 1.0
    assert clock.caught_up()
    assert clock.now() == fake.wall()
    fake.seconds += 3600.0  # then an hour takes an hour
    assert clock.now() == fake.wall()


def test_a_clock_started_ahead_of_the_wall_clock_reads_the_wall_clock() -> None:
    clock, fake = clock_at(WALL_START + timedelta(hours=2), 60.0)
    assert clock.now() == WALL_START
    fake.seconds = 600.0
    assert clock.now() == WALL_START + timedelta(minutes=10)


@given(
    behind_s=st.floats(min_value=-86_400, max_value=30 * 86_400),
    scale=st.floats(min_value=0.5, max_value=7200),
    steps=st.lists(st.floats(min_value=0, max_value=3600), min_size=1, max_size=30),
)
def test_the_clock_never_exceeds_the_wall_clock(
    behind_s: float, scale: float, steps: list[float]
) -> None:
    clock, fake = clock_at(WALL_START - timedelta(seconds=behind_s), scale)
    previous = clock.now()
    for step in steps:
        fake.seconds += step
        now = clock.now()
        assert now <= fake.wall()
        assert now >= previous
        previous = now


@given(
    behind_s=st.floats(min_value=0, max_value=86_400),
    scale=st.floats(min_value=1.5, max_value=3600),
    ahead_s=st.floats(min_value=1, max_value=86_400),
)
def test_sleeping_until_a_moment_wakes_when_the_clock_reads_it(
    behind_s: float, scale: float, ahead_s: float
) -> None:
    clock, fake = clock_at(WALL_START - timedelta(seconds=behind_s), scale)
    moment = clock.now() + timedelta(seconds=ahead_s)
    delay = clock.delay_until(moment)
    fake.seconds += delay
    assert clock.now() >= moment - timedelta(milliseconds=1)
    # Never a due time in the future of the wall clock, however the logger sleeps.
    assert moment <= fake.wall() + timedelta(milliseconds=1)
    fake.seconds -= min(delay, 0.01)
    if delay > 0.01:
        assert clock.now() < moment


def test_a_demo_starts_in_the_past_or_where_its_stored_data_ends() -> None:
    now = datetime(2026, 12, 4, 9, 0)
    six = timedelta(hours=6)
    assert catch_up_start(now, six) == now - six
    # A restarted demo fills its gap and sends no data time twice.
    assert catch_up_start(now, six, now - timedelta(hours=1)) == now - timedelta(hours=1)
    assert catch_up_start(now, six, now - timedelta(days=3)) == now - six
    # Data stored in the future (by an older simulator) does not move the start past now.
    assert catch_up_start(now, six, now + timedelta(hours=2)) == now
    assert catch_up_start(now, timedelta(0)) == now


def test_simulated_data_times_never_lead_their_receipt(engine: Engine) -> None:
    """At 3600x from ten minutes ago, the loggers would reach hours ahead of
    the wall clock within seconds: they catch up and stop at it instead."""
    seed_demo(engine)
    points = load_points(engine)[::12]

    async def scenario() -> None:
        committer = GroupCommitter(Archive(engine).write_batch)
        committer.start()
        gateway = Gateway(Settings(database_url="unused"), committer, load_devices(engine))
        await gateway.start("127.0.0.1", 0)
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(2.0, stop.set)
        start = now_cst() - timedelta(minutes=10)
        await simulate(points, "127.0.0.1", gateway.port, scale=3600.0, stop=stop, start=start)
        await gateway.stop()
        await committer.close()

    asyncio.run(asyncio.wait_for(scenario(), 60))
    with engine.connect() as connection:
        rows = connection.execute(
            select(ArchivedFrame.data_time, ArchivedFrame.received_at).where(
                ArchivedFrame.data_time.is_not(None)
            )
        ).all()
    assert len(rows) > 50
    data_times: list[datetime] = []
    for data_time, received_at in rows:
        assert data_time is not None
        assert data_time <= as_data_time(as_utc(received_at)), (data_time, received_at)
        data_times.append(data_time)
    newest = newest_data_time(engine)
    assert newest is not None and newest <= now_cst()
    assert newest == max(data_times)
