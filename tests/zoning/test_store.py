"""Control units and clauses stored, checked and listed (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import Engine, func, insert, select

from envwatch.store.schema import AccessClause, ControlUnit, County, Enterprise
from envwatch.zoning.access import parse_emissions
from envwatch.zoning.store import (
    check_json,
    import_clauses,
    import_units,
    load_zoning,
    mismatches,
)
from envwatch.zoning.units import parse_project_polygon
from tests.test_cli_contract import envwatch


def square(west: float, south: float, size: float) -> list[list[list[float]]]:
    east, north = west + size, south + size
    return [[[west, south], [east, south], [east, north], [west, north], [west, south]]]


def feature(code: str, unit_type: str, rings: list[Any], county: str = "371502") -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": {"code": code, "name": f"单元{code}", "type": unit_type, "county": county},
        "geometry": {"type": "Polygon", "coordinates": rings},
    }


def collection(*features: dict[str, Any]) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


RIVER = feature("ZH37150210001", "优先保护", square(115.9, 36.4, 0.1))
PARK = feature("ZH37150220001", "重点管控", square(116.0, 36.4, 0.1), county="东昌府区")
CLAUSES = (
    "单元编码,维度,效力,行业代码,条款\n"
    "ZH37150210001,空间布局约束,禁止,*,禁止新建、扩建排放污染物的工业项目\n"
    "ZH37150220001,空间布局约束,禁止,C25,禁止新建炼焦、炼油项目\n"
    "ZH37150220001,污染物排放管控,限制,30，31,新建建材、钢铁项目须实施超低排放\n"
).encode()


def counties(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(insert(County), [{"code": "371502", "name_zh": "东昌府区"}])


def test_units_and_clauses_import_and_a_border_point_sees_both(engine: Engine) -> None:
    counties(engine)
    with engine.begin() as connection:
        assert import_units(connection, collection(RIVER, PARK)) == (2, [])
        assert import_clauses(connection, "clauses.csv", CLAUSES) == (3, [])
    with engine.connect() as connection:
        zoning = load_zoning(connection)
        inside = check_json(*zoning.check(116.05, 36.45, "3011"))
        border = check_json(*zoning.check(116.0, 36.45, "4411"))
        outside = check_json(*zoning.check(117.0, 36.45, "2511"))
    assert inside["units"] == [{"code": "ZH37150220001", "name": "单元ZH37150220001",
                                "type": "重点管控"}]  # fmt: skip
    assert inside["verdict"] == "restricted"
    assert inside["clauses"] == [{"dimension": "污染物排放管控",
                                  "text": "新建建材、钢铁项目须实施超低排放",
                                  "effect": "restricted"}]  # fmt: skip
    assert [u["code"] for u in border["units"]] == ["ZH37150210001", "ZH37150220001"]
    assert border["verdict"] == "forbidden"  # the priority unit forbids every industry
    assert outside == {"units": [], "verdict": "allowed", "clauses": []}
    # A project 0.01° (about 0.9 km) east of the key unit sees no priority unit
    # within 2 km; one just south of the priority unit does.
    assert zoning.nearby(116.11, 36.45) == []
    ((near, distance),) = zoning.nearby(115.95, 36.39)
    assert near.code == "ZH37150210001" and distance == pytest.approx(1.106, abs=0.01)


def test_a_bad_feature_is_named_and_nothing_is_imported(engine: Engine) -> None:
    counties(engine)
    open_ring = feature("ZH2", "重点管控", [[[116, 36], [116.1, 36], [116.1, 36.1], [116, 36.2]]])
    bad_type = feature("ZH3", "工业园区", square(116, 36, 0.1))
    bad_county = feature("ZH4", "一般管控", square(116, 36, 0.1), county="999999")
    with engine.begin() as connection:
        count, problems = import_units(
            connection, collection(RIVER, open_ring, bad_type, bad_county)
        )
    assert count == 0
    assert [p.describe() for p in problems] == [
        "feature 2 (ZH2): the outer ring is not closed (its last position is not its first)",
        "feature 3 (ZH3): type '工业园区' is not one of 优先保护 / 重点管控 / 一般管控",
        "feature 4 (ZH4): county '999999' is not registered",
    ]
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(ControlUnit)) == 0


def test_clause_rows_with_problems_import_nothing(engine: Engine) -> None:
    counties(engine)
    with engine.begin() as connection:
        import_units(connection, collection(RIVER))
        count, errors = import_clauses(
            connection,
            "clauses.csv",
            "单元编码,维度,效力,行业代码,条款\n"
            "ZH37150210001,空间布局约束,禁止,*,禁止新建工业项目\n"
            "ZH9,空间布局约束,禁止,*,未知单元\n"
            "ZH37150210001,产业政策,限制,C2X,维度与行业代码都不对\n".encode(),
        )
    assert count == 0
    assert [(e.row, e.column) for e in errors] == [(3, "单元编码"), (4, "维度"), (4, "行业代码")]
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(AccessClause)) == 0


def test_enterprises_breaking_their_units_list_are_listed_by_county(engine: Engine) -> None:
    counties(engine)
    with engine.begin() as connection:
        import_units(connection, collection(RIVER, PARK))
        import_clauses(connection, "clauses.csv", CLAUSES)
        connection.execute(insert(Enterprise), [
            {"name": "焦化厂", "credit_code": "91371500000000001A", "county_code": "371502",
             "industry_code": "2520", "longitude": 116.05, "latitude": 36.45},
            {"name": "食品厂", "credit_code": "91371500000000002A", "county_code": "371502",
             "industry_code": "1391", "longitude": 116.05, "latitude": 36.45},
            {"name": "河边印染厂", "credit_code": "91371500000000003A", "county_code": "371502",
             "industry_code": "1713", "longitude": 115.95, "latitude": 36.45},
            {"name": "边界上的水泥厂", "credit_code": "91371500000000004A",
             "county_code": "371502", "industry_code": "3011", "longitude": 116.0,
             "latitude": 36.42},
        ])  # fmt: skip
    with engine.connect() as connection:
        found = {m.enterprise: (m.unit.code, m.verdict.verdict) for m in mismatches(connection)}
    # On the border the home unit is the first by code: the priority unit.
    assert found == {
        "焦化厂": ("ZH37150220001", "forbidden"),
        "河边印染厂": ("ZH37150210001", "forbidden"),
        "边界上的水泥厂": ("ZH37150210001", "forbidden"),
    }


def test_cli_follows_the_zoning_contract(database_url: str, engine: Engine, tmp_path: Any) -> None:
    counties(engine)
    units = tmp_path / "units.geojson"
    units.write_bytes(collection(RIVER, PARK))
    clauses = tmp_path / "clauses.csv"
    clauses.write_bytes(CLAUSES)
    bad = tmp_path / "bad.geojson"
    bad.write_bytes(collection(feature("ZH7", "重点管控", [[[116, 36], [116.1, 36]]])))
    refused = envwatch("zoning", "import", "--db", database_url, str(bad))
    assert refused.returncode == 1
    assert "feature 1 (ZH7): the outer ring has fewer than 4 positions" in refused.stderr
    done = envwatch("zoning", "import", "--db", database_url, str(units))
    assert done.returncode == 0, done.stderr
    done = envwatch("zoning", "clauses", "--db", database_url, str(clauses))
    assert done.returncode == 0, done.stderr
    # A planned project's site as a polygon across both units: both, the strictest verdict.
    site = "115.98,36.44;116.02,36.44;116.02,36.47;115.98,36.47"
    across = envwatch("zoning", "check", "--db", database_url, "--polygon", site,
                      "--industry", "3011", "--emissions", "SO2:12.5,NOx:30", "--json")  # fmt: skip
    assert across.returncode == 0, across.stderr
    answer = json.loads(across.stdout)
    assert [u["code"] for u in answer["units"]] == ["ZH37150210001", "ZH37150220001"]
    assert answer["verdict"] == "forbidden" and len(answer["clauses"]) == 2
    checked = envwatch("zoning", "check", "--db", database_url, "--lon", "116.05",
                       "--lat", "36.45", "--industry", "2520", "--json")  # fmt: skip
    assert checked.returncode == 0, checked.stderr
    assert json.loads(checked.stdout) == {
        "units": [{"code": "ZH37150220001", "name": "单元ZH37150220001", "type": "重点管控"}],
        "verdict": "forbidden",
        "clauses": [{"dimension": "空间布局约束", "text": "禁止新建炼焦、炼油项目",
                     "effect": "forbidden"}],
    }  # fmt: skip


KML = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document>
<Placemark><name>徒骇河优先保护单元</name>
 <ExtendedData><Data name="code"><value>ZH37150210002</value></Data>
  <Data name="type"><value>优先保护</value></Data><Data name="county"><value>371502</value></Data>
 </ExtendedData>
 <Polygon><outerBoundaryIs><LinearRing><coordinates>
  115.9,36.5,0 116.1,36.5,0 116.1,36.7,0 115.9,36.7,0 115.9,36.5,0</coordinates></LinearRing>
 </outerBoundaryIs><innerBoundaryIs><LinearRing><coordinates>
  115.95,36.55 116.05,36.55 116.05,36.65 115.95,36.65 115.95,36.55</coordinates></LinearRing>
 </innerBoundaryIs></Polygon></Placemark>
<Placemark><name>两片重点管控单元</name>
 <ExtendedData><SchemaData schemaUrl="#units"><SimpleData name="code">ZH37150220002</SimpleData>
  <SimpleData name="type">重点管控</SimpleData><SimpleData name="county">东昌府区</SimpleData>
 </SchemaData></ExtendedData>
 <MultiGeometry>
  <Polygon><outerBoundaryIs><LinearRing><coordinates>116.2,36.5 116.3,36.5 116.3,36.6 116.2,36.5
  </coordinates></LinearRing></outerBoundaryIs></Polygon>
  <Polygon><outerBoundaryIs><LinearRing><coordinates>116.4,36.5 116.5,36.5 116.5,36.6 116.4,36.5
  </coordinates></LinearRing></outerBoundaryIs></Polygon>
 </MultiGeometry></Placemark>
</Document></kml>"""


