"""The pure core: eco-compensation by the Shandong method with the
computation shown, parameters' versions, weeks and quarters."""

from __future__ import annotations

import json
from datetime import date

import pytest

from envwatch.errors import ConfigError
from envwatch.judgement.analysis import AnalysisError, Fact, period_of, rows_of, slice_facts
from envwatch.judgement.core import Parameters, eco_compensation, load_parameters, parameters_from
from envwatch.judgement.weeks import last_ended_week, parse_quarter, parse_week


def test_eco_compensation_by_the_shandong_method() -> None:
    eco = load_parameters().eco
    now = {"PM2_5": 40.0, "PM10": 80.0, "SO2": 10.0, "NO2": 30.0, "good_day_ratio": 70.0}
    before = {"PM2_5": 45.0, "PM10": 90.0, "SO2": 10.0, "NO2": 28.0, "good_day_ratio": 65.0}
    result = eco_compensation(now, before, eco)
    # 80 万元 × (0.6×5 + 0.15×10 + 0.15×0 + 0.1×(−2)) + 20 万元 × 5 = 80 × 4.3 + 100
    assert result["amount_wan"] == pytest.approx(444.0)
    assert {t["term"]: t["amount_wan"] for t in result["terms"]} == {
        "PM2_5": 240.0, "PM10": 120.0, "SO2": 0.0, "NO2": -16.0,
        "good_day_ratio": 100.0}  # fmt: skip
    worse = eco_compensation(before, now, eco)
    assert worse["amount_wan"] == pytest.approx(-444.0)  # payable
    missing = eco_compensation(now, {"PM2_5": 45.0}, eco)
    assert missing["amount_wan"] is None and "PM10" in missing["missing"]


def test_a_parameter_change_is_a_new_version_and_bad_parameters_are_refused() -> None:
    base = load_parameters()
    content = json.loads(json.dumps(base.content))
    assert Parameters(content).version == base.version
    content["eco_compensation"]["coefficient_wan"] = 40.0
    assert Parameters(content).version != base.version
    assert base.version.startswith("envwatch-judgement-")
    content["indicators"]["air_index"]["method"] = "guess"
    with pytest.raises(ConfigError):
        parameters_from(content)


def test_weeks_and_quarters_in_china_standard_time() -> None:
    assert parse_week("2026-W01") == date(2025, 12, 29)
    assert parse_quarter("2026-Q4") == (date(2026, 10, 1), date(2026, 12, 31))
    from datetime import datetime  # noqa: PLC0415

    assert last_ended_week(datetime(2026, 11, 30, 0, 5)) == "2026-W48"  # Monday 00:05 CST


def test_analysis_slices_with_mom_and_yoy() -> None:
    facts = [Fact(date(2026, 11, 3), "A", "2511", 1, "a21026", "x", 2.0),
             Fact(date(2026, 11, 9), "A", "2511", 1, "a21026", "x", 1.0),
             Fact(date(2026, 10, 9), "A", "2511", 1, "a21026", "x", 1.0),
             Fact(date(2025, 11, 9), "A", "2511", 1, "a21026", "x", 6.0),
             Fact(date(2026, 11, 9), "B", "4411", 2, "a21026", "x", 5.0)]  # fmt: skip
    period = period_of("2026-11")
    now = slice_facts([f for f in facts if period.first <= f.day <= period.last],
                      ("county",), "sum", {})  # fmt: skip
    before = slice_facts([f for f in facts if f.day.month == 10], ("county",), "sum", {})
    earlier = slice_facts([f for f in facts if f.day.year == 2025], ("county",), "sum", {})
    rows = rows_of(now, before, earlier, ("county",))
    assert rows[0] == {"county": "A", "value": 3.0, "previous": 1.0, "mom": 2.0,
                       "year_earlier": 6.0, "yoy": -0.5}  # fmt: skip
    assert rows_of(now, before, earlier, ("county",), top=1)[0]["county"] == "B"
    by_month = slice_facts(facts, ("county", "month"), "sum", {"industry": "2511"})
    assert by_month[("A", "2026-11")] == 3.0
    with pytest.raises(AnalysisError):
        period_of("2026-13")
