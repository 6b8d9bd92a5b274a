"""Emergency-list compliance of production lines (pure): a line that stops, one
that cuts too little, one without data, an exempt enterprise, and a baseline
that skips earlier warning days (rules.md §3.4)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envwatch.electricity.emergency import (
    ComplianceParams,
    LineVerdict,
    Measure,
    assess,
    baseline,
    hourly_energy,
    judge_line,
    parse_measure,
    warning_hours,
)

PARAMS = ComplianceParams(production_on_share=0.10, tolerance=0.10, baseline_days=7,
                          min_baseline_days=3, max_gap_minutes=30)  # fmt: skip
DAY = datetime(2026, 12, 10)
HOURS = [DAY + timedelta(hours=h) for h in range(8, 18)]  # a warning 08:00-18:00


def history(kwh: float, days: int = 10) -> dict[datetime, float]:
    """``kwh`` every hour of the ``days`` days before DAY."""
    start = DAY - timedelta(days=days)
    return {start + timedelta(hours=h): kwh for h in range(days * 24)}


def judge(
    energy: dict[datetime, float],
    measure: Measure | None,
    *,
    exempt: bool = False,
    warned: Collection[datetime] = (),
) -> LineVerdict:
    return judge_line(hours=HOURS, energy=energy, warning_hours=set(warned), measure=measure,
                      rated_kw=500.0, exempt=exempt, params=PARAMS)  # fmt: skip


def test_a_line_that_stops_complies_and_one_that_runs_does_not() -> None:
    stopped = history(400) | dict.fromkeys(HOURS, 5.0)  # 5 kWh ≤ 10 % of 500 kW
    verdict = judge(stopped, Measure("stop"))
    assert verdict.status == "complied"
    assert verdict.measured_kwh == 50.0
    assert verdict.baseline_kwh == 4000.0
    running = stopped | {HOURS[3]: 380.0}
    verdict = judge(running, Measure("stop"))
    assert verdict.status == "not_complied"
    assert verdict.evidence["running_hours"] == ["11:00"]
    assert verdict.evidence["limit_kwh_per_hour"] == 50.0


def test_a_line_that_cuts_too_little_does_not_comply() -> None:
    # 30 % required: allowed (1 − 0.3) × 4000 × 1.1 = 3080 kWh.
    energy = history(400) | dict.fromkeys(HOURS, 320.0)  # 3200 kWh: only 20 % less
    verdict = judge(energy, Measure("cut", 0.3))
    assert verdict.status == "not_complied"
    assert verdict.evidence["allowed_kwh"] == 3080.0
    assert verdict.evidence["share_of_baseline"] == 0.8
    enough = history(400) | dict.fromkeys(HOURS, 300.0)  # 3000 kWh
    assert judge(enough, Measure("cut", 0.3)).status == "complied"


def test_a_line_without_readings_has_no_data_and_an_exempt_one_is_exempt() -> None:
    verdict = judge(history(400), Measure("stop"))
    assert (verdict.status, verdict.measured_kwh) == ("no_data", None)
    running = history(400) | dict.fromkeys(HOURS, 400.0)
    assert judge(running, Measure("stop"), exempt=True).status == "exempt"


def test_the_baseline_skips_earlier_warning_days() -> None:
    energy = history(400)
    # An earlier warning two and three days back: the line was down to 100 kWh an hour.
    earlier: set[datetime] = set()
    for back in (2, 3):
        for hour in HOURS:
            earlier.add(hour - timedelta(days=back))
            energy[hour - timedelta(days=back)] = 100.0
    value, days = baseline(energy, HOURS, earlier, PARAMS)
    assert value == 4000.0
    assert days == ["2026-12-09", "2026-12-06", "2026-12-05", "2026-12-04", "2026-12-03",
                    "2026-12-02", "2026-12-01"]  # fmt: skip
    unskipped, _ = baseline(energy, HOURS, set(), PARAMS)
    assert unskipped is not None
    assert unskipped < 4000.0
    # Too few non-warning days with data: no baseline, and a cut cannot be judged.
    sparse = {h: v for h, v in energy.items() if h >= DAY - timedelta(days=3)}
    verdict = judge(sparse | dict.fromkeys(HOURS, 10.0), Measure("cut", 0.2),
                    warned=earlier)  # fmt: skip
    assert verdict.status == "no_data"


def test_a_transport_limit_is_not_measurable_by_electricity() -> None:
    running = history(400) | dict.fromkeys(HOURS, 400.0)
    alone = judge(running, parse_measure("运输管控"))
    assert alone.status == "not_measurable"
    assert alone.evidence["transport"] == "not_measurable"
    assert "not measurable by electricity" in alone.evidence["reason"]
    # Added to a cut: the cut is judged by electricity, the transport part is marked.
    cut = parse_measure("限产30%+运输管控")
    assert cut is not None and cut.text == "cut:0.3+transport" and cut.production == "cut:0.3"
    both = judge(running, cut)
    assert both.status == "not_complied" and both.evidence["transport"] == "not_measurable"
    assert parse_measure(cut.text) == cut  # the stored text reads back
    # A transport limit asks no electricity reduction in the assessment.
    (group,) = assess([("371502", "A", parse_measure("运输管控"), alone)], lambda c, g: c)
    assert (group["not_measurable"], group["required_reduction_kwh"]) == (1, 0.0)


@pytest.mark.parametrize(
    ("text", "measure"),
    [("停产", Measure("stop")), ("限产30%", Measure("cut", 0.3)),
     ("cut:0.25", Measure("cut", 0.25)), ("错峰生产", Measure("staggered")), ("", None),
     ("无", None), ("运输管控", Measure("transport", transport=True)),
     ("限产30%+运输管控", Measure("cut", 0.3, transport=True)),
     ("停产、运输管控", Measure("stop", transport=True)),
     ("cut:0.3+transport", Measure("cut", 0.3, transport=True))],
)  # fmt: skip
def test_measures_read_in_chinese_or_english(text: str, measure: Measure | None) -> None:
    assert parse_measure(text) == measure


@pytest.mark.parametrize(
    "text", ["限产150%", "减半", "cut:0", "停产+限产30%", "运输管控+transport"]
)
def test_a_bad_measure_is_named(text: str) -> None:
    with pytest.raises(ValueError, match=r"measure|share|at most one"):
        parse_measure(text)


@given(st.floats(0, 5000), st.sampled_from([1, 5, 15, 30]), st.integers(2, 48))
def test_constant_power_gives_its_energy_every_covered_hour(
    kw: float, minutes: int, hours: int
) -> None:
    step = timedelta(minutes=minutes)
    count = hours * 60 // minutes + 1
    readings = [(DAY + i * step, kw) for i in range(count)]
    energy = hourly_energy(readings, timedelta(minutes=30))
    assert sorted(energy) == [DAY + timedelta(hours=h) for h in range(hours)]
    assert all(value == pytest.approx(kw) for value in energy.values())


def test_warning_hours_are_its_whole_hours() -> None:
    assert warning_hours(DAY + timedelta(minutes=30), DAY + timedelta(hours=3)) == [
        DAY + timedelta(hours=1), DAY + timedelta(hours=2)]  # fmt: skip


def test_the_assessment_sums_required_against_achieved_by_group() -> None:
    def verdict(status: str, measured: float | None, base: float | None) -> LineVerdict:
        return LineVerdict(status, measured, base, {})

    judged = [
        ("371502", "C", Measure("stop"), verdict("complied", 50.0, 4000.0)),
        ("371502", "B", Measure("cut", 0.2), verdict("not_complied", 3800.0, 4000.0)),
        ("371503", "B", Measure("cut", 0.2), verdict("no_data", None, 4000.0)),
        ("371503", "", None, verdict("exempt", 4000.0, 4000.0)),
    ]
    by_county = assess(judged, lambda county, grade: county)
    assert [g["group"] for g in by_county] == ["371502", "371503"]
    first, second = by_county
    assert (first["required_reduction_kwh"], first["achieved_reduction_kwh"]) == (4800.0, 4150.0)
    assert first["achieved_share_of_required"] == pytest.approx(4150 / 4800, abs=1e-3)
    assert (first["complied"], first["not_complied"]) == (1, 1)
    assert (second["no_data"], second["exempt"], second["baseline_kwh"]) == (1, 1, 0.0)
    assert second["achieved_share_of_required"] is None
    by_grade = {g["group"]: g for g in assess(judged, lambda county, grade: grade or "-")}
    assert set(by_grade) == {"B", "C", "-"}
    assert by_grade["C"]["required_reduction_kwh"] == 4000.0
