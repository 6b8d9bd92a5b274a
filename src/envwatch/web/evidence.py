"""An alert's evidence as the alert page shows it: a table of what the rule
saw (values with their unit, the limit and its basis), the parameters it
judged with and the raw frames it cites, each linked to the archived frame.

``evidence_rows`` is pure; ``evidence_view`` adds what the cited frames are
(their command and data time) from the archive. The evidence itself stays
available as JSON, as the API gives it."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from envwatch.glossary import factor
from envwatch.rules.catalogue.marks import INFO_NAMES
from envwatch.store.schema import ArchivedFrame
from envwatch.times import utc_as_cst_text
from envwatch.web.i18n import N_

# Keys whose numbers are concentrations in the limit's unit.
CONCENTRATIONS = frozenset({
    "value", "measured", "corrected", "limit", "daily_mean", "hourly_values", "hourly_avg",
    "minute_values", "minute_mean", "detection_limit", "warned_value", "approached_value",
    "median", "next_value", "concentrations",
})  # fmt: skip
# Keys with a unit of their own.
UNITS = {
    "o2": "%", "reference_o2": "%", "o2_values": "%", "share": "", "power_kw": "kW",
    "night_kw": "kW", "day_kw": "kW", "rated_kw": "kW", "energy_kwh": "kWh",
    "baseline_kwh": "kWh", "temperatures": "℃",
}  # fmt: skip
# Keys shown elsewhere in the table, or not at all (the unit goes with the values).
SEPARATE = frozenset({"parameters", "frames", "finding_id", "unit", "limit", "basis",
                      "other_limits", "lower_limit", "period"})  # fmt: skip
# The words for the keys rules put in their evidence (``rules/catalogue/``);
# a key without one shows as itself.
LABELS = {
    "value": N_("ev_value"),
    "measured": N_("ev_measured"),
    "corrected": N_("ev_corrected"),
    "o2": N_("ev_o2"),
    "reference_o2": N_("ev_reference_o2"),
    "flag": N_("ev_flag"),
    "daily_mean": N_("ev_daily_mean"),
    "flow_weighted": N_("ev_flow_weighted"),
    "hourly_values": N_("ev_hourly_values"),
    "volumes": N_("ev_volumes"),
    "minute_values": N_("ev_minute_values"),
    "valid_minutes": N_("ev_valid_minutes"),
    "hourly_avg": N_("ev_hourly_avg"),
    "minute_mean": N_("ev_minute_mean"),
    "last_data_time": N_("ev_last_data_time"),
    "values": N_("ev_values"),
    "hours": N_("ev_hours"),
    "near_hours": N_("ev_near_hours"),
    "share": N_("ev_share"),
    "detection_limit": N_("ev_detection_limit"),
    "cv": N_("ev_cv"),
    "median": N_("ev_median"),
    "robust_sd": N_("ev_robust_sd"),
    "next_value": N_("ev_next_value"),
    "ks_statistic": N_("ev_ks_statistic"),
    "p_value": N_("ev_p_value"),
    "recent_iqr": N_("ev_recent_iqr"),
    "reference_iqr": N_("ev_reference_iqr"),
    "recent_hours": N_("ev_recent_hours"),
    "reference_hours": N_("ev_reference_hours"),
    "o2_values": N_("ev_o2_values"),
    "flows": N_("ev_flows"),
    "marked": N_("ev_marked"),
    "flags": N_("ev_flags"),
    "uploads": N_("ev_uploads"),
    "concentrations": N_("ev_concentrations"),
    "temperatures": N_("ev_temperatures"),
    "warned_value": N_("ev_warned_value"),
    "flow_before": N_("ev_flow_before"),
    "flow_after": N_("ev_flow_after"),
    "approached_at": N_("ev_approached_at"),
    "approached_value": N_("ev_approached_value"),
    "code": N_("ev_code"),
    "before": N_("ev_before"),
    "after": N_("ev_after"),
    "before_at": N_("ev_before_at"),
    "day": N_("ev_day"),
    "copied_from": N_("ev_copied_from"),
    "days": N_("ev_days"),
    "power_kw": N_("ev_power_kw"),
    "rated_kw": N_("ev_rated_kw"),
    "meter_id": N_("ev_meter_id"),
    "readings": N_("ev_readings"),
    "night_kw": N_("ev_night_kw"),
    "day_kw": N_("ev_day_kw"),
    "level": N_("ev_level"),
    "reference": N_("ev_reference"),
    "energy_kwh": N_("ev_energy_kwh"),
    "baseline_kwh": N_("ev_baseline_kwh"),
    "required_cut": N_("ev_required_cut"),
    "production_started_at": N_("ev_production_started_at"),
    "production_stopped_at": N_("ev_production_stopped_at"),
    "treatment_on": N_("ev_treatment_on"),
    "treatment_stopped_at": N_("ev_treatment_stopped_at"),
    "treatment_changed_at": N_("ev_treatment_changed_at"),
}
LIST_SHOWN = 48
"""Items of a list shown before the rest is counted (the JSON holds them all)."""
FRAME_ID_MAX = 2**63 - 1


@dataclass(frozen=True)
class EvidenceRow:
    key: str
    label: str
    value: str


@dataclass(frozen=True)
class CitedFrame:
    id: int
    href: str
    cn: str | None = None
    data_time: str | None = None
    received_at: str | None = None


@dataclass(frozen=True)
class EvidenceTable:
    values: list[EvidenceRow]
    limit: list[EvidenceRow]
    parameters: list[EvidenceRow]
    frames: list[CitedFrame]
    finding_id: int | None


def cited_frames(evidence: Mapping[str, Any]) -> list[int]:
    """The ids of the archived frames the evidence cites, in order, once each."""
    frames = evidence.get("frames")
    if not isinstance(frames, list):
        return []
    ids = [
        f
        for f in frames
        if isinstance(f, int) and not isinstance(f, bool) and 0 < f <= FRAME_ID_MAX
    ]
    return list(dict.fromkeys(ids))


def show(value: Any, words: Mapping[str, str], unit: str = "", lang: str = "zh") -> str:
    """A value of the evidence as a person reads it."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return words["ev_yes"] if value else words["ev_no"]
    if isinstance(value, int | float):
        text = f"{value:.4f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)
        return f"{text} {unit}".rstrip() if unit else text
    if isinstance(value, str):
        # ISO times as the pages write them.
        if len(value) >= 16 and value[4:5] == "-" and value[10:11] == "T":
            return value[:19].replace("T", " ")
        return value
    if isinstance(value, Mapping):
        return "; ".join(
            f"{_name(str(k), words, lang)} {show(v, words, lang=lang)}" for k, v in value.items()
        )
    if isinstance(value, Sequence):
        items = [show(item, words, lang=lang) for item in value[:LIST_SHOWN]]
        more = len(value) - LIST_SHOWN
        text = ", ".join(items) + (words["ev_more"].format(n=more) if more > 0 else "")
        return f"{text} {unit}".rstrip() if unit and value else text
    return str(value)


