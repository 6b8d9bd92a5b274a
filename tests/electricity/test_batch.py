"""Batches of meter readings: JSON lines and CSV, all or nothing, idempotent."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from envwatch.demo.seed import seed_demo
from envwatch.electricity.batch import parse_batch, store_batch
from envwatch.registry.importing import ImportFileError
from envwatch.store.schema import ElectricityReading


def jsonl(*records: dict[str, object]) -> bytes:
    return "\n".join(json.dumps(record) for record in records).encode()


def test_json_lines_and_csv_read_the_same() -> None:
    lines = jsonl(
        {"meter": 1, "time": "20261129100000", "power_kw": 812.5, "energy_kwh": 1203.4},
        {"meter": 1, "time": "2026-11-29T10:15:00+08:00", "power_kw": 790, "current_a": 120},
    )
    table = (
        b"meter,time,power_kw,energy_kwh,current_a\n"
        b"1,20261129100000,812.5,1203.4,\n"
        b"1,2026-11-29T02:15:00Z,790,,120\n"
    )
    from_lines, errors_lines = parse_batch("b.jsonl", lines)
    from_table, errors_table = parse_batch("b.csv", table)
    assert errors_lines == errors_table == []
    assert from_lines == from_table
    assert [row.time for row in from_lines] == [
        datetime(2026, 11, 29, 10, 0),
        datetime(2026, 11, 29, 10, 15),  # other zones become China Standard Time
    ]


def test_problems_by_row_and_column() -> None:
    _, errors = parse_batch(
        "b.jsonl",
        jsonl(
            {"meter": 1, "time": "20261129100000", "power_kw": 1},
            {"meter": 0, "time": "yesterday", "power_kw": -5},
            {"meter": 1, "time": "20261129101500", "volts": 220},
        ),
    )
    assert sorted((e.row, e.column) for e in errors) == [
        (2, "meter"), (2, "power_kw"), (2, "time"), (3, "volts"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "content"), [("b.jsonl", b"{not json"), ("b.jsonl", b"[1, 2]"), ("b.xml", b"<a/>")]
)
def test_unreadable_batches_are_refused(name: str, content: bytes) -> None:
    with pytest.raises(ImportFileError):
        parse_batch(name, content)


def test_stored_once_and_all_or_nothing(engine: Engine) -> None:
    seed_demo(engine)
    batch = jsonl(
        {"meter": 1, "time": "20261129100000", "power_kw": 812.5},
        {"meter": 2, "time": "20261129100000", "power_kw": 40.1},
    )
    assert store_batch(engine, "b.jsonl", batch).errors == ()
    assert store_batch(engine, "b.jsonl", batch).errors == ()  # resent
    unknown = jsonl(
        {"meter": 1, "time": "20261129101500", "power_kw": 1.0},
        {"meter": 99999, "time": "20261129101500"},
    )
    result = store_batch(engine, "b.jsonl", unknown)
    assert [(e.row, e.reason) for e in result.errors] == [(2, "unknown meter 99999")]
    with engine.connect() as connection:
        rows = connection.execute(
            select(ElectricityReading.meter_id, ElectricityReading.power_kw).order_by(
                ElectricityReading.meter_id
            )
        ).all()
    assert [tuple(r) for r in rows] == [(1, 812.5), (2, 40.1)]


def test_the_command(engine: Engine, database_url: str, tmp_path: Path) -> None:
    seed_demo(engine)
    path = tmp_path / "readings.csv"
    path.write_text("meter,time,power_kw\n3,20261129100000,55.0\n", encoding="utf-8")
    command = [sys.executable, "-m", "envwatch", "electricity", "import", str(path)]
    result = subprocess.run(
        [*command, "--db", database_url], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "1 readings stored" in result.stdout
