"""Import of inspection feedback lists (督察反馈问题清单) from CSV or XLSX, all
or nothing, through the registry's import machinery (``registry/importing.py``:
``read_table``, ``validate_rows``, ``RowError``). Each problem is written in
state 待交办 and assigned at once (交办) to its county, in one transaction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from pydantic import Field, field_validator
from sqlalchemy import Connection, insert, select

from envwatch.audit.log import SYSTEM, Actor, record
from envwatch.rectification.desk import RectificationDesk, link, queue
from envwatch.rectification.policy import RectificationPolicy
from envwatch.registry.importing import RowError, _Row, read_table, validate_rows
from envwatch.store.schema import (
    Alert,
    County,
    EnforcementCase,
    Enterprise,
    RectificationProblem,
)


def _ids(value: str) -> list[str]:
    return [part.strip() for part in value.replace("，", ",").replace("、", ",").split(",")
            if part.strip()]  # fmt: skip


class ProblemRow(_Row):
    """One row of a feedback list; the headers are the Chinese names (or the field names)."""

    source: str = Field(alias="来源", min_length=1, max_length=32)
    batch: str = Field(alias="批次", min_length=1, max_length=100)
    item_no: str = Field(alias="序号", min_length=1, max_length=32)
    title: str = Field(alias="问题", min_length=2, max_length=200)
    description: str = Field(default="", alias="问题描述", max_length=10_000)
    category: str = Field(alias="类别", min_length=1, max_length=32)
    county: str = Field(alias="区县", min_length=1, max_length=64)
    """The county's code or its Chinese name."""
    lead_unit: str = Field(alias="牵头责任单位", min_length=2, max_length=200)
    cooperating_units: str = Field(default="", alias="配合责任单位", max_length=2000)
    measures: str = Field(default="", alias="整改措施", max_length=10_000)
    deadline: date = Field(alias="整改时限")
    enterprises: str = Field(default="", alias="涉及企业", max_length=2000)
    """Unified social credit codes; the first is the problem's enterprise."""
    alerts: str = Field(default="", alias="关联预警", max_length=2000)
    cases: str = Field(default="", alias="关联案件", max_length=2000)

    @field_validator("alerts", "cases")
    @classmethod
    def _numbers(cls, value: str) -> str:
        parts = _ids(value)
        if any(not part.isdigit() or len(part) > 9 for part in parts):
            raise ValueError("ids are whole numbers, separated by commas")
        return ",".join(parts)

    @field_validator("enterprises")
    @classmethod
    def _codes(cls, value: str) -> str:
        return ",".join(_ids(value))


COLUMNS = [str(info.alias) for info in ProblemRow.model_fields.values()]
"""The columns of a feedback list, in order."""


def column(name: str) -> str:
    return str(ProblemRow.model_fields[name].alias)


def validate(
    connection: Connection, policy: RectificationPolicy, rows: list[dict[str, str]]
) -> tuple[list[ProblemRow], list[RowError]]:
    """Every problem of ``rows``: formats, then vocabulary, references and duplicates."""
    parsed, errors = validate_rows(ProblemRow, rows, first_row=2)
    if errors:
        return parsed, errors
    counties = {code: code for code in connection.execute(select(County.code)).scalars()}
    counties |= dict(connection.execute(select(County.name_zh, County.code)).all())
    enterprises = dict(connection.execute(select(Enterprise.credit_code, Enterprise.id)).all())
    known = set(
        connection.execute(
            select(RectificationProblem.source, RectificationProblem.batch,
                   RectificationProblem.item_no)
        ).all()
    )  # fmt: skip
    alerts = _existing(connection, Alert.id, (i for row in parsed for i in _ids(row.alerts)))
    cases = _existing(connection, EnforcementCase.id,
                      (i for row in parsed for i in _ids(row.cases)))  # fmt: skip
    seen: set[tuple[str, str, str]] = set()
    for number, row in enumerate(parsed, start=2):
        source = policy.source_code(row.source)
        if source is None:
            errors.append(RowError(number, column("source"), f"unknown source {row.source!r}; "
                                   f"known: {', '.join(policy.sources.values())}"))  # fmt: skip
        if policy.category_code(row.category) is None:
            errors.append(RowError(number, column("category"), f"unknown category "
                                   f"{row.category!r}; known: "
                                   f"{', '.join(policy.categories.values())}"))  # fmt: skip
        if row.county not in counties:
            errors.append(RowError(number, column("county"), f"unknown county {row.county!r}"))
        for code in _ids(row.enterprises):
            if code not in enterprises:
                errors.append(RowError(number, column("enterprises"),
                                       f"unknown enterprise {code}"))  # fmt: skip
        for ids, present, name in ((row.alerts, alerts, "alerts"), (row.cases, cases, "cases")):
            missing = [i for i in _ids(ids) if int(i) not in present]
            if missing:
                errors.append(RowError(number, column(name), f"no such {name[:-1]} "
                                       f"{', '.join(missing)}"))  # fmt: skip
        key = (source or row.source, row.batch, row.item_no)
        if key in known:
            errors.append(RowError(number, column("item_no"), "this item of this batch "
                                   "is already imported"))  # fmt: skip
        elif key in seen:
            errors.append(RowError(number, "", "repeats an earlier row of this file"))
        seen.add(key)
    return parsed, errors