def _name(key: str, words: Mapping[str, str], lang: str) -> str:
    """A key's label: the page's word for it, a monitored factor's or an
    analyser setting's name, else the key itself."""
    word = words.get(LABELS[key]) if key in LABELS else None
    if word is not None:
        return word
    known = factor(key)
    if known is not None:
        return known.name_zh if lang == "zh" else known.name_en
    if key in INFO_NAMES and lang == "zh":
        return INFO_NAMES[key]
    return key


def evidence_rows(
    evidence: Mapping[str, Any],
    words: Mapping[str, str],
    lang: str = "zh",
    frames: Mapping[int, CitedFrame] | None = None,
    mn: str = "",
) -> EvidenceTable:
    """The evidence of a finding as rows (pure): ``words`` the page's words in
    ``lang``, ``frames`` what is known of the cited frames, ``mn`` the alert's device."""
    raw_unit = evidence.get("unit")
    unit = raw_unit if isinstance(raw_unit, str) else ""

    def name(key: str) -> str:
        return _name(key, words, lang)

    def shown(value: Any, unit: str = "") -> str:
        return show(value, words, unit, lang)

    values = []
    for key, value in evidence.items():
        if key in SEPARATE:
            continue
        if key == "code" and isinstance(value, str):
            text = f"{name(value)} ({value})" if name(value) != value else value
        else:
            text = shown(value, unit if key in CONCENTRATIONS else UNITS.get(key, ""))
        values.append(EvidenceRow(key, name(key), text))
    limit = []
    if "limit" in evidence:
        lower = evidence.get("lower_limit")
        bound = (
            f"{shown(lower)}~{shown(evidence['limit'], unit)}"
            if lower is not None
            else shown(evidence["limit"], unit)
        )
        period = evidence.get("period")
        periods = {"1h": words["ev_period_hour"], "24h": words["ev_period_day"],
                   "instant": words["ev_period_instant"]}  # fmt: skip
        if isinstance(period, str) and period in periods:
            bound = f"{bound}（{periods[period]}）"
        limit.append(EvidenceRow("limit", words["ev_limit"], bound))
    if evidence.get("basis"):
        limit.append(EvidenceRow("basis", words["ev_basis"], shown(evidence["basis"])))
    others = evidence.get("other_limits")
    if isinstance(others, list) and others:
        texts = [
            f"{shown(other.get('value'), unit)} ({shown(other.get('basis'))})"
            if isinstance(other, Mapping)
            else shown(other)
            for other in others
        ]
        limit.append(EvidenceRow("other_limits", words["ev_other_limits"], "; ".join(texts)))
    parameters = evidence.get("parameters")
    parameter_rows = (
        [EvidenceRow(str(k), str(k), shown(v)) for k, v in parameters.items()]
        if isinstance(parameters, Mapping)
        else []
    )
    known = frames or {}
    cited = [
        known.get(frame_id) or CitedFrame(frame_id, frame_link(mn, frame_id))
        for frame_id in cited_frames(evidence)
    ]
    finding = evidence.get("finding_id")
    return EvidenceTable(
        values=values,
        limit=limit,
        parameters=parameter_rows,
        frames=cited,
        finding_id=finding if isinstance(finding, int) and not isinstance(finding, bool) else None,
    )


