"""Meter readings out of HJ 212 uploads (pure): which factor codes mean power,
energy and current is versioned data (``hj212_codes.toml``), not code."""

from __future__ import annotations

import functools
import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from envwatch.errors import ConfigError
from envwatch.store.archive import MeasurementRow, MeterReading

DEFAULT_CODES_FILE = Path(__file__).with_name("hj212_codes.toml")
# Commands whose values are readings at (or over the period from) DataTime.
READING_COMMANDS = frozenset({"2011", "2051"})


class ElectricityCodes(BaseModel):
    """The factor codes of the three quantities a meter reports."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str = Field(min_length=1)
    power_kw: str = Field(min_length=1, max_length=16)
    energy_kwh: str = Field(min_length=1, max_length=16)
    current_a: str = Field(min_length=1, max_length=16)


def load_codes(path: Path | None = None) -> ElectricityCodes:
    """The code table at ``path`` (default: envwatch's own), checked; errors name
    the file and the key."""
    path = path or DEFAULT_CODES_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(path, str(error), f"无法读取：{error}") from None
    try:
        return ElectricityCodes.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc']) or '(file)'}: {item['msg']}"
            for item in error.errors()
        )
        raise ConfigError(path, problems, f"配置项错误：{problems}") from None


@functools.cache
def default_codes() -> ElectricityCodes:
    """envwatch's own code table (read once)."""
    return load_codes()


def reading_of(
    meter_id: int, cn: str, measurements: tuple[MeasurementRow, ...], codes: ElectricityCodes
) -> MeterReading | None:
    """The reading a meter's upload carries, or None (other commands, no known code)."""
    if cn not in READING_COMMANDS or not measurements:
        return None
    by_code = {row.pollutant: row for row in measurements}
    power = by_code.get(codes.power_kw)
    energy = by_code.get(codes.energy_kwh)
    current = by_code.get(codes.current_a)
    if power is None and energy is None and current is None:
        return None

    def level(row: MeasurementRow | None) -> float | None:
        return None if row is None else (row.rtd if row.rtd is not None else row.avg)

    def register(row: MeasurementRow | None) -> float | None:
        # Cumulative: over a period, the register's end value (its maximum).
        if row is None:
            return None
        return row.rtd if row.rtd is not None else (row.max if row.max is not None else row.avg)

    return MeterReading(
        meter_id=meter_id,
        time=measurements[0].data_time,
        power_kw=level(power),
        energy_kwh=register(energy),
        current_a=level(current),
    )
