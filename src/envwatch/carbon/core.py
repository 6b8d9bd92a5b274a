"""Pure carbon accounting: grid factors as versioned data, CO2 from electricity
and from CEMS concentration × flow, intensities, year-on-year change and the
synergy class of pollutants against carbon. Units in brackets."""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path

from envwatch.errors import ConfigError, UsageError

GRAMS_PER_TONNE = 1e6
MG_PER_TONNE = 1e9
PPM_PER_PERCENT = 10_000.0


@dataclass(frozen=True, slots=True)
class GridFactor:
    """A grid emission factor [tCO2/MWh] with where it comes from."""

    id: str
    region: str
    applies_from: int
    """The first data year it is used for."""
    factor_t_per_mwh: float
    data_year: int
    source: str
    tag: str


@dataclass(frozen=True, slots=True)
class CarbonData:
    grid: tuple[GridFactor, ...]
    molar_mass_g_per_mol: float
    """CO2 [g/mol]."""
    molar_volume_l_per_mol: float
    """An ideal gas at the standard state of dry flue-gas concentrations [L/mol]."""
    flat_share: float
    """A change within ± this share of the previous year is flat [I]."""
    main_pollutants: tuple[str, ...]
    """Whose summed tonnes the synergy class compares with CO2."""
    co2_code: str
    """The CEMS factor code of CO2 (``glossary.py``)."""
    max_gap_minutes: float
    """How long a power reading holds without a register [min]."""

    def factor_for(self, year: int, region: str = "national") -> GridFactor:
        """The newest factor of ``region`` whose ``applies_from`` is not after ``year``."""
        usable = [f for f in self.grid if f.region == region and f.applies_from <= year]
        if not usable:
            raise UsageError(f"no grid emission factor of {region!r} for {year}")
        return max(usable, key=lambda f: f.applies_from)


def _check(data: CarbonData, where: object) -> CarbonData:
    for f in data.grid:
        if not 0 < f.factor_t_per_mwh < 2:
            raise ConfigError(
                where,
                f"grid factor {f.id}: {f.factor_t_per_mwh} tCO2/MWh is implausible",
                f"电网排放因子{f.id}数值不合理",
            )
        if f.tag not in {"S", "C", "M", "I"}:
            raise ConfigError(
                where,
                f"grid factor {f.id}: tag {f.tag!r} is not S, C, M or I",
                f"电网排放因子{f.id}的来源标记无效",
            )
    if not 0 <= data.flat_share < 1:
        raise ConfigError(
            where, "synergy.flat_share must be in [0, 1)", "synergy.flat_share 须在 [0, 1) 之间"
        )
    return data


