"""Emergency-list lines over the CRUD API (SQLite and PostgreSQL): a city
administrator creates, changes and deletes a line with its meters and its
measures (transport limits included), each change audited; bad measures and
meters are named; a county officer reads only the lines of their counties;
the lists sum the lines up per enterprise and season. And the zoning
pre-check over the API at a point or over a project's polygon."""

from __future__ import annotations

from sqlalchemy import Engine, select

from envwatch.registry.emergency_lists import enterprise_lines
from envwatch.store.schema import AppUser, AuditEntry, Enterprise
from envwatch.web.people import CSRF_HEADER
from envwatch.zoning.store import mismatches
from tests.electricity.test_http_batch import base_url
from tests.web.test_pages_and_api import session

__all__ = ["base_url"]
LINES = "/api/v1/emergency/lines"


def test_lines_are_created_changed_and_deleted_with_audit_and_scope(
    base_url: str, engine: Engine
) -> None:
    with engine.connect() as connection:
        (listed,) = enterprise_lines(connection, 1)[:1]
        county = connection.scalar(select(Enterprise.county_code).where(Enterprise.id == 1))
    admin, csrf = session(base_url, "admin")
    write = {CSRF_HEADER: csrf}
    body = {"enterprise_id": 1, "season": "2027-2028", "valid_from": "2027-10-01",
            "valid_until": "2028-03-16", "name": "2号线", "process": "烧结",
            "meters": listed["meters"],
            "measures": {"orange": "限产30%+运输管控", "red": "停产",
                         "yellow": "运输管控"}}  # fmt: skip
    created = admin.post(LINES, json=body, headers=write)
    assert created.status_code == 201, created.text
    line = created.json()
    assert line["measures"] == {"orange": "cut:0.3+transport", "red": "stop",
                                "yellow": "transport"}  # fmt: skip
    assert line["meters"] == listed["meters"]
    again = admin.post(LINES, json=body, headers=write)
    assert again.status_code == 409 and again.json()["error"]["code"] == "line_exists"
    bad = admin.post(LINES, json={**body, "name": "3号线", "measures": {"orange": "减半"}},
                     headers=write)  # fmt: skip
    assert bad.status_code == 422 and "减半" in bad.text
    no_meter = admin.post(LINES, json={**body, "name": "3号线", "meters": ["没有的电表"]},
                          headers=write)  # fmt: skip
    assert no_meter.status_code == 422 and "没有的电表" in no_meter.text
    changed = admin.patch(f"{LINES}/{line['id']}", json={"measures": {"red": "限产50%"}},
                          headers=write)  # fmt: skip
    assert changed.status_code == 200 and changed.json()["measures"] == {"red": "cut:0.5"}
    lists = admin.get("/api/v1/emergency/lists", params={"season": "2027-2028"}).json()
    assert [(i["enterprise_id"], i["lines"]) for i in lists["items"]] == [(1, 1)]
    # A county officer of another county neither sees nor changes it.
    with engine.connect() as connection:
        outsider = connection.scalar(
            select(AppUser.username).where(AppUser.role == "county_officer",
                                           AppUser.county_codes.not_like(f"%{county}%"))
        )  # fmt: skip
    mine, _ = session(base_url, f"county-{county}")
    assert mine.get(f"{LINES}/{line['id']}").status_code == 200
    assert outsider is not None
    theirs, their_csrf = session(base_url, outsider)
    assert theirs.get(f"{LINES}/{line['id']}").status_code == 404
    refused = theirs.patch(f"{LINES}/{line['id']}", json={"name": "x"},
                           headers={CSRF_HEADER: their_csrf})  # fmt: skip
    assert refused.status_code == 403
    assert admin.delete(f"{LINES}/{line['id']}", headers=write).status_code == 204
    assert admin.get(f"{LINES}/{line['id']}").status_code == 404
    with engine.connect() as connection:
        actions = connection.scalars(
            select(AuditEntry.action).where(AuditEntry.entity == "emergency_line")
            .order_by(AuditEntry.seq)
        ).all()  # fmt: skip
    assert actions == ["registry.emergency_line.create", "registry.emergency_line.update",
                       "registry.emergency_line.delete"]  # fmt: skip
    for client in (admin, mine, theirs):
        client.close()


def test_the_pre_check_api_takes_a_point_or_a_polygon(base_url: str, engine: Engine) -> None:
    with engine.connect() as connection:
        (found, *_) = mismatches(connection)
        where = connection.execute(
            select(Enterprise.longitude, Enterprise.latitude)
            .where(Enterprise.id == found.enterprise_id)
        ).one()  # fmt: skip
    x, y, d = where.longitude, where.latitude, 0.002
    site = f"{x - d},{y - d};{x + d},{y - d};{x + d},{y + d};{x - d},{y + d}"
    viewer, _ = session(base_url, "viewer")
    check = "/api/v1/zoning/check"
    point = viewer.get(check, params={"lon": x, "lat": y, "industry": found.industry_code}).json()
    area = viewer.get(check, params={"polygon": site, "industry": found.industry_code})
    assert area.status_code == 200, area.text
    assert found.unit.code in [u["code"] for u in area.json()["units"]]
    assert area.json()["verdict"] == point["verdict"] == found.verdict.verdict
    assert {c["text"] for c in point["clauses"]} <= {c["text"] for c in area.json()["clauses"]}
    both = viewer.get(check, params={"lon": x, "lat": y, "polygon": site, "industry": "2614"})
    assert both.status_code == 422 and both.json()["error"]["code"] == "point_or_polygon"
    bad = viewer.get(check, params={"polygon": f"{x},{y};{x + d},{y}", "industry": "2614"})
    assert bad.status_code == 422 and "fewer than 4 positions" in bad.text
    planned = viewer.get(check, params={"lon": x, "lat": y, "industry": "2614",
                                        "emissions": "烟草:3"})  # fmt: skip
    assert planned.status_code == 422 and "not a pollutant" in planned.text
    viewer.close()
