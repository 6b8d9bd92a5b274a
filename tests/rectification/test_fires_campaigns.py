"""Satellite fire points and inspection campaigns (大排查大整治), on SQLite and
PostgreSQL: each fire point located to its county (golden points in known
counties, one outside the city), a bad row imports nothing, a re-import
changes nothing; a campaign's failed item opens exactly one problem, and a
county officer sees and records only their county's targets."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, func, insert, select
from typer.testing import CliRunner, Result

from envwatch.audit.log import Actor, verify
from envwatch.cli import app
from envwatch.rectification.campaign_desk import (
    CampaignError,
    create_campaign,
    record_results,
    visible_campaign,
    visible_campaigns,
)
from envwatch.rectification.campaigns import RESULT_COLUMNS, CampaignSpec
from envwatch.rectification.desk import RectificationDesk
from envwatch.rectification.fire_desk import import_fire_points, visible_fire_points
from envwatch.rectification.fires import FIRE_COLUMNS, county_index, locate
from envwatch.store.schema import (
    CampaignResult,
    ChemicalPark,
    FirePoint,
    RectificationLink,
    RectificationProblem,
)
from tests.rectification.helpers import DONGCHANGFU, GUANXIAN, registry
from tests.rectification.test_desk import viewer


def envwatch(*args: str) -> Result:
    """The command line, in process (its contract is the same as a process's)."""
    return CliRunner().invoke(app, list(args))


T0 = datetime(2026, 10, 20, 2, 0, tzinfo=UTC)
# Golden points: the centroid of each county's boundary lies in it; 济南 lies outside.
GOLDEN = {
    (115.936051, 36.444026): "371502",  # 东昌府区
    (116.174534, 36.597228): "371503",  # 茌平区
    (115.869642, 36.144269): "371521",  # 阳谷县
    (115.546854, 36.133479): "371522",  # 莘县
    (116.289605, 36.323061): "371524",  # 东阿县
    (115.534922, 36.530226): "371525",  # 冠县
    (116.250884, 36.832912): "371526",  # 高唐县
    (115.774839, 36.776079): "371581",  # 临清市
    (117.000000, 36.650000): None,  # 济南, outside the city
}


def test_golden_points_lie_in_their_counties() -> None:
    index = county_index()
    assert {p: locate(index, *p) for p in GOLDEN} == GOLDEN


def fire_export(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(FIRE_COLUMNS)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


FIRES = [
    ["FY3D-20261019-0001", "2026-10-19 13:42", "115.936051", "36.444026", "85", "12.5", "FY-3D"],
    ["NPP-20261019-0002", "2026-10-19T13:50", "115.534922", "36.530226", "nominal", "", "NPP"],
    ["NPP-20261019-0003", "2026-10-19 13:50", "117.0", "36.65", "high", "30", "NPP"],
]


@pytest.fixture
def desk(engine: Engine) -> RectificationDesk:
    registry(engine)
    return RectificationDesk(engine)


def count(engine: Engine, column: object) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count(column))).scalar_one())  # type: ignore[arg-type]


def test_fire_points_become_problems_in_their_counties_once(desk: RectificationDesk) -> None:
    bad = [row[:] for row in FIRES]
    bad[1][3] = "96.5"  # no latitude
    bad[2][0] = "NPP 0003"  # a space in the id
    done, errors = import_fire_points(desk, "火点.csv", fire_export(bad), now=T0)
    assert [(e.row, e.column) for e in errors] == [(3, "纬度"), (4, "火点编号")]
    assert count(desk.engine, FirePoint.id) == count(desk.engine, RectificationProblem.id) == 0

    done, errors = import_fire_points(desk, "火点.csv", fire_export(FIRES), now=T0)
    assert errors == []
    assert (done.imported, done.known, done.outside, len(done.problems)) == (3, 0, 1, 2)
    with desk.engine.connect() as connection:
        points = {p.fire_id: p for p in connection.execute(select(FirePoint))}
        problems = connection.execute(
            select(RectificationProblem).order_by(RectificationProblem.id)
        ).all()
    assert points["FY3D-20261019-0001"].county_code == DONGCHANGFU
    assert points["NPP-20261019-0002"].county_code == GUANXIAN
    assert points["NPP-20261019-0003"].county_code is None  # outside: recorded, no problem
    assert points["NPP-20261019-0003"].problem_id is None
    assert [(p.source, p.category, p.county_code, p.state, p.item_no) for p in problems] == [
        ("satellite_fire", "air", DONGCHANGFU, "assigned", "FY3D-20261019-0001"),
        ("satellite_fire", "air", GUANXIAN, "assigned", "NPP-20261019-0002"),
    ]
    assert problems[0].deadline == datetime(2026, 10, 22)  # seen + check_days (3)
    assert problems[0].lead_unit == "东昌府区人民政府"

    again, errors = import_fire_points(desk, "火点.csv", fire_export(FIRES), now=T0)
    assert errors == [] and (again.imported, again.known, again.problems) == (0, 3, [])
    assert count(desk.engine, RectificationProblem.id) == 2

    with desk.engine.connect() as connection:
        seen, total = visible_fire_points(connection, viewer("county-gx"))
        assert total == 1 and seen[0]["fire_id"] == "NPP-20261019-0002"
        assert visible_fire_points(connection, viewer("enterprise-2")) == ([], 0)
        everything, total = visible_fire_points(connection, viewer("supervisor"), outside=True)
        assert total == 1 and everything[0]["outside"]
        assert verify(connection) is None


