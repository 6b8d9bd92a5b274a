"""The hazardous-waste checks are pure: golden findings for a small register,
each rule firing and not firing at its threshold, with the shipped
thresholds (``registry/registers.toml``) and with others."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from envwatch.errors import ConfigError
from envwatch.registry.hazardous_waste import CheckParams, Transfer, Unit, check, summary
from envwatch.registry.registers import load_vocabulary, vocabulary

PARAMS = CheckParams("test-1", max_storage_days=365, below_declared_share=0.5,
                     above_declared_ratio=1.3, capacity_tolerance=0.0)  # fmt: skip
LICENSED = "91371500MA00000001"
SMALL = "91371500MA00000002"
NOBODY = "91371500MA99999999"
UNITS = (
    Unit(1, "处置中心", LICENSED, "disposer", frozenset({"HW08", "HW49"}), 500.0,
         date(2026, 6, 30)),
    Unit(2, "废酸再生", SMALL, "disposer", frozenset({"HW34"}), 50.0),
    Unit(10, "甲厂", "913715000000000010", "producer", declared={"HW08": 20.0, "HW49": 5.0}),
    Unit(11, "乙厂", "913715000000000011", "producer", declared={"HW08": 30.0}),
    Unit(12, "丙厂", "913715000000000012", "producer", declared={"HW34": 10.0}),
)  # fmt: skip
TRANSFERS = (
    Transfer("A1", 10, LICENSED, "HW08", 18.0, date(2025, 3, 1)),
    Transfer("A2", 10, LICENSED, "HW49", 5.0, date(2025, 5, 1)),
    Transfer("A3", 10, NOBODY, "HW08", 2.0, date(2025, 6, 1)),  # no licence at all
    Transfer("A4", 10, SMALL, "HW49", 1.0, date(2025, 7, 1)),  # HW49 not licensed there
    Transfer("A5", 10, LICENSED, "HW08", 3.0, date(2026, 7, 15)),  # licence expired 06-30
    Transfer("A6", 10, LICENSED, "HW49", 2.0, date(2026, 11, 1)),
    Transfer("C1", 12, SMALL, "HW34", 30.0, date(2025, 4, 1)),
    Transfer("C2", 12, SMALL, "HW34", 30.0, date(2025, 9, 1)),
)
TODAY = date(2026, 12, 4)


def test_golden_findings_of_a_finished_year() -> None:
    found = [(f.rule, f.unit_id, f.hw_code, dict(f.evidence))
             for f in check(UNITS, TRANSFERS, 2025, TODAY, PARAMS)]  # fmt: skip
    assert found == [
        ("receiver_unlicensed", 10, "HW08", {
            "manifest_no": "A3", "reason": "no_licence", "receiver_credit_code": NOBODY,
            "receiver_id": None, "quantity_t": 2.0, "transferred_on": "2025-06-01"}),
        ("receiver_unlicensed", 10, "HW49", {
            "manifest_no": "A4", "reason": "category_not_licensed", "receiver_credit_code": SMALL,
            "receiver_id": 2, "quantity_t": 1.0, "transferred_on": "2025-07-01"}),
        ("over_capacity", 2, None, {"year": 2025, "received_t": 61.0, "capacity_t": 50.0}),
        ("not_transferred", 11, "HW08",
         {"year": 2025, "declared_t": 30.0, "transferred_t": 0.0, "never": True}),
        ("above_declared", 12, "HW34",
         {"year": 2025, "declared_t": 10.0, "transferred_t": 60.0, "undeclared": False}),
        ("storage_over_limit", 11, "HW08",
         {"last_transfer": None, "counted_from": "2025-01-01", "days": 702}),
        ("storage_over_limit", 12, "HW34",
         {"last_transfer": "2025-09-01", "counted_from": "2025-09-01", "days": 459}),
    ]  # fmt: skip


def test_each_finding_names_its_rule_version_and_parameters() -> None:
    found = check(UNITS, TRANSFERS, 2025, TODAY, PARAMS)
    assert summary(found) == {"receiver_unlicensed": 2, "over_capacity": 1, "not_transferred": 1,
                              "above_declared": 1, "storage_over_limit": 2}  # fmt: skip
    assert {f.version for f in found} == {"test-1"}
    params = {f.rule: dict(f.parameters) for f in found}
    assert params["over_capacity"] == {"capacity_tolerance": 0.0}
    assert params["storage_over_limit"] == {"max_storage_days": 365}
    assert found[0].as_json()["rule_zh"] == "接收单位无相应经营许可"


def test_a_year_not_over_judges_only_what_can_be_wrong_already() -> None:
    found = check(UNITS, TRANSFERS, 2026, TODAY, PARAMS)
    rules = [(f.rule, f.unit_id, f.hw_code, f.evidence.get("reason")) for f in found]
    # Nothing is "not transferred" before the year ends (乙厂 has till 2026-12-31, and
    # its storage counts from the year's start); the expired licence is found.
    assert rules == [
        ("receiver_unlicensed", 10, "HW08", "licence_expired"),
        ("receiver_unlicensed", 10, "HW49", "licence_expired"),
        ("storage_over_limit", 12, "HW34", None),
    ]


def test_thresholds_move_the_findings() -> None:
    tolerant = replace(PARAMS, capacity_tolerance=0.25, above_declared_ratio=10.0,
                       max_storage_days=800, below_declared_share=0.95)  # fmt: skip
    rules = summary(check(UNITS, TRANSFERS, 2025, TODAY, tolerant))
    # 61 t within 50 t + 25 %; 60 t within 10 × 10 t; 702 days within 800.
    assert rules == {"receiver_unlicensed": 2, "over_capacity": 0, "not_transferred": 1,
                     "above_declared": 0, "storage_over_limit": 0}  # fmt: skip
    # 甲厂's HW08: 20 t of 20 declared (2 t of it to an unlicensed receiver, still moved).
    short = replace(PARAMS, below_declared_share=1.0)
    assert [
        (f.unit_id, f.hw_code)
        for f in check(UNITS, TRANSFERS, 2025, TODAY, short)
        if f.rule == "not_transferred"
    ] == [(11, "HW08")]
    fewer = (*TRANSFERS[:2], *TRANSFERS[3:])  # without A3: 18 t of 20
    assert [
        (f.unit_id, f.hw_code)
        for f in check(UNITS, fewer, 2025, TODAY, short)
        if f.rule == "not_transferred"
    ] == [(10, "HW08"), (11, "HW08")]


def test_an_undeclared_category_transferred_is_above_the_declaration() -> None:
    units = (*UNITS[:2], replace(UNITS[2], declared={"HW08": 20.0}))
    found = [f for f in check(units, TRANSFERS, 2025, TODAY, PARAMS)
             if f.rule == "above_declared" and f.unit_id == 10]  # fmt: skip
    assert [dict(f.evidence) for f in found] == [
        {"year": 2025, "declared_t": 0.0, "transferred_t": 6.0, "undeclared": True}
    ]


def test_the_shipped_thresholds_and_a_broken_file(tmp_path: Path) -> None:
    shipped = vocabulary().check_params
    assert shipped.max_storage_days == 365 and shipped.version.startswith("envwatch-")
    assert "HW41" not in vocabulary().hazardous_waste.categories  # not in the 2021 list
    broken = tmp_path / "registers.toml"
    broken.write_text('version = "x"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="hazardous_waste"):
        load_vocabulary(broken)
