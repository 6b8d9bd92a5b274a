"""Read a PDF's text back with poppler's pdftotext, as a person's reader would.

Without pdftotext (Debian's poppler-utils) or a CJK font the PDF tests skip,
saying why; where services are required (CI) that is a failure."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from envwatch.reports.pdf import PdfFontMissingError, find_cjk_font
from tests.conftest import service_missing


def require_pdf_tools() -> None:
    """Skip (or fail in CI) unless PDFs can be written and read back here."""
    if shutil.which("pdftotext") is None:
        service_missing("pdftotext not installed (Debian package poppler-utils)")
    try:
        find_cjk_font()
    except PdfFontMissingError as missing:
        service_missing(missing.message_en)


def pdf_text(pdf: bytes | Path, tmp_path: Path) -> str:
    """The text of every page, in layout order."""
    if isinstance(pdf, bytes):
        path = tmp_path / "read-back.pdf"
        path.write_bytes(pdf)
    else:
        path = pdf
    done = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    )
    return done.stdout
