"""The PDF writer: Chinese text embedded and readable, tables across pages,
charts and the county map drawn, the same inputs giving the same file."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from envwatch.reports.pdf import MapArea, PdfDocument, PdfFontMissingError, find_cjk_font
from envwatch.web.mapsvg import COUNTIES_FILE, rings_of
from tests.pdftext import pdf_text, require_pdf_tools

CREATED = datetime(2026, 10, 1, 8, 0)


def _document() -> bytes:
    doc = PdfDocument("聊城市排污审计档案", created=CREATED, footer_note="测试")
    doc.title_block("东昌府区 · 2026年第三季度")
    doc.heading("一、许可排放量执行情况")
    doc.paragraph("二氧化硫实际排放量 12.345 吨，占年许可排放量的 81.2%。")
    rows = [[f"排放口{i:03d}", "二氧化硫", 100.0 + i, None] for i in range(120)]
    doc.table(["排放口", "污染物", "排放量(t)", "备注"], rows, widths=(2, 2, 1, 1))
    doc.bar_chart(
        "月度排放量", ["7月", "8月", "9月"], [("实测", [1.0, 2.0, None])], unit="t",
        reference=("月许可量", 2.5),
    )  # fmt: skip
    doc.line_chart("累计排放量", ["7月", "8月", "9月"], [("累计", [1.0, None, 3.0])])
    features = json.loads(COUNTIES_FILE.read_text(encoding="utf-8"))["features"]
    doc.map(
        "各县（市、区）得分",
        [MapArea(f["properties"]["name"], rings_of(f["geometry"]), "#91cc75") for f in features],
        [("优 good", "#91cc75")],
    )
    return doc.to_bytes()


def test_chinese_text_tables_and_map_labels_read_back(tmp_path: Path) -> None:
    require_pdf_tools()
    text = pdf_text(_document(), tmp_path)
    assert "聊城市排污审计档案" in text
    assert "占年许可排放量的 81.2%" in text
    # A table longer than a page goes on, its heading repeated: every row is there.
    assert "排放口000" in text and "排放口119" in text
    headings = [line for line in text.splitlines() if "排放量(t)" in line and "备注" in line]
    assert len(headings) >= 2
    assert "月许可量" in text and "累计排放量" in text
    # Every county is named on the map.
    for name in ("东昌府区", "临清市", "冠县", "高唐县"):
        assert name in text
    assert "\f" in text  # more than one page


def test_same_inputs_give_the_same_file() -> None:
    require_pdf_tools()
    assert _document() == _document()


def test_the_font_is_embedded(tmp_path: Path) -> None:
    require_pdf_tools()
    pdf = _document()
    assert b"/FontFile2" in pdf  # the TrueType program travels in the file


def test_missing_font_names_the_package_and_the_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ENVWATCH_PDF_FONT", str(tmp_path / "none.ttf"))
    with pytest.raises(PdfFontMissingError) as raised:
        find_cjk_font()
    assert raised.value.code == "pdf_font_missing"
    assert "fonts-wqy-zenhei" in raised.value.message_en
    assert "ENVWATCH_PDF_FONT" in raised.value.message_zh
    with pytest.raises(PdfFontMissingError):
        PdfDocument("标题", created=CREATED)
