"""The positive lists (正面清单) as a register: the EIA-approval list
(环评审批正面清单, kind ``eia``) and the enforcement list (监督执法正面清单,
``enforcement``). Each entry is one spell of an enterprise on a list: the
criteria it met (codes of a version of ``criteria.toml``), the reason, the
dates it was added and removed and who decided each. Removal closes the
entry; a re-admission is a new one, so the history keeps both. The
enterprise's former flag (``Enterprise.positive_list``) is read from the
register: an open entry of the enforcement list."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Connection, delete, insert, select, update

from envwatch.audit.log import Actor, record
from envwatch.errors import ConfigError, PeerError
from envwatch.store.schema import (
    EmissionDeclaration,
    EnergyDeclaration,
    EnterpriseOutput,
    PositiveListEntry,
)

ListKind = Literal["eia", "enforcement"]
KINDS: tuple[str, ...] = ("eia", "enforcement")
KIND_WORDS = {
    "环评审批": "eia",
    "环评审批正面清单": "eia",
    "监督执法": "enforcement",
    "监督执法正面清单": "enforcement",
}
REGISTRY_VERSION = "registry"
"""The criteria version of entries made by the registry's flag (no criteria given)."""


class PositiveListError(PeerError):
    """A change of the register refused: nothing was recorded."""


@dataclass(frozen=True, slots=True)
class Criterion:
    code: str
    zh: str
    en: str


@dataclass(frozen=True, slots=True)
class ListCriteria:
    name_zh: str
    name_en: str
    min_criteria: int
    criteria: tuple[Criterion, ...]

    def codes(self) -> set[str]:
        return {c.code for c in self.criteria}


@dataclass(frozen=True, slots=True)
class CriteriaVersion:
    id: str
    valid_from: date
    source: str
    kinds: Mapping[str, ListCriteria]


@dataclass(frozen=True, slots=True)
class Criteria:
    current: str
    versions: Mapping[str, CriteriaVersion]

    def of(self, version: str | None = None) -> CriteriaVersion:
        return self.versions[version or self.current]


def load_criteria(path: Path | None = None) -> Criteria:
    """The versions of ``criteria.toml`` (or ``path``), checked."""
    where = path or "ledger/criteria.toml"
    text = (
        path.read_text("utf-8")
        if path is not None
        else resources.files("envwatch.ledger").joinpath("criteria.toml").read_text("utf-8")
    )
    raw = tomllib.loads(text)
    try:
        versions = {
            v["id"]: CriteriaVersion(
                v["id"],
                date.fromisoformat(v["valid_from"]),
                v["source"],
                {
                    kind: ListCriteria(
                        k["name_zh"],
                        k["name_en"],
                        int(k["min_criteria"]),
                        tuple(Criterion(c["code"], c["zh"], c["en"]) for c in k["criteria"]),
                    )
                    for kind, k in v["kinds"].items()
                },
            )
            for v in raw["version"]
        }
        current = str(raw["current"])
    except (KeyError, TypeError, ValueError) as error:
        raise ConfigError(
            where, f"missing or bad value: {error!r}", f"缺少或无效的取值：{error!r}"
        ) from error
    if current not in versions:
        raise ConfigError(
            where, f"current version {current!r} is not defined", f"当前版本{current!r}未定义"
        )
    for version in versions.values():
        if set(version.kinds) != set(KINDS):
            raise ConfigError(
                where,
                f"version {version.id} must define {', '.join(KINDS)}",
                f"版本{version.id}须定义两类清单",
            )
        for kind in version.kinds.values():
            if not 0 < kind.min_criteria <= len(kind.criteria):
                raise ConfigError(
                    where,
                    f"version {version.id}: min_criteria out of range",
                    f"版本{version.id}：min_criteria 超出范围",
                )
    return Criteria(current, versions)


@cache
def default_criteria() -> Criteria:
    return load_criteria()


def criteria_problems(kind: str, codes: Sequence[str], criteria: Criteria) -> list[tuple[str, str]]:
    """What is wrong with ``codes`` as the criteria of an entry of ``kind``
    under the current version (English, Chinese); empty when nothing."""
    listed = criteria.of().kinds[kind]
    unknown = [code for code in codes if code not in listed.codes()]
    problems = [
        (f"unknown criterion {code!r} of the {listed.name_en}", f"{listed.name_zh}无此标准：{code}")
        for code in unknown
    ]
    if len(set(codes) - set(unknown)) < listed.min_criteria:
        problems.append(
            (
                f"the {listed.name_en} needs at least {listed.min_criteria} criteria met",
                f"{listed.name_zh}至少须满足{listed.min_criteria}项标准",
            )
        )
    return problems


def criterion_code(text: str, kind: str, criteria: Criteria) -> str:
    """A criterion's code from its code or its Chinese or English wording."""
    for criterion in criteria.of().kinds[kind].criteria:
        if text in (criterion.code, criterion.zh, criterion.en):
            return criterion.code
    return text


def open_entry(connection: Connection, enterprise_id: int, kind: str) -> Any:
    return connection.execute(
        select(PositiveListEntry).where(
            PositiveListEntry.enterprise_id == enterprise_id,
            PositiveListEntry.kind == kind,
            PositiveListEntry.removed_on.is_(None),
        )
    ).first()


