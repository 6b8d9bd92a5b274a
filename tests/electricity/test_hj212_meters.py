"""Meters that report over HJ 212: the code table, the reading of an upload
(pure), and the gateway storing readings over real TCP on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from envwatch.electricity.hj212 import default_codes, load_codes, reading_of
from envwatch.errors import ConfigError
from envwatch.hj212 import Packet, encode_packet
from envwatch.store.archive import MeasurementRow
from envwatch.store.schema import ElectricityReading, Meter, MonitoringPoint
from tests.gateway.helpers import register
from tests.gateway.test_gateway_tcp import Running, answers

CODES = default_codes()
TEN = datetime(2026, 11, 29, 10, 0)
METER_MN = "3715020000000000E0000001"


def row(code: str, **values: float) -> MeasurementRow:
    return MeasurementRow("MN", "2011", TEN, code, **values)  # type: ignore[arg-type]


def test_a_2011_upload_is_one_reading_at_its_data_time() -> None:
    rows = (row(CODES.power_kw, rtd=412.5), row(CODES.energy_kwh, rtd=10231.0),
            row(CODES.current_a, rtd=620.0))  # fmt: skip
    reading = reading_of(7, "2011", rows, CODES)
    assert reading == (7, TEN, 412.5, 10231.0, 620.0)


def test_minute_data_give_average_power_and_the_register_at_the_end() -> None:
    rows = (
        row(CODES.power_kw, avg=400.0, max=450.0),
        row(CODES.energy_kwh, avg=10200.0, max=10231.0),
    )
    reading = reading_of(7, "2051", rows, CODES)
    assert reading is not None
    assert (reading.power_kw, reading.energy_kwh, reading.current_a) == (400.0, 10231.0, None)


def test_hourly_data_and_uploads_without_meter_codes_are_no_readings() -> None:
    assert reading_of(7, "2061", (row(CODES.power_kw, avg=1.0),), CODES) is None
    assert reading_of(7, "2011", (row("a21026", rtd=1.0),), CODES) is None


def test_a_code_table_is_checked_and_its_errors_name_file_and_key(tmp_path: Path) -> None:
    good = tmp_path / "codes.toml"
    good.write_text('version = "bureau-1"\npower_kw = "p1"\nenergy_kwh = "e1"\ncurrent_a = "i1"\n')
    assert load_codes(good).power_kw == "p1"
    bad = tmp_path / "bad.toml"
    bad.write_text('version = "bureau-1"\npower_kw = "p1"\nenergy = "e1"\n')
    with pytest.raises(ConfigError) as raised:
        load_codes(bad)
    message = str(raised.value)
    assert "bad.toml" in message
    assert "energy_kwh" in message and "energy" in message and "current_a" in message
    broken = tmp_path / "broken.toml"
    broken.write_text("power_kw = \n")
    with pytest.raises(ConfigError, match=r"broken\.toml.*line 1"):
        load_codes(broken)


def meter_upload(qn: str, when: str, power: str) -> bytes:
    return encode_packet(
        Packet.from_groups(
            "2011",
            qn=qn,
            st="31",
            pw="123456",
            mn=METER_MN,
            flag="5",
            cp=(
                (("DataTime", when),),
                ((f"{CODES.power_kw}-Rtd", power), (f"{CODES.power_kw}-Flag", "N")),
                ((f"{CODES.energy_kwh}-Rtd", "10231.5"),),
            ),
        )
    )


def test_the_gateway_stores_a_meters_uploads_as_readings_once(engine: Engine) -> None:
    register(engine, (METER_MN, "123456"))
    with engine.begin() as connection:
        connection.execute(
            Meter.__table__.insert(),  # type: ignore[attr-defined]
            [{"id": 5, "enterprise_id": 1, "name": "脱硫循环泵", "kind": "treatment",
              "mn": METER_MN}],
        )  # fmt: skip

    async def scenario() -> None:
        async with Running(engine) as running:
            reader, writer = await running.connect()
            first = meter_upload("20261129100000001", "20261129100000", "412.5")
            writer.write(first + first + meter_upload("20261129100030001", "20261129100030", "0"))
            await answers(reader, 3)
            writer.close()

    asyncio.run(asyncio.wait_for(scenario(), 60))
    with engine.connect() as connection:
        readings = connection.execute(
            select(ElectricityReading.meter_id, ElectricityReading.time,
                   ElectricityReading.power_kw, ElectricityReading.energy_kwh,
                   ElectricityReading.source).order_by(ElectricityReading.time)
        ).all()  # fmt: skip
        assert [tuple(r) for r in readings] == [
            (5, TEN, 412.5, 10231.5, "hj212"),
            (5, datetime(2026, 11, 29, 10, 0, 30), 0.0, 10231.5, "hj212"),
        ]
        assert connection.execute(select(MonitoringPoint.mn)).scalar() == METER_MN
