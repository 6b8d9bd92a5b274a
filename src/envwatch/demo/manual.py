"""The demo's manual monitoring (手工监测) and permit caps: a few enterprises'
self-monitoring plans list items monitored by hand, with the results their
laboratories reported through the demo year, so the emissions page and the
audit file show a manual part beside measured, substituted and direct
discharge; the showcase enterprise's permit caps SO2 per month and NOx over
the heating season. Drawn from the rows already made (no random draws), so
adding them left every other demo row as it was. All values are fictional."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

# (enterprise id, outlet kind, pollutant, frequency, concentration, unit, flow [m³/h] or
# None for the plan's design flow, months sampled).
DEMO_MANUAL_ITEMS = (
    # The showcase power plant's stack: mercury and its compounds by hand each quarter.
    (1, "air", "a20057", "4/year", 0.0042, "mg/m³", None, (1, 4, 7, 10)),
    # Three plants' wastewater outlets: suspended solids by hand each month.
    (19, "water", "w01012", "1/month", 120.0, "mg/L", 12.0, tuple(range(1, 12))),
    (21, "water", "w01012", "1/month", 95.0, "mg/L", 8.0, tuple(range(1, 12))),
    (23, "water", "w01012", "1/month", 140.0, "mg/L", 10.0, tuple(range(1, 12))),
)
DEMO_MANUAL_YEAR = 2026
DEMO_MANUAL_DAY, DEMO_MANUAL_HOUR = 10, 9  # sampled the 10th at 09:00
DEMO_MANUAL_IMPORTED = datetime(2026, 11, 20, tzinfo=UTC)

# The showcase enterprise's caps: SO2 per month (a twelfth of the year's total)
# and NOx over the heating season (40 % of the year's total) at its first outlet.
DEMO_CAP_ENTERPRISE = 1
DEMO_MONTHLY_CAP = ("a21026", 1 / 12)
DEMO_SEASONAL_CAP = ("a21002", 0.4, "11-15", "03-15")


def add_manual_monitoring(
    rows: dict[str, list[dict[str, Any]]], design_flow_m3h: Mapping[str, float]
) -> None:
    """Add the plan items (with the design flow of their outlet's kind) and
    results of ``DEMO_MANUAL_ITEMS`` and the caps to ``rows``."""
    outlets: dict[tuple[int, str], int] = {}
    for outlet in rows["outlet"]:
        outlets.setdefault((outlet["enterprise_id"], outlet["kind"]), outlet["id"])
    results = rows.setdefault("manual_result", [])
    for enterprise_id, kind, code, frequency, value, unit, flow, months in DEMO_MANUAL_ITEMS:
        outlet_id = outlets.get((enterprise_id, kind))
        if outlet_id is None:
            continue
        rows["permit_monitoring"].append({
            "permit_id": enterprise_id, "outlet_id": outlet_id, "pollutant": code,
            "method": "manual", "frequency": frequency, "untreated_concentration": None,
            "design_flow_m3h": design_flow_m3h[kind],
        })  # fmt: skip
        for month in months:
            sampled = datetime(DEMO_MANUAL_YEAR, month, DEMO_MANUAL_DAY, DEMO_MANUAL_HOUR)
            results.append({
                "enterprise_id": enterprise_id, "outlet_id": outlet_id, "pollutant": code,
                "sampled_from": sampled, "sampled_to": None,
                # A little variation from month to month, without random draws.
                "concentration": round(value * (0.85 + 0.05 * (month % 4)), 6), "unit": unit,
                "flow_m3h": flow, "volume_m3": None, "laboratory": "聊城示例检测有限公司",
                "report_number": f"LCJC-{DEMO_MANUAL_YEAR}-{enterprise_id:03d}-{month:02d}",
                "source_file": "demo", "imported_by": "demo",
                "imported_at": DEMO_MANUAL_IMPORTED,
            })  # fmt: skip
    first_outlet = outlets.get((DEMO_CAP_ENTERPRISE, "air"))
    for limit in rows["permit_limit"]:
        limit.setdefault("monthly_tonnes", None)
        limit.setdefault("seasonal_tonnes", None)
        limit.setdefault("season_from", None)
        limit.setdefault("season_to", None)
        if limit["outlet_id"] != first_outlet or not limit["annual_tonnes"]:
            continue
        if limit["pollutant"] == DEMO_MONTHLY_CAP[0]:
            limit["monthly_tonnes"] = round(limit["annual_tonnes"] * DEMO_MONTHLY_CAP[1], 3)
        code, share, season_from, season_to = DEMO_SEASONAL_CAP
        if limit["pollutant"] == code:
            limit |= {"seasonal_tonnes": round(limit["annual_tonnes"] * share, 3),
                      "season_from": season_from, "season_to": season_to}  # fmt: skip
