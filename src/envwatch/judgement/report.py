"""The weekly report (每周研判报告) from a snapshot: the figures gathered
once (``report_data``), then drawn three ways: a self-contained HTML page
(inline SVG map and charts, no network), a PDF (``reports/pdf.py``, Chinese
fonts embedded) and an XLSX. A report is kept with its snapshot."""

from __future__ import annotations

import html
import io
import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from openpyxl import Workbook
from sqlalchemy import Connection, Engine, func, insert, select

from envwatch.judgement.core import Parameters, load_parameters
from envwatch.judgement.indicators import cst_bounds
from envwatch.judgement.store import judge_week, listing_history, listings_at, snapshot_row
from envwatch.judgement.weeks import previous_week, week_days
from envwatch.reports.pdf import MapArea, PdfDocument
from envwatch.spreadsheet import safe_cell
from envwatch.store.schema import (
    Alert,
    EmergencyPeriod,
    Enterprise,
    FindingRecord,
    JudgementSnapshot,
    QualityTarget,
    RectificationProblem,
    WeeklyReport,
)
from envwatch.web.mapsvg import COUNTIES_FILE, county_map, rings_of

TREND_WEEKS = 8
EMERGENCY_RULES = ("emergency_consumption", "emergency_stop")
BANDS = ((80.0, "#2e7d32", "≥80"), (70.0, "#8bc34a", "70–80"), (60.0, "#fbc02d", "60–70"),
         (0.0, "#e53935", "<60"))  # fmt: skip
NO_SCORE = "#bdbdbd"


@dataclass(frozen=True, slots=True)
class ReportFiles:
    snapshot_id: int
    week: str
    html: str
    pdf: bytes
    xlsx: bytes


def colour(score: float | None) -> str:
    if score is None:
        return NO_SCORE
    return next(c for floor, c, _ in BANDS if score >= floor)


def weekly_report(
    engine: Engine, week: str, parameters: Parameters | None = None, *, now: datetime | None = None
) -> ReportFiles:
    """The week's report: the kept one of its snapshot, or made and kept now."""
    parameters = parameters or load_parameters()
    now = now or datetime.now(UTC)
    snapshot = judge_week(engine, week, parameters, now=now)
    with engine.begin() as connection:
        kept = connection.execute(
            select(WeeklyReport).where(WeeklyReport.snapshot_id == snapshot["id"])
        ).first()
        if kept is not None:
            return ReportFiles(kept.snapshot_id, kept.week, kept.html, kept.pdf, kept.xlsx)
        data = report_data(connection, snapshot)
        files = ReportFiles(snapshot["id"], week, render_html(data), render_pdf(data, now),
                            render_xlsx(data))  # fmt: skip
        connection.execute(
            insert(WeeklyReport).values(snapshot_id=files.snapshot_id, week=week, created_at=now,
                                        html=files.html, pdf=files.pdf, xlsx=files.xlsx)
        )  # fmt: skip
        return files


def stored_reports(connection: Connection) -> list[dict[str, Any]]:
    rows = connection.execute(
        select(WeeklyReport.id, WeeklyReport.week, WeeklyReport.snapshot_id,
               WeeklyReport.created_at).order_by(WeeklyReport.week.desc())
    )  # fmt: skip
    return [dict(r._mapping) for r in rows]


