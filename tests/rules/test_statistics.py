"""The distribution statistics behind rule B16: golden values and properties."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envwatch.rules.statistics import (
    interquartile_range,
    kolmogorov_q,
    ks_two_sample,
    quantile,
)


def test_kolmogorov_distribution_golden_values() -> None:
    # The classic 5 % critical value of the Kolmogorov distribution is 1.3581;
    # K(0.5) = 0.0361 (tables), so Q(0.5) = 0.9639.
    assert kolmogorov_q(1.3581) == pytest.approx(0.05, abs=1e-4)
    assert kolmogorov_q(0.5) == pytest.approx(0.9639, abs=1e-4)
    assert kolmogorov_q(0.0) == 1.0


def test_two_sample_statistic_and_p_value() -> None:
    disjoint = ks_two_sample([1, 2, 3, 4, 5], [6, 7, 8, 9, 10])
    assert disjoint.statistic == 1.0
    # λ = (√2.5 + 0.12 + 0.11/√2.5) · 1 = 1.7707; Q(λ) = 0.00378
    assert disjoint.p_value == pytest.approx(0.003781, abs=1e-6)
    overlapping = ks_two_sample([1, 2, 3, 4], [2.5, 3.5, 5, 6])
    assert overlapping.statistic == 0.5
    same = ks_two_sample([3.0, 1.0, 2.0], [1.0, 2.0, 3.0])
    assert (same.statistic, same.p_value) == (0.0, 1.0)
    with pytest.raises(ValueError, match="both samples"):
        ks_two_sample([], [1.0])


def test_quartiles() -> None:
    assert interquartile_range([1, 2, 3, 4, 5, 6, 7, 8, 9]) == 4.0
    assert quantile([10.0, 20.0], 0.5) == 15.0
    assert interquartile_range([5.0]) == 0.0


samples = st.lists(
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), min_size=1, max_size=60
)


@given(samples, samples)
def test_ks_statistic_is_a_symmetric_distance(first: list[float], second: list[float]) -> None:
    forward, backward = ks_two_sample(first, second), ks_two_sample(second, first)
    assert 0.0 <= forward.statistic <= 1.0
    assert forward.statistic == pytest.approx(backward.statistic)
    assert 0.0 <= forward.p_value <= 1.0
    assert ks_two_sample(first, list(first)).statistic == 0.0


@given(st.floats(min_value=0.0, max_value=5.0), st.floats(min_value=0.0, max_value=5.0))
def test_kolmogorov_tail_falls_as_lambda_grows(a: float, b: float) -> None:
    low, high = sorted((a, b))
    assert kolmogorov_q(high) <= kolmogorov_q(low) + 1e-12
    assert not math.isnan(kolmogorov_q(low))
