"""Inspection campaigns (大排查大整治), pure: a campaign as its file or API
body gives it (theme, period, counties, checklist, targets), a row of
inspection results, and the progress figures by county. The store's edge is
``campaign_desk.py``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from envwatch.registry.importing import _Row

RESULTS = ("pass", "fail", "na")
RESULT_WORDS = {"pass": "pass", "fail": "fail", "na": "na", "合格": "pass", "不合格": "fail",
                "不适用": "na", "通过": "pass", "不通过": "fail"}  # fmt: skip
"""The words a result is written with (a file's, the form's) and their codes."""
RESULTS_ZH = {"pass": "合格", "fail": "不合格", "na": "不适用"}


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _printable(cls, value: object) -> object:
        if isinstance(value, str) and any(ord(c) < 32 for c in value):
            raise ValueError("control characters are not allowed")
        return value


class ItemSpec(_Spec):
    """A checklist item: what is checked, on what legal basis, how serious (a
    severity's code or Chinese name, policy.toml [campaigns])."""

    text: str = Field(min_length=2, max_length=500)
    legal_basis: str = Field(default="", max_length=500)
    severity: str = Field(min_length=1, max_length=16)


class TargetSpec(_Spec):
    """What is inspected: a register's kind and the row's id."""

    kind: str = Field(min_length=1, max_length=32)
    id: int = Field(ge=1, le=2**31 - 1)


class CampaignSpec(_Spec):
    """A campaign as a TOML/JSON file or the API's body gives it."""

    name: str = Field(min_length=2, max_length=100)
    theme: str = Field(min_length=1, max_length=32)
    """A theme's code or Chinese name (policy.toml [campaigns])."""
    starts_on: date
    ends_on: date
    counties: list[str] = Field(default_factory=list, max_length=50)
    """County codes or names; empty: the whole city."""
    items: list[ItemSpec] = Field(min_length=1, max_length=200)
    targets: list[TargetSpec] = Field(default_factory=list, max_length=5000)

    @model_validator(mode="after")
    def _period(self) -> CampaignSpec:
        if self.ends_on < self.starts_on:
            raise ValueError("ends_on comes before starts_on")
        return self


class ResultRow(_Row):
    """One result of an inspection: the target (kind and id), the checklist
    item (its number), the result and a note; the headers are the Chinese
    names (or the field names)."""

    kind: str = Field(alias="对象类型", min_length=1, max_length=32)
    ref_id: int = Field(alias="对象编号", ge=1, le=2**31 - 1)
    item: int = Field(alias="检查项", ge=1, le=10_000)
    result: str = Field(alias="结果", min_length=1, max_length=8)
    note: str = Field(default="", alias="说明", max_length=4000)
    evidence_name: str = Field(default="", alias="佐证文件", max_length=200)
    evidence_sha256: str = Field(default="", alias="佐证SHA256", pattern=r"^([0-9a-f]{64})?$")

    @field_validator("result")
    @classmethod
    def _result(cls, value: str) -> str:
        code = RESULT_WORDS.get(value.strip().lower())
        if code is None:
            raise ValueError("合格/不合格/不适用 (pass/fail/na)")
        return code

    @model_validator(mode="after")
    def _evidence(self) -> ResultRow:
        if bool(self.evidence_name) != bool(self.evidence_sha256):
            raise ValueError("佐证文件 and 佐证SHA256 come together")
        return self


RESULT_COLUMNS = [str(info.alias) for info in ResultRow.model_fields.values()]


def result_column(name: str) -> str:
    return str(ResultRow.model_fields[name].alias)


def problem_item_no(target_id: int, item_number: int) -> str:
    """A failed item's number within its campaign's batch of problems."""
    return f"{target_id}-{item_number}"


@dataclass(frozen=True, slots=True)
class TargetState:
    county: str
    inspected: bool
    failed: int
    """Failed items at the target."""
    opened: int
    """Problems its failed items opened."""
    closed: int
    """... of them closed (销号)."""


PROGRESS_KEYS = ("targets", "inspected", "items_failed", "problems_opened", "problems_closed")


def progress_by_county(targets: Iterable[TargetState]) -> list[dict[str, Any]]:
    """Per county (sorted): targets, targets inspected, items failed, problems
    opened and closed; and a last row for the whole campaign (county ``""``)."""
    rows: dict[str, dict[str, int]] = {}
    total = dict.fromkeys(PROGRESS_KEYS, 0)
    for target in targets:
        row = rows.setdefault(target.county, dict.fromkeys(PROGRESS_KEYS, 0))
        for figures in (row, total):
            figures["targets"] += 1
            figures["inspected"] += target.inspected
            figures["items_failed"] += target.failed
            figures["problems_opened"] += target.opened
            figures["problems_closed"] += target.closed
    return [{"county": county} | rows[county] for county in sorted(rows)] + [{"county": ""} | total]
