"""The bottom-line registers (底线登记) in one place: each register kind with
its table, the column that names an entry, its county and enterprise (for
the one scope rule), and the vocabularies of ``registers.toml``.

``REGISTERS`` is what other rooms plug into: an inspection campaign (大排查
大整治) targets register entries by ``(kind, id)``; ``entry`` and ``entries``
give any kind's entries uniformly as (id, name, county_code, enterprise_id),
in a viewer's scope.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, Connection, Select, false, null, select

from envwatch.alerts.scope import SUPERVISOR_ROLES, Viewer, scope_by
from envwatch.errors import load_toml_model
from envwatch.registry.hazardous_waste import CheckParams
from envwatch.store.schema import (
    ChemicalEnterprise,
    ChemicalPark,
    ContaminatedPlot,
    Enterprise,
    HazardousWasteUnit,
    HeavyMetalEnterprise,
    MedicalInstitution,
)

VOCABULARY_FILE = Path(__file__).with_name("registers.toml")
PLOT_STATUSES: Mapping[str, str] = {
    "suspected": "疑似污染地块",
    "investigating": "调查评估中",
    "risk_control": "风险管控",
    "remediation": "治理修复中",
    "safe_use": "安全利用",
    "delisted": "移出名录",
}
"""A contaminated plot's statuses (污染地块: risk control and safe use, rules.md §4.2)."""


@dataclass(frozen=True, slots=True)
class Register:
    """A register kind as other rooms see it."""

    kind: str
    name_zh: str
    name_en: str
    table: Any
    key: Any
    label: Any
    """The column that names an entry."""
    county: Any
    enterprise: Any | None
    """The enterprise column the entry answers through (``None``: no enterprise's)."""
    via_enterprise: bool = False
    """The county and name are the linked enterprise's (joined)."""
    page: str = "/registers?kind={kind}#{kind}-{id}"
    """The page of an entry (``{kind}``, ``{id}``)."""

    def page_of(self, entry_id: int) -> str:
        return self.page.format(kind=self.kind, id=entry_id)

    def _select(self, *columns: Any) -> Select[Any]:
        query = select(*columns).select_from(self.table)
        if self.via_enterprise:
            query = query.join(Enterprise, Enterprise.id == self.table.enterprise_id)
        return query

    def in_scope(self, user: Viewer) -> ColumnElement[bool]:
        if self.enterprise is None:
            return scope_by(user, self.county, self.county) if user.role in SUPERVISOR_ROLES \
                else false()  # fmt: skip
        return scope_by(user, self.county, self.enterprise)

    def rows(self, user: Viewer) -> Select[Any]:
        """``select`` of the table's rows ``user`` may see (the CRUD layer's scope)."""
        return self._select(self.table).where(self.in_scope(user))

    def entries(self, user: Viewer | None = None) -> Select[Any]:
        """(id, name, county_code, enterprise_id) of every entry (in ``user``'s scope)."""
        enterprise = self.enterprise if self.enterprise is not None else null()
        query = self._select(
            self.key.label("id"), self.label.label("name"), self.county.label("county_code"),
            enterprise.label("enterprise_id"),
        )  # fmt: skip
        return query if user is None else query.where(self.in_scope(user))


REGISTERS: Mapping[str, Register] = {
    register.kind: register
    for register in (
        Register("enterprise", "企业", "enterprise", Enterprise, Enterprise.id, Enterprise.name,
                 Enterprise.county_code, Enterprise.id, page="/enterprises/{id}"),
        Register("contaminated_plot", "污染地块", "contaminated plot", ContaminatedPlot,
                 ContaminatedPlot.id, ContaminatedPlot.name, ContaminatedPlot.county_code,
                 ContaminatedPlot.enterprise_id),
        Register("hazardous_waste_unit", "危险废物产生/经营单位", "hazardous-waste unit",
                 HazardousWasteUnit, HazardousWasteUnit.id, HazardousWasteUnit.name,
                 HazardousWasteUnit.county_code, HazardousWasteUnit.enterprise_id),
        Register("medical_institution", "医疗机构", "medical institution", MedicalInstitution,
                 MedicalInstitution.id, MedicalInstitution.name, MedicalInstitution.county_code,
                 MedicalInstitution.enterprise_id),
        Register("chemical_park", "化工园区", "chemical park", ChemicalPark, ChemicalPark.id,
                 ChemicalPark.name, ChemicalPark.county_code, None),
        Register("chemical_enterprise", "化工/涉酸企业", "chemical or acid-using enterprise",
                 ChemicalEnterprise, ChemicalEnterprise.id, Enterprise.name,
                 Enterprise.county_code, Enterprise.id, via_enterprise=True),
        Register("heavy_metal_enterprise", "涉重金属企业", "heavy-metal enterprise",
                 HeavyMetalEnterprise, HeavyMetalEnterprise.id, Enterprise.name,
                 Enterprise.county_code, Enterprise.id, via_enterprise=True),
    )
}  # fmt: skip
"""Register kinds → their tables: what campaigns and problems target by (kind, id)."""


def entry(
    connection: Connection, kind: str, entry_id: int, user: Viewer | None = None
) -> Any | None:
    """The entry (id, name, county_code, enterprise_id) of ``kind`` (in ``user``'s
    scope), or ``None`` (an unknown kind, no such entry, out of scope)."""
    register = REGISTERS.get(kind)
    if register is None:
        return None
    return connection.execute(register.entries(user).where(register.key == entry_id)).first()


# ---- vocabularies ----------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Checks(_Strict):
    version: str = Field(min_length=1)
    max_storage_days: int = Field(gt=0)
    below_declared_share: float = Field(ge=0, le=1)
    above_declared_ratio: float = Field(ge=1)
    capacity_tolerance: float = Field(ge=0)


class _Problems(_Strict):
    deadline_days: int = Field(gt=0, le=3650)
    source: str = Field(min_length=1)


class _Waste(_Strict):
    checks: _Checks
    problems: _Problems
    categories: dict[str, str] = Field(min_length=1)


class _Medical(_Strict):
    grades: dict[str, str] = Field(min_length=1)
    disinfection: dict[str, str] = Field(min_length=1)


class _Chemical(_Strict):
    kinds: dict[str, str] = Field(min_length=1)
    park_levels: dict[str, str] = Field(min_length=1)
    acids: dict[str, str] = Field(min_length=1)


class Vocabulary(_Strict):
    version: str = Field(min_length=1)
    hazardous_waste: _Waste
    medical: _Medical
    chemical: _Chemical
    heavy_metals: dict[str, str] = Field(min_length=1)

    @property
    def check_params(self) -> CheckParams:
        return CheckParams(**self.hazardous_waste.checks.model_dump())


def load_vocabulary(path: Path | None = None) -> Vocabulary:
    path = path or VOCABULARY_FILE
    return load_toml_model(Vocabulary, path)


@cache
def vocabulary() -> Vocabulary:
    """The shipped ``registers.toml``."""
    return load_vocabulary()


def code_of(value: str, names: Mapping[str, str]) -> str | None:
    """A vocabulary code given as itself or by its Chinese name."""
    if value in names:
        return value
    return next((code for code, name in names.items() if name == value), None)
