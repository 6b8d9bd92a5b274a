"""Registry import from CSV and XLSX: row-level errors, and nothing half-imported."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import Engine, func, select

from envwatch.registry.importing import ImportFileError, ImportKind, import_file
from envwatch.store.schema import County, Enterprise, MonitoringPoint, Outlet, PermitLimit

ENTERPRISES_CSV = """企业名称,统一社会信用代码,区县代码,行业代码,重点类别
聊城示例热电有限公司,91371500MA3C000001,371502,4411,air
聊城示例造纸有限公司,91371500MA3C000002,371522,2221,"water,chemical_park"
"""


def add_counties(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(
            County.__table__.insert(),  # type: ignore[attr-defined]
            [{"code": "371502", "name_zh": "东昌府区"}, {"code": "371522", "name_zh": "莘县"}],
        )


def count(engine: Engine, table: type[object]) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def xlsx(rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_a_chain_of_imports_builds_the_registry(engine: Engine) -> None:
    add_counties(engine)
    assert import_file(engine, ImportKind.ENTERPRISES, "e.csv", ENTERPRISES_CSV.encode()) == []
    outlets = xlsx(
        [
            ["统一社会信用代码", "排放口编号", "排放口名称", "类型", "高度"],
            ["91371500MA3C000001", "DA001", "1号锅炉烟囱", "air", 120],
            ["91371500MA3C000002", "DW001", "污水总排口", "water", None],
        ]
    )
    assert import_file(engine, ImportKind.OUTLETS, "o.xlsx", outlets) == []
    points = (
        "MN,PW,统一社会信用代码,排放口编号,ST,协议版本,宽松解析\n"
        "010000A8900016F000169DC1,123456,91371500MA3C000001,DA001,31,2017,是\n"
        "LD130133000015,654321,91371500MA3C000002,DW001,32,2005,否\n"
    )
    assert import_file(engine, ImportKind.POINTS, "p.csv", points.encode("gbk")) == []
    limits = xlsx(
        [
            [
                "统一社会信用代码",
                "排放口编号",
                "污染物编码",
                "限值",
                "单位",
                "基准氧含量",
                "生效日期",
            ],
            ["91371500MA3C000001", "DA001", "a21026", 35, "mg/m³", 6, "2024-01-01"],
        ]
    )
    assert import_file(engine, ImportKind.LIMITS, "l.xlsx", limits) == []
    assert [count(engine, t) for t in (Enterprise, Outlet, MonitoringPoint, PermitLimit)] == [
        2, 2, 2, 1,
    ]  # fmt: skip
    with engine.connect() as connection:
        point = connection.execute(
            select(MonitoringPoint).where(MonitoringPoint.mn == "LD130133000015")
        ).one()
    assert (point.protocol_version, point.lenient, point.st) == ("2005", False, "32")


def test_every_problem_is_reported_and_nothing_is_imported(engine: Engine) -> None:
    add_counties(engine)
    bad = (
        "name,credit_code,county_code,industry_code,key_categories\n"
        "聊城示例一号有限公司,91371500MA3C000001,371502,4411,air\n"
        "聊城示例二号有限公司,not-a-code,371502,4411,air\n"
        "聊城示例三号有限公司,91371500MA3C000003,999999,4411,air\n"
        "聊城示例四号有限公司,91371500MA3C000004,371502,4411,spaceship\n"
    )
    errors = import_file(engine, ImportKind.ENTERPRISES, "bad.csv", bad.encode())
    assert [(e.row, e.column) for e in errors] == [(3, "credit_code"), (5, "key_categories")]
    assert "spaceship" in errors[1].reason
    assert count(engine, Enterprise) == 0
    # With the format errors fixed, references are checked: row 4's county is unknown.
    fixed = bad.replace("not-a-code", "91371500MA3C000002").replace("spaceship", "water")
    errors = import_file(engine, ImportKind.ENTERPRISES, "bad.csv", fixed.encode())
    assert [(e.row, e.column) for e in errors] == [(4, "county_code")]
    assert count(engine, Enterprise) == 0


def test_duplicates_in_the_file_and_in_the_registry(engine: Engine) -> None:
    add_counties(engine)
    assert import_file(engine, ImportKind.ENTERPRISES, "e.csv", ENTERPRISES_CSV.encode()) == []
    again = ENTERPRISES_CSV + "聊城示例重复有限公司,91371500MA3C000009,371502,4411,air\n"
    again += "聊城示例重复有限公司,91371500MA3C000009,371502,4411,air\n"
    errors = import_file(engine, ImportKind.ENTERPRISES, "e.csv", again.encode())
    reasons = {(e.row, e.reason) for e in errors}
    assert (2, "enterprise already registered") in reasons
    assert (5, "repeats an earlier row of this file") in reasons
    assert count(engine, Enterprise) == 2


def test_unknown_pollutant_code(engine: Engine) -> None:
    add_counties(engine)
    import_file(engine, ImportKind.ENTERPRISES, "e.csv", ENTERPRISES_CSV.encode())
    limits = "统一社会信用代码,排放口编号,污染物编码,限值,单位,生效日期\n"
    limits += "91371500MA3C000001,DA001,x99999,35,mg/m³,2024-01-01\n"
    errors = import_file(engine, ImportKind.LIMITS, "l.csv", limits.encode())
    assert [(e.row, e.column) for e in errors] == [(2, "污染物编码")]


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("e.xlsx", b"not a zip"),
        ("e.txt", b"a,b"),
        ("e.csv", b""),
        ("e.csv", "\ufffe".encode("utf-16")),
    ],
)
def test_files_that_are_not_tables_are_refused(engine: Engine, name: str, content: bytes) -> None:
    with pytest.raises(ImportFileError) as caught:
        import_file(engine, ImportKind.ENTERPRISES, name, content)
    assert caught.value.code == "bad_import_file"


def test_the_command_reports_rows_and_fails(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    add_counties(engine)
    path = tmp_path / "enterprises.csv"
    path.write_text(ENTERPRISES_CSV.replace("371522", "123456"), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "envwatch", "registry", "import", "enterprises", str(path),
         "--db", database_url],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    assert "row 3, column county_code: unknown county 123456" in result.stdout
    assert "nothing imported" in result.stderr
