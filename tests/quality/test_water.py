"""GB 3838 classes: boundaries, DO inverted, pH two-sided, 劣V, lakes, the
worst item, exceedance multiples, the index; monotone in each item."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envwatch.quality.aqi import QualityInputError
from envwatch.quality.water import (
    annual_values,
    exceedance_multiple,
    item_class,
    meets,
    monthly_values,
    section_class,
    water_quality_index,
    water_standard,
)

STANDARD = water_standard()


@pytest.mark.parametrize(
    ("item", "value", "expected"),
    [
        ("NH3_N", 0.15, "I"), ("NH3_N", 0.16, "II"), ("NH3_N", 1.0, "III"), ("NH3_N", 2.0, "V"),
        ("NH3_N", 2.01, "劣V"), ("COD", 15, "I"), ("COD", 20, "III"), ("COD", 40.1, "劣V"),
        ("CODMn", 6, "III"), ("CODMn", 6.01, "IV"), ("TP", 0.2, "III"), ("TP", 0.41, "劣V"),
        ("DO", 7.5, "I"), ("DO", 7.49, "II"), ("DO", 5, "III"), ("DO", 2, "V"), ("DO", 1.99, "劣V"),
        ("pH", 6, "I"), ("pH", 9, "I"), ("pH", 5.99, "劣V"), ("pH", 9.01, "劣V"),
    ],
)  # fmt: skip
def test_item_class_boundaries(item: str, value: float, expected: str) -> None:
    assert item_class(STANDARD, item, value) == expected


def test_lakes_have_their_own_tp_and_tn_limits() -> None:
    assert item_class(STANDARD, "TP", 0.05) == "II"
    assert item_class(STANDARD, "TP", 0.05, lake=True) == "III"
    river = section_class(STANDARD, {"TN": 3.0, "NH3_N": 0.4})
    assert (river.water_class, river.not_assessed) == ("II", ("TN",))
    lake = section_class(STANDARD, {"TN": 3.0, "NH3_N": 0.4}, lake=True)
    assert lake.water_class == "劣V"


def test_the_section_is_its_worst_item() -> None:
    judged = section_class(STANDARD, {"DO": 6.5, "CODMn": 5, "NH3_N": 1.2, "TP": 0.25, "pH": 7.6})
    assert judged.water_class == "IV"
    assert {(i.item, i.water_class) for i in judged.worst} == {("NH3_N", "IV"), ("TP", "IV")}
    assert meets(STANDARD, "III", "IV") and not meets(STANDARD, "IV", "III")


def test_exceedance_multiple_of_the_target() -> None:
    assert exceedance_multiple(STANDARD, "NH3_N", 1.5, "III") == pytest.approx(0.5)
    assert exceedance_multiple(STANDARD, "NH3_N", 0.9, "III") is None
    assert exceedance_multiple(STANDARD, "DO", 1.0, "III") is None  # DO: none computed


def test_water_quality_index() -> None:
    index = water_quality_index(STANDARD, {"CODMn": 6, "NH3_N": 0.5, "DO": 5, "pH": 8})
    assert index == pytest.approx(1 + 0.5 + 1 + 0.5)


def test_month_and_year_values() -> None:
    january = monthly_values({"NH3_N": [0.4, 0.6], "TP": [0.1]})
    february = monthly_values({"NH3_N": [1.0]})
    assert january == {"NH3_N": 0.5, "TP": 0.1}
    assert annual_values([january, february]) == {"NH3_N": 0.75, "TP": 0.1}


def test_unknown_items_and_classes_are_named() -> None:
    with pytest.raises(QualityInputError) as error:
        item_class(STANDARD, "Hg", 0.1)
    assert error.value.code == "unknown_water_item"
    assert STANDARD.parse_class("Ⅲ类") == "III" and STANDARD.parse_class("劣Ⅴ") == "劣V"
    with pytest.raises(QualityInputError):
        STANDARD.parse_class("VII")


values = st.floats(min_value=0, max_value=100, allow_nan=False)


@given(item=st.sampled_from(["CODMn", "COD", "BOD5", "NH3_N", "TP"]), a=values, b=values)
def test_class_is_monotone_in_each_upper_item(item: str, a: float, b: float) -> None:
    low, high = sorted((a, b))
    assert STANDARD.rank(item_class(STANDARD, item, low)) <= STANDARD.rank(
        item_class(STANDARD, item, high)
    )


@given(a=values, b=values)
def test_class_is_monotone_in_dissolved_oxygen(a: float, b: float) -> None:
    low, high = sorted((a, b))
    assert STANDARD.rank(item_class(STANDARD, "DO", low)) >= STANDARD.rank(
        item_class(STANDARD, "DO", high)
    )
