"""Imports of the positive lists and of the total-quantity ledger from CSV or
XLSX, all or nothing, on the registry's machinery (``read_table``,
``validate_rows``, ``RowError``): every problem as (row, column, reason) and
nothing written unless there is none. A row of the positive lists admits an
enterprise (纳入) or, with a removal date, closes its open entry (移出); a
row of the ledger records freed capacity (关停 / 提标改造) or an allocation
(腾笼换鸟), refused like one entered by hand when it exceeds the balance."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from pydantic import Field, field_validator, model_validator
from sqlalchemy import Connection, Engine, select

from envwatch.audit.log import Actor
from envwatch.errors import PeerError
from envwatch.ledger.positive import (
    KIND_WORDS,
    Admission,
    admit,
    criterion_code,
    default_criteria,
    remove,
)
from envwatch.ledger.quota import CAUSE_WORDS, grams_of
from envwatch.ledger.quota_store import Allocation, Freed, record_allocation, record_freed
from envwatch.registry.importing import RowError, _Row, read_table, validate_rows
from envwatch.store.schema import Enterprise


class _RejectedError(Exception):
    """Row errors found while writing: the transaction is rolled back."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(f"{len(errors)} row errors")
        self.errors = errors


def _split(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.replace("；", ";").split(";") if part.strip()]
    return value


class PositiveRow(_Row):
    credit_code: str = Field(alias="统一社会信用代码", min_length=18, max_length=18)
    kind: str = Field(alias="清单类别", pattern=r"^(eia|enforcement)$")
    criteria: list[str] = Field(default_factory=list, alias="入选标准", max_length=20)
    reason: str = Field(default="", alias="入选理由", max_length=2000)
    added_on: date | None = Field(default=None, alias="纳入日期")
    decided_by: str = Field(default="", alias="决定单位", max_length=200)
    removed_on: date | None = Field(default=None, alias="移出日期")
    removal_reason: str = Field(default="", alias="移出理由", max_length=2000)

    _kind = field_validator("kind", mode="before")(
        classmethod(lambda cls, v: KIND_WORDS.get(v, v) if isinstance(v, str) else v)
    )
    _criteria = field_validator("criteria", mode="before")(classmethod(lambda cls, v: _split(v)))

    @model_validator(mode="after")
    def _one_action(self) -> PositiveRow:
        if self.removed_on is None:
            if self.added_on is None or not self.reason or not self.decided_by:
                raise ValueError("纳入 needs 纳入日期, 入选理由 and 决定单位")
        elif not self.removal_reason or not self.decided_by:
            raise ValueError("移出 needs 移出理由 and 决定单位")
        return self


class QuotaRow(_Row):
    county_code: str = Field(alias="区县代码", pattern=r"^\d{6}$")
    pollutant: str = Field(alias="污染物编码", min_length=1, max_length=16)
    cause: str = Field(alias="类型", pattern=r"^(closure|upgrade|project)$")
    tonnes: str = Field(alias="吨数", min_length=1, max_length=24)
    effective_on: date = Field(alias="日期")
    document_no: str = Field(alias="文号", min_length=2, max_length=100)
    credit_code: str | None = Field(default=None, alias="统一社会信用代码")
    project: str = Field(default="", alias="项目名称", max_length=200)
    sources: list[str] = Field(default_factory=list, alias="来源条目")
    note: str = Field(default="", alias="备注", max_length=2000)

    _cause = field_validator("cause", mode="before")(
        classmethod(lambda cls, v: CAUSE_WORDS.get(v, v) if isinstance(v, str) else v)
    )
    _sources = field_validator("sources", mode="before")(classmethod(lambda cls, v: _split(v)))

    @model_validator(mode="after")
    def _parts(self) -> QuotaRow:
        if self.cause == "project" and not self.project:
            raise ValueError("an allocation (腾笼换鸟) needs 项目名称")
        if self.cause != "project" and self.credit_code is None:
            raise ValueError(
                "freed capacity (关停/提标改造) needs the enterprise's 统一社会信用代码"
            )
        return self


def positive_columns() -> list[str]:
    return [str(info.alias) for info in PositiveRow.model_fields.values()]


def quota_columns() -> list[str]:
    return [str(info.alias) for info in QuotaRow.model_fields.values()]


def _enterprise_ids(connection: Connection) -> dict[str, int]:
    return dict(connection.execute(select(Enterprise.credit_code, Enterprise.id)).all())


def import_positive(
    engine: Engine, name: str, content: bytes, actor: Actor
) -> tuple[int, list[RowError]]:
    """Import a positive-list file: the rows applied, or every row error
    (nothing written). ``ImportFileError`` if it is not a table."""
    rows, errors = validate_rows(PositiveRow, read_table(name, content), first_row=2)
    if errors:
        return 0, errors
    criteria = default_criteria()
    try:
        return _apply_positive(engine, rows, criteria, actor)
    except _RejectedError as rejected:
        return 0, rejected.errors


