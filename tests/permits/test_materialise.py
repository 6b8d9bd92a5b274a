"""The hourly emissions table: kept current as data arrive, equal to a
recomputation from scratch whatever the arrival order, resends and late data
(property test on SQLite); permits as versioned data, their import, the totals
and the warnings through the alert desk (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, func, select

from envwatch.audit.log import Actor
from envwatch.permits.accounting import accounted_hours
from envwatch.permits.importing import import_file
from envwatch.permits.materialise import Materialiser
from envwatch.permits.rollup import months_table
from envwatch.processing.hours import stored_hours
from envwatch.store.archive import Archive, MeasurementRow, ReceivedFrame
from envwatch.store.db import make_engine
from envwatch.store.schema import (
    ArchivedFrame,
    ChainHead,
    Enterprise,
    HourlyEmission,
    Measurement,
    MonitoringPoint,
    ProcessingCursor,
)
from tests.permits.helpers import CO, MN, SO2, hourly, permit_csv, seed, store

H = timedelta(hours=1)
BASE = datetime(2026, 9, 25)  # a quarter starts at hour 144
ACTOR = Actor("tester", "city_admin", "test")
MN2 = "371502000000001002000000"


def _table(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        rows = connection.execute(select(HourlyEmission).order_by(
            HourlyEmission.mn, HourlyEmission.pollutant, HourlyEmission.hour)).all()  # fmt: skip
    return [tuple(round(v, 9) if isinstance(v, float) else v for v in row) for row in rows]


def _reset(engine: Engine) -> None:
    with engine.begin() as connection:
        for table in (HourlyEmission, Measurement, ArchivedFrame, ChainHead, ProcessingCursor):
            connection.execute(delete(table))


upload_values = st.tuples(
    st.integers(0, 400).map(float),  # SO2 [mg/m³]
    st.integers(50, 150).map(float),  # flow [m³/s]
    st.sampled_from(["N", "N", "N", "N", "M", "D", "F"]),
    st.one_of(st.none(), st.integers(0, 90).map(float)),  # CO, on some uploads
)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    hours=st.dictionaries(st.integers(0, 299), upload_values, min_size=1, max_size=80),
    data=st.data(),
)
def test_the_incremental_table_equals_a_recomputation_from_scratch(
    sqlite_url: str, hours: dict[int, tuple[float, float, str, float | None]], data: st.DataObject
) -> None:
    engine = make_engine(sqlite_url)
    try:
        _reset(engine)
        seed_once(engine)
        uploads = [hourly(BASE + at * H, so2, flow, flag, co)
                   for at, (so2, flow, flag, co) in hours.items()]  # fmt: skip
        order = data.draw(st.permutations(uploads), label="arrival order")
        resends = data.draw(st.lists(st.sampled_from(uploads), max_size=10), label="resends")
        arrivals = data.draw(st.permutations([*order, *resends]), label="with resends")
        cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(arrivals) - 1)), max_size=6)))
        materialiser = Materialiser.create(engine)
        materialiser.batch_frames = data.draw(st.integers(1, 40), label="frames per pass")
        for start, end in zip([0, *cuts], [*cuts, len(arrivals)], strict=True):
            if start < end:
                store(engine, arrivals[start:end])
            materialiser.run_once(BASE)  # now: no direct discharge here
        materialiser.catch_up(BASE)
        incremental = _table(engine)
        materialiser.rebuild(now=BASE)
        assert incremental == _table(engine)
        # Every hour from the first to the newest data is there, absent ones as missing.
        so2_hours = [row[2] for row in incremental if row[1] == SO2]
        assert so2_hours == [BASE + at * H for at in range(min(hours), max(hours) + 1)]
    finally:
        engine.dispose()


def seed_once(engine: Engine) -> None:
    """The registry, unless an earlier example of the test seeded it."""
    with engine.connect() as connection:
        seeded = connection.execute(select(func.count()).select_from(Enterprise)).scalar()
    if not seeded:
        seed(engine)


def test_the_table_holds_the_hours_the_hours_api_computes(sqlite_url: str) -> None:
    # The materialiser reads a device once for all its pollutants and quarters;
    # what it stores is what processing/hours.py gives for each quarter.
    engine = make_engine(sqlite_url)
    seed(engine)
    uploads = [hourly(BASE + at * H, 50.0 + at % 37, 100.0, "M" if at % 50 == 7 else "N",
                      co=10.0 if at % 3 else None)
               for at in range(300) if at % 41 != 5]  # fmt: skip
    store(engine, uploads)
    rules = Materialiser.create(engine).rules
    Materialiser.create(engine).catch_up(BASE)
    end = BASE + 300 * H
    expected = []
    with engine.connect() as connection:
        for pollutant in (SO2, CO):
            for since, until in ((BASE, datetime(2026, 10, 1)), (datetime(2026, 10, 1), end)):
                expected += [(h.mn, h.pollutant, h.hour, h.emission_kg, str(h.method), h.rule)
                             for h in accounted_hours(MN, pollutant, stored_hours(
                                 connection, MN, pollutant, rules, since=since, until=until,
                                 now=until))]  # fmt: skip
        stored = connection.execute(select(
            HourlyEmission.mn, HourlyEmission.pollutant, HourlyEmission.hour,
            HourlyEmission.emission_kg, HourlyEmission.method, HourlyEmission.rule,
        ).order_by(HourlyEmission.pollutant, HourlyEmission.hour)).all()  # fmt: skip
    assert {str(row[4]) for row in stored} >= {"measured", "substituted", "missing"}
    assert [tuple(row) for row in stored] == sorted(expected, key=lambda r: (r[1], r[2]))
    engine.dispose()


def test_a_device_at_no_outlet_accounts_no_emissions(sqlite_url: str) -> None:
    # An air station's logger sends SO2 and flow like a stack's, but it belongs
    # to no outlet: nothing of it is emitted, whatever its history.
    engine = make_engine(sqlite_url)
    seed(engine)
    station = "371502000000009022000000"
    with engine.begin() as connection:
        connection.execute(MonitoringPoint.__table__.insert(), [  # type: ignore[attr-defined]
            {"mn": station, "pw": "123456", "enterprise_id": None, "outlet_id": None, "st": "22"}
        ])  # fmt: skip
    Archive(engine).write_batch([
        ReceivedFrame(datetime.now(UTC), "p", b"##", "accepted", mn=mn, cn="2061",
                      measurements=tuple(MeasurementRow(mn, "2061", BASE + at * H, code, avg=40.0,
                                                        flag="N")
                                         for code in (SO2, "a00000")))
        for at in range(48) for mn in (MN, station)
    ])  # fmt: skip
    materialiser = Materialiser.create(engine)
    materialiser.catch_up(BASE + 48 * H)
    with engine.connect() as connection:
        devices = set(connection.execute(select(HourlyEmission.mn).distinct()).scalars())
    assert MN in devices
    assert station not in devices
    materialiser.rebuild(now=BASE + 48 * H)
    with engine.connect() as connection:
        devices = set(connection.execute(select(HourlyEmission.mn).distinct()).scalars())
    assert MN in devices and station not in devices
    engine.dispose()


def test_a_rebuild_in_processes_gives_the_table_of_one_in_a_transaction(engine: Engine) -> None:
    # Two devices (one with CO too) across a quarter's start, with marked,
    # stopped and never-sent hours, and an outlet with no device (direct
    # discharge): rebuilt by two worker processes, each device in its own
    # transaction, the hours and the months are those of the one-transaction
    # rebuild; and rows of a device whose data are gone do not survive.
    seed(engine)
    with engine.begin() as connection:
        connection.execute(MonitoringPoint.__table__.insert(), [  # type: ignore[attr-defined]
            {"mn": MN2, "pw": "123456", "enterprise_id": 1, "outlet_id": 1, "st": "31"}
        ])  # fmt: skip
    assert import_file(engine, "p.csv", permit_csv(so2_t=2.0), ACTOR) == []
    flags = ["N", "N", "N", "M", "N", "D", "N", "F", "N", "N", "N"]
    store(engine, [hourly(BASE + at * H, 40.0 + at % 13, 100.0, flags[at % 11],
                          co=5.0 if at % 2 else None)
                   for at in range(240) if at % 17 != 3])  # fmt: skip
    Archive(engine).write_batch([
        ReceivedFrame(datetime.now(UTC), "p", b"##", "accepted", mn=MN2, cn="2061",
                      measurements=tuple(MeasurementRow(MN2, "2061", BASE + at * H, code,
                                                        avg=value, flag=flags[at % 7])
                                         for code, value in ((SO2, 20.0 + at % 5),
                                                             ("a00000", 80.0))))
        for at in range(100, 300) if at % 23 != 1
    ])  # fmt: skip
    now = BASE + 300 * H
    materialiser = Materialiser.create(engine)
    materialiser.rebuild(now=now)
    with engine.connect() as connection:
        expected = (_table(engine), months_table(connection))
    method = list(HourlyEmission.__table__.columns.keys()).index("method")
    assert {row[method] for row in expected[0]} >= {"measured", "substituted", "missing", "direct"}
    assert {row[0] for row in expected[0]} >= {MN, MN2}
    gone = "371502000000001099000000"
    with engine.begin() as connection:
        connection.execute(delete(HourlyEmission))
        connection.execute(HourlyEmission.__table__.insert(), [  # type: ignore[attr-defined]
            {"mn": gone, "pollutant": SO2, "hour": BASE, "validity": "valid",
             "method": "measured", "emission_kg": 1.0, "enterprise_id": 1, "outlet_id": 1}
        ])  # fmt: skip
    materialiser.rebuild(now=now, workers=2)
    with engine.connect() as connection:
        assert (_table(engine), months_table(connection)) == expected
