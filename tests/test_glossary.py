"""Tests of the HJ 212 Appendix B glossary against values printed in the standard."""

from __future__ import annotations

import dataclasses
import re

import pytest

from envwatch.glossary import (
    FACTORS,
    Factor,
    Medium,
    _choose,
    code_2017_from_2005,
    factor,
    medium_for_system_code,
)

# The 2005→2017 mapping summary of shared/domain/hj212.md §11.
MAPPING_SUMMARY = {
    "B02": "a00000",
    "S01": "a19001",
    "S02": "a01011",
    "S03": "a01012",
    "S04": "a01017",
    "S05": "a01014",
    "S08": "a01013",
    "01": "a34013",
    "02": "a21026",
    "03": "a21002",
    "04": "a21005",
    "B01": "w00000",
    "001": "w01001",
    "011": "w01018",
    "060": "w21003",
    "065": "w21001",
    "101": "w21011",
}

# Every code named in hj212.md §11.1, §11.2 and §11.3.
# fmt: off
SECTION_11_CODES = (
    "a00000", "a01011", "a01012", "a01013", "a01014", "a01015", "a01016", "a01017", "a19001",
    "a21026", "a21002", "a21003", "a21004", "a21005", "a34013", "a21024", "a21018", "a21028",
    "a21001", "a24087", "a24088", "a05002", "a25002", "a25003", "a25005", "a01901", "a01902",
    "a01001", "a01002", "a01006", "a01007", "a01008", "a34001", "a34002", "a34004",
    "w00000", "w01001", "w01018", "w21003", "w21011", "w21001", "w01012", "w01017", "w01019",
    "w01020", "w01009", "w01010", "w01014", "w22001", "w23002", "w21016", "w20111", "w20115",
    "w20116", "w20117", "w20119", "w20120",
    "LA", "L5", "L10", "L50", "L90", "L95", "Leq", "Ldn", "Ld", "Ln", "LMx", "LMn",
)
# fmt: on


def _factor(code: str) -> Factor:
    found = factor(code)
    assert found is not None, code
    return found


def test_sulphur_dioxide() -> None:
    so2 = _factor("a21026")
    assert so2 == Factor(
        code="a21026",
        name_zh="二氧化硫",
        name_en="sulphur dioxide",
        medium=Medium.AIR,
        unit="mg/m³",
        amount_unit="kg",
        data_type="N5.2",
        code_2005="02",
    )


def test_cod_round_trip() -> None:
    cod = _factor("w01018")
    assert (cod.name_zh, cod.unit, cod.amount_unit, cod.data_type) == (
        "化学需氧量",
        "mg/L",
        "kg",
        "N5.1",
    )
    assert cod.medium is Medium.WATER
    assert cod.code_2005 == "011"
    assert code_2017_from_2005("011") == "w01018"


def test_flows_have_volume_amounts() -> None:
    assert (_factor("a00000").unit, _factor("a00000").amount_unit) == ("m³/s", "m³")
    assert (_factor("w00000").unit, _factor("w00000").amount_unit) == ("L/s", "m³")


def test_units_as_printed() -> None:
    # Dimensionless factors carry an empty unit and say so in their English name.
    ph = _factor("w01001")
    assert ph.unit == ""
    assert "dimensionless" in ph.name_en
    assert _factor("a01010").unit == ""
    # Micro is written with U+00B5 throughout.
    assert _factor("w20111").unit == "\u00b5g/L"
    assert _factor("w01014").unit == "\u00b5S/cm"
    # Appendix B prints ng/m³ for these; the glossary must not silently "fix" them.
    assert _factor("a21001").unit == "ng/m³"
    assert _factor("a34004").unit == "ng/m³"
    assert _factor("a34011").data_type is None


def test_size() -> None:
    counts = {m: sum(1 for f in FACTORS.values() if f.medium is m) for m in Medium}
    # Appendix B (121 air, 63 water, 12 noise) and the quality stations' O3 and turbidity.
    assert counts == {Medium.AIR: 122, Medium.WATER: 64, Medium.NOISE: 12, Medium.OTHER: 0}


@pytest.mark.parametrize("code", SECTION_11_CODES)
def test_section_11_codes_present(code: str) -> None:
    assert _factor(code).code == code


@pytest.mark.parametrize(("code_2005", "code_2017"), sorted(MAPPING_SUMMARY.items()))
def test_mapping_summary(code_2005: str, code_2017: str) -> None:
    assert code_2017_from_2005(code_2005) == code_2017
    assert _factor(code_2017).code_2005 == code_2005