def load_data(path: Path | None = None) -> CarbonData:
    """The carbon data of ``path`` (default: the package's ``factors.toml``)."""
    if path is None:
        text = resources.files("envwatch.carbon").joinpath("factors.toml").read_text("utf-8")
    else:
        text = path.read_text("utf-8")
    raw = tomllib.loads(text)
    try:
        grid = tuple(
            GridFactor(
                g["id"],
                g["region"],
                int(g["applies_from"]),
                float(g["factor_t_per_mwh"]),
                int(g["data_year"]),
                g["source"],
                g["tag"],
            )
            for g in raw["grid"]
        )
        data = CarbonData(
            grid,
            float(raw["co2"]["molar_mass_g_per_mol"]),
            float(raw["co2"]["molar_volume_l_per_mol"]),
            float(raw["synergy"]["flat_share"]),
            tuple(raw["pollutants"]["main"]),
            str(raw["pollutants"]["co2"]),
            float(raw["electricity"]["max_gap_minutes"]),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ConfigError(
            path or "carbon/factors.toml",
            f"missing or bad value: {error!r}",
            f"缺少或无效的取值：{error!r}",
        ) from error
    return _check(data, path or "carbon/factors.toml")


@cache
def default_data() -> CarbonData:
    return load_data()


def co2_from_electricity_t(mwh: float, factor: GridFactor) -> float:
    """Indirect CO2 [t] of ``mwh`` [MWh] of grid electricity."""
    return mwh * factor.factor_t_per_mwh


def co2_mg_per_m3(value: float, unit: str, data: CarbonData) -> float:
    """A CO2 concentration as mg/m³ (dry, standard state). ``unit`` is the
    device's: mg/m³ (as is), % (volume: 1 % = 10 000 ppm) or ppm (µmol/mol;
    × M/Vm: 1 ppm = 44.0095/22.414 = 1.9635 mg/m³)."""
    normal = unit.strip().lower().replace("m3", "m³")
    per_ppm = data.molar_mass_g_per_mol / data.molar_volume_l_per_mol
    if normal in {"mg/m³", "mg/nm³"}:
        return value
    if normal in {"%", "vol%", "%vol"}:
        return value * PPM_PER_PERCENT * per_ppm
    if normal in {"ppm", "µmol/mol", "umol/mol"}:
        return value * per_ppm
    raise ValueError(f"CO2 concentration unit {unit!r} is not mg/m³, % or ppm")


def cems_hour_t(value: float, unit: str, flow_m3: float, data: CarbonData) -> float:
    """CO2 of one valid hour [t]: concentration [mg/m³] × the hour's dry
    standard flue-gas volume [m³] × 1e-9."""
    return co2_mg_per_m3(value, unit, data) * flow_m3 / MG_PER_TONNE


def intensity(amount: float, per: float | None) -> float | None:
    """``amount`` per unit of ``per`` (None when ``per`` is unknown or zero)."""
    if per is None or per <= 0:
        return None
    return amount / per


def change(current: float | None, previous: float | None) -> float | None:
    """The year-on-year change as a share of the previous year (None when
    either is unknown or the previous is zero)."""
    if current is None or previous is None or previous <= 0:
        return None
    return (current - previous) / previous


class Direction(StrEnum):
    DOWN = "down"
    FLAT = "flat"
    UP = "up"


def direction(share: float, flat_share: float) -> Direction:
    if share < -flat_share:
        return Direction.DOWN
    if share > flat_share:
        return Direction.UP
    return Direction.FLAT


class Synergy(StrEnum):
    """How the year's cuts in pollutants and carbon went together."""

    BOTH_DOWN = "both_down"  # 协同减排
    POLLUTANTS_DOWN_CARBON_UP = "pollutants_down_carbon_up"
    POLLUTANTS_DOWN_CARBON_FLAT = "pollutants_down_carbon_flat"
    CARBON_DOWN_POLLUTANTS_UP = "carbon_down_pollutants_up"
    CARBON_DOWN_POLLUTANTS_FLAT = "carbon_down_pollutants_flat"
    BOTH_UP = "both_up"
    FLAT = "flat"  # neither moved, or one flat and the other up
    UNKNOWN = "unknown"  # no previous year to compare with


def synergy(pollutants: float | None, carbon: float | None, flat_share: float) -> Synergy:
    """The class of a year-on-year change of pollutant tonnes and CO2 tonnes
    (each a share of the previous year)."""
    if pollutants is None or carbon is None:
        return Synergy.UNKNOWN
    p, c = direction(pollutants, flat_share), direction(carbon, flat_share)
    table = {
        (Direction.DOWN, Direction.DOWN): Synergy.BOTH_DOWN,
        (Direction.DOWN, Direction.UP): Synergy.POLLUTANTS_DOWN_CARBON_UP,
        (Direction.DOWN, Direction.FLAT): Synergy.POLLUTANTS_DOWN_CARBON_FLAT,
        (Direction.UP, Direction.DOWN): Synergy.CARBON_DOWN_POLLUTANTS_UP,
        (Direction.FLAT, Direction.DOWN): Synergy.CARBON_DOWN_POLLUTANTS_FLAT,
        (Direction.UP, Direction.UP): Synergy.BOTH_UP,
    }
    return table.get((p, c), Synergy.FLAT)


def total(values: Sequence[float | None]) -> float | None:
    """The sum of the known values; None when none is known."""
    known = [v for v in values if v is not None]
    return sum(known) if known else None
