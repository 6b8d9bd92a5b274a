"""Emergency lists (应急减排清单) over the JSON API, on the generic CRUD layer
(``web/crud.py``): each production line of an enterprise's list in one
season's version, its meters and its measure per warning level; city
administrators change them (with their CSRF token), every change audited
(``registry.emergency_line.*``); everyone reads the lines in their scope.

``GET /api/v1/emergency/lists`` sums the lines up per list version
(enterprise and season), the view a list as a whole has. The CSV/XLSX import
(``emergency import-lines``) stays the way to load a season's lists at once.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import Connection, Select, delete, func, insert, select

from envwatch.alerts.queries import Viewer
from envwatch.alerts.scope import scope_by
from envwatch.electricity.emergency import parse_measure
from envwatch.registry.maintenance import EMERGENCY_LEVELS
from envwatch.store.schema import MAX_ID, EmergencyLine, EmergencyLineMeter, Enterprise, Meter
from envwatch.web.api_registry import registry_writer
from envwatch.web.crud import ListFilter, Resource, View, invalid, mount
from envwatch.web.errors import ApiError
from envwatch.web.people import Principal, api_user

router = APIRouter()
PREFIX = "/api/v1/emergency"
SEASON = r"^\d{4}-\d{4}$"
NoControl = r"^[^\x00-\x1f]*$"
MeterName = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f]+$")]


def _measures(value: dict[str, str] | None) -> dict[str, str] | None:
    """Each level's measure in its stored form (``cut:0.3+transport``); a
    level with no measure left out."""
    if value is None:
        return None
    stored: dict[str, str] = {}
    for level, text in value.items():
        if level not in EMERGENCY_LEVELS:
            raise ValueError(f"{level!r} is not a warning level ({', '.join(EMERGENCY_LEVELS)})")
        measure = parse_measure(text)
        if measure is not None:
            stored[level] = measure.text
    return stored


class LinePublic(BaseModel):
    id: int
    enterprise_id: int
    season: str
    valid_from: date
    valid_until: date
    name: str
    process: str
    meters: list[str] = Field(description="the line's production meters by name")
    measures: dict[str, str] = Field(
        description="by warning level: stop, cut:<share>, staggered, transport, or one of the "
        "first three with +transport; a level without measure is absent"
    )


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class LineCreate(_In):
    enterprise_id: int = Field(ge=1, le=MAX_ID)
    season: str = Field(pattern=SEASON, description="the list's version, e.g. 2026-2027")
    valid_from: date
    valid_until: date = Field(description="exclusive")
    name: str = Field(min_length=1, max_length=100, pattern=NoControl)
    process: str = Field(default="", max_length=100, pattern=NoControl)
    meters: list[MeterName] = Field(min_length=1, max_length=20)
    measures: dict[str, str] = Field(
        default_factory=dict,
        description="by level (blue, yellow, orange, red): 停产 / 限产30% / 错峰生产 / "
        "运输管控 / 限产30%+运输管控 (or stop, cut:0.3, staggered, transport)",
    )

    _measures = field_validator("measures")(_measures)

    @model_validator(mode="after")
    def _period(self) -> LineCreate:
        if self.valid_until <= self.valid_from:
            raise ValueError("valid_until must be after valid_from")
        return self


class LineUpdate(_In):
    season: str | None = Field(default=None, pattern=SEASON)
    valid_from: date | None = None
    valid_until: date | None = None
    name: str | None = Field(default=None, min_length=1, max_length=100, pattern=NoControl)
    process: str | None = Field(default=None, max_length=100, pattern=NoControl)
    meters: list[MeterName] | None = Field(default=None, min_length=1, max_length=20)
    measures: dict[str, str] | None = None

    _measures = field_validator("measures")(_measures)


def _scoped(viewer: Viewer) -> Select[Any]:
    return (
        select(EmergencyLine)
        .join(Enterprise, EmergencyLine.enterprise_id == Enterprise.id)
        .where(scope_by(viewer, Enterprise.county_code, Enterprise.id))
    )


def _views(connection: Connection, viewer: Viewer, rows: list[Any]) -> list[View]:
    meters: dict[int, list[str]] = defaultdict(list)
    for link in connection.execute(
        select(EmergencyLineMeter.line_id, Meter.name)
        .join(Meter, EmergencyLineMeter.meter_id == Meter.id)
        .where(EmergencyLineMeter.line_id.in_([row.id for row in rows]))
        .order_by(Meter.id)
    ):
        meters[link.line_id].append(link.name)
    return [
        LinePublic(id=row.id, enterprise_id=row.enterprise_id, season=row.season,
                   valid_from=row.valid_from, valid_until=row.valid_until, name=row.name,
                   process=row.process, meters=meters[row.id],
                   measures=dict(row.measures)).model_dump(mode="json")
        for row in rows
    ]  # fmt: skip


def _meter_ids(connection: Connection, enterprise_id: int, names: list[str]) -> list[int]:
    found = dict(
        connection.execute(
            select(Meter.name, Meter.id).where(
                Meter.enterprise_id == enterprise_id, Meter.kind == "production"
            )
        ).all()
    )
    missing = [name for name in names if name not in found]
    if missing:
        raise invalid("body.meters", f"the enterprise has no production meter {missing[0]!r}",
                      f"该企业没有生产电表“{missing[0]}”")  # fmt: skip
    if len(set(names)) != len(names):
        raise invalid("body.meters", "a meter is named twice", "电表重复")
    return [found[name] for name in names]


def _taken(connection: Connection, enterprise_id: int, season: str, name: str) -> None:
    if connection.execute(
        select(EmergencyLine.id).where(EmergencyLine.enterprise_id == enterprise_id,
                                       EmergencyLine.season == season, EmergencyLine.name == name)
    ).first():  # fmt: skip
        raise ApiError(409, "line_exists", f"the {season} list already has a line {name!r}",
                       f"{season}版清单已有生产线“{name}”")  # fmt: skip


def _check_create(connection: Connection, body: LineCreate) -> None:
    if connection.scalar(select(Enterprise.id).where(Enterprise.id == body.enterprise_id)) is None:
        raise invalid("body.enterprise_id", f"no enterprise {body.enterprise_id}",
                      f"没有企业{body.enterprise_id}")  # fmt: skip
    _meter_ids(connection, body.enterprise_id, body.meters)
    _taken(connection, body.enterprise_id, body.season, body.name)


def _check_update(connection: Connection, before: View, values: dict[str, Any]) -> None:
    starts = values.get("valid_from") or date.fromisoformat(before["valid_from"])
    ends = values.get("valid_until") or date.fromisoformat(before["valid_until"])
    if ends <= starts:
        raise invalid("body.valid_until", "valid_until must be after valid_from",
                      "失效日期须晚于生效日期")  # fmt: skip
    if "meters" in values:
        _meter_ids(connection, before["enterprise_id"], values["meters"])
    season, name = (
        str(values.get("season") or before["season"]),
        str(values.get("name") or before["name"]),
    )
    if (season, name) != (before["season"], before["name"]):
        _taken(connection, before["enterprise_id"], season, name)


def _row_values(values: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in values.items() if name != "meters"}


def _after_write(connection: Connection, key: object, values: dict[str, Any]) -> None:
    if "meters" not in values:
        return
    line = connection.execute(select(EmergencyLine.enterprise_id).where(EmergencyLine.id == key))
    enterprise_id = line.scalar_one()
    ids = _meter_ids(connection, enterprise_id, values["meters"])
    connection.execute(delete(EmergencyLineMeter).where(EmergencyLineMeter.line_id == key))
    connection.execute(insert(EmergencyLineMeter), [{"line_id": key, "meter_id": m} for m in ids])


def _cleanup(connection: Connection, key: object) -> None:
    connection.execute(delete(EmergencyLineMeter).where(EmergencyLineMeter.line_id == key))


LINES: Resource[LineCreate, LineUpdate] = Resource(
    name="emergency_line", name_zh="应急减排清单生产线", collection="/lines",
    table=EmergencyLine, key=EmergencyLine.id, key_param="line_id",
    key_type=Annotated[int, Path(ge=1, le=MAX_ID)],
    public=LinePublic, create=LineCreate, update=LineUpdate,
    scoped=_scoped,
    filters=(ListFilter("enterprise_id", Annotated[int | None, Query(ge=1, le=MAX_ID)],
                        EmergencyLine.enterprise_id),
             ListFilter("season", Annotated[str | None, Query(pattern=SEASON)],
                        EmergencyLine.season)),
    list_doc="Emergency-list lines (应急减排清单) in the viewer's scope, with their meters and "
             "measure per warning level.",
    views=_views,
    row_values=_row_values,
    check_create=_check_create,
    check_update=_check_update,
    after_write=_after_write,
    holders=lambda key: {},
    cleanup=_cleanup,
)  # fmt: skip

mount(router, PREFIX, LINES, registry_writer)


class ListVersion(BaseModel):
    enterprise_id: int
    enterprise: str
    county: str
    grade: str
    exempt: bool
    season: str
    valid_from: date
    valid_until: date
    lines: int


class ListVersions(BaseModel):
    items: list[ListVersion]
    total: int


@router.get(PREFIX + "/lists")
def emergency_lists(
    request: Request,
    user: Annotated[Principal, Depends(api_user)],
    season: Annotated[str | None, Query(pattern=SEASON)] = None,
) -> ListVersions:
    """The emergency lists in the viewer's scope: one per enterprise and season
    (its version), with the enterprise's grade and exemption and how many lines."""
    query = (
        select(Enterprise.id, Enterprise.name, Enterprise.county_code,
               Enterprise.performance_grade, Enterprise.emergency_exempt, EmergencyLine.season,
               func.min(EmergencyLine.valid_from).label("valid_from"),
               func.max(EmergencyLine.valid_until).label("valid_until"),
               func.count(EmergencyLine.id).label("lines"))
        .join(Enterprise, EmergencyLine.enterprise_id == Enterprise.id)
        .where(scope_by(user, Enterprise.county_code, Enterprise.id))
        .group_by(Enterprise.id, Enterprise.name, Enterprise.county_code,
                  Enterprise.performance_grade, Enterprise.emergency_exempt, EmergencyLine.season)
        .order_by(Enterprise.county_code, Enterprise.name, EmergencyLine.season.desc())
    )  # fmt: skip
    if season is not None:
        query = query.where(EmergencyLine.season == season)
    with request.app.state.database().connect() as connection:
        rows = connection.execute(query).all()
    items = [
        ListVersion(enterprise_id=r.id, enterprise=r.name, county=r.county_code,
                    grade=r.performance_grade, exempt=bool(r.emergency_exempt), season=r.season,
                    valid_from=r.valid_from, valid_until=r.valid_until, lines=r.lines)
        for r in rows
    ]  # fmt: skip
    return ListVersions(items=items, total=len(items))
