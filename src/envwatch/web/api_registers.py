"""The bottom-line registers (底线登记) over the generic CRUD layer
(``web/crud.py``): contaminated plots (污染地块) with their status and history.
Reads are scoped by the one rule (county; an enterprise's users see the plots
it answers for; contractors none); changes are the city administrator's, as
for the rest of the registry, each audited, and the audit trail is the plot's
history."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Connection, Select, select

from envwatch.alerts.queries import Viewer
from envwatch.alerts.scope import scope_by
from envwatch.registry.registers import PLOT_STATUSES
from envwatch.store.schema import AuditEntry, ContaminatedPlot, County, Enterprise
from envwatch.times import utc_as_cst_text
from envwatch.web.api_registry import PREFIX, RowId, Search, registry_writer
from envwatch.web.crud import ListFilter, Resource, View, invalid, mount

router = APIRouter()

__all__ = ["PLOTS", "PLOT_STATUSES", "router"]
PlotStatus = Literal["suspected", "investigating", "risk_control", "remediation", "safe_use",
                     "delisted"]  # fmt: skip


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)

    @field_validator("*", mode="after")
    @classmethod
    def _printable(cls, value: object) -> object:
        if isinstance(value, str) and any(ord(c) < 32 for c in value):
            raise ValueError("control characters are not allowed")
        return value


class PlotCreate(_In):
    name: str = Field(min_length=2, max_length=200)
    county_code: str = Field(pattern=r"^\d{6}$")
    address: str = Field(default="", max_length=300)
    longitude: float | None = Field(default=None, ge=73, le=136)
    latitude: float | None = Field(default=None, ge=3, le=54)
    area_m2: float | None = Field(default=None, gt=0, le=1e9)
    former_use: str = Field(default="", max_length=100)
    status: PlotStatus = "suspected"
    enterprise_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    responsible: str = Field(default="", max_length=200)


class PlotUpdate(_In):
    name: str | None = Field(default=None, min_length=2, max_length=200)
    address: str | None = Field(default=None, max_length=300)
    longitude: float | None = Field(default=None, ge=73, le=136)
    latitude: float | None = Field(default=None, ge=3, le=54)
    area_m2: float | None = Field(default=None, gt=0, le=1e9)
    former_use: str | None = Field(default=None, max_length=100)
    status: PlotStatus | None = None
    enterprise_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    responsible: str | None = Field(default=None, max_length=200)


class PlotPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    county_code: str
    address: str
    longitude: float | None
    latitude: float | None
    area_m2: float | None
    former_use: str
    status: str
    enterprise_id: int | None
    responsible: str


def _plots_in_scope(user: Viewer) -> Select[Any]:
    return select(ContaminatedPlot).where(
        scope_by(user, ContaminatedPlot.county_code, ContaminatedPlot.enterprise_id)
    )


def _plot_views(connection: Connection, _user: Viewer, rows: list[Any]) -> list[View]:
    """Each plot with its status's name and its history: the audit trail of its
    creation and changes (who, when, what changed), oldest first."""
    history: dict[str, list[dict[str, Any]]] = {}
    keys = [str(row.id) for row in rows]
    if keys:
        for entry in connection.execute(
            select(AuditEntry.entity_id, AuditEntry.at, AuditEntry.actor, AuditEntry.action,
                   AuditEntry.after)
            .where(AuditEntry.entity == "contaminated_plot", AuditEntry.entity_id.in_(keys))
            .order_by(AuditEntry.seq)
        ):  # fmt: skip
            history.setdefault(entry.entity_id, []).append(
                {
                    "at": utc_as_cst_text(entry.at),
                    "actor": entry.actor,
                    "action": entry.action,
                    "after": entry.after,
                }
            )
    return [
        {**PlotPublic.model_validate(row).model_dump(),
         "status_zh": PLOT_STATUSES.get(row.status, row.status),
         "history": history.get(str(row.id), [])}
        for row in rows
    ]  # fmt: skip


def _check_plot(connection: Connection, county: str | None, enterprise: int | None) -> None:
    if county is not None and connection.execute(
        select(County.code).where(County.code == county)
    ).scalar() is None:  # fmt: skip
        raise invalid("body.county_code", f"unknown county {county}", f"区县代码{county}不存在")
    if enterprise is not None and connection.execute(
        select(Enterprise.id).where(Enterprise.id == enterprise)
    ).scalar() is None:  # fmt: skip
        raise invalid("body.enterprise_id", f"no enterprise {enterprise}",
                      f"没有编号为{enterprise}的企业")  # fmt: skip


PLOTS: Resource[PlotCreate, PlotUpdate] = Resource(
    name="contaminated_plot", name_zh="污染地块", collection="/contaminated-plots",
    table=ContaminatedPlot, key=ContaminatedPlot.id, key_param="plot_id", key_type=RowId,
    public=PlotPublic, create=PlotCreate, update=PlotUpdate, scoped=_plots_in_scope,
    filters=(
        ListFilter("q", Search,
                   condition=lambda q: ContaminatedPlot.name.contains(q, autoescape=True)),
        ListFilter("status", PlotStatus | None,
                   condition=lambda status: ContaminatedPlot.status == status),
    ),
    views=_plot_views,
    nullable=frozenset({"longitude", "latitude", "area_m2", "enterprise_id"}),
    check_create=lambda connection, body: _check_plot(connection, body.county_code,
                                                      body.enterprise_id),
    check_update=lambda connection, _before, values: _check_plot(
        connection, None, values.get("enterprise_id")),
    holders=lambda key: {},
)  # fmt: skip

mount(router, PREFIX, PLOTS, registry_writer)
