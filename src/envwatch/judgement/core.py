"""The judgement's pure core: parameters (versioned data), indicator scores,
totals, ranks and their change, the 挂牌督办 listing and lifting rules, and
eco-compensation by the Shandong method (rules.md §4.3). Plain values in,
plain values out: the store feeds it the inputs it read and keeps both."""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from envwatch.errors import ConfigError

DEFAULT_PARAMETERS_FILE = Path(__file__).with_name("parameters.toml")
METHODS = ("relative_lower", "linear", "deduction")
SCORE_DECIMALS = 2


@dataclass(frozen=True)
class Parameters:
    """A parameter set: its content (as read) and the version naming it."""

    content: Mapping[str, Any]

    @property
    def declared(self) -> str:
        return str(self.content["version"])

    @property
    def version(self) -> str:
        """The declared version and a digest of the content: a change is a new version."""
        digest = hashlib.sha256(canonical(self.content).encode()).hexdigest()[:10]
        return f"{self.declared}+{digest}"

    @property
    def indicators(self) -> Mapping[str, Mapping[str, Any]]:
        return dict(self.content["indicators"])

    @property
    def listing(self) -> Mapping[str, Any]:
        return dict(self.content["listing"])

    @property
    def eco(self) -> Mapping[str, Any]:
        return dict(self.content["eco_compensation"])

    @property
    def sources(self) -> Mapping[str, Any]:
        return dict(self.content.get("sources", {}))


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def parameters_from(content: Mapping[str, Any], where: str | Path = "parameters") -> Parameters:
    """A parameter set, checked (an unknown method, a missing weight refuse it)."""

    def fail(problem: str) -> ConfigError:
        return ConfigError(Path(str(where)), problem, problem)

    if not isinstance(content.get("version"), str):
        raise fail("version: a version string is required")
    indicators = content.get("indicators")
    if not isinstance(indicators, dict) or not indicators:
        raise fail("indicators: at least one is required")
    for name, spec in indicators.items():
        if spec.get("method") not in METHODS:
            raise fail(f"indicators.{name}.method: one of {', '.join(METHODS)}")
        if not isinstance(spec.get("weight"), int | float) or spec["weight"] < 0:
            raise fail(f"indicators.{name}.weight: a number ≥ 0")
        if spec["method"] == "linear" and spec.get("best") == spec.get("worst"):
            raise fail(f"indicators.{name}: best and worst must differ")
    for table in ("listing", "eco_compensation"):
        if not isinstance(content.get(table), dict):
            raise fail(f"{table}: a table is required")
    return Parameters(json.loads(canonical(content)))


def load_parameters(path: Path | None = None) -> Parameters:
    path = path or DEFAULT_PARAMETERS_FILE
    try:
        content = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(path, str(error), f"无法读取：{error}") from None
    return parameters_from(content, path)


# ---- scores -----------------------------------------------------------------


def _round(value: float) -> float:
    return round(value + 0.0, SCORE_DECIMALS)


def indicator_scores(
    name: str, spec: Mapping[str, Any], values: Mapping[str, float | None], missing_fraction: float
) -> dict[str, float]:
    """Each county's score of one indicator from its value (None: no data)."""
    weight = float(spec["weight"])
    method = spec["method"]
    present = [v for v in values.values() if v is not None]
    out: dict[str, float] = {}
    for county, value in values.items():
        if method == "deduction":
            count = value or 0.0
            out[county] = _round(-min(float(spec["cap"]), float(spec["per_item"]) * count))
            continue
        if value is None:
            out[county] = _round(weight * missing_fraction)
            continue
        if method == "relative_lower":
            best, worst = min(present), max(present)
            share = 1.0 if worst == best else (worst - value) / (worst - best)
        else:
            best, worst = float(spec["best"]), float(spec["worst"])
            share = (value - worst) / (best - worst)
        out[county] = _round(weight * min(1.0, max(0.0, share)))
    return out