def _apply_positive(
    engine: Engine, rows: list[PositiveRow], criteria: Any, actor: Actor
) -> tuple[int, list[RowError]]:
    errors: list[RowError] = []
    with engine.begin() as connection:
        ids = _enterprise_ids(connection)
        for number, row in enumerate(rows, start=2):
            if row.credit_code not in ids:
                errors.append(
                    RowError(number, "统一社会信用代码", f"unknown enterprise {row.credit_code}")
                )
                continue
            codes = tuple(criterion_code(c, row.kind, criteria) for c in row.criteria)
            try:
                if row.removed_on is None:
                    assert row.added_on is not None
                    admit(
                        connection,
                        Admission(
                            ids[row.credit_code],
                            row.kind,
                            codes,
                            row.reason,
                            row.added_on,
                            row.decided_by,
                        ),
                        actor,
                        criteria,
                    )
                else:
                    remove(
                        connection,
                        ids[row.credit_code],
                        row.kind,
                        on=row.removed_on,
                        reason=row.removal_reason,
                        decided_by=row.decided_by,
                        actor=actor,
                    )
            except PeerError as error:
                errors.append(RowError(number, "", f"{error.message_en} / {error.message_zh}"))
        if errors:
            raise _RejectedError(errors)
    return len(rows), []


def import_quota(
    engine: Engine, name: str, content: bytes, actor: Actor
) -> tuple[int, list[RowError]]:
    """Import ledger entries in file order (an allocation may draw on capacity
    freed by an earlier row): the rows recorded, or every row error (nothing
    written). Sources are entry ids, or ``#N`` for the entry of row N."""
    rows, errors = validate_rows(QuotaRow, read_table(name, content), first_row=2)
    if errors:
        return 0, errors
    try:
        return _apply_quota(engine, rows, actor)
    except _RejectedError as rejected:
        return 0, rejected.errors


def _apply_quota(engine: Engine, rows: list[QuotaRow], actor: Actor) -> tuple[int, list[RowError]]:
    errors: list[RowError] = []
    with engine.begin() as connection:
        ids = _enterprise_ids(connection)
        made: dict[int, int] = {}
        for number, row in enumerate(rows, start=2):
            try:
                made[number] = _quota_row(connection, row, ids, made, actor)
            except PeerError as error:
                errors.append(RowError(number, "", f"{error.message_en} / {error.message_zh}"))
        if errors:
            raise _RejectedError(errors)
    return len(rows), []


def _quota_row(
    connection: Connection, row: QuotaRow, ids: dict[str, int], made: dict[int, int], actor: Actor
) -> int:
    enterprise_id = None
    if row.credit_code is not None:
        if row.credit_code not in ids:
            raise PeerError(
                "unknown_enterprise",
                f"unknown enterprise {row.credit_code}",
                f"企业{row.credit_code}不存在",
            )
        enterprise_id = ids[row.credit_code]
    grams = grams_of(row.tonnes)
    if row.cause != "project":
        assert enterprise_id is not None
        return record_freed(
            connection,
            Freed(
                row.county_code,
                row.pollutant,
                grams,
                row.cause,
                row.effective_on,
                row.document_no,
                enterprise_id,
                row.note,
            ),
            actor,
        )
    sources = _sources(row.sources, made)
    return record_allocation(
        connection,
        Allocation(
            row.county_code,
            row.pollutant,
            grams,
            row.effective_on,
            row.document_no,
            row.project,
            enterprise_id,
            sources,
            row.note,
        ),
        actor,
    )


def _sources(texts: Sequence[str], made: dict[int, int]) -> dict[int, int] | None:
    """``id:tonnes`` or ``#row:tonnes`` items as {entry: grams}; None when empty."""
    if not texts:
        return None
    out: dict[int, int] = {}
    for text in texts:
        ref, _, amount = text.partition(":")
        ref = ref.strip()
        if ref.startswith("#") and ref[1:].isdigit() and int(ref[1:]) in made:
            key = made[int(ref[1:])]
        elif ref.isdigit():
            key = int(ref)
        else:
            raise PeerError(
                "bad_source",
                f"source {text!r}: an entry id or #row, then :tonnes",
                f"来源条目{text!r}格式应为 条目编号:吨数 或 #行号:吨数",
            )
        out[key] = out.get(key, 0) + grams_of(amount)
    return out


def errors_json(errors: Sequence[RowError]) -> list[dict[str, Any]]:
    return [{"row": e.row, "column": e.column, "reason": e.reason} for e in errors]