def already_listed(enterprise_id: int, kind: str, since: date) -> PositiveListError:
    return PositiveListError(
        "already_listed",
        f"enterprise {enterprise_id} is on the {kind} list since {since}: remove it first",
        f"企业{enterprise_id}自{since}起已在该正面清单中，如需重新纳入请先移出",
    )


@dataclass(frozen=True, slots=True)
class Admission:
    enterprise_id: int
    kind: str
    criteria: tuple[str, ...]
    reason: str
    added_on: date
    decided_by: str
    criteria_version: str = ""


def admit(
    connection: Connection, admission: Admission, actor: Actor, criteria: Criteria | None = None
) -> int:
    """Put an enterprise on a list (a new entry; refused while one is open)."""
    criteria = criteria or default_criteria()
    version = admission.criteria_version or criteria.current
    if version != REGISTRY_VERSION:
        problems = criteria_problems(admission.kind, admission.criteria, criteria)
        if problems:
            raise PositiveListError(
                "bad_criteria", "; ".join(p[0] for p in problems), "；".join(p[1] for p in problems)
            )
    found = open_entry(connection, admission.enterprise_id, admission.kind)
    if found is not None:
        raise already_listed(admission.enterprise_id, admission.kind, found.added_on)
    values = {
        "enterprise_id": admission.enterprise_id,
        "kind": admission.kind,
        "criteria_version": version,
        "criteria": list(admission.criteria),
        "reason": admission.reason,
        "added_on": admission.added_on,
        "decided_by": admission.decided_by,
        "removal_reason": "",
        "removed_by": "",
    }
    entry_id = int(
        connection.execute(
            insert(PositiveListEntry).values(**values).returning(PositiveListEntry.id)
        ).scalar_one()
    )
    record(
        connection,
        actor,
        "positive_list.admit",
        "positive_list_entry",
        entry_id,
        after={**values, "added_on": admission.added_on.isoformat()},
    )
    return entry_id


def remove(
    connection: Connection,
    enterprise_id: int,
    kind: str,
    *,
    on: date,
    reason: str,
    decided_by: str,
    actor: Actor,
) -> int:
    """Take an enterprise off a list: its open entry closes; refused if none."""
    found = open_entry(connection, enterprise_id, kind)
    if found is None:
        raise PositiveListError(
            "not_listed",
            f"enterprise {enterprise_id} is not on the {kind} list",
            f"企业{enterprise_id}不在该正面清单中",
        )
    if on < found.added_on:
        raise PositiveListError(
            "removed_before_added",
            f"removal {on} precedes admission {found.added_on}",
            f"移出日期{on}早于纳入日期{found.added_on}",
        )
    values = {"removed_on": on, "removal_reason": reason, "removed_by": decided_by}
    connection.execute(
        update(PositiveListEntry).where(PositiveListEntry.id == found.id).values(**values)
    )
    record(
        connection,
        actor,
        "positive_list.remove",
        "positive_list_entry",
        found.id,
        before={"removed_on": None},
        after={**values, "removed_on": on.isoformat()},
    )
    return int(found.id)


def follow_flag(
    connection: Connection, enterprise_id: int, listed: bool, on: date, actor: Actor
) -> None:
    """The registry's ``positive_list`` flag set on an enterprise (its form,
    API or import) made an entry of the enforcement list, or its removal: the
    register stays the one truth. Nothing happens when it already says so."""
    found = open_entry(connection, enterprise_id, "enforcement")
    if listed and found is None:
        admit(
            connection,
            Admission(
                enterprise_id,
                "enforcement",
                (),
                "登记于企业名录 / set in the registry",
                on,
                actor.name,
                REGISTRY_VERSION,
            ),
            actor,
        )
    elif not listed and found is not None:
        remove(
            connection,
            enterprise_id,
            "enforcement",
            on=max(on, found.added_on),
            reason="在企业名录中取消 / unset in the registry",
            decided_by=actor.name,
            actor=actor,
        )


def entry_view(row: Any, criteria: Criteria | None = None) -> dict[str, Any]:
    """An entry as shown, its criteria with their wording where the version is known."""
    criteria = criteria or default_criteria()
    version = criteria.versions.get(row.criteria_version)
    words = (
        {c.code: c for c in version.kinds[row.kind].criteria}
        if version is not None and row.kind in version.kinds
        else {}
    )
    return {
        "id": row.id,
        "enterprise_id": row.enterprise_id,
        "kind": row.kind,
        "criteria_version": row.criteria_version,
        "criteria": [
            {
                "code": code,
                "zh": words[code].zh if code in words else code,
                "en": words[code].en if code in words else code,
            }
            for code in row.criteria or []
        ],
        "reason": row.reason,
        "added_on": row.added_on.isoformat(),
        "decided_by": row.decided_by,
        "removed_on": None if row.removed_on is None else row.removed_on.isoformat(),
        "removal_reason": row.removal_reason,
        "removed_by": row.removed_by,
        "open": row.removed_on is None,
    }


def forget_enterprise(connection: Connection, enterprise_id: int) -> None:
    """An enterprise deleted from the registry (entered by mistake: what still
    refers to it holds the delete back) takes its own rows with it: its
    positive-list entries, declared monthly electricity and emissions and its
    annual output. The delete's audit entry keeps what it was."""
    for table in (PositiveListEntry, EnergyDeclaration, EmissionDeclaration, EnterpriseOutput):
        connection.execute(delete(table).where(table.enterprise_id == enterprise_id))
