"""Satellite fire points at the store's edge: import of a satellite export
(all or nothing, through the registry's import machinery), each point located
to its county; a point in a county becomes a rectification problem to check
(source: satellite fire point), assigned at once to the county; a point
outside the city is recorded as such. A fire id already imported is left as
it is (a re-import changes nothing). Every change is audited."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, false, func, insert, select, update

from envwatch.alerts.scope import SUPERVISOR_ROLES, Viewer, scope_by
from envwatch.audit.log import SYSTEM, Actor, record
from envwatch.rectification.desk import RectificationDesk, queue
from envwatch.rectification.fires import FireRow, column, county_index, locate
from envwatch.registry.importing import RowError, read_table, validate_rows
from envwatch.store.schema import County, FirePoint, RectificationProblem
from envwatch.times import cst_text, utc_as_cst_text
from envwatch.zoning.geometry import UnitIndex

SOURCE = "satellite_fire"


@dataclass
class FireImport:
    """What an import did: the points new to envwatch, those it knew, those
    outside the city, and the problems opened."""

    imported: int = 0
    known: int = 0
    outside: int = 0
    problems: list[int] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"imported": self.imported, "known": self.known, "outside": self.outside,
                "problems": self.problems}  # fmt: skip


def fire_scope(user: Viewer) -> ColumnElement[bool]:
    """Supervisors by the one scope rule on the county (a point outside the
    city is the city's only); enterprises and contractors see none."""
    if user.role not in SUPERVISOR_ROLES:
        return false()
    return scope_by(user, FirePoint.county_code, FirePoint.county_code)


def import_fire_points(
    desk: RectificationDesk, name: str, content: bytes, actor: Actor = SYSTEM, *,
    now: datetime | None = None, index: UnitIndex | None = None,
) -> tuple[FireImport, list[RowError]]:  # fmt: skip
    """Import a satellite export, every new point or none; what was done, or
    every problem found. Raises ``ImportFileError`` when the file is not a table."""
    return take_fire_points(desk, read_table(name, content), actor, source=name, now=now,
                            index=index)  # fmt: skip


def take_fire_points(
    desk: RectificationDesk, rows: list[dict[str, Any]], actor: Actor = SYSTEM, *,
    source: str, now: datetime | None = None, index: UnitIndex | None = None,
) -> tuple[FireImport, list[RowError]]:  # fmt: skip
    now = now or datetime.now(UTC)
    index = index or county_index()
    parsed, errors = validate_rows(FireRow, rows, first_row=2)
    if errors:
        return FireImport(), errors
    done = FireImport()
    with desk.engine.begin() as connection:
        counties = dict(connection.execute(select(County.code, County.name_zh)).all())
        wanted = sorted({row.fire_id for row in parsed})
        known = set(
            connection.execute(select(FirePoint.fire_id).where(FirePoint.fire_id.in_(wanted)))
            .scalars()
        ) if wanted else set()  # fmt: skip
        seen: set[str] = set()
        located: list[tuple[FireRow, str | None]] = []
        for number, row in enumerate(parsed, start=2):
            if row.fire_id in seen:
                errors.append(RowError(number, column("fire_id"),
                                       "repeats an earlier row of this file"))  # fmt: skip
                continue
            seen.add(row.fire_id)
            county = locate(index, row.longitude, row.latitude)
            if county is not None and county not in counties:
                errors.append(
                    RowError(
                        number,
                        column("longitude"),
                        f"lies in county {county}, which is not registered",
                    )
                )
                continue  # fmt: skip
            if row.fire_id not in known:
                located.append((row, county))
        if errors:
            return FireImport(), errors
        done.known = len(parsed) - len(located)
        for row, county in located:
            values = {
                "fire_id": row.fire_id, "observed_at": row.observed_at,
                "longitude": row.longitude, "latitude": row.latitude,
                "confidence": row.confidence, "frp": row.frp, "satellite": row.satellite,
                "county_code": county, "imported_at": now,
            }  # fmt: skip
            point = int(
                connection.execute(insert(FirePoint).values(**values).returning(FirePoint.id))
                .scalar_one()
            )  # fmt: skip
            record(connection, actor, "fire_point.import", "fire_point", point,
                   after={**values, "file": source}, at=now)  # fmt: skip
            done.imported += 1
            if county is None:
                done.outside += 1
                continue
            problem = _open_problem(
                desk,
                connection,
                row,
                county=county,
                county_name=counties[county],
                actor=actor,
                now=now,
            )
            connection.execute(
                update(FirePoint).where(FirePoint.id == point).values(problem_id=problem)
            )
            done.problems.append(problem)
    return done, []


def _open_problem(
    desk: RectificationDesk, connection: Connection, row: FireRow, *, county: str,
    county_name: str, actor: Actor, now: datetime,
) -> int:  # fmt: skip
    """The problem to check a fire point, assigned at once to its county."""
    policy = desk.policy.fire_points
    seen = row.observed_at.strftime("%Y-%m-%d %H:%M")
    details = [f"卫星：{row.satellite}" if row.satellite else "",
               f"可信度：{row.confidence}" if row.confidence else "",
               f"火点强度：{row.frp:g} MW" if row.frp is not None else ""]  # fmt: skip
    values = {
        "source": SOURCE, "batch": policy.batch_of(row.observed_at), "item_no": row.fire_id,
        "title": f"秸秆焚烧卫星火点核查：{county_name}（{row.longitude:.4f}, "
                 f"{row.latitude:.4f}），{seen}",
        "description": f"卫星遥感监测发现疑似秸秆焚烧火点，请现场核查并处置。监测时间：{seen}；"
                       f"经纬度：{row.longitude:.5f}, {row.latitude:.5f}；"
                       + "；".join(d for d in details if d),
        "category": policy.category, "county_code": county, "enterprise_id": None,
        "lead_unit": policy.lead_unit.format(county=county_name)[:200],
        "cooperating_units": "", "measures": "现场核查火点，查处露天焚烧行为，落实禁烧责任",
        "deadline": datetime.combine(policy.deadline(row.observed_at), datetime.min.time()),
        "state": "new", "escalation": 0, "created_at": now, "reopened": 0, "summary": "",
    }  # fmt: skip
    problem = int(
        connection.execute(
            insert(RectificationProblem).values(**values).returning(RectificationProblem.id)
        ).scalar_one()
    )
    record(connection, actor, "problem.from_fire_point", "rectification_problem", problem,
           after=values, at=now)  # fmt: skip
    desk.change(connection, problem, "assign", SYSTEM, now=now,
                note=f"卫星火点{row.fire_id}交办至{county_name}")  # fmt: skip
    queue(connection, problem, county, desk.policy.escalation.chain[0], event="assigned",
          now=now)  # fmt: skip
    return problem


def fire_view(row: Any) -> dict[str, Any]:
    return {
        "id": row.id, "fire_id": row.fire_id, "observed_at": cst_text(row.observed_at),
        "longitude": row.longitude, "latitude": row.latitude, "confidence": row.confidence,
        "frp": row.frp, "satellite": row.satellite, "county": row.county_code,
        "outside": row.county_code is None, "problem_id": row.problem_id,
        "imported_at": utc_as_cst_text(row.imported_at),
    }  # fmt: skip


def visible_fire_points(
    connection: Connection, viewer: Viewer, *, county: str | None = None,
    outside: bool | None = None, limit: int = 100, offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:  # fmt: skip
    """The fire points ``viewer`` may see, newest first, and how many in all;
    ``outside``: only those outside the city (True) or inside (False)."""
    conditions: list[Any] = [fire_scope(viewer)]
    if county is not None:
        conditions.append(FirePoint.county_code == county)
    if outside is not None:
        conditions.append(FirePoint.county_code.is_(None) if outside
                          else FirePoint.county_code.is_not(None))  # fmt: skip
    rows = connection.execute(
        select(FirePoint).where(*conditions)
        .order_by(FirePoint.observed_at.desc(), FirePoint.id.desc()).limit(limit).offset(offset)
    ).all()  # fmt: skip
    total = connection.execute(
        select(func.count()).select_from(FirePoint).where(*conditions)
    ).scalar_one()
    return [fire_view(row) for row in rows], int(total)