@pytest.mark.parametrize(
    ("code_2005", "medium", "expected"),
    [
        ("02", Medium.AIR, "a21026"),
        ("011", Medium.WATER, "w01018"),
        # A code that belongs to a single factor maps to it whatever medium is given.
        ("02", Medium.WATER, "a21026"),
        ("S01", None, "a19001"),
        ("37", None, "a01010"),
        ("037", None, "w20023"),
        ("999", None, None),
        ("999", Medium.AIR, None),
        ("", None, None),
        ("2", None, None),
        ("s01", None, None),
    ],
)
def test_code_2017_from_2005(code_2005: str, medium: Medium | None, expected: str | None) -> None:
    assert code_2017_from_2005(code_2005, medium) == expected


def test_ambiguous_2005_code_needs_medium() -> None:
    air = dataclasses.replace(_factor("a21026"), code_2005="X1")
    water = dataclasses.replace(_factor("w01018"), code_2005="X1")
    assert _choose((air, water), None) is None
    assert _choose((air, water), Medium.AIR) == "a21026"
    assert _choose((air, water), Medium.WATER) == "w01018"
    assert _choose((air, water), Medium.NOISE) is None
    assert _choose((air, dataclasses.replace(air, code="a21002")), Medium.AIR) is None
    assert _choose((), Medium.AIR) is None


def test_keys_are_codes_and_unique() -> None:
    assert all(key == item.code for key, item in FACTORS.items())
    assert len({item.code for item in FACTORS.values()}) == len(FACTORS)


def test_medium_follows_code_prefix() -> None:
    for item in FACTORS.values():
        if item.code.startswith("a"):
            assert item.medium is Medium.AIR, item.code
        elif item.code.startswith("w"):
            assert item.medium is Medium.WATER, item.code
        else:
            assert item.medium is Medium.NOISE, item.code
            assert item.code.startswith("L")
            assert (item.unit, item.amount_unit, item.data_type) == ("dB", None, "N3.1")


def test_no_process_or_device_codes() -> None:
    assert not [code for code in FACTORS if code[0] in "egi"]


def test_no_2005_code_shared_within_a_medium() -> None:
    seen: set[tuple[str, Medium]] = set()
    for item in FACTORS.values():
        if item.code_2005 is not None:
            key = (item.code_2005, item.medium)
            assert key not in seen, key
            seen.add(key)


def test_no_2005_code_is_ambiguous_in_appendix_b() -> None:
    codes = [item.code_2005 for item in FACTORS.values() if item.code_2005 is not None]
    assert len(codes) == len(set(codes))
    for item in FACTORS.values():
        if item.code_2005 is not None:
            assert code_2017_from_2005(item.code_2005) == item.code


def test_2005_code_shapes() -> None:
    # 2005 air codes are two characters, water codes three: that is what keeps them apart.
    for item in FACTORS.values():
        if item.code_2005 is None:
            continue
        if item.medium is Medium.AIR:
            assert re.fullmatch(r"\d\d|S0\d|B02", item.code_2005), item.code
        else:
            assert re.fullmatch(r"\d{3}|B01", item.code_2005), item.code


def test_fields_well_formed() -> None:
    for item in FACTORS.values():
        assert item.name_zh, item.code
        assert item.name_en, item.code
        assert item.name_en == item.name_en.strip(), item.code
        assert item.data_type is None or re.fullmatch(r"N\d(\.\d)?", item.data_type), item.code
        assert item.amount_unit in {None, "m³", "kg", "g", "mg"}, item.code


def test_table_order_is_medium_then_code() -> None:
    order = [Medium.AIR, Medium.WATER, Medium.NOISE]
    items = list(FACTORS.values())
    assert items == sorted(items, key=lambda f: (order.index(f.medium), f.code))


def test_immutable() -> None:
    with pytest.raises(TypeError):
        FACTORS["a21026"] = _factor("a21002")  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        _factor("a21026").unit = "ppm"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("st", "medium"),
    [
        ("31", Medium.AIR),
        ("22", Medium.AIR),
        ("51", Medium.AIR),
        ("32", Medium.WATER),
        ("21", Medium.WATER),
        ("24", Medium.WATER),
        ("33", Medium.WATER),
        ("52", Medium.WATER),
        ("23", Medium.NOISE),
        ("36", Medium.NOISE),
        ("91", None),
        ("99", None),
        ("25", None),
        ("", None),
        ("031", None),
    ],
)
def test_medium_for_system_code(st: str, medium: Medium | None) -> None:
    assert medium_for_system_code(st) is medium


@pytest.mark.parametrize(
    "code", ["a99999", "", "A21026", "a21026z", "e10201", "i12001", "LAMPBLACK"]
)
def test_unknown_codes(code: str) -> None:
    assert factor(code) is None
