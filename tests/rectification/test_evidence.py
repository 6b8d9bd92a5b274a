"""Evidence uploads: limits, wrong types, names (pure)."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook

from envwatch.rectification.evidence import EvidenceError, Upload, check_file
from envwatch.rectification.policy import EvidencePolicy, load_policy
from tests.rectification.helpers import PDF, PNG

LIMITS = load_policy().evidence


def refusal(name: str, content: bytes, limits: EvidencePolicy = LIMITS) -> str:
    with pytest.raises(EvidenceError) as refused:
        check_file(Upload(name, content), limits)
    return refused.value.code


def test_allowed_types_by_their_bytes() -> None:
    assert check_file(Upload("验收报告.pdf", PDF), LIMITS) == "application/pdf"
    assert check_file(Upload("现场.PNG", PNG), LIMITS) == "image/png"
    assert check_file(Upload("photo.jpg", b"\xff\xd8\xff\xe0" + b"0" * 20), LIMITS) == "image/jpeg"
    assert check_file(Upload("台账.csv", "编号,结果\n1,合格\n".encode()), LIMITS).startswith(
        "text/csv"
    )
    book = io.BytesIO()
    Workbook().save(book)
    assert check_file(Upload("清单.xlsx", book.getvalue()), LIMITS).endswith("sheet")


def test_wrong_types_and_names_are_refused() -> None:
    assert refusal("report.pdf", b"#!/bin/sh\nrm -rf /\n") == "file_type_mismatch"
    assert refusal("report.exe", b"MZ\x90\x00") == "file_type_not_allowed"
    assert refusal("report", PDF) == "file_type_not_allowed"
    assert refusal("fake.xlsx", b"PK\x03\x04not really a zip") == "file_type_mismatch"
    assert refusal("binary.txt", b"a\x00b") == "file_type_mismatch"
    assert refusal("empty.pdf", b"") == "empty_file"
    assert refusal("../", PDF) == "bad_file_name"
    assert refusal("a\nb.pdf", PDF) == "bad_file_name"


def test_size_limit() -> None:
    small = LIMITS.model_copy(update={"max_bytes": len(PDF)})
    assert check_file(Upload("ok.pdf", PDF), small) == "application/pdf"
    assert refusal("big.pdf", PDF + b" ", small) == "file_too_large"
    only_pdf = LIMITS.model_copy(update={"types": ("pdf",)})
    assert refusal("photo.png", PNG, only_pdf) == "file_type_not_allowed"