def report_data(connection: Connection, snapshot: dict[str, Any]) -> dict[str, Any]:
    """Everything the report shows, from the snapshot and the week's rows."""
    week = snapshot["week"]
    first, last = week_days(week)
    start, end = cst_bounds(first, last)
    version = snapshot["parameters_version"]
    row = snapshot_row(connection, week, version)
    names = {r["county"]: r["name"] for r in snapshot["counties"]}
    # Trend: the scores of the latest weeks under the same parameters.
    trend_weeks = [week]
    for _ in range(TREND_WEEKS - 1):
        trend_weeks.insert(0, previous_week(trend_weeks[0]))
    results: dict[str, Any] = {
        row[0]: row[1] for row in connection.execute(
            select(JudgementSnapshot.week, JudgementSnapshot.result).where(
                JudgementSnapshot.week.in_(trend_weeks),
                JudgementSnapshot.parameters_version == version)
        ).all()
    }  # fmt: skip
    trend = {
        county: [
            next((c["score"] for c in results[w]["counties"] if c["county"] == county), None)
            if w in results else None
            for w in trend_weeks
        ]
        for county in names
    }  # fmt: skip
    listings = []
    for listing in listings_at(connection, week):
        history = listing_history(connection, listing["id"])
        listings.append({
            "county": listing["county_code"], "name": names.get(listing["county_code"], ""),
            "since": listing["week"], "state": listing["state"],
            "deadline": listing["deadline"].isoformat(),
            "reasons": "；".join(r["zh"] for r in listing["reasons"]),
            "progress": history[-1]["note"] if history else "",
        })  # fmt: skip
    # Top problems and enterprises: the week's alerts by rule and by enterprise.
    alerts = connection.execute(
        select(Alert.rule, Alert.enterprise_id, Alert.county_code)
        .where(Alert.opened_at >= start, Alert.opened_at < end, Alert.merged_into.is_(None))
    ).all()  # fmt: skip
    by_rule = Counter(a.rule for a in alerts).most_common(10)
    by_enterprise = Counter(a.enterprise_id for a in alerts if a.enterprise_id).most_common(10)
    enterprise_names = dict(
        connection.execute(
            select(Enterprise.id, Enterprise.name).where(
                Enterprise.id.in_([e for e, _ in by_enterprise])
            )
        ).all()
    )
    # Rectification: each county's problems by state.
    progress: dict[str, Counter[str]] = defaultdict(Counter)
    for county, state, count in connection.execute(
        select(RectificationProblem.county_code, RectificationProblem.state, func.count())
        .group_by(RectificationProblem.county_code, RectificationProblem.state)
    ).all():  # fmt: skip
        progress[county][state] += int(count)
    # Emergency compliance: warnings in force in the week and findings of the emergency rules.
    day_start = datetime.combine(first, datetime.min.time())
    day_end = datetime.combine(last + timedelta(days=1), datetime.min.time())
    warnings = connection.execute(
        select(EmergencyPeriod.id).where(EmergencyPeriod.starts_at < day_end,
                                         EmergencyPeriod.ends_at > day_start)
    ).all()  # fmt: skip
    emergency_findings = int(
        connection.execute(
            select(func.count())
            .select_from(FindingRecord)
            .where(
                FindingRecord.rule.in_(EMERGENCY_RULES),
                FindingRecord.window_start >= day_start,
                FindingRecord.window_start < day_end,
            )
        ).scalar_one()
    )
    targets = {
        (t.area, t.indicator): t.value
        for t in connection.execute(
            select(QualityTarget.area, QualityTarget.indicator, QualityTarget.value).where(
                QualityTarget.year == first.year
            )
        ).all()
    }
    quality = []
    for county in snapshot["counties"]:
        air = county["indicators"].get("air_index", {})
        detail = (row.inputs["counties"][county["county"]]["indicators"]
                  .get("air_index", {}).get("detail", {})) if row else {}  # fmt: skip
        quality.append({
            "county": county["county"], "name": county["name"], "air_index": air.get("value"),
            "good_day_ratio": detail.get("good_day_ratio"),
            "good_day_target": targets.get((county["county"], "good_day_ratio")),
            "water_attainment": county["indicators"].get("water_attainment", {}).get("value"),
        })  # fmt: skip
    ranked = [c for c in snapshot["counties"] if c["rank"] is not None]
    return {
        "week": week,
        "first": first.isoformat(),
        "last": last.isoformat(),
        "snapshot_id": snapshot["id"],
        "parameters_version": version,
        "counties": snapshot["counties"],
        "best": ranked[0]["name"] if ranked else None,
        "worst": ranked[-1]["name"] if ranked else None,
        "trend_weeks": trend_weeks,
        "trend": trend,
        "listings": listings,
        "top_rules": by_rule,
        "top_enterprises": [(enterprise_names.get(e, str(e)), n) for e, n in by_enterprise],
        "rectification": {c: dict(v) for c, v in sorted(progress.items())},
        "warnings": len(warnings),
        "emergency_findings": emergency_findings,
        "quality": quality,
        "alerts": len(alerts),
    }