def test_units_import_from_kml_with_holes_and_multigeometry(
    database_url: str, engine: Engine, tmp_path: Any
) -> None:
    counties(engine)
    with engine.begin() as connection:
        assert import_units(connection, KML.encode()) == (2, [])
    with engine.connect() as connection:
        zoning = load_zoning(connection)
    assert zoning.units["ZH37150210002"].name == "徒骇河优先保护单元"
    assert zoning.index.units_at((116.0, 36.6)) == []  # in the hole
    assert zoning.index.units_at((115.92, 36.6)) == ["ZH37150210002"]
    assert zoning.index.units_at((116.45, 36.52)) == ["ZH37150220002"]  # the second part
    bad = tmp_path / "bad.kml"
    broken = KML.replace("<value>优先保护", "<value>保护").replace(
        "116.4,36.5 116.5", "116.4;36.5 116.5"
    )
    bad.write_text(broken, encoding="utf-8")
    refused = envwatch("zoning", "import", "--db", database_url, str(bad))
    assert refused.returncode == 1
    assert "feature 1 (ZH37150210002): type '保护' is not one of" in refused.stderr
    assert "feature 2 (ZH37150220002): coordinates '116.4;36.5' are not lon,lat" in refused.stderr
    entity = b'<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY a "b">]><kml/>'
    with engine.begin() as connection:
        count, problems = import_units(connection, entity)
    assert count == 0 and "DOCTYPE" in problems[0].describe()


