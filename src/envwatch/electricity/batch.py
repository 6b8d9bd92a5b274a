"""Batches of meter readings (JSON lines or CSV of meter, time, power kW,
energy kWh, current A), all or nothing, with every problem as (row, column,
reason). Readings are keyed by (meter, time): a batch sent twice stores once.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Connection, Engine, insert, select, text

from envwatch.registry.importing import ImportFileError, RowError, validate_rows
from envwatch.store.db import dialect_insert
from envwatch.store.schema import ElectricityBatch, ElectricityReading, Meter
from envwatch.times import as_data_time

MAX_READINGS = 200_000


class ReadingRow(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    meter: int = Field(gt=0)
    time: datetime
    power_kw: float | None = Field(default=None, ge=0, le=1_000_000)
    energy_kwh: float | None = Field(default=None, ge=0)
    current_a: float | None = Field(default=None, ge=0, le=100_000)

    @field_validator("time", mode="before")
    @classmethod
    def _hj212_time(cls, value: object) -> object:
        # Meters and collectors write YYYYMMDDhhmmss as often as ISO 8601.
        if isinstance(value, str) and value.isdigit() and len(value) == 14:
            return datetime.strptime(value, "%Y%m%d%H%M%S")
        return value

    @field_validator("time")
    @classmethod
    def _naive(cls, value: datetime) -> datetime:
        # Stored as China Standard Time without zone, like HJ 212 data times.
        return as_data_time(value)


@dataclass(frozen=True, slots=True)
class BatchResult:
    readings: int
    """Readings in the batch; stored when ``errors`` is empty (repeats stored once)."""
    errors: tuple[RowError, ...]


def _records(name: str, content: bytes) -> list[dict[str, Any]]:
    suffix = Path(name).suffix.lower()
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError("the batch is not UTF-8 text", "数据不是UTF-8文本") from None
    if suffix in {".jsonl", ".json", ".ndjson"}:
        records = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as error:
                raise ImportFileError(
                    f"line {number} is not JSON: {error.msg}", f"第{number}行不是JSON"
                ) from None
            if not isinstance(value, dict):
                raise ImportFileError(f"line {number} is not an object", f"第{number}行不是对象")
            records.append(value)
        return records
    if suffix == ".csv":
        return [dict(row) for row in csv.DictReader(io.StringIO(text))]
    raise ImportFileError(f"{name}: only .jsonl and .csv", f"{name}：只支持 .jsonl 和 .csv")


def parse_batch(name: str, content: bytes) -> tuple[list[ReadingRow], list[RowError]]:
    """Readings and row problems of a batch (rows count from 1 for JSON lines,
    from 2 for CSV, as an editor shows them)."""
    records = _records(name, content)
    if len(records) > MAX_READINGS:
        raise ImportFileError(f"more than {MAX_READINGS} readings", f"超过{MAX_READINGS}条读数")
    first = 2 if name.lower().endswith(".csv") else 1
    return validate_rows(ReadingRow, records, first_row=first)


def store_batch(
    engine: Engine,
    name: str,
    content: bytes,
    source: str = "batch",
    *,
    enterprise_id: int | None = None,
) -> BatchResult:
    """Parse, check the meters, and store every reading, or none.

    With ``enterprise_id``, only that enterprise's meters are known: another
    enterprise's meter is reported as unknown, so a client learns nothing of it.
    """
    rows, errors = parse_batch(name, content)
    if not errors:
        query = select(Meter.id)
        if enterprise_id is not None:
            query = query.where(Meter.enterprise_id == enterprise_id)
        with engine.connect() as connection:
            meters = set(connection.execute(query).scalars())
        first = 2 if name.lower().endswith(".csv") else 1
        errors = [
            RowError(number, "meter", f"unknown meter {row.meter}")
            for number, row in enumerate(rows, start=first)
            if row.meter not in meters
        ]
    if errors:
        return BatchResult(len(rows), tuple(errors))
    if rows:
        with engine.begin() as connection:
            batch_id = open_batch(connection, name, source, len(rows))
            values = [
                {
                    "meter_id": row.meter,
                    "time": row.time,
                    "power_kw": row.power_kw,
                    "energy_kwh": row.energy_kwh,
                    "current_a": row.current_a,
                    "source": source,
                    "batch_id": batch_id,
                }
                for row in rows
            ]
            # A reading sent again keeps its first batch: the rules saw it then.
            connection.execute(
                dialect_insert(connection, ElectricityReading).on_conflict_do_nothing(), values
            )
    return BatchResult(len(rows), ())


def open_batch(connection: Connection, name: str, source: str, readings: int) -> int:
    """Record a batch in the open transaction; its id. On PostgreSQL the table is
    locked until the commit, so batches commit in id order and the rules,
    following ids, never pass one that is still to commit."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("LOCK TABLE electricity_batch IN EXCLUSIVE MODE"))
    batch_id = connection.execute(
        insert(ElectricityBatch)
        .values(received_at=datetime.now(UTC), source=source, name=name[:200], readings=readings)
        .returning(ElectricityBatch.id)
    ).scalar_one()
    return int(batch_id)
