"""Reference-oxygen normalisation (折算浓度), rules.md §1.1.

``C_ref = C_meas × (21 − O2_ref) / (21 − O2_meas)``. Near 21 % O2 the factor
explodes (a 0.5-point O2 error moves the result by tens of percent), so above
a ceiling no corrected value is given: the O2-dilution rule speaks instead.
"""

from __future__ import annotations

AIR_O2_PERCENT = 21.0


def o2_corrected(
    concentration: float, o2_percent: float, reference_o2_percent: float, ceiling_percent: float
) -> float | None:
    """``concentration`` at the reference O2, or None when the measured O2 is at
    or above ``ceiling_percent`` (or not below 21 %), where no correction is sound."""
    if o2_percent >= min(ceiling_percent, AIR_O2_PERCENT):
        return None
    return concentration * (AIR_O2_PERCENT - reference_o2_percent) / (AIR_O2_PERCENT - o2_percent)