def test_a_project_polygon_meets_units_and_sees_sensitive_units_nearby(engine: Engine) -> None:
    counties(engine)
    with engine.begin() as connection:
        assert import_units(connection, collection(RIVER, PARK)) == (2, [])
        assert import_clauses(connection, "clauses.csv", CLAUSES) == (3, [])
    with engine.connect() as connection:
        zoning = load_zoning(connection)
    _, inside = parse_project_polygon("116.05,36.42;116.08,36.42;116.08,36.45")
    units, verdict = zoning.check_area(inside, "3011")
    assert [u.code for u in units] == ["ZH37150220001"] and verdict.verdict == "restricted"
    # A site about 1.1 km south of the priority unit meets no unit but sees it nearby.
    _, south = parse_project_polygon("115.94,36.38;115.96,36.38;115.96,36.39;115.94,36.39")
    assert zoning.check_area(south, "3011")[0] == []
    ((near, distance),) = zoning.nearby_area(south)
    assert near.code == "ZH37150210001" and distance == pytest.approx(1.106, abs=0.01)
    with pytest.raises(ValueError, match="fewer than 4 positions"):
        parse_project_polygon("116,36;116.1,36")


def test_a_clause_on_pollutants_applies_only_to_what_emits_them(engine: Engine) -> None:
    counties(engine)
    voc = CLAUSES + "ZH37150220001,污染物排放管控,限制,*,新增VOCs排放实行倍量替代,VOCs\n".encode()
    header, *rows = voc.decode().splitlines()
    table = "\n".join([header + ",污染物", *(row if row.endswith("VOCs") else row + ","
                                          for row in rows)]).encode()  # fmt: skip
    with engine.begin() as connection:
        assert import_units(connection, collection(RIVER, PARK)) == (2, [])
        assert import_clauses(connection, "clauses.csv", table) == (4, [])
        bad = table.replace(b",VOCs", b",\xe7\x83\x9f\xe8\x8d\x89")  # 烟草: no pollutant
        count, errors = import_clauses(connection, "clauses.csv", bad)
        assert count == 0 and [(e.row, e.column) for e in errors] == [(5, "污染物")]
    with engine.connect() as connection:
        zoning = load_zoning(connection)
    # A food factory (1311) in the key unit: only the VOCs clause could apply.
    unknown = zoning.check(116.05, 36.45, "1311")[1]
    clean = zoning.check(116.05, 36.45, "1311", {"a21026"})[1]
    solvent = zoning.check(116.05, 36.45, "1311", set(parse_emissions("VOCs:3.5,SO2:1")))[1]
    assert (unknown.verdict, clean.verdict, solvent.verdict) == (
        "restricted", "allowed", "restricted")  # fmt: skip
    assert solvent.clauses[0].pollutants == ("a24088",)
    with pytest.raises(ValueError, match="not a pollutant"):
        parse_emissions("烟草:3")