def _existing(connection: Connection, id_column: Any, ids: Iterable[str]) -> set[int]:
    wanted = sorted({int(i) for i in ids})
    if not wanted:
        return set()
    return set(connection.execute(select(id_column).where(id_column.in_(wanted))).scalars())


def import_problems(
    desk: RectificationDesk,
    name: str,
    content: bytes,
    actor: Actor = SYSTEM,
    *,
    now: datetime | None = None,
) -> tuple[list[int], list[RowError]]:
    """Read a feedback list and import every problem, or none: the new
    problems' ids, or every problem found. Raises ``ImportFileError`` when the
    file is not a table."""
    return take_problems(desk, read_table(name, content), actor, source=name, now=now)


def take_problems(
    desk: RectificationDesk,
    rows: list[dict[str, Any]],
    actor: Actor = SYSTEM,
    *,
    source: str,
    now: datetime | None = None,
) -> tuple[list[int], list[RowError]]:
    """Record problems (a list's rows, or one registered by the API), every one
    or none, each assigned to its county; the new ids, or every problem found."""
    now = now or datetime.now(UTC)
    policy = desk.policy
    with desk.engine.begin() as connection:
        parsed, errors = validate(connection, policy, rows)
        if errors:
            return [], errors
        counties = {code: code for code in connection.execute(select(County.code)).scalars()}
        counties |= dict(connection.execute(select(County.name_zh, County.code)).all())
        enterprises = dict(connection.execute(select(Enterprise.credit_code, Enterprise.id)).all())
        ids = []
        for row in parsed:
            credits = _ids(row.enterprises)
            county = counties[row.county]
            values: dict[str, Any] = {
                "source": policy.source_code(row.source), "batch": row.batch,
                "item_no": row.item_no, "title": row.title, "description": row.description,
                "category": policy.category_code(row.category),
                "county_code": county,
                "enterprise_id": enterprises[credits[0]] if credits else None,
                "lead_unit": row.lead_unit, "cooperating_units": row.cooperating_units,
                "measures": row.measures,
                "deadline": datetime.combine(row.deadline, datetime.min.time()),
                "state": "new", "escalation": 0, "created_at": now, "reopened": 0,
                "summary": "",
            }  # fmt: skip
            problem_id = int(
                connection.execute(
                    insert(RectificationProblem).values(**values).returning(RectificationProblem.id)
                ).scalar_one()
            )
            for credit in credits:
                link(connection, problem_id, "enterprise", enterprises[credit])
            for alert in _ids(row.alerts):
                link(connection, problem_id, "alert", int(alert))
            for case in _ids(row.cases):
                link(connection, problem_id, "case", int(case))
            record(connection, actor, "problem.import", "rectification_problem", problem_id,
                   after={**values, "file": source}, at=now)  # fmt: skip
            # Assigned at once (交办) to the county, with its deadline.
            note = f"交办至{county}，牵头单位：{row.lead_unit}"
            desk.change(connection, problem_id, "assign", SYSTEM, now=now, note=note)
            queue(connection, problem_id, county, policy.escalation.chain[0],
                  event="assigned", now=now)  # fmt: skip
            ids.append(problem_id)
    return ids, []