def rank(totals: Mapping[str, float | None]) -> dict[str, int | None]:
    """Ranks by total, highest first; equal totals share a rank (1, 1, 3);
    a county without a total is unranked."""
    ordered = sorted((t, c) for c, t in totals.items() if t is not None)
    ordered.sort(key=lambda pair: (-pair[0], pair[1]))
    ranks: dict[str, int | None] = {c: None for c, t in totals.items() if t is None}
    for position, (total, county) in enumerate(ordered, start=1):
        earlier = ordered[position - 2] if position > 1 else None
        ranks[county] = ranks[earlier[1]] if earlier and earlier[0] == total else position
    return ranks


def score_week(
    inputs: Mapping[str, Any],
    parameters: Parameters,
    previous_ranks: Mapping[str, int | None] | None = None,
) -> dict[str, Any]:
    """The week's judgement from its inputs: per county every indicator's
    value, source and score, the total, the rank and its change (positive:
    moved up) against ``previous_ranks``."""
    counties: Mapping[str, Any] = inputs["counties"]
    missing_fraction = float(parameters.content.get("missing_fraction", 0.5))
    scores: dict[str, dict[str, float]] = {}
    for name, spec in parameters.indicators.items():
        values = {code: _value(county["indicators"].get(name)) for code, county in counties.items()}
        scores[name] = indicator_scores(name, spec, values, missing_fraction)
    totals: dict[str, float | None] = {}
    for code, county in counties.items():
        has_data = any(
            _value(county["indicators"].get(name)) is not None
            for name, spec in parameters.indicators.items()
            if spec["method"] != "deduction"
        )
        total = sum(scores[name][code] for name in parameters.indicators)
        totals[code] = _round(max(0.0, total)) if has_data else None
    ranks = rank(totals)
    previous = previous_ranks or {}
    rows = []
    for code, county in counties.items():
        before = previous.get(code)
        now = ranks[code]
        rows.append({
            "county": code,
            "name": county.get("name", code),
            "score": totals[code],
            "rank": now,
            "previous_rank": before,
            "rank_change": None if before is None or now is None else before - now,
            "indicators": {
                name: {
                    "value": _value(county["indicators"].get(name)),
                    "score": scores[name][code],
                    "source": (county["indicators"].get(name) or {}).get("source", ""),
                }
                for name in parameters.indicators
            },
        })  # fmt: skip
    rows.sort(key=lambda r: (r["rank"] is None, r["rank"] or 0, r["county"]))
    return {
        "week": inputs["week"],
        "parameters_version": parameters.version,
        "counties": rows,
    }


def _value(entry: Mapping[str, Any] | None) -> float | None:
    if entry is None or entry.get("value") is None:
        return None
    return float(entry["value"])


# ---- 挂牌督办 -----------------------------------------------------------------


def bottom(result: Mapping[str, Any], places: int) -> set[str]:
    """The counties in the last ``places`` ranks of a week (ties included)."""
    ranked = [r for r in result["counties"] if r["rank"] is not None]
    if not ranked:
        return set()
    worst_ranks = sorted({r["rank"] for r in ranked}, reverse=True)[:places]
    return {r["county"] for r in ranked if r["rank"] in worst_ranks}


