"""The weekly judgement on a frozen demo week: each indicator recomputed here
from the raw rows, scores and ranks from the weights; ties; a county without
data; a parameter change is a new version and leaves old snapshots as they were."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from envwatch.cli import app
from envwatch.judgement.core import Parameters, load_parameters, rank, score_week
from envwatch.judgement.store import JudgementError, judge_week, rescore, snapshot_row
from envwatch.store.schema import (
    AirStation,
    Alert,
    HourlyEmission,
    JudgementSnapshot,
    QualityDay,
    RectificationProblem,
    WaterSection,
)
from tests.judgement.conftest import COUNTY, EMPTY, NOW, WEEK

FIRST, LAST = date(2026, 11, 16), date(2026, 11, 22)
DIVISORS = {"PM2_5": 35, "PM10": 70, "SO2": 60, "NO2": 40, "CO": 4, "O3_8h": 160}


def hj663_percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = 1 + (len(ordered) - 1) * p / 100
    s = math.floor(k)
    high = ordered[s] if s < len(ordered) else ordered[s - 1]
    return ordered[s - 1] + (high - ordered[s - 1]) * (k - s)


def published(key: str, value: float) -> float:
    """HJ 663's published precision: CO to 0.1 mg/m³, the others to 1 µg/m³."""
    decimals = 1 if key == "CO" else 0
    return float(Decimal(repr(value)).quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_EVEN))


