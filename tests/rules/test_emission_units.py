"""Emissions in the units of the HJ 212 code table: golden values for flue
gas and wastewater, hourly and daily, with ``Cou`` and with the flow rate
(``Avg``) only (pure)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from envwatch.rules.engine import default_rule_set
from envwatch.rules.hours import hours_of
from envwatch.rules.model import Upload, Values
from envwatch.rules.units import (
    KG_PER_M3_AT_UNIT_CONCENTRATION,
    M3_PER_SECOND_AT_UNIT_RATE,
    CubicMetres,
    accounting_of,
    period_volume,
)
from envwatch.web.api_measurements import days_from_hours

RULES = default_rule_set()
T0 = datetime(2026, 11, 29, 0, 0)
MN = "371502000000001001000000"
COD, SO2 = "w01018", "a21026"
AIR_FLOW, WATER_FLOW = "a00000", "w00000"


def hour(at: int, code: str, level: float, flow_code: str, flow: Values) -> Upload:
    return Upload(MN, "2061", T0 + timedelta(hours=at),
                  {code: Values(avg=level, flag="N"), flow_code: flow})  # fmt: skip


def test_the_units_come_from_the_code_table() -> None:
    so2, cod = accounting_of(SO2), accounting_of(COD)
    assert so2 is not None and cod is not None
    assert (so2.concentration_unit, so2.flow.code, so2.flow.rate_unit, so2.flow.amount_unit) == (
        "mg/m³", AIR_FLOW, "m³/s", "m³")  # fmt: skip
    assert (cod.concentration_unit, cod.flow.code, cod.flow.rate_unit, cod.flow.amount_unit) == (
        "mg/L", WATER_FLOW, "L/s", "m³")  # fmt: skip
    assert KG_PER_M3_AT_UNIT_CONCENTRATION["mg/m³"] == 1e-6
    assert KG_PER_M3_AT_UNIT_CONCENTRATION["mg/L"] == 1e-3  # 1 m³ = 1000 L
    assert M3_PER_SECOND_AT_UNIT_RATE["L/s"] == 1e-3
    # No mass emission: O2 [%], pH (dimensionless), the flows themselves.
    assert [accounting_of(code) for code in ("a19001", "w01001", AIR_FLOW)] == [None] * 3


@pytest.mark.parametrize(
    "flow",
    [Values(avg=100 / 3.6, cou=100.0, flag="N"), Values(avg=100 / 3.6, flag="N")],
    ids=["Cou", "Avg only"],
)
def test_an_hour_of_wastewater_at_50_mg_per_litre_through_100_cubic_metres_is_5_kg(
    flow: Values,
) -> None:
    # 100 m³ in an hour is 27.78 L/s; 50 mg/L × 100 m³ × 1e-3 = 5 kg (not 0.005 kg).
    (result,) = hours_of([hour(0, COD, 50.0, WATER_FLOW, flow)], COD, RULES)
    assert result.volume_m3 == pytest.approx(100.0)
    assert result.emission_kg == pytest.approx(5.0)


@pytest.mark.parametrize(
    "flow", [Values(avg=100.0, cou=360_000.0, flag="N"), Values(avg=100.0, flag="N")],
    ids=["Cou", "Avg only"],
)  # fmt: skip
def test_an_hour_of_flue_gas_at_10_mg_per_cubic_metre_and_100_cubic_metres_a_second_is_3_6_kg(
    flow: Values,
) -> None:
    # 100 m³/s × 3600 s = 360,000 m³; 10 mg/m³ × 360,000 m³ × 1e-6 = 3.6 kg.
    (result,) = hours_of([hour(0, SO2, 10.0, AIR_FLOW, flow)], SO2, RULES)
    assert result.volume_m3 == pytest.approx(360_000.0)
    assert result.emission_kg == pytest.approx(3.6)


def test_an_hour_computed_from_wastewater_minute_data_counts_cou_in_cubic_metres() -> None:
    # Six 10-minute records of 50 mg/L, each with 100/6 m³: 100 m³, 5 kg.
    records = [Upload(MN, "2051", T0 + timedelta(minutes=10 * i),
                      {COD: Values(avg=50.0, flag="N"),
                       WATER_FLOW: Values(avg=100 / 3.6, cou=100 / 6, flag="N")})
               for i in range(6)]  # fmt: skip
    (result,) = hours_of(records, COD, RULES)
    assert result.source == "computed"
    assert result.volume_m3 == pytest.approx(100.0)
    assert result.emission_kg == pytest.approx(5.0)


def test_a_pollutant_is_carried_by_its_own_medium_s_flow() -> None:
    # Flue-gas SO2 with only a wastewater flow has no volume, and no emission.
    (result,) = hours_of([hour(0, SO2, 10.0, WATER_FLOW, Values(avg=30.0, flag="N"))], SO2, RULES)
    assert (result.mean, result.volume_m3, result.emission_kg) == (10.0, None, None)


def test_a_day_of_wastewater_and_of_flue_gas() -> None:
    # 24 hours of 50 mg/L, 100 m³ each (Avg only): 2,400 m³, 120 kg.
    water = [hour(h, COD, 50.0, WATER_FLOW, Values(avg=100 / 3.6, flag="N")) for h in range(24)]
    (day,) = days_from_hours(hours_of(water, COD, RULES), 20, flow_weighted=True).values()
    assert day["emission_kg"] == pytest.approx(120.0)
    assert day["flow_weighted"] and day["avg"] == pytest.approx(50.0)
    # rules.md §1.4: COD 40 and 60 mg/L with 100 and 300 m³ (Cou): 55 mg/L,
    # 4 + 18 = 22 kg.
    mixed = [hour(0, COD, 40.0, WATER_FLOW, Values(cou=100.0, flag="N")),
             hour(1, COD, 60.0, WATER_FLOW, Values(cou=300.0, flag="N"))]  # fmt: skip
    (day,) = days_from_hours(hours_of(mixed, COD, RULES), 2, flow_weighted=True).values()
    assert (day["avg"], day["emission_kg"]) == (pytest.approx(55.0), pytest.approx(22.0))
    # 24 hours of SO2 10 mg/m³ at 100 m³/s (Cou): 24 × 3.6 = 86.4 kg.
    air = [hour(h, SO2, 10.0, AIR_FLOW, Values(avg=100.0, cou=360_000.0, flag="N"))
           for h in range(24)]  # fmt: skip
    (day,) = days_from_hours(hours_of(air, SO2, RULES), 20, flow_weighted=False).values()
    assert day["emission_kg"] == pytest.approx(86.4)


@pytest.mark.parametrize(
    ("code", "flow", "volume", "kg"),
    [
        # A daily upload (2031): 2,400 m³ of wastewater at 50 mg/L: 120 kg.
        (COD, Values(cou=2400.0), 2400.0, 120.0),
        (COD, Values(avg=2400 / 86.4), 2400.0, 120.0),  # 27.78 L/s for a day
        # 100 m³/s of flue gas for a day: 8,640,000 m³; at 10 mg/m³: 86.4 kg.
        (SO2, Values(cou=8_640_000.0), 8_640_000.0, 86.4),
        (SO2, Values(avg=100.0), 8_640_000.0, 86.4),
    ],
)
def test_a_daily_upload_s_volume_and_emission(
    code: str, flow: Values, volume: float, kg: float
) -> None:
    accounting = accounting_of(code)
    assert accounting is not None
    day = 86_400.0
    counted = period_volume([flow], accounting.flow, day, day)
    assert counted == pytest.approx(volume)
    level = 50.0 if code == COD else 10.0
    assert accounting.emission(level, counted) == pytest.approx(kg)
    assert accounting.emission(level, None) is None
    assert accounting.emission(None, CubicMetres(volume)) is None