def frame_link(mn: str, frame_id: int) -> str:
    """The archived frame itself (JSON: its text, bytes and place in the hash chain)."""
    return f"/api/v1/points/{mn}/frames?frame={frame_id}"


def evidence_view(
    connection: Connection, evidence: Any, words: Mapping[str, str], lang: str, mn: str
) -> dict[str, Any]:
    """The alert page's evidence: the table and the JSON beside it."""
    evidence = evidence if isinstance(evidence, Mapping) else {}
    ids = cited_frames(evidence)[:100]
    known: dict[int, CitedFrame] = {}
    if ids:
        rows = connection.execute(
            select(
                ArchivedFrame.id, ArchivedFrame.chain, ArchivedFrame.cn,
                ArchivedFrame.data_time, ArchivedFrame.received_at,
            ).where(ArchivedFrame.id.in_(ids))
        ).all()  # fmt: skip
        known = {
            row.id: CitedFrame(
                row.id,
                frame_link(row.chain, row.id),
                row.cn,
                None if row.data_time is None else f"{row.data_time:%Y-%m-%d %H:%M:%S}",
                (utc_as_cst_text(row.received_at) or "")[:19].replace("T", " ") or None,
            )
            for row in rows
        }
    return {
        "evidence_table": evidence_rows(evidence, words, lang, known, mn),
        "evidence": json.dumps(evidence, ensure_ascii=False, indent=2),
    }
