"""Units of the emission accounting (pure): which unit each factor carries
(HJ 212-2017 Appendix B, ``envwatch.glossary``) and the conversions from
concentration × volume to mass, as named data.

HJ 212-2017 Appendix D (``hj212.md`` §15): wastewater volume D = Q·T·10⁻³ m³
(Q in L/s, T in s), mass G = D·C·10⁻³ kg (C in mg/L); flue gas: emission
rate = C·Q·10⁻⁶ (C in mg/m³, Q in m³). So 50 mg/L in 100 m³ is 5 kg, and
10 mg/m³ in 360,000 m³ is 3.6 kg.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, NewType

from envwatch.glossary import Medium, factor
from envwatch.rules.model import FLUE_GAS_FLOW_CODE, WATER_FLOW_CODE, Values

CubicMetres = NewType("CubicMetres", float)
"""A volume [m³] (flue gas at standard state, dry; or wastewater)."""
Kilograms = NewType("Kilograms", float)
"""A mass [kg]."""

KG_PER_M3_AT_UNIT_CONCENTRATION: Final[Mapping[str, float]] = MappingProxyType({
    "mg/m³": 1e-6,  # 1 mg/m³ = 10⁻⁶ kg/m³
    "µg/m³": 1e-9,
    "ng/m³": 1e-12,
    "mg/L": 1e-3,  # 1 mg/L = 1 g/m³ = 10⁻³ kg/m³ (1 m³ = 1000 L)
    "µg/L": 1e-6,
    "ng/L": 1e-9,
})  # fmt: skip
"""Mass [kg] in one m³ at one unit of each concentration unit."""

M3_PER_SECOND_AT_UNIT_RATE: Final[Mapping[str, float]] = MappingProxyType({
    "m³/s": 1.0,  # flue gas flow a00000 (HJ 212 Table B.2)
    "L/s": 1e-3,  # wastewater flow w00000 (Table B.1)
    "m³/h": 1 / 3600,
})  # fmt: skip
"""Volume [m³] per second at one unit of each flow-rate unit."""

M3_PER_UNIT_AMOUNT: Final[Mapping[str, float]] = MappingProxyType({"m³": 1.0, "L": 1e-3})
"""Volume [m³] of one unit of each flow amount (``-Cou``) unit."""

FLOW_CODE_BY_MEDIUM: Final[Mapping[Medium, str]] = MappingProxyType(
    {Medium.AIR: FLUE_GAS_FLOW_CODE, Medium.WATER: WATER_FLOW_CODE}
)
"""The flow that carries a factor of each medium."""


@dataclass(frozen=True, slots=True)
class Flow:
    """A flow factor and its units: the rate (``Rtd``/``Avg``) and the amount (``Cou``)."""

    code: str
    rate_unit: str
    amount_unit: str

    def m3_per_second(self, rate: float) -> float:
        """``rate`` [rate_unit] in [m³/s]."""
        return rate * M3_PER_SECOND_AT_UNIT_RATE[self.rate_unit]

    def m3(self, amount: float) -> CubicMetres:
        """``amount`` [amount_unit] in [m³]."""
        return CubicMetres(amount * M3_PER_UNIT_AMOUNT[self.amount_unit])


@dataclass(frozen=True, slots=True)
class Accounting:
    """How a pollutant's emission is counted: its concentration unit and the
    flow that carries it."""

    pollutant: str
    concentration_unit: str
    flow: Flow

    def emission(self, concentration: float | None, volume: CubicMetres | None) -> Kilograms | None:
        """The mass [kg] in ``volume`` [m³] at ``concentration`` [concentration_unit]."""
        if concentration is None or volume is None:
            return None
        return Kilograms(
            concentration * volume * KG_PER_M3_AT_UNIT_CONCENTRATION[self.concentration_unit]
        )


def flow_of(code: str) -> Flow | None:
    """The flow factor ``code`` with its units from the code table; None when
    it is not a flow or its units are not known here."""
    known = factor(code)
    if known is None or known.unit not in M3_PER_SECOND_AT_UNIT_RATE:
        return None
    amount = known.amount_unit
    if amount is None or amount not in M3_PER_UNIT_AMOUNT:
        return None
    return Flow(code, known.unit, amount)


def accounting_of(pollutant: str) -> Accounting | None:
    """How ``pollutant``'s emission is counted, from the code table; None when
    it has no mass emission (O2, temperature, pH, flows themselves) or its
    unit is not a mass concentration known here."""
    known = factor(pollutant)
    if known is None or known.unit not in KG_PER_M3_AT_UNIT_CONCENTRATION:
        return None
    flow_code = FLOW_CODE_BY_MEDIUM.get(known.medium)
    flow = flow_of(flow_code) if flow_code is not None else None
    return None if flow is None else Accounting(pollutant, known.unit, flow)


def period_volume(
    flows: list[Values] | tuple[Values, ...], flow: Flow, seconds_each: float, seconds: float
) -> CubicMetres | None:
    """The volume [m³] through the outlet in a period of ``seconds``: the mean
    flow rate of the records (each its ``Cou`` over the ``seconds_each`` it
    covers, else its rate ``Rtd``/``Avg``) times the period."""
    rates = [
        flow.m3(values.cou) / seconds_each if values.cou is not None else
        flow.m3_per_second(values.level) if values.level is not None else None
        for values in flows
    ]  # fmt: skip
    known = [rate for rate in rates if rate is not None]
    if not known:
        return None
    return CubicMetres(sum(known) / len(known) * seconds)