def listing_reasons(
    weeks: Sequence[Mapping[str, Any]], listing: Mapping[str, Any]
) -> dict[str, list[dict[str, Any]]]:
    """The counties the newest of ``weeks`` (oldest first, consecutive
    results) lists, each with its reasons: in the bottom places the required
    number of weeks running, or a total below the floor."""
    if not weeks:
        return {}
    needed = int(listing["consecutive_weeks"])
    places = int(listing["bottom_places"])
    floor = listing.get("score_floor")
    newest = weeks[-1]
    out: dict[str, list[dict[str, Any]]] = {}
    if len(weeks) >= needed:
        run = [bottom(w, places) for w in weeks[-needed:]]
        for county in set.intersection(*run):
            out.setdefault(county, []).append({
                "code": "bottom_running",
                "weeks": [w["week"] for w in weeks[-needed:]],
                "zh": f"连续{needed}周排名倒数第{places}位以内",
                "en": f"in the bottom {places} place(s) {needed} weeks running",
            })  # fmt: skip
    if floor is not None:
        for row in newest["counties"]:
            if row["score"] is not None and row["score"] < float(floor):
                out.setdefault(row["county"], []).append({
                    "code": "below_floor",
                    "score": row["score"],
                    "zh": f"周得分{row['score']}低于{floor}分",
                    "en": f"weekly score {row['score']} below {floor}",
                })  # fmt: skip
    return out


def lifting_met(
    county: str, weeks_since: Sequence[Mapping[str, Any]], criteria: Mapping[str, Any]
) -> tuple[bool, str]:
    """Whether the county's latest weeks (after its listing, oldest first)
    meet the lifting criteria, and why (or why not)."""
    needed = int(criteria["weeks_out_of_bottom"])
    floor = float(criteria["score_at_least"])
    places = int(criteria.get("bottom_places", 1))
    latest = list(weeks_since)[-needed:]
    if len(latest) < needed:
        return False, f"须有{needed}周的评分，现有{len(latest)}周"
    for week in latest:
        row = next((r for r in week["counties"] if r["county"] == county), None)
        if row is None or row["score"] is None:
            return False, f"{week['week']}无评分"
        if county in bottom(week, places):
            return False, f"{week['week']}仍排名末位"
        if row["score"] < floor:
            return False, f"{week['week']}得分{row['score']}低于{floor}"
    return True, f"最近{needed}周均未排名末位且得分不低于{floor}"


# ---- 生态补偿 -----------------------------------------------------------------


def eco_compensation(
    now: Mapping[str, float | None], before: Mapping[str, float | None], eco: Mapping[str, Any]
) -> dict[str, Any]:
    """A quarter's compensation [万元] from its means and those a year
    earlier (PM2_5, PM10, SO2, NO2 [µg/m³] and good_day_ratio [%]):
    coefficient × diffusion × Σ wᵢ (Cᵢ last year − Cᵢ now) + good-day
    coefficient × (ratio now − ratio last year). Positive: receivable
    (improved); negative: payable. The terms are returned to show the sum."""
    weights: Mapping[str, float] = eco["weights"]
    coefficient = float(eco["coefficient_wan"])
    diffusion = float(eco["diffusion"])
    terms: list[dict[str, Any]] = []
    missing: list[str] = []
    for pollutant, weight in weights.items():
        c_now, c_before = now.get(pollutant), before.get(pollutant)
        if c_now is None or c_before is None:
            missing.append(pollutant)
            continue
        amount = coefficient * diffusion * float(weight) * (c_before - c_now)
        terms.append({"term": pollutant, "weight": weight, "now": c_now, "before": c_before,
                      "improvement": round(c_before - c_now, 3),
                      "amount_wan": round(amount, 2)})  # fmt: skip
    good_now, good_before = now.get("good_day_ratio"), before.get("good_day_ratio")
    if good_now is None or good_before is None:
        missing.append("good_day_ratio")
    else:
        amount = float(eco["good_day_wan"]) * (good_now - good_before)
        terms.append({"term": "good_day_ratio", "weight": None, "now": good_now,
                      "before": good_before, "improvement": round(good_now - good_before, 3),
                      "amount_wan": round(amount, 2)})  # fmt: skip
    total = None if missing else round(sum(float(t["amount_wan"]) for t in terms), 2)
    formula = (f"{coefficient}万元 × {diffusion} × Σ wᵢ(C去年 − C今年) + "
               f"{eco['good_day_wan']}万元 × (优良率今年 − 优良率去年)")  # fmt: skip
    return {"amount_wan": total, "terms": terms, "missing": missing, "formula": formula}