def air_index_by_hand(engine: Engine) -> dict[str, float]:
    """The week's composite index per county from quality_day rows."""
    with engine.connect() as connection:
        stations = dict(connection.execute(select(AirStation.code, AirStation.county_code)).all())
        rows = connection.execute(
            select(QualityDay.site, QualityDay.day, QualityDay.figures).where(
                QualityDay.kind == "air", QualityDay.day >= FIRST, QualityDay.day <= LAST
            )
        ).all()
    per_day: dict[str, dict[date, dict[str, list[float]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(list))
    )
    for site, day, figures in rows:
        for key in DIVISORS:
            if figures.get(key) is not None:
                per_day[stations[site]][day][key].append(float(figures[key]))
    out = {}
    for county, days in per_day.items():
        daily: dict[str, list[float]] = defaultdict(list)
        for values in days.values():
            for key, vs in values.items():
                daily[key].append(published(key, sum(vs) / len(vs)))
        stats = {key: published(key, sum(vs) / len(vs)) for key, vs in daily.items()}
        stats["CO"] = published("CO", hj663_percentile(daily["CO"], 95))
        stats["O3_8h"] = published("O3_8h", hj663_percentile(daily["O3_8h"], 90))
        index = sum(stats[key] / divisor for key, divisor in DIVISORS.items())
        out[county] = index
    return out


@pytest.fixture(scope="module")
def snapshot(city: Engine) -> dict[str, Any]:
    return judge_week(city, WEEK, load_parameters(), now=NOW)


def test_each_indicator_recomputed_from_raw_rows(city: Engine, snapshot: dict[str, Any]) -> None:
    rows = {r["county"]: r for r in snapshot["counties"]}
    by_hand = air_index_by_hand(city)
    assert by_hand, "the frozen week has air data"
    for county, index in by_hand.items():
        assert rows[county]["indicators"]["air_index"]["value"] == pytest.approx(index, abs=0.001)
    # Alerts of the county: the first on time, the second acknowledged late, the
    # third on time (its dismissal does not count it as falsification).
    with city.connect() as connection:
        alerts = connection.execute(
            select(Alert.acknowledge_by, Alert.acknowledged_at).where(Alert.county_code == COUNTY)
        ).all()
        hours = connection.execute(select(HourlyEmission.validity)).scalars().all()
        problems = connection.execute(
            select(RectificationProblem.deadline, RectificationProblem.closed_at).where(
                RectificationProblem.county_code == COUNTY
            )
        ).all()
        sections = connection.execute(select(WaterSection.county_code)).scalars().all()
    on_time = sum(1 for due, done in alerts if done is not None and due is not None and done <= due)
    ours = rows[COUNTY]["indicators"]
    assert ours["alert_on_time"]["value"] == pytest.approx(on_time / len(alerts), abs=1e-4)
    assert ours["fraud"]["value"] == 1  # "constant", not dismissed
    valid = sum(1 for v in hours if v == "valid")
    assert ours["data_quality"]["value"] == pytest.approx(valid / len(hours), abs=1e-4)
    due = [(d, c) for d, c in problems if d.date() <= LAST]
    kept = sum(1 for d, c in due if c is not None and c.date() <= d.date())
    assert ours["rectification_on_time"]["value"] == pytest.approx(kept / len(due), abs=1e-4)
    assert ours["alert_on_time"]["source"].startswith("alert opened 2026-11-16..2026-11-22")
    for county in set(sections):
        assert rows[county]["indicators"]["water_attainment"]["value"] is not None


def test_scores_and_ranks_follow_the_weights(snapshot: dict[str, Any]) -> None:
    parameters = load_parameters()
    weights = {n: s["weight"] for n, s in parameters.indicators.items()}
    ranked = [r for r in snapshot["counties"] if r["rank"] is not None]
    air = [r["indicators"]["air_index"]["value"] for r in ranked]
    best, worst = min(air), max(air)
    for row in ranked:
        value = row["indicators"]["air_index"]["value"]
        expected = weights["air_index"] * (worst - value) / (worst - best)
        assert row["indicators"]["air_index"]["score"] == pytest.approx(expected, abs=0.01)
        missing = [n for n, i in row["indicators"].items() if i["value"] is None]
        for name in missing:
            assert row["indicators"][name]["score"] == weights[name] * 0.5
        total = sum(i["score"] for i in row["indicators"].values())
        assert row["score"] == pytest.approx(max(0.0, total), abs=0.011)
    ordered = sorted(ranked, key=lambda r: -r["score"])
    assert [r["county"] for r in ordered] == [r["county"] for r in ranked]
    assert ranked[0]["rank"] == 1
    fraud = next(r for r in ranked if r["county"] == COUNTY)["indicators"]["fraud"]
    assert fraud["score"] == -2.0


def test_a_county_without_data_is_unranked(city: Engine, snapshot: dict[str, Any]) -> None:
    rows = {r["county"]: r for r in snapshot["counties"]}
    assert rows[EMPTY]["score"] is None and rows[EMPTY]["rank"] is None
    assert all(i["value"] in (None, 0.0) for i in rows[EMPTY]["indicators"].values())
    assert snapshot["counties"][-1]["county"] == EMPTY  # unranked last


def test_ties_share_a_rank() -> None:
    assert rank({"a": 80.0, "b": 90.0, "c": 80.0, "d": 70.0, "e": None}) == {
        "a": 2, "b": 1, "c": 2, "d": 4, "e": None}  # fmt: skip
    inputs = {"week": "2026-W01", "counties": {
        c: {"name": c, "indicators": {"water_attainment": {"value": 1.0, "source": "s"}}}
        for c in ("x", "y")}}  # fmt: skip
    result = score_week(inputs, load_parameters())
    assert [r["rank"] for r in result["counties"]] == [1, 1]


def test_a_snapshot_is_immutable_and_rescores_the_same(
    city: Engine, snapshot: dict[str, Any]
) -> None:
    again = judge_week(city, WEEK, load_parameters(), now=NOW)
    assert again == snapshot
    with city.connect() as connection:
        row = snapshot_row(connection, WEEK, snapshot["parameters_version"])
    assert rescore(row)["counties"] == snapshot["counties"]


def test_a_parameter_change_is_a_new_version(city: Engine, snapshot: dict[str, Any]) -> None:
    content = json.loads(json.dumps(load_parameters().content))
    content["indicators"]["water_attainment"]["weight"] = 30.0
    changed = Parameters(content)
    assert changed.version != snapshot["parameters_version"]
    newer = judge_week(city, WEEK, changed, now=NOW, apply_listing=False)
    assert newer["id"] != snapshot["id"]
    with city.connect() as connection:
        old = connection.execute(
            select(JudgementSnapshot.result).where(JudgementSnapshot.id == snapshot["id"])
        ).scalar_one()
    assert old["counties"] == snapshot["counties"]
    assert newer["counties"] != snapshot["counties"]


def test_an_unfinished_week_is_refused(city: Engine) -> None:
    with pytest.raises(JudgementError) as refused:
        judge_week(city, "2026-W49", now=NOW)
    assert refused.value.code == "week_not_ended"


def test_cli_contract(city: Engine, snapshot: dict[str, Any]) -> None:
    result = CliRunner().invoke(
        app, ["judge", "week", "--db", str(city.url.render_as_string(hide_password=False)),
              "--week", WEEK, "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert set(document) >= {"week", "counties", "listed"}
    assert document["week"] == WEEK
    first = document["counties"][0]
    assert set(first) >= {"county", "score", "rank", "indicators"}
    assert set(first["indicators"]["air_index"]) == {"value", "score"}
    by_county = {r["county"]: r for r in snapshot["counties"]}
    for row in document["counties"]:
        assert row["score"] == by_county[row["county"]]["score"]
