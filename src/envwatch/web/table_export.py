"""A table as a CSV or XLSX download: the same columns and rows the page or
API shows, text cells kept from being formulas (``spreadsheet.safe_cell``)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any, Literal
from urllib.parse import quote

from fastapi import Response
from openpyxl import Workbook

from envwatch.spreadsheet import safe_cell

TableFormat = Literal["csv", "xlsx"]
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def table_bytes(
    columns: Sequence[tuple[str, str]], rows: Sequence[dict[str, Any]], file_format: TableFormat
) -> bytes:
    """``rows`` under the headers of ``columns`` ((key, header) pairs)."""
    cells = [[safe_cell(row.get(key)) for key, _ in columns] for row in rows]
    headers = [header for _, header in columns]
    if file_format == "csv":
        text = io.StringIO()
        writer = csv.writer(text)
        writer.writerow(headers)
        writer.writerows(["" if c is None else c for c in line] for line in cells)
        # A BOM: Excel opens UTF-8 CSV with Chinese text correctly only with one.
        return ("\ufeff" + text.getvalue()).encode("utf-8")
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(headers)
    for line in cells:
        sheet.append(line)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def table_response(
    columns: Sequence[tuple[str, str]],
    rows: Sequence[dict[str, Any]],
    file_format: TableFormat,
    name: str,
) -> Response:
    """The download of a table, named ``name`` plus the format's extension."""
    filename = quote(f"{name}.{file_format}")
    return Response(
        table_bytes(columns, rows, file_format),
        media_type=MEDIA_TYPES[file_format],
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{filename}"},
    )