INDICATOR_ZH = {
    "air_index": "空气综合指数", "air_yoy": "指数同比", "water_attainment": "断面达标",
    "alert_on_time": "预警按时处置", "data_quality": "数据有效率",
    "rectification_on_time": "整改按期", "fraud": "弄虚作假扣分",
}  # fmt: skip


def _change(value: int | None) -> str:
    if value is None:
        return "—"
    return f"↑{value}" if value > 0 else (f"↓{-value}" if value < 0 else "持平")


def ranking_rows(data: dict[str, Any]) -> list[list[Any]]:
    return [
        [c["rank"], c["name"], c["county"], c["score"], _change(c["rank_change"])]
        + [c["indicators"][k]["score"] for k in c["indicators"]]
        for c in data["counties"]
    ]


def ranking_header(data: dict[str, Any]) -> list[str]:
    keys = list(data["counties"][0]["indicators"]) if data["counties"] else []
    return ["排名", "区县", "代码", "总分", "名次变化"] + [INDICATOR_ZH.get(k, k) for k in keys]


# ---- HTML ---------------------------------------------------------------------


def _svg_map(data: dict[str, Any]) -> str:
    areas, height = county_map()
    scores = {c["county"]: c["score"] for c in data["counties"]}
    parts = [f'<svg class="report-map" viewBox="0 0 600 {height:.0f}" role="img" '
             f'aria-label="各区县得分地图">']  # fmt: skip
    for area in areas:
        score = scores.get(area.code)
        parts.append(f'<path d="{area.path}" fill="{colour(score)}" stroke="#fff">'
                     f"<title>{html.escape(area.name_zh)} {score}</title></path>")  # fmt: skip
    for area in areas:
        parts.append(f'<text x="{area.label_x:.1f}" y="{area.label_y:.1f}" font-size="11" '
                     f'text-anchor="middle">{html.escape(area.name_zh)} '
                     f"{scores.get(area.code) or '—'}</text>")  # fmt: skip
    parts.append("</svg>")
    return "".join(parts)


def _svg_bars(data: dict[str, Any]) -> str:
    ranked = [c for c in data["counties"] if c["score"] is not None]
    width, bar = 600, 22
    parts = [f'<svg class="report-chart" viewBox="0 0 {width} {bar * len(ranked) + 10}">']
    for i, c in enumerate(ranked):
        length = 420 * c["score"] / 100
        parts.append(f'<text x="0" y="{i * bar + 15}" font-size="12">{html.escape(c["name"])}'
                     f'</text><rect x="130" y="{i * bar + 4}" width="{length:.1f}" height="14" '
                     f'fill="{colour(c["score"])}"/><text x="{135 + length:.1f}" '
                     f'y="{i * bar + 15}" font-size="11">{c["score"]}</text>')  # fmt: skip
    parts.append("</svg>")
    return "".join(parts)


def _svg_trend(data: dict[str, Any]) -> str:
    weeks = data["trend_weeks"]
    width, height = 600, 220
    step = (width - 60) / max(len(weeks) - 1, 1)
    palette = ["#1565c0", "#c62828", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f",
               "#4e342e", "#ad1457", "#283593", "#9e9d24", "#37474f", "#00695c"]  # fmt: skip
    parts = [f'<svg class="report-chart" viewBox="0 0 {width} {height + 30}">']
    for i, w in enumerate(weeks):
        parts.append(f'<text x="{40 + i * step:.0f}" y="{height + 20}" font-size="10" '
                     f'text-anchor="middle">{w[5:]}</text>')  # fmt: skip
    for n, (county, values) in enumerate(data["trend"].items()):
        points = [(40 + i * step, height - height * v / 100) for i, v in enumerate(values)
                  if v is not None]  # fmt: skip
        if not points:
            continue
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{palette[n % 12]}" '
                     f'stroke-width="1.5"><title>{county}</title></polyline>')  # fmt: skip
    parts.append("</svg>")
    return "".join(parts)


