"""The normal plant week (``envwatch/demo/plant_week.py``, issue 20): clean
series with routine events give no alarm and no warning from any rule; notices
(early warnings, a back-fill, a learned schedule to confirm) are allowed.

Scenarios whose fix has not landed are expected to fail (strict: the day a fix
lands, its mark must go). ``bench/rules.py`` prints the same figures for a
whole week, per rule and per device-week."""

from __future__ import annotations

from collections import Counter
from functools import cache

import pytest

from envwatch.demo.plant_week import PlantDevice, interleaved, plant_week
from envwatch.rules.engine import RuleEngine, default_rule_set
from envwatch.rules.model import Finding

DAYS = 7  # the week holds every routine event: calibrations, the Saturday shut-down
NOT_YET: dict[str, str] = {}
"""Scenarios whose fix has not landed, with the item (none now)."""


@cache
def week() -> tuple[list[PlantDevice], list[Finding]]:
    devices = plant_week(DAYS)
    engine = RuleEngine(default_rule_set(), {d.context.mn: d.context for d in devices})
    found: list[Finding] = []
    for index, upload in enumerate(interleaved(devices)):
        found += engine.feed(upload)
        if index % 200 == 0:
            found += engine.advance_clock()
    found += engine.advance_clock() + engine.finish()
    assert engine.failures == []
    return devices, found


SCENARIOS = [device.name for device in plant_week(1)]


@pytest.mark.parametrize(
    "scenario",
    [
        pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=NOT_YET[name]))
        if name in NOT_YET
        else name
        for name in SCENARIOS
    ],
)
def test_a_normal_plant_week_raises_no_alarm_and_no_warning(scenario: str) -> None:
    devices, found = week()
    (device,) = [d for d in devices if d.name == scenario]
    raised = Counter(
        (f.rule, str(f.severity))
        for f in found
        if f.mn == device.context.mn and f.severity in ("warning", "alarm", "severe")
    )
    assert raised == Counter(), raised


def test_the_week_is_realistic_and_whole() -> None:
    devices, _ = week()
    assert len(devices) == len(SCENARIOS) >= 11
    for device in devices:
        cns = Counter(u.cn for u in device.uploads)
        assert cns["2011"] == DAYS * 1440, device.name
        assert cns["2061"] == (0 if device.context.meter_id else DAYS * 24), device.name
    line_b = next(d for d in devices if d.name == "cement_line_b")
    wednesday = [u for u in line_b.uploads if u.data_time.weekday() == 2]
    assert {u.values["power_kw"].rtd for u in wednesday} == {0.0}  # down for the overhaul
    coal = next(d for d in devices if d.name == "coal_unit")
    flags = Counter(v.flag for u in coal.uploads if u.cn == "2011" for v in u.values.values())
    assert flags["C"] == DAYS * 10 - 10  # ten minutes a day, but not on the Saturday
    assert flags["F"] == 1440 * 5  # the Saturday, five factors
