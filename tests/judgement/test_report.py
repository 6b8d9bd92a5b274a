"""The weekly report: the CLI writes page, PDF and XLSX; the PDF holds the
Chinese ranking (read back with pdftotext), the XLSX the JSON's figures; the
report is kept with its snapshot."""

from __future__ import annotations

import json
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from envwatch.cli import app
from envwatch.store.schema import WeeklyReport
from tests.judgement.conftest import WEEK
from tests.pdftext import pdf_text, require_pdf_tools


def test_weekly_report_files(city: Engine, tmp_path: Path) -> None:
    require_pdf_tools()
    url = city.url.render_as_string(hide_password=False)
    runner = CliRunner()
    made = runner.invoke(app, ["report", "weekly", "--db", url, "--week", WEEK,
                               "--out", str(tmp_path)])  # fmt: skip
    assert made.exit_code == 0, made.output
    judged = runner.invoke(app, ["judge", "week", "--db", url, "--week", WEEK, "--json"])
    document = json.loads(judged.stdout)
    names = {r["county"]: r for r in document["counties"]}

    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "排名及变化" in page and "<svg" in page and "http" not in page.split("</title>")[1]

    text = pdf_text(tmp_path / "report.pdf", tmp_path)
    assert "排名及变化" in text and "每周分析研判报告" in text
    for county in document["counties"]:
        shown = "—" if county["score"] is None else f"{county['score']:g}"
        found = next(line for line in text.splitlines() if county["county"] in line)
        assert shown in found.split(county["county"])[1], found

    book = load_workbook(tmp_path / "report.xlsx", read_only=True)
    rows = list(book["排名"].iter_rows(values_only=True))
    book.close()
    header = list(rows[0])
    assert len(rows) - 1 == len(document["counties"])
    for cells in rows[1:]:
        row = dict(zip(header, cells, strict=True))
        expected = names[row["county"]]
        assert row["score"] == expected["score"] and row["rank"] == expected["rank"]
        for name, figures in expected["indicators"].items():
            assert row[f"{name}.score"] == figures["score"]
            assert row[f"{name}.value"] == figures["value"]

    with city.connect() as connection:
        kept = connection.execute(select(WeeklyReport.week, WeeklyReport.pdf)).all()
    assert [k.week for k in kept] == [WEEK]
    assert kept[0].pdf == (tmp_path / "report.pdf").read_bytes()