SPEC = {
    "name": "2026年危险废物大排查大整治",
    "theme": "危险废物",
    "starts_on": "2026-10-01",
    "ends_on": "2026-12-31",
    "counties": [],
    "items": [
        {"text": "危险废物贮存设施符合规范", "legal_basis": "GB 18597-2023", "severity": "较重"},
        {"text": "转移联单齐全", "legal_basis": "《危险废物转移管理办法》", "severity": "minor"},
    ],
    "targets": [{"kind": "enterprise", "id": 1}, {"kind": "enterprise", "id": 2}],
}


def results(rows: list[list[str]]) -> list[dict[str, str]]:
    return [dict(zip(RESULT_COLUMNS, row + [""] * (len(RESULT_COLUMNS) - len(row)), strict=True))
            for row in rows]  # fmt: skip


def test_a_failed_item_opens_exactly_one_problem_within_scope(desk: RectificationDesk) -> None:
    city = Actor("admin", "city_admin", "test")
    wrong = CampaignSpec.model_validate(
        SPEC | {"theme": "核电", "targets": [{"kind": "boat", "id": 1}, {"kind": "enterprise",
                                                                        "id": 99}]}
    )  # fmt: skip
    none, errors = create_campaign(desk, wrong, city, now=T0)
    assert none is None and [(e.row, e.column) for e in errors] == [
        (0, "theme"), (1, "targets.kind"), (2, "targets.id")]  # fmt: skip
    campaign, errors = create_campaign(desk, CampaignSpec.model_validate(SPEC), city, now=T0)
    assert errors == [] and campaign is not None

    # The Guanxian officer records at their target; the Dongchangfu target is not theirs.
    outside = results([["enterprise", "1", "1", "不合格"], ["enterprise", "2", "3", "合格"]])
    _, errors = record_results(desk, campaign, "county-gx", outside, peer="test")
    assert [(e.row, e.column) for e in errors] == [(2, "对象编号"), (3, "检查项")]
    opened, errors = record_results(desk, campaign, "county-gx", results([
        ["enterprise", "2", "1", "不合格", "贮存库无防渗"], ["enterprise", "2", "2", "不适用"],
    ]), peer="test", now=T0)  # fmt: skip
    assert errors == [] and len(opened) == 1
    again, errors = record_results(desk, campaign, "enforcer", results([
        ["enterprise", "2", "1", "fail", "复查仍未整改"], ["enterprise", "1", "1", "pass"],
    ]), peer="test", now=T0)  # fmt: skip
    assert errors == [] and again == []  # the same failed item: no second problem
    with pytest.raises(CampaignError, match="role"):
        record_results(desk, campaign, "viewer", [], peer="test")

    with desk.engine.connect() as connection:
        (problem,) = connection.execute(select(RectificationProblem)).all()
        assert (problem.source, problem.batch, problem.county_code, problem.enterprise_id,
                problem.category, problem.state) == (
            "campaign", SPEC["name"], GUANXIAN, 2, "hazardous_waste", "assigned")  # fmt: skip
        assert problem.deadline == datetime(2026, 11, 19)  # 较重: 30 days
        links = connection.execute(select(RectificationLink.kind, RectificationLink.ref_id))
        assert links.all() == [("enterprise", 2)]
        assert count(desk.engine, CampaignResult.target_id) == 3

        mine = visible_campaign(connection, viewer("county-gx"), campaign, desk)
        assert mine is not None and [t["ref_id"] for t in mine["targets"]] == [2]
        assert mine["progress"] == [
            {"county": GUANXIAN, "targets": 1, "inspected": 1, "items_failed": 1,
             "problems_opened": 1, "problems_closed": 0},
            {"county": "", "targets": 1, "inspected": 1, "items_failed": 1,
             "problems_opened": 1, "problems_closed": 0},
        ]  # fmt: skip
        whole = visible_campaign(connection, viewer("supervisor"), campaign, desk)
        assert whole is not None and whole["progress"][-1]["targets"] == 2
        assert whole["progress"][-1]["inspected"] == 2
        assert visible_campaigns(connection, viewer("enterprise-1"), desk)[1] == 1
        own = visible_campaign(connection, viewer("enterprise-1"), campaign, desk)
        assert own is not None and [t["ref_id"] for t in own["targets"]] == [1]
        assert verify(connection) is None


