"""Carbon beside pollutants: golden values computed by hand, and one year of
an enterprise read back from the store (declared and metered electricity,
accounted and declared pollutants, CEMS CO2 in %) on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import Engine, insert

from envwatch.carbon.core import (
    Synergy,
    cems_hour_t,
    change,
    co2_from_electricity_t,
    co2_mg_per_m3,
    default_data,
    intensity,
    synergy,
)
from envwatch.carbon.summary import enterprise_energy, enterprises_of, grid_factor, summary
from envwatch.errors import UsageError
from envwatch.store.schema import (
    County,
    ElectricityReading,
    EmissionDeclaration,
    EnergyDeclaration,
    Enterprise,
    EnterpriseOutput,
    HourlyEmission,
    Meter,
    MonitoringPoint,
    PointFactor,
)

DATA = default_data()
SO2, NOX, CO2 = "a21026", "a21002", "a05001"


def test_grid_factor_is_versioned_data_with_its_source() -> None:
    factor = DATA.factor_for(2026)
    assert (factor.factor_t_per_mwh, factor.data_year, factor.tag) == (0.5703, 2022, "M")
    assert "环办气候函〔2023〕43号" in factor.source
    assert DATA.factor_for(2021).factor_t_per_mwh == 0.5810
    with pytest.raises(UsageError):
        DATA.factor_for(2010)
    assert grid_factor(DATA, 2010) is None  # no CO2 from electricity is made up


def test_electricity_co2_golden() -> None:
    # 1 234.5 MWh × 0.5703 t/MWh = 704.03535 t
    assert co2_from_electricity_t(1234.5, DATA.factor_for(2026)) == pytest.approx(704.03535)


def test_cems_co2_in_every_unit_golden() -> None:
    # 1 ppm = 44.0095 / 22.414 = 1.963482644775... mg/m³
    assert co2_mg_per_m3(1000, "ppm", DATA) == pytest.approx(1963.482644775)
    # 10 % = 100 000 ppm = 196 348.2645 mg/m³
    assert co2_mg_per_m3(10, "%", DATA) == pytest.approx(196348.2644775)
    assert co2_mg_per_m3(180000, "mg/m3", DATA) == 180000
    # 180 000 mg/m³ × 400 000 m³ × 1e-9 = 72 t
    assert cems_hour_t(180000, "mg/m³", 400000, DATA) == pytest.approx(72.0)
    # 10 % × 500 000 m³: 196 348.2645 × 5e5 × 1e-9 = 98.17413 t
    assert cems_hour_t(10, "%", 500000, DATA) == pytest.approx(98.1741322)
    with pytest.raises(ValueError, match="not mg/m³"):
        co2_mg_per_m3(1, "g/m3", DATA)


def test_intensity_change_and_synergy() -> None:
    assert intensity(2.5, 1000) == 0.0025 and intensity(1, 0) is None
    assert change(90, 100) == pytest.approx(-0.1) and change(1, None) is None
    flat = DATA.flat_share
    assert synergy(-0.1, -0.05, flat) is Synergy.BOTH_DOWN
    assert synergy(-0.1, 0.05, flat) is Synergy.POLLUTANTS_DOWN_CARBON_UP
    assert synergy(-0.1, 0.01, flat) is Synergy.POLLUTANTS_DOWN_CARBON_FLAT
    assert synergy(0.1, -0.1, flat) is Synergy.CARBON_DOWN_POLLUTANTS_UP
    assert synergy(0.01, -0.1, flat) is Synergy.CARBON_DOWN_POLLUTANTS_FLAT
    assert synergy(0.1, 0.1, flat) is Synergy.BOTH_UP
    assert synergy(0.0, 0.05, flat) is Synergy.FLAT
    assert synergy(None, -0.1, flat) is Synergy.UNKNOWN


def test_meters_make_an_enterprise_total_and_production() -> None:
    # A total meter wins over the circuits; production is the production circuits'.
    meters = {
        1: (7, "total", 5000.0),
        2: (7, "production", 3000.0),
        3: (7, "treatment", 500.0),
        4: (8, "production", 2000.0),
        5: (8, "treatment", 1000.0),
    }
    assert enterprise_energy(meters, 3) == {(7, 3): (5.0, 3.0), (8, 3): (3.0, 2.0)}


def _seed(engine: Engine) -> None:
    with engine.begin() as c:
        c.execute(insert(County), [{"code": "371502", "name_zh": "东昌府区"}])
        c.execute(
            insert(Enterprise),
            [
                {
                    "id": 1,
                    "name": "甲电厂",
                    "credit_code": "9137150000000000X1",
                    "county_code": "371502",
                }
            ],
        )
        c.execute(
            insert(MonitoringPoint),
            [
                {
                    "mn": "MN1",
                    "pw": "123456",
                    "enterprise_id": 1,
                    "st": "31",
                    "protocol_version": "2017",
                }
            ],
        )
        c.execute(insert(PointFactor), [{"mn": "MN1", "pollutant": CO2, "unit": "%"}])
        c.execute(
            insert(Meter),
            [
                {"id": 1, "enterprise_id": 1, "name": "总表", "kind": "total"},
                {"id": 2, "enterprise_id": 1, "name": "生产", "kind": "production"},
            ],
        )
        # March 2026 metered: total register 10 000 -> 250 000 kWh (240 MWh); production
        # by power: 1 000 kW for two hours = 2 MWh (max gap 60 min).
        c.execute(
            insert(ElectricityReading),
            [
                {
                    "meter_id": 1,
                    "time": datetime(2026, 3, 1),
                    "power_kw": None,
                    "energy_kwh": 10000.0,
                    "current_a": None,
                    "source": "batch",
                },
                {
                    "meter_id": 1,
                    "time": datetime(2026, 3, 31),
                    "power_kw": None,
                    "energy_kwh": 250000.0,
                    "current_a": None,
                    "source": "batch",
                },
                *(
                    {
                        "meter_id": 2,
                        "time": datetime(2026, 3, 2, 8, 0)
                        + (datetime(2026, 1, 1, 1) - datetime(2026, 1, 1)) * h,
                        "power_kw": 1000.0,
                        "energy_kwh": None,
                        "current_a": None,
                        "source": "batch",
                    }
                    for h in range(3)
                ),
            ],
        )
        # January declared in both years: 100 MWh (80 production) then 200 (160).
        c.execute(
            insert(EnergyDeclaration),
            [
                {
                    "enterprise_id": 1,
                    "month": date(2025, 1, 1),
                    "total_mwh": 200.0,
                    "production_mwh": 160.0,
                    "source": "bill",
                },
                {
                    "enterprise_id": 1,
                    "month": date(2026, 1, 1),
                    "total_mwh": 100.0,
                    "production_mwh": 80.0,
                    "source": "bill",
                },
            ],
        )
        # SO2: 2 t accounted in January 2026 (declared 9 t is ignored there), 4 t declared
        # in January 2025; NOx declared 1 t in January 2026.
        c.execute(
            insert(HourlyEmission),
            [
                {
                    "mn": "MN1",
                    "pollutant": SO2,
                    "hour": datetime(2026, 1, 5, h),
                    "enterprise_id": 1,
                    "validity": "valid",
                    "emission_kg": 1000.0,
                    "method": "measured",
                }
                for h in range(2)
            ],
        )
        c.execute(
            insert(EmissionDeclaration),
            [
                {
                    "enterprise_id": 1,
                    "month": date(2026, 1, 1),
                    "pollutant": SO2,
                    "tonnes": 9.0,
                    "source": "report",
                },
                {
                    "enterprise_id": 1,
                    "month": date(2026, 1, 1),
                    "pollutant": NOX,
                    "tonnes": 1.0,
                    "source": "report",
                },
                {
                    "enterprise_id": 1,
                    "month": date(2025, 1, 1),
                    "pollutant": SO2,
                    "tonnes": 4.0,
                    "source": "report",
                },
            ],
        )
        # CEMS CO2 at 10 % over 500 000 m³ for one valid hour of January 2026 (98.17 t);
        # an invalid hour does not count.
        c.execute(
            insert(HourlyEmission),
            [
                {
                    "mn": "MN1",
                    "pollutant": CO2,
                    "hour": datetime(2026, 1, 6, 0),
                    "enterprise_id": 1,
                    "validity": "valid",
                    "concentration": 10.0,
                    "flow_m3": 500000.0,
                    "emission_kg": 1.0,
                    "method": "measured",
                },
                {
                    "mn": "MN1",
                    "pollutant": CO2,
                    "hour": datetime(2026, 1, 6, 1),
                    "enterprise_id": 1,
                    "validity": "invalid",
                    "concentration": None,
                    "flow_m3": None,
                    "emission_kg": None,
                    "method": "missing",
                },
            ],
        )
        c.execute(
            insert(EnterpriseOutput),
            [{"enterprise_id": 1, "year": 2026, "quantity": 50.0, "unit": "t"}],
        )


def test_a_year_read_back_from_the_store(engine: Engine) -> None:
    _seed(engine)
    with engine.connect() as connection:
        rows = enterprises_of(connection, Enterprise.id == 1)
        document = summary(connection, 2026, rows, DATA, through=3)
    (one,) = document["enterprises"]
    january, march = one["months"][0], one["months"][2]
    assert january["pollutants_t"] == {NOX: 1.0, SO2: 2.0}
    assert january["pollutant_sources"] == {NOX: "declared", SO2: "accounted"}
    assert january["electricity_source"] == "declared"
    assert january["co2_electricity_t"] == pytest.approx(57.03)  # 100 MWh × 0.5703
    assert january["co2_cems_t"] == pytest.approx(98.1741322)
    assert march["electricity_source"] == "metered"
    assert march["electricity_mwh"] == pytest.approx(240.0)
    assert march["production_mwh"] == pytest.approx(2.0)
    assert march["co2_electricity_t"] == pytest.approx(136.872)  # 240 × 0.5703
    year, previous = one["year"], one["previous"]
    assert year["main_pollutants_t"] == pytest.approx(3.0)
    assert year["co2_t"] == pytest.approx(57.03 + 98.1741322 + 136.872)
    assert year["pollutants_t_per_mwh"] == pytest.approx(3.0 / 82.0)
    assert year["co2_t_per_output"] is None  # output is annual: not for three months
    assert previous["main_pollutants_t"] == pytest.approx(4.0)
    assert previous["co2_t"] == pytest.approx(200 * 0.5703)
    assert one["change"]["main_pollutants_t"] == pytest.approx(-0.25)
    assert one["synergy"] == "pollutants_down_carbon_up"
    assert document["counties"][0]["code"] == "371502"
    assert document["factor"]["factor_t_per_mwh"] == 0.5703
