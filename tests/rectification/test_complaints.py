"""Complaints: distances, nearest enterprises and hotspots (pure, with a
property test), then import, scope, reply and becoming a problem on SQLite and
PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from envwatch.audit.log import verify
from envwatch.rectification.complaint_desk import (
    import_complaints,
    reply,
    to_problem,
    visible_complaint,
    visible_complaints,
    visible_hotspots,
)
from envwatch.rectification.complaints import (
    COMPLAINT_COLUMNS,
    Located,
    Place,
    distance_m,
    hotspots,
    nearest,
)
from envwatch.rectification.desk import ProblemError, RectificationDesk
from envwatch.rectification.policy import load_policy
from envwatch.store.schema import Complaint, Enterprise, RectificationProblem
from tests.rectification.helpers import DONGCHANGFU, GUANXIAN, registry
from tests.rectification.test_desk import viewer

POLICY = load_policy().complaints
T0 = datetime(2026, 11, 1, 20, 0)
LON, LAT = 115.985, 36.456  # 聊城 城区


def test_distances_are_great_circle_metres() -> None:
    # 0.01° of latitude is R·π/18000 m anywhere: 1111.95 m.
    assert distance_m(LON, 36.45, LON, 36.46) == pytest.approx(1111.95, abs=0.01)
    assert distance_m(LON, LAT, LON, LAT) == 0
    # 0.01° of longitude shrinks with the cosine of the latitude.
    assert distance_m(116.0, 36.45, 116.01, 36.45) == pytest.approx(894.6, abs=0.5)


def test_the_nearest_enterprises_within_reach() -> None:
    places = [Place(1, "近", LON + 0.001, LAT), Place(2, "远", LON + 0.2, LAT),
              Place(3, "中", LON, LAT + 0.01)]  # fmt: skip
    found = nearest(LON, LAT, places, POLICY)
    assert [(p.name, round(d)) for p, d in found] == [("近", 89), ("中", 1112)]


def located(i: int, east_m: float, days: float, category: str = "noise") -> Located:
    # 1 m east at this latitude is 1 / (111195 · cos 36.456°) degrees of longitude.
    return Located(i, T0 + timedelta(days=days), LON + east_m / 89_460, LAT, category)


def test_hotspots_link_close_complaints_in_place_and_time() -> None:
    complaints = [
        located(1, 0, 0), located(2, 300, 1), located(3, 600, 2, "odour"),  # a chain: one spot
        located(4, 5000, 0), located(5, 5100, 40), located(6, 5200, 80),  # far apart in time
        located(7, 20_000, 0), located(8, 20_050, 0),  # two only
    ]  # fmt: skip
    (spot,) = hotspots(complaints, POLICY)
    assert spot.complaint_ids == (1, 2, 3)
    assert spot.categories == ("noise", "odour")
    assert (spot.first, spot.last) == (T0, T0 + timedelta(days=2))


@given(st.lists(st.tuples(st.floats(0, 3000), st.floats(0, 60)), max_size=25))
def test_hotspots_are_disjoint_and_large_enough(points: list[tuple[float, float]]) -> None:
    complaints = [located(i, east, days) for i, (east, days) in enumerate(points)]
    found = hotspots(complaints, POLICY)
    members = [i for spot in found for i in spot.complaint_ids]
    assert len(members) == len(set(members))
    assert all(len(spot.complaint_ids) >= POLICY.hotspot_min for spot in found)
    # Every complaint close to a hotspot's member in place and time is in it.
    by_id = {c.id: c for c in complaints}
    for spot in found:
        for member in spot.complaint_ids:
            for other in complaints:
                a = by_id[member]
                close = (distance_m(a.longitude, a.latitude, other.longitude, other.latitude)
                         <= POLICY.hotspot_radius_m
                         and abs(other.received_at - a.received_at)
                         <= timedelta(days=POLICY.hotspot_days))  # fmt: skip
                if close:
                    assert other.id in spot.complaint_ids


def hotline_export(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COMPLAINT_COLUMNS)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def complaint(reference: str, minutes: int, east_m: float, county: str = "东昌府区") -> list[str]:
    return ["12345", reference, (T0 + timedelta(minutes=minutes)).isoformat(), "噪声",
            "夜间工地施工噪声扰民，影响休息", "东昌府区某小区", f"{LON + east_m / 89_460:.6f}",
            f"{LAT:.6f}", county, "138****0000"]  # fmt: skip


@pytest.fixture
def desk(engine: Engine) -> RectificationDesk:
    registry(engine)
    with engine.begin() as connection:
        connection.execute(
            Enterprise.__table__.update()  # type: ignore[attr-defined]
            .where(Enterprise.id == 1)
            .values(longitude=LON + 0.002, latitude=LAT)
        )
    return RectificationDesk(engine)


def test_complaints_import_cluster_reply_and_become_a_problem(desk: RectificationDesk) -> None:
    rows = [complaint("GD001", 0, 0), complaint("GD002", 60, 200), complaint("GD003", 120, 350),
            complaint("GD004", 0, 0, county=GUANXIAN)]  # fmt: skip
    bad = [list(row) for row in rows] + [complaint("GD001", 5, 0)]
    bad[1][3] = "辐射"
    ids, errors = import_complaints(desk, "12345.csv", hotline_export(bad))
    assert ids == [] and {(e.row, e.column) for e in errors} == {(3, "类别"), (6, "")}
    ids, errors = import_complaints(desk, "12345.csv", hotline_export(rows))
    assert errors == [] and len(ids) == 4
    with desk.engine.connect() as connection:
        mine, total = visible_complaints(connection, viewer("county-dcf"))
        assert total == 3 and {c["county"] for c in mine} == {DONGCHANGFU}
        assert visible_complaints(connection, viewer("enterprise-1"))[1] == 0
        assert visible_complaint(connection, viewer("county-gx"), ids[0], desk) is None
        one = visible_complaint(connection, viewer("county-dcf"), ids[0], desk)
        spots = visible_hotspots(connection, viewer("county-dcf"), desk)
    assert one is not None and one["received_at"] == "2026-11-01T20:00:00+08:00"
    assert [(n["enterprise_id"], round(n["distance_m"])) for n in one["nearest"]] == [(1, 179)]
    assert [spot["complaints"] for spot in spots] == [ids[:3]]

    with pytest.raises(ProblemError) as viewer_refused:
        reply(desk, ids[0], "viewer", "已处理", peer="t")
    assert viewer_refused.value.code == "role_not_allowed"
    with pytest.raises(ProblemError) as hidden:
        reply(desk, ids[0], "county-gx", "已处理", peer="t")
    assert hidden.value.code == "unknown_complaint"
    reply(desk, ids[0], "county-dcf", "已责令工地22时后停止施工", peer="t")
    problem = to_problem(desk, ids[0], "county-dcf", lead_unit="东昌府区住建局",
                         deadline=date(2026, 12, 31), peer="t")  # fmt: skip
    with pytest.raises(ProblemError) as twice:
        to_problem(desk, ids[0], "supervisor", lead_unit="东昌府区住建局",
                   deadline=date(2026, 12, 31), peer="t")  # fmt: skip
    assert twice.value.code == "already_a_problem"
    with desk.engine.connect() as connection:
        made = connection.execute(
            select(RectificationProblem).where(RectificationProblem.id == problem)
        ).one()
        stored = connection.execute(select(Complaint).where(Complaint.id == ids[0])).one()
        assert verify(connection) is None
    assert (made.source, made.state, made.county_code, made.category) == (
        "complaint", "assigned", DONGCHANGFU, "noise")  # fmt: skip
    assert (stored.state, stored.problem_id) == ("replied", problem)
    assert stored.replied_at is not None and stored.reply.startswith("已责令")