def test_a_campaign_targets_the_bottom_line_registers(desk: RectificationDesk) -> None:
    # A chemical park answers to no enterprise: its county comes from the
    # register (registry/registers.py REGISTERS), and its failed item opens a
    # problem with no enterprise linked.
    with desk.engine.begin() as connection:
        park = connection.execute(
            insert(ChemicalPark).values(name="冠县化工园区", county_code=GUANXIAN, level="省级")
            .returning(ChemicalPark.id)
        ).scalar_one()  # fmt: skip
    city = Actor("admin", "city_admin", "test")
    spec = SPEC | {"targets": [{"kind": "chemical_park", "id": park},
                               {"kind": "chemical_park", "id": park + 1}]}  # fmt: skip
    none, errors = create_campaign(desk, CampaignSpec.model_validate(spec), city, now=T0)
    assert none is None and [(e.row, e.column) for e in errors] == [(2, "targets.id")]
    spec["targets"] = spec["targets"][:1]
    campaign, errors = create_campaign(desk, CampaignSpec.model_validate(spec), city, now=T0)
    assert errors == [] and campaign is not None
    failed = results([["chemical_park", str(park), "1", "不合格", "园区无应急池"]])
    opened, errors = record_results(desk, campaign, "county-gx", failed, peer="test", now=T0)
    assert errors == [] and len(opened) == 1
    with desk.engine.connect() as connection:
        (problem,) = connection.execute(select(RectificationProblem)).all()
        assert (problem.county_code, problem.enterprise_id) == (GUANXIAN, None)
        seen = visible_campaign(connection, viewer("county-gx"), campaign, desk)
        assert seen is not None
        assert [(t["kind"], t["name"], t["page"]) for t in seen["targets"]] == [
            ("chemical_park", "冠县化工园区", f"/registers?kind=chemical_park#chemical_park-{park}")
        ]


def test_the_cli_imports_fire_points_and_runs_a_campaign(sqlite_url: str, tmp_path: Path) -> None:
    # In process, on SQLite (the desks above run on both databases; the
    # commands only read files and print).
    database_url = sqlite_url
    engine = create_engine(sqlite_url)
    registry(engine)
    engine.dispose()
    bad = tmp_path / "火点.csv"
    bad.write_bytes(fire_export([FIRES[0], ["X-1", "昨天", "115.9", "36.4"]]))
    refused = envwatch("rectify", "fire-import", "--db", database_url, str(bad))
    assert refused.exit_code == 1
    assert "row 3, column 监测时间:" in refused.output and "nothing imported" in refused.output
    good = tmp_path / "火点.csv"
    good.write_bytes(fire_export(FIRES))
    done = envwatch("rectify", "fire-import", "--db", database_url, str(good))
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout) | {"problems": []} == {
        "imported": 3, "known": 0, "outside": 1, "problems": []}  # fmt: skip

    spec = tmp_path / "行动.json"
    spec.write_text(json.dumps(SPEC, ensure_ascii=False), "utf-8")
    created = envwatch("rectify", "campaign", "create", "--db", database_url, str(spec))
    assert created.exit_code == 0, created.output
    campaign = str(json.loads(created.stdout)["id"])
    sheet = tmp_path / "结果.csv"
    out = io.StringIO()
    csv.writer(out).writerows([RESULT_COLUMNS[:5], ["enterprise", "1", "1", "不合格", "无标识"]])
    sheet.write_text(out.getvalue(), "utf-8")
    recorded = envwatch("rectify", "campaign", "results", "--db", database_url, campaign,
                        str(sheet), "--user", "enforcer")  # fmt: skip
    assert recorded.exit_code == 0, recorded.output
    assert len(json.loads(recorded.stdout)["problems"]) == 1
    progress = envwatch("rectify", "campaign", "progress", "--db", database_url, campaign)
    lines = [json.loads(line) for line in progress.stdout.splitlines()]
    assert lines[0] == {"county": DONGCHANGFU, "targets": 1, "inspected": 1, "items_failed": 1,
                        "problems_opened": 1, "problems_closed": 0}  # fmt: skip
