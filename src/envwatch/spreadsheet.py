"""Cells that spreadsheet programs cannot run: text written to CSV or XLSX that
starts with ``= + - @`` (or a tab or carriage return) would be read as a
formula (CSV injection), so it goes out behind an apostrophe, which the
program shows as text and envwatch's imports take off again."""

from __future__ import annotations

from typing import Any, Final

FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")
QUOTE: Final = "'"


def safe_cell(value: Any) -> Any:
    """``value`` as a cell: numbers as they are, text never a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return QUOTE + value
    return value


def cell_text(text: str) -> str:
    """What ``safe_cell`` wrote, read back: the apostrophe it added taken off."""
    if text.startswith(QUOTE) and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text