def _table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{'—' if v is None else html.escape(str(v))}</td>" for v in r)
        + "</tr>"
        for r in rows
    )  # fmt: skip
    return f'<table class="table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def render_html(data: dict[str, Any]) -> str:
    title = f"聊城市生态环境每周分析研判报告 {data['week']}"
    sections = [
        f"<h1>{title}</h1>",
        f"<p>{data['first']} 至 {data['last']}（北京时间）· 快照 #{data['snapshot_id']} · "
        f"参数版本 {html.escape(data['parameters_version'])}</p>",
        "<h2>一、总体情况 Summary</h2>",
        f"<p>本周得分最高：{html.escape(str(data['best']))}；最低：{html.escape(str(data['worst']))}；"
        f"新发预警 {data['alerts']} 条；挂牌督办 {len(data['listings'])} 个。</p>",
        "<h2>二、排名及变化 Ranking</h2>",
        _table(ranking_header(data), ranking_rows(data)),
        "<h2>三、得分地图 Map</h2>", _svg_map(data),
        "<h2>四、得分及趋势 Charts</h2>", _svg_bars(data), _svg_trend(data),
        "<h2>五、挂牌督办 Listed counties</h2>",
        _table(["区县", "挂牌周", "状态", "期限", "原因", "最新进展"],
               [[x["name"], x["since"], x["state"], x["deadline"], x["reasons"], x["progress"]]
                for x in data["listings"]]),
        "<h2>六、空气和水质量 Air and water against targets</h2>",
        _table(["区县", "综合指数", "优良天数比例%", "优良率目标%", "断面达标率"],
               [[q["name"], q["air_index"], q["good_day_ratio"], q["good_day_target"],
                 q["water_attainment"]] for q in data["quality"]]),
        "<h2>七、本周突出问题和企业 Top problems and enterprises</h2>",
        _table(["规则", "预警数"], [list(x) for x in data["top_rules"]]),
        _table(["企业", "预警数"], [list(x) for x in data["top_enterprises"]]),
        "<h2>八、整改进展 Rectification</h2>",
        _table(["区县", "各状态数量"], [[c, json.dumps(v, ensure_ascii=False)]
                                      for c, v in data["rectification"].items()]),
        "<h2>九、应急减排落实 Emergency compliance</h2>",
        f"<p>预警期 {data['warnings']} 次；应急减排规则发现 {data['emergency_findings']} 条。</p>",
    ]  # fmt: skip
    style = ("body{font-family:sans-serif;max-width:960px;margin:auto}"
             "table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;"
             "padding:2px 6px;font-size:13px}"
             "svg{max-width:100%;display:block;margin:8px 0}")  # fmt: skip
    return (f'<!doctype html><html lang="zh-Hans"><head><meta charset="utf-8">'
            f"<title>{title}</title><style>{style}</style></head><body>"
            f"{''.join(sections)}</body></html>")  # fmt: skip


# ---- PDF ----------------------------------------------------------------------


def map_areas(data: dict[str, Any]) -> list[MapArea]:
    features = json.loads(COUNTIES_FILE.read_text(encoding="utf-8"))["features"]
    scores = {c["county"]: c["score"] for c in data["counties"]}
    out = []
    for feature in features:
        code = str(feature["properties"]["adcode"])
        score = scores.get(code)
        out.append(MapArea(feature["properties"]["name"], rings_of(feature["geometry"]),
                           colour(score), "—" if score is None else f"{score}"))  # fmt: skip
    return out


