"""The materialiser's faster paths give what the general ones give: the
substitutes of a window computed alone equal the window of the whole
computation (property test), and rows written straight to the driver are
stored exactly as SQLAlchemy's own insert stores them (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from alembic import command
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, func, insert, select

from envwatch.permits.accounting import EmissionHour, Method, accounted
from envwatch.permits.materialise import COLUMNS, Materialiser, _hour_row, _row, insert_rows
from envwatch.permits.report import year_totals
from envwatch.permits.rollup import months_table, rebuild_months
from envwatch.rules.engine import default_rule_set
from envwatch.rules.hours import Hour, with_substitutes
from envwatch.rules.model import Period
from envwatch.rules.units import CubicMetres, Kilograms
from envwatch.rules.validity import InvalidCause, Validity
from envwatch.store.db import alembic_config, make_engine, upgrade
from envwatch.store.schema import (
    ArchivedFrame,
    ChainHead,
    EmissionMonth,
    HourlyEmission,
    Measurement,
    ProcessingCursor,
)
from tests.permits.helpers import MN, hourly, seed, store
from tests.permits.test_materialise import seed_once

RULES = default_rule_set()
SO2 = "a21026"
H = timedelta(hours=1)
START = datetime(2026, 9, 30, 12)  # a quarter starts 12 hours in

gap_kinds = st.sampled_from([
    (Validity.STOPPED, None), (Validity.INVALID, InvalidCause.MISSING),
    (Validity.INVALID, InvalidCause.MAINTENANCE), (Validity.INVALID, InvalidCause.CALIBRATION),
    (Validity.INVALID, InvalidCause.OUT_OF_CONTROL),
])  # fmt: skip


def _hour(at: int, kind: tuple[Validity, InvalidCause | None], kg: float) -> Hour:
    validity, cause = kind
    valid = validity is Validity.VALID
    return Hour(START + at * H, "uploaded", validity, 10.0 if valid else None, None,
                None, CubicMetres(3.6e5), Kilograms(kg) if valid else None,
                cause=cause)  # fmt: skip


@settings(max_examples=150, deadline=None)
# A gap longer than a day reaching into the window, at α ≥ 90 %: its whole length counts.
@example(length=400, gaps=[(100, 30, (Validity.INVALID, InvalidCause.MAINTENANCE))], absent=set(),
         seed=0, keep=[110, 300], pollutant=SO2, declared=None)  # fmt: skip
@given(
    length=st.integers(0, 500),
    # Mostly valid hours (α ≥ 90 % too, where the length of a gap counts), with gaps.
    gaps=st.lists(st.tuples(st.integers(0, 499), st.integers(1, 40), gap_kinds), max_size=5),
    absent=st.sets(st.integers(0, 499), max_size=10),
    seed=st.integers(0, 50),
    keep=st.tuples(st.integers(-5, 505), st.integers(-5, 505)).map(sorted),
    pollutant=st.sampled_from([SO2, "a21005"]),
    declared=st.one_of(st.none(), st.tuples(st.integers(0, 499), st.integers(1, 30))),
)
def test_a_window_s_substitutes_equal_those_of_the_whole_computation(  # noqa: PLR0917
    length: int,
    gaps: list[tuple[int, int, tuple[Validity, InvalidCause | None]]],
    absent: set[int],
    seed: int,
    keep: list[int],
    pollutant: str,
    declared: tuple[int, int] | None,
) -> None:
    kinds: list[tuple[Validity, InvalidCause | None]] = [(Validity.VALID, None)] * length
    for first, hours_long, kind in gaps:
        kinds[first : first + hours_long] = [kind] * len(kinds[first : first + hours_long])
    hours = [_hour(at, kind, float((at * 7 + seed) % 50 + 1))
             for at, kind in enumerate(kinds) if at not in absent]  # fmt: skip
    out_of_control = (
        [] if declared is None
        else [Period(START + declared[0] * H, START + (declared[0] + declared[1]) * H)]
    )  # fmt: skip
    since, until = START + keep[0] * H, START + keep[1] * H
    whole = with_substitutes(hours, pollutant, RULES, out_of_control=out_of_control)
    window = with_substitutes(hours, pollutant, RULES, out_of_control=out_of_control,
                              keep=(since, until))  # fmt: skip
    assert window == [hour for hour in whole if since <= hour.start < until]
    # The rows built straight from the hours are those of the accounted hours.
    for hour in whole:
        assert _hour_row(MN, pollutant, hour, 1, 2) == _row(accounted(MN, pollutant, hour), 1, 2)


def _stored(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(
            select(*(HourlyEmission.__table__.c[name] for name in COLUMNS))
            .order_by(HourlyEmission.mn, HourlyEmission.pollutant, HourlyEmission.hour)
        )]  # fmt: skip


def test_rows_written_straight_to_the_driver_are_stored_as_sqlalchemy_stores_them(
    engine: Engine,
) -> None:
    at = datetime(2026, 3, 31, 23)
    hours = [
        EmissionHour("371502000000001001000000", SO2, at, "valid", None, 12.5, 3.6e5, 4.5, 4.5,
                     Method.MEASURED, None),
        EmissionHour("371502000000001001000000", SO2, at + H, "invalid", "maintenance", None,
                     3.6e5, None, 7.25, Method.SUBSTITUTED, "max of the last 720 valid hours"),
        EmissionHour("371502000000001001000000", "a21002", at, "invalid", "missing", None,
                     None, None, None, Method.MISSING, None),
        EmissionHour("outlet:2", SO2, at.replace(microsecond=5), "direct", None, 800.0, 1e5,
                     None, 80.0, Method.DIRECT, "按直排核算：未按许可证要求安装自动监测设备"),
    ]  # fmt: skip
    rows = [_row(hour, 1, 2 if hour.mn.startswith("outlet") else 1) for hour in hours]
    with engine.begin() as connection:
        insert_rows(connection, rows, {})
    straight = _stored(engine)
    with engine.begin() as connection:
        connection.execute(delete(HourlyEmission))
        connection.execute(insert(HourlyEmission), [dict(zip(COLUMNS, row, strict=True))
                                                    for row in rows])  # fmt: skip
    assert straight == _stored(engine)
    assert len(straight) == len(hours)
    # And what comes back is what went in (the rows as _row builds them).
    assert sorted(straight) == sorted(rows)


upload_values = st.tuples(
    st.integers(0, 400).map(float),  # SO2 [mg/m³]
    st.integers(50, 150).map(float),  # flow [m³/s]
    st.sampled_from(["N", "N", "N", "M", "D", "F"]),
    st.one_of(st.none(), st.floats(0, 90)),  # CO, on some uploads
)
MONTH_END = datetime(2026, 9, 30, 20)  # a month and a quarter start 4 hours in


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    hours=st.dictionaries(st.integers(0, 200), upload_values, min_size=1, max_size=60),
    data=st.data(),
)
def test_the_monthly_totals_equal_a_recomputation_from_scratch(
    sqlite_url: str, hours: dict[int, tuple[float, float, str, float | None]], data: st.DataObject
) -> None:
    engine = make_engine(sqlite_url)
    try:
        with engine.begin() as connection:
            for table in (EmissionMonth, HourlyEmission, Measurement, ArchivedFrame, ChainHead,
                          ProcessingCursor):  # fmt: skip
                connection.execute(delete(table))
        seed_once(engine)
        uploads = [hourly(MONTH_END + at * H, so2, flow, flag, co)
                   for at, (so2, flow, flag, co) in hours.items()]  # fmt: skip
        arrivals = data.draw(st.permutations(uploads), label="arrival order")
        cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(arrivals) - 1)), max_size=5)))
        materialiser = Materialiser.create(engine)
        for start, end in zip([0, *cuts], [*cuts, len(arrivals)], strict=True):
            if start < end:
                store(engine, arrivals[start:end])
                materialiser.run_once(MONTH_END)
        materialiser.catch_up(MONTH_END)
        with engine.begin() as connection:
            incremental = months_table(connection)
            rebuild_months(connection)
            assert incremental == months_table(connection)
            # And a year's totals are the hours' sums.
            totals = year_totals(connection, 1, 2026, materialiser.parameters)
            sums = connection.execute(
                select(HourlyEmission.pollutant, HourlyEmission.method,
                       func.sum(HourlyEmission.emission_kg))
                .where(HourlyEmission.enterprise_id == 1)
                .group_by(HourlyEmission.pollutant, HourlyEmission.method)
            ).all()  # fmt: skip
        assert {total.code for total in totals} == {row[0] for row in sums}
        for total in totals:
            kg = {method: kg or 0.0 for code, method, kg in sums if code == total.code}
            assert total.measured_t == pytest.approx(kg.get("measured", 0.0) / 1000)
            assert total.substituted_t == pytest.approx(kg.get("substituted", 0.0) / 1000)
        materialiser.rebuild(now=MONTH_END)
        with engine.connect() as connection:
            assert incremental == months_table(connection)
    finally:
        engine.dispose()


def test_the_migration_sums_the_hours_already_accounted(sqlite_url: str) -> None:
    # A store accounted before the monthly totals existed gets them at upgrade.
    engine = make_engine(sqlite_url)
    try:
        seed(engine)
        store(engine, [hourly(MONTH_END + at * H, 50.0 + at, 100.0, "M" if at % 9 == 4 else "N")
                       for at in range(40) if at != 7])  # fmt: skip
        Materialiser.create(engine).catch_up(MONTH_END)
        with engine.connect() as connection:
            expected = months_table(connection)
        assert {row[3] for row in expected} >= {"measured", "substituted"}
        command.downgrade(alembic_config(sqlite_url), "0039")
        upgrade(sqlite_url)
        with engine.connect() as connection:
            assert months_table(connection) == expected
    finally:
        engine.dispose()
