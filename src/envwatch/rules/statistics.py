"""Distribution statistics the rules use (pure): the two-sample
Kolmogorov-Smirnov test, the interquartile range, and how likely equal
values are by chance."""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

# Terms of the Kolmogorov series summed at most; it converges long before.
_SERIES_TERMS = 100
# Below this λ the small-λ form of the Kolmogorov distribution is used.
_SMALL_LAMBDA = 1.18


@dataclass(frozen=True, slots=True)
class KsResult:
    statistic: float
    """D: the largest distance between the two empirical distribution functions."""
    p_value: float
    """Asymptotic (Kolmogorov distribution with Stephens' small-sample correction)."""


def kolmogorov_q(lam: float) -> float:
    """Q_KS(λ) = 2 Σ_{j≥1} (−1)^{j−1} exp(−2 j² λ²): the probability that the
    Kolmogorov statistic exceeds λ."""
    if lam < 1e-3:
        return 1.0
    if lam < _SMALL_LAMBDA:
        # Here the alternating series converges slowly; its Jacobi-theta twin,
        # K(λ) = √(2π)/λ Σ exp(−(2j−1)² π² / (8λ²)), does so at once.
        factor = -(math.pi**2) / (8.0 * lam * lam)
        k = sum(math.exp(factor * (2 * j - 1) ** 2) for j in range(1, 6))
        return min(1.0, max(0.0, 1.0 - math.sqrt(2.0 * math.pi) / lam * k))
    total, sign = 0.0, 1.0
    for j in range(1, _SERIES_TERMS + 1):
        term = sign * 2.0 * math.exp(-2.0 * j * j * lam * lam)
        total += term
        if abs(term) < 1e-12 * max(abs(total), 1e-300):
            break
        sign = -sign
    return min(1.0, max(0.0, total))


def ks_two_sample(first: Sequence[float], second: Sequence[float]) -> KsResult:
    """Whether two samples come from the same distribution (two-sided)."""
    if not first or not second:
        raise ValueError("both samples need values")
    a, b = sorted(first), sorted(second)
    n, m = len(a), len(b)
    statistic = 0.0
    for value in (*a, *b):
        distance = abs(bisect_right(a, value) / n - bisect_right(b, value) / m)
        statistic = max(statistic, distance)
    effective = math.sqrt(n * m / (n + m))
    lam = (effective + 0.12 + 0.11 / effective) * statistic
    return KsResult(statistic, kolmogorov_q(lam))


def quantile(ordered: Sequence[float], share: float) -> float:
    """Linear interpolation between closest ranks, of a sorted sample."""
    if not ordered:
        raise ValueError("no values")
    position = share * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def interquartile_range(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return quantile(ordered, 0.75) - quantile(ordered, 0.25)


def chance_of_equal(values: Sequence[float]) -> float:
    """The probability that two values drawn from ``values`` are equal: the sum
    of squared shares of each distinct value. An analyser reporting whole
    mg/L between 9 and 12 repeats itself a quarter of the time; continuous
    data almost never."""
    if not values:
        return 0.0
    counts: dict[float, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return sum((count / len(values)) ** 2 for count in counts.values())


def binomial_tail(trials: int, successes: int, p: float) -> float:
    """P(X >= ``successes``) for X ~ Binomial(``trials``, ``p``)."""
    if successes <= 0:
        return 1.0
    if successes > trials:
        return 0.0
    p = min(max(p, 0.0), 1.0)
    return sum(
        math.comb(trials, k) * p**k * (1 - p) ** (trials - k) for k in range(successes, trials + 1)
    )