def render_pdf(data: dict[str, Any], created: datetime) -> bytes:
    document = PdfDocument(f"每周分析研判报告 {data['week']}", created=created, landscape=True,
                           footer_note=f"快照 #{data['snapshot_id']}")  # fmt: skip
    document.title_block(f"{data['first']} 至 {data['last']} · 参数 {data['parameters_version']}")
    document.heading("一、总体情况")
    document.paragraph(f"本周得分最高：{data['best']}；最低：{data['worst']}；新发预警 "
                       f"{data['alerts']} 条；挂牌督办 {len(data['listings'])} 个。")  # fmt: skip
    document.heading("二、排名及变化")
    document.table(ranking_header(data), ranking_rows(data))
    document.heading("三、得分地图")
    document.map("各区县本周得分", map_areas(data), [(label, c) for _, c, label in BANDS])
    ranked = [c for c in data["counties"] if c["score"] is not None]
    document.bar_chart("本周得分", [c["name"] for c in ranked],
                       [("得分", [c["score"] for c in ranked])], unit="分")  # fmt: skip
    document.line_chart("近期得分趋势", [w[5:] for w in data["trend_weeks"]],
                        [(c["name"], data["trend"][c["county"]]) for c in ranked[:6]],
                        unit="分")  # fmt: skip
    document.heading("四、挂牌督办")
    document.table(["区县", "挂牌周", "状态", "期限", "原因"],
                   [[x["name"], x["since"], x["state"], x["deadline"], x["reasons"]]
                    for x in data["listings"]] or [["—", "", "", "", ""]])  # fmt: skip
    document.heading("五、空气和水质量")
    document.table(["区县", "综合指数", "优良天数比例%", "优良率目标%", "断面达标率"],
                   [[q["name"], q["air_index"], q["good_day_ratio"], q["good_day_target"],
                     q["water_attainment"]] for q in data["quality"]])  # fmt: skip
    document.heading("六、突出问题和企业")
    document.table(["规则", "预警数"], [list(x) for x in data["top_rules"]] or [["—", 0]])
    document.table(["企业", "预警数"], [list(x) for x in data["top_enterprises"]] or [["—", 0]])
    document.heading("七、整改进展与应急减排")
    document.table(["区县", "各状态数量"], [[c, json.dumps(v, ensure_ascii=False)]
                                          for c, v in data["rectification"].items()]
                   or [["—", ""]])  # fmt: skip
    document.paragraph(f"预警期 {data['warnings']} 次；应急减排规则发现 "
                       f"{data['emergency_findings']} 条。")  # fmt: skip
    return document.to_bytes()


# ---- XLSX ---------------------------------------------------------------------


def render_xlsx(data: dict[str, Any]) -> bytes:
    workbook = Workbook(write_only=True)
    ranking = workbook.create_sheet("排名")
    keys = list(data["counties"][0]["indicators"]) if data["counties"] else []
    ranking.append(["county", "name", "rank", "rank_change", "score"]
                   + [f"{k}.value" for k in keys] + [f"{k}.score" for k in keys])  # fmt: skip
    for c in data["counties"]:
        ranking.append([safe_cell(v) for v in [c["county"], c["name"], c["rank"],
                        c["rank_change"], c["score"]]
                        + [c["indicators"][k]["value"] for k in keys]
                        + [c["indicators"][k]["score"] for k in keys]])  # fmt: skip
    listed = workbook.create_sheet("挂牌督办")
    listed.append(["county", "name", "since", "state", "deadline", "reasons"])
    for x in data["listings"]:
        listed.append([safe_cell(x[k]) for k in
                       ("county", "name", "since", "state", "deadline", "reasons")])  # fmt: skip
    quality = workbook.create_sheet("空气和水")
    quality.append(["county", "name", "air_index", "good_day_ratio", "good_day_target",
                    "water_attainment"])  # fmt: skip
    for q in data["quality"]:
        quality.append([safe_cell(q[k]) for k in ("county", "name", "air_index",
                        "good_day_ratio", "good_day_target", "water_attainment")])  # fmt: skip
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
