"""Air stations and river sections in the registry import and export (CSV,
row-level errors, all or nothing; SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from envwatch.demo.seed import seed_demo
from envwatch.registry.export import registry_tables
from envwatch.registry.importing import ImportKind, import_file
from envwatch.store.schema import AirStation, MonitoringPoint, PointFactor, WaterSection
from tests.electricity.test_http_batch import base_url
from tests.web.test_pages_and_api import session

__all__ = ["base_url"]

NEW_MN = "371525A00000000000000099"


def count(engine: Engine, table: object) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_stations_and_sections_import_all_or_nothing(engine: Engine) -> None:
    seed_demo(engine)
    with engine.connect() as connection:
        enterprise_mn = connection.execute(
            select(MonitoringPoint.mn).where(MonitoringPoint.enterprise_id.is_not(None))
        ).scalars().first()  # fmt: skip
    assert enterprise_mn is not None
    stations_before = count(engine, AirStation)
    bad = (
        "code,name,level,county_code,mn,pw\n"
        "LC-A90,新站一,county,999999,,\n"  # unknown county
        "LC-A01,重复站,county,371502,,\n"  # code taken
        f"LC-A91,企业点位,county,371502,{enterprise_mn},abc123\n"  # an enterprise's MN
        f"LC-A92,缺密码,county,371502,{NEW_MN},\n"  # a new logger without its PW
    ).encode()
    errors = import_file(engine, ImportKind.STATIONS, "stations.csv", bad)
    assert {(e.row, e.column) for e in errors} == {
        (2, "county_code"), (3, "code"), (4, "mn"), (5, "pw"),
    }  # fmt: skip
    # Formats are checked first, each cell named.
    wrong = "code,name,level,county_code\nLC-A93,级别错,district,371502\n".encode()
    [problem] = import_file(engine, ImportKind.STATIONS, "stations.csv", wrong)
    assert (problem.row, problem.column) == (2, "level")
    assert count(engine, AirStation) == stations_before
    good = (
        "编码,站点名称,级别,区县代码,经度,纬度,MN,PW\n"
        f"LC-A90,新站一,县控,371525,115.4,36.5,{NEW_MN},a99999\n"
    )
    assert import_file(engine, ImportKind.STATIONS, "stations.csv", good.encode()) == []
    with engine.connect() as connection:
        station = connection.execute(select(AirStation).where(AirStation.code == "LC-A90")).one()
        point = connection.execute(
            select(MonitoringPoint).where(MonitoringPoint.mn == NEW_MN)
        ).one()  # fmt: skip
        factors = set(connection.execute(
            select(PointFactor.pollutant).where(PointFactor.mn == NEW_MN)
        ).scalars())  # fmt: skip
    assert (station.level, station.county_code, station.mn) == ("county", "371525", NEW_MN)
    assert (point.st, point.enterprise_id, point.pw) == ("22", None, "a99999")
    assert factors == {"a34004", "a34002", "a21026", "a21004", "a21005", "a05024"}
    sections = (
        "编码,断面名称,河流,控制级别,目标类别,湖库,区县代码\n"
        "LC-W90,新断面,马颊河,市控,Ⅲ类,否,371525\n"
    )
    assert import_file(engine, ImportKind.SECTIONS, "sections.csv", sections.encode()) == []
    with engine.connect() as connection:
        section = connection.execute(
            select(WaterSection).where(WaterSection.code == "LC-W90")
        ).one()  # fmt: skip
    assert (section.level, section.target_class, section.lake) == ("city", "III", False)
    # Exported with their sites, the loggers are not exported again as enterprise points.
    tables = registry_tables(engine, [ImportKind.STATIONS, ImportKind.POINTS])
    exported = {row["code"]: row for row in tables[ImportKind.STATIONS]}
    assert exported["LC-A90"]["mn"] == NEW_MN and exported["LC-A90"]["pw"] == ""
    assert NEW_MN not in {row["mn"] for row in tables[ImportKind.POINTS]}
    assert all(row["credit_code"] for row in tables[ImportKind.POINTS])


def test_a_station_created_over_the_api_registers_its_logger(base_url: str, engine: Engine) -> None:
    admin, csrf = session(base_url, "admin")
    try:
        headers = {"X-CSRF-Token": csrf}
        with engine.connect() as connection:
            enterprise_mn = connection.execute(
                select(MonitoringPoint.mn).where(MonitoringPoint.enterprise_id.is_not(None))
            ).scalars().first()  # fmt: skip
        body = {"code": "API-A1", "name": "接口新站", "level": "county", "county_code": "371525",
                "mn": NEW_MN, "pw": "a99998"}  # fmt: skip
        created = admin.post("/api/v1/quality/stations", json=body, headers=headers)
        assert created.status_code == 201, created.text
        assert created.json()["mn"] == NEW_MN and "pw" not in created.json()
        with engine.connect() as connection:
            point = connection.execute(
                select(MonitoringPoint).where(MonitoringPoint.mn == NEW_MN)
            ).one()  # fmt: skip
            factors = set(connection.execute(
                select(PointFactor.pollutant).where(PointFactor.mn == NEW_MN)
            ).scalars())  # fmt: skip
        assert (point.st, point.enterprise_id, point.pw, point.active) == (
            "22",
            None,
            "a99998",
            True,
        )
        assert "a05024" in factors and len(factors) == 6
        taken = admin.post("/api/v1/quality/stations", headers=headers,
                           json={**body, "code": "API-A2", "mn": enterprise_mn})  # fmt: skip
        assert taken.status_code == 422
        assert taken.json()["error"]["fields"][0]["field"] == "body.mn"
    finally:
        admin.close()
