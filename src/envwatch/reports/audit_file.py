"""The permit audit file rendered (审计档案): a PDF in Chinese with the font
embedded (``reports/pdf.py``) and an XLSX workbook shaped like an execution
report (执行报告: monthly, quarterly and annual tables of actual emissions and
compliance), both from the document ``permits/audit_file.build_audit`` made.
Pure functions of the document: the same document gives the same bytes (the
PDF's date and the workbook's dates and ZIP entry times are the file's
``as_of``)."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from openpyxl import Workbook, load_workbook

from envwatch.permits.audit_file import METHOD_NAMES_ZH, METHODS
from envwatch.reports.pdf import PdfDocument
from envwatch.spreadsheet import safe_cell

STATUS_ZH = {"ok": "符合", "warning": "关注", "problem": "问题"}
TOTAL_STATUS_ZH = {"ok": "正常", "warning": "预警", "alarm": "报警", "no_permit": "无许可量"}
KIND_ZH = {"year": "年度", "quarter": "季度", "month": "月度"}
CATEGORY_ZH = {"key": "重点管理", "simplified": "简化管理", "registration": "登记管理"}


def _name(document: dict[str, Any], code: str) -> str:
    name = document.get("pollutant_names", {}).get(code)
    return f"{name}（{code}）" if name else code


def _t(value: float | None) -> str | None:
    return None if value is None else f"{value:.3f}"


def _share(value: float | None) -> str | None:
    return None if value is None else f"{value:.1%}"


def title_of(document: dict[str, Any]) -> str:
    return f"{document['enterprise']['name']} 排污许可审计档案 {document['period']['label']}"


def _summary(document: dict[str, Any]) -> list[tuple[str, object]]:
    period = document["period"]
    return [
        ("企业 Enterprise", f"{document['enterprise']['name']}（{document['enterprise']['id']}）"),
        ("所在区县 County", document["enterprise"]["county"]),
        (
            "审计期间 Period",
            f"{period['label']}（{KIND_ZH[period['kind']]}，"
            f"{period['start'][:10]} 至 {period['end'][:10]}）",
        ),
        ("判定时点 As of", document["as_of"]),
        ("数据截至帧 Newest frame", document["newest_frame_id"]),
        ("参数版本 Parameters", document["parameters_version"]),
    ]


def _annual_rows(document: dict[str, Any]) -> list[list[object]]:
    return [
        [
            _name(document, r["pollutant"]),
            _t(r["permitted_t"]),
            *[_t(r[m]) for m in METHODS],
            _t(r["actual_t"]),
            _share(r["share"]),
            _t(r["projection_t"]),
            TOTAL_STATUS_ZH.get(r["status"], r["status"]),
        ]
        for r in document["annual"]
    ]


ANNUAL_HEADER = (
    "污染物",
    "年许可量 t",
    *[f"{METHOD_NAMES_ZH[m]} t" for m in METHODS],
    "累计排放 t",
    "占许可",
    "全年预测 t",
    "状态",
)


def audit_pdf(document: dict[str, Any]) -> bytes:
    """The audit file as a PDF."""
    as_of = datetime.fromisoformat(document["as_of"])
    pdf = PdfDocument(
        title_of(document),
        created=as_of,
        footer_note=f"envwatch 排污审计 · 数据截至帧 {document['newest_frame_id']}",
    )
    pdf.title_block("排污许可执行情况审计（审计式监管） / Permit audit file")
    pdf.key_values(_summary(document))
    pdf.heading("一、排污许可证")
    pdf.table(
        ("许可证编号", "版本", "管理类别", "有效期起", "有效期止"),
        [
            (
                p["number"],
                p["version"],
                CATEGORY_ZH.get(p["category"], p["category"]),
                p["valid_from"],
                p["valid_to"],
            )
            for p in document["permits"]
        ]
        or [("未登记", None, None, None, None)],
        widths=(3, 1, 1.5, 1.5, 1.5),
    )
    pdf.heading("二、合规检查")
    pdf.table(
        ("检查项", "结论", "说明"),
        [
            (c["title_zh"], STATUS_ZH.get(c["status"], c["status"]), c["detail_zh"])
            for c in document["checks"]
        ],
        widths=(1.3, 0.7, 4),
    )
    pdf.heading("三、发现的问题及整改建议")
    pdf.table(
        ("问题", "整改建议"),
        [(p["problem_zh"], p["rectification_zh"]) for p in document["problems"]]
        or [("未发现问题", "—")],
        widths=(3, 2),
    )
    pdf.heading("四、实际排放量（年初至期末）")
    pdf.table(ANNUAL_HEADER, _annual_rows(document), size=7.5,
              widths=(2.4, 1.2, 1.2, 1.2, 1.2, 1.2, 1.2, 1.2, 1, 1.2, 0.8))  # fmt: skip
    months = sorted({r["month"] for r in document["monthly"]})
    for code in sorted({r["pollutant"] for r in document["monthly"]}):
        rows = {r["month"]: r for r in document["monthly"] if r["pollutant"] == code}
        series = [(METHOD_NAMES_ZH[m], [rows[month][m] for month in months]) for m in METHODS]
        permitted = next(
            (r["permitted_t"] for r in document["annual"] if r["pollutant"] == code), None
        )
        reference = ("许可量/12", permitted / 12) if permitted else None
        pdf.bar_chart(
            f"{_name(document, code)} 月排放量（按核算方法）",
            months,
            series,
            unit="t",
            reference=reference,
            height=45,
        )
    pdf.heading("五、月度排放量", level=2)
    pdf.table(
        ("月份", "污染物", *[METHOD_NAMES_ZH[m] for m in METHODS], "合计 t", "月许可量 t"),
        [
            (
                r["month"],
                _name(document, r["pollutant"]),
                *[_t(r[m]) for m in METHODS],
                _t(r["actual_t"]),
                _t(r["monthly_cap_t"]),
            )
            for r in document["monthly"]
        ],
        size=7.5,
        widths=(1, 2.4, 1, 1, 1, 1, 1, 1),
    )
    pdf.heading("六、季度排放量", level=2)
    pdf.table(
        ("季度", "污染物", *[METHOD_NAMES_ZH[m] for m in METHODS], "合计 t"),
        [
            (
                r["quarter"],
                _name(document, r["pollutant"]),
                *[_t(r[m]) for m in METHODS],
                _t(r["actual_t"]),
            )
            for r in document["quarterly"]
        ],
        size=7.5,
        widths=(1, 2.4, 1, 1, 1, 1, 1),
    )
    pdf.heading("七、证据")
    checks = {c["code"]: c for c in document["checks"]}
    hours = checks["data_hours"]["evidence"]["series"]
    pdf.heading("监测数据小时数（有效 / 替代 / 缺失）", level=2)
    pdf.table(
        ("设备/排放口", "污染物", "有效", "替代", "直排", "手工", "停运", "缺失", "不可用"),
        [
            (
                f"{h['mn']} {h['outlet']}".strip(),
                _name(document, h["pollutant"]),
                h["measured"],
                h["substituted"],
                h["direct"],
                h["manual"],
                h["stopped"],
                h["missing"],
                h["unusable"],
            )
            for h in hours
        ]
        or [("—",) * 9],
        widths=(3, 2, 1, 1, 1, 1, 1, 1, 1),
        size=7,
    )
    pdf.heading("季度有效数据捕集率", level=2)
    pdf.table(
        ("设备", "污染物", "季度", "捕集率", "结论"),
        [
            (
                r["mn"],
                _name(document, r["pollutant"]),
                r["quarter"],
                _share(r["rate"]),
                "符合" if r["ok"] else "低于阈值",
            )
            for r in checks["capture_rate"]["evidence"]
        ]
        or [("—",) * 5],
        widths=(3, 2, 1, 1, 1),
        size=7,
    )
    pdf.heading("预警报警及处置结果", level=2)
    pdf.table(
        ("编号", "规则", "污染物", "级别", "状态", "处置结果", "发起时间"),
        [
            (
                a["id"],
                a["rule"],
                a["pollutant"],
                a["level"],
                a["state"],
                a["outcome"],
                (a["opened_at"] or "")[:16],
            )
            for a in checks["alerts"]["evidence"]
        ]
        or [("—",) * 7],
        size=7,
    )
    pdf.heading("执法案件及处罚", level=2)
    pdf.table(
        ("编号", "类型", "状态", "立案时间", "处罚决定书", "认定事实"),
        [
            (
                c["id"],
                c["kind"],
                c["state"],
                (c["opened_at"] or "")[:10],
                c["penalty_reference"],
                c["findings"],
            )
            for c in checks["cases"]["evidence"]
        ]
        or [("—",) * 6],
        size=7,
    )
    for code, title in (("electricity", "用电异常"), ("falsification", "疑似数据造假")):
        pdf.heading(title, level=2)
        pdf.table(
            ("编号", "设备", "规则", "时间", "说明"),
            [
                (f["id"], f["mn"], f["title_zh"], f["at"][:16], f["explanation"])
                for f in checks[code]["evidence"]
            ]
            or [("—",) * 5],
            widths=(1, 2.5, 1.2, 1.6, 4),
            size=7,
        )
    return pdf.to_bytes()


def _sheet(
    workbook: Workbook, title: str, header: Sequence[str], rows: Sequence[Sequence[object]]
) -> None:
    sheet = workbook.create_sheet(title)
    sheet.append(list(header))
    for row in rows:
        sheet.append([safe_cell(cell) for cell in row])


def audit_xlsx(document: dict[str, Any]) -> bytes:
    """The audit file as a workbook shaped like an execution report."""
    as_of = datetime.fromisoformat(document["as_of"])
    workbook = Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    _sheet(workbook, "概况", ("项目", "内容"), _summary(document))
    _sheet(
        workbook,
        "合规检查",
        ("代码", "检查项", "结论", "说明", "Check", "Detail"),
        [
            (
                c["code"],
                c["title_zh"],
                STATUS_ZH.get(c["status"], c["status"]),
                c["detail_zh"],
                c["title_en"],
                c["detail_en"],
            )
            for c in document["checks"]
        ],
    )
    _sheet(
        workbook,
        "问题与整改",
        ("代码", "问题", "整改建议"),
        [(p["code"], p["problem_zh"], p["rectification_zh"]) for p in document["problems"]],
    )
    _sheet(
        workbook,
        "月度排放量",
        (
            "月份",
            "污染物编码",
            "污染物",
            *[f"{METHOD_NAMES_ZH[m]}(t)" for m in METHODS],
            "合计(t)",
            "月许可排放量(t)",
        ),
        [
            (
                r["month"],
                r["pollutant"],
                _name(document, r["pollutant"]),
                *[r[m] for m in METHODS],
                r["actual_t"],
                r["monthly_cap_t"],
            )
            for r in document["monthly"]
        ],
    )
    _sheet(
        workbook,
        "季度排放量",
        ("季度", "污染物编码", "污染物", *[f"{METHOD_NAMES_ZH[m]}(t)" for m in METHODS], "合计(t)"),
        [
            (
                r["quarter"],
                r["pollutant"],
                _name(document, r["pollutant"]),
                *[r[m] for m in METHODS],
                r["actual_t"],
            )
            for r in document["quarterly"]
        ],
    )
    _sheet(
        workbook,
        "年度排放量",
        (
            "污染物编码",
            "污染物",
            "年许可排放量(t)",
            *[f"{METHOD_NAMES_ZH[m]}(t)" for m in METHODS],
            "累计排放量(t)",
            "占许可比例",
            "全年预测(t)",
            "状态",
        ),
        [
            (
                r["pollutant"],
                _name(document, r["pollutant"]),
                r["permitted_t"],
                *[r[m] for m in METHODS],
                r["actual_t"],
                r["share"],
                r["projection_t"],
                TOTAL_STATUS_ZH.get(r["status"], r["status"]),
            )
            for r in document["annual"]
        ],
    )
    checks = {c["code"]: c for c in document["checks"]}
    _sheet(
        workbook,
        "数据小时数",
        ("设备", "排放口", "污染物", "有效", "替代", "直排", "手工", "停运", "缺失", "不可用"),
        [
            (
                h["mn"],
                h["outlet"],
                h["pollutant"],
                h["measured"],
                h["substituted"],
                h["direct"],
                h["manual"],
                h["stopped"],
                h["missing"],
                h["unusable"],
            )
            for h in checks["data_hours"]["evidence"]["series"]
        ],
    )
    _sheet(
        workbook,
        "捕集率",
        ("设备", "污染物", "季度", "捕集率", "符合"),
        [
            (r["mn"], r["pollutant"], r["quarter"], r["rate"], "是" if r["ok"] else "否")
            for r in checks["capture_rate"]["evidence"]
        ],
    )
    _sheet(
        workbook,
        "预警报警",
        ("编号", "规则", "污染物", "级别", "状态", "处置结果", "发起时间", "办结时间", "案件"),
        [
            (
                a["id"],
                a["rule"],
                a["pollutant"],
                a["level"],
                a["state"],
                a["outcome"],
                a["opened_at"],
                a["closed_at"],
                a["case_id"],
            )
            for a in checks["alerts"]["evidence"]
        ],
    )
    _sheet(
        workbook,
        "执法案件",
        ("编号", "类型", "状态", "立案时间", "结案时间", "处罚决定书", "认定事实"),
        [
            (
                c["id"],
                c["kind"],
                c["state"],
                c["opened_at"],
                c["closed_at"],
                c["penalty_reference"],
                c["findings"],
            )
            for c in checks["cases"]["evidence"]
        ],
    )
    _sheet(
        workbook,
        "线索",
        ("类别", "编号", "设备", "规则", "时间", "说明"),
        [
            (kind, f["id"], f["mn"], f["rule"], f["at"], f["explanation"])
            for kind in ("electricity", "falsification")
            for f in checks[kind]["evidence"]
        ],
    )
    workbook.properties.created = as_of
    workbook.properties.modified = as_of
    workbook.properties.creator = "envwatch"
    workbook.properties.lastModifiedBy = "envwatch"
    out = io.BytesIO()
    workbook.save(out)
    return _fixed_zip(out.getvalue(), as_of)


def _fixed_zip(data: bytes, moment: datetime) -> bytes:
    """The ZIP with every entry's time, and the workbook's modified date, set
    to ``moment`` (a ZIP records when it was written; an audit file must not)."""
    stamp = (
        max(moment.year, 1980),
        moment.month,
        moment.day,
        moment.hour,
        moment.minute,
        moment.second // 2 * 2,
    )
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for entry in source.infolist():
            info = zipfile.ZipInfo(entry.filename, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = entry.external_attr
            data = source.read(entry.filename)
            if entry.filename == "docProps/core.xml":  # openpyxl stamps the save's time
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                              rb"\g<1>" + moment.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
                              + rb"\g<2>", data)  # fmt: skip
            target.writestr(info, data)
    return out.getvalue()


def read_back(xlsx: bytes) -> dict[str, list[list[Any]]]:
    """Every sheet's rows (for tests and the API's consistency checks)."""
    workbook = load_workbook(io.BytesIO(xlsx), read_only=True)
    return {
        sheet.title: [list(row) for row in sheet.iter_rows(values_only=True)]
        for sheet in workbook.worksheets
    }
