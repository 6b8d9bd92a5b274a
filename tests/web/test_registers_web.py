"""The bottom-line registers over real HTTP on SQLite and PostgreSQL, on the
demo city's imported registers: CRUD by the city administrator (audited),
reads scoped by county and enterprise, imports refused whole with every
row's problem, the hazardous-waste findings, the page and the map layer."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import Engine, func, select

from envwatch.demo.registers import seed_registers
from envwatch.registry.registers import REGISTERS, entry
from envwatch.store.schema import AuditEntry, Enterprise, HazardousWasteUnit, WasteTransfer
from tests.electricity.test_http_batch import base_url
from tests.web.test_pages_and_api import session

__all__ = ["base_url"]
REG = "/api/v1/registry"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def registers(base_url: str, engine: Engine) -> dict[str, int]:
    counts = seed_registers(engine)
    assert counts == {"hazardous_waste_unit": 8, "waste_transfer": 10, "medical_institution": 3,
                      "chemical_park": 2, "chemical_enterprise": 3,
                      "heavy_metal_enterprise": 3}  # fmt: skip
    return counts


def _count(engine: Engine, table: Any) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def test_crud_scope_and_audit(base_url: str, engine: Engine, registers: dict[str, int]) -> None:
    supervisor, _ = session(base_url, "supervisor")
    units = supervisor.get(f"{REG}/hazardous-waste-units?limit=500").json()
    assert units["total"] == 8
    assert {u["role"] for u in units["items"]} == {"producer", "disposer"}
    disposers = supervisor.get(f"{REG}/hazardous-waste-units?role=disposer").json()["items"]
    assert [u["licensed_categories"] for u in disposers] == [
        ["HW08", "HW17", "HW49"], ["HW01"], ["HW34", "HW35"]]  # fmt: skip
    county = units["items"][-1]["county_code"]
    officer, officer_csrf = session(base_url, f"county-{county}")
    mine = officer.get(f"{REG}/hazardous-waste-units?limit=500").json()["items"]
    assert mine and {u["county_code"] for u in mine} == {county}
    other = next(u for u in units["items"] if u["county_code"] != county)
    assert officer.get(f"{REG}/hazardous-waste-units/{other['id']}").status_code == 404
    medical = officer.get(f"{REG}/medical-institutions").json()["items"]
    assert all(m["county_code"] == county for m in medical)
    # An enterprise's user sees the unit of its own credit code, and nothing else.
    enterprise, _ = session(base_url, "enterprise-1")
    own = enterprise.get(f"{REG}/hazardous-waste-units").json()["items"]
    with engine.connect() as connection:
        credit = connection.execute(select(Enterprise.credit_code).where(Enterprise.id == 1)
                                    ).scalar_one()  # fmt: skip
        # The register kinds' mapping (for campaigns): the same scope.
        register = REGISTERS["hazardous_waste_unit"]
        assert entry(connection, "hazardous_waste_unit", other["id"]) is not None
        assert entry(connection, "no_such_kind", 1) is None
        seen = connection.execute(register.entries(officer_viewer(county))).all()
    assert [u["credit_code"] for u in own] == [credit]
    assert enterprise.get(f"{REG}/chemical-parks").json()["items"] == []
    assert {row.county_code for row in seen} == {county}

    # Changes are the city administrator's, each audited.
    body = {
        "name": "测试医院",
        "county_code": county,
        "grade": "二级",
        "beds": 80,
        "has_wastewater_facility": True,
        "disinfection": "uv",
        "online_monitoring": False,
    }
    refused = officer.post(f"{REG}/medical-institutions", json=body,
                           headers={"X-CSRF-Token": officer_csrf})  # fmt: skip
    assert refused.status_code == 403
    admin, csrf = session(base_url, "admin")
    headers = {"X-CSRF-Token": csrf}
    made = admin.post(f"{REG}/medical-institutions", json=body, headers=headers)
    assert made.status_code == 201, made.text
    assert made.json()["grade"] == "secondary"  # 二级, by the vocabulary
    key = made.json()["id"]
    changed = admin.patch(f"{REG}/medical-institutions/{key}", json={"online_monitoring": True},
                          headers=headers)  # fmt: skip
    assert changed.status_code == 200 and changed.json()["online_monitoring"] is True
    wrong = admin.patch(f"{REG}/medical-institutions/{key}", json={"disinfection": "magic"},
                        headers=headers)  # fmt: skip
    assert wrong.status_code == 422 and "disinfection" in wrong.text
    assert officer.get(f"{REG}/medical-institutions/{key}").status_code == 200
    with engine.connect() as connection:
        actions = connection.execute(
            select(AuditEntry.action, AuditEntry.actor).where(
                AuditEntry.entity == "medical_institution", AuditEntry.entity_id == str(key))
            .order_by(AuditEntry.seq)
        ).all()  # fmt: skip
    assert [tuple(a) for a in actions] == [
        ("registry.medical_institution.create", "admin"),
        ("registry.medical_institution.update", "admin"),
    ]
    # A disposer without its licence is refused; a producer with transfers is not deleted.
    unlicensed = {
        "name": "无证单位",
        "credit_code": "91371500MA00000099",
        "role": "disposer",
        "county_code": county,
    }
    assert admin.post(f"{REG}/hazardous-waste-units", json=unlicensed,
                      headers=headers).status_code == 422  # fmt: skip
    producer = next(u for u in units["items"] if u["role"] == "producer")
    held = admin.delete(f"{REG}/hazardous-waste-units/{producer['id']}", headers=headers)
    assert held.status_code == 409 and held.json()["error"]["dependants"]["transfers"] >= 1
    assert admin.delete(f"{REG}/medical-institutions/{key}", headers=headers).status_code == 204
    for client in (supervisor, officer, enterprise, admin):
        client.close()


@dataclass(frozen=True)
class Officer:
    counties: set[str]
    role: str = "county_officer"
    enterprise_id: int | None = None
    contractor_id: int | None = None


def officer_viewer(county: str) -> Officer:
    return Officer({county})


BAD_TRANSFERS = (
    "联单编号,产生单位信用代码,接收单位信用代码,废物类别,数量,转移日期\n"
    "T-0001,{producer},91371500MA00000001,HW08,2.5,2026-03-01\n"
    "T-0002,{producer},91371500MA00000001,HW99,-1,2026-03-02\n"
    "T-0003,913715000000000000,91371500MA00000001,HW08,1,2026-03-03\n"
    "T-0001,{producer},91371500MA00000001,HW08,1,2026-03-04\n"
)


def test_imports_are_all_or_nothing_and_findings_follow(
    base_url: str, engine: Engine, registers: dict[str, int]
) -> None:
    with engine.connect() as connection:
        producer = connection.execute(
            select(HazardousWasteUnit.credit_code).where(HazardousWasteUnit.role == "producer")
            .order_by(HazardousWasteUnit.id)).scalars().first()  # fmt: skip
    admin, csrf = session(base_url, "admin")
    headers = {"X-CSRF-Token": csrf, "content-type": "text/csv"}
    before = _count(engine, WasteTransfer)
    bad = admin.post(f"{REG}/waste-transfers/import?name=联单.csv", headers=headers,
                     content=BAD_TRANSFERS.format(producer=producer).encode())  # fmt: skip
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "import_rejected"
    rows = {(r["row"], r["column"]) for r in bad.json()["error"]["rows"]}
    assert rows == {(3, "废物类别"), (3, "数量"), (4, "产生单位信用代码"), (5, "")}
    reasons = {(r["row"], r["column"]): r["reason"] for r in bad.json()["error"]["rows"]}
    assert "HW99" in reasons[(3, "废物类别")] and "repeats row 2" in reasons[(5, "")]
    assert "no registered producer" in reasons[(4, "产生单位信用代码")]
    assert _count(engine, WasteTransfer) == before  # nothing imported
    good = "\n".join(BAD_TRANSFERS.format(producer=producer).splitlines()[:2]) + "\n"
    done = admin.post(f"{REG}/waste-transfers/import?name=联单.csv", headers=headers,
                      content=good.encode())  # fmt: skip
    assert done.status_code == 200, done.text
    assert done.json()["imported"] == 1 and _count(engine, WasteTransfer) == before + 1
    again = admin.post(f"{REG}/waste-transfers/import?name=联单.csv", headers=headers,
                       content=good.encode())  # fmt: skip
    assert again.status_code == 422 and "already imported" in again.text
    metals = "统一社会信用代码,重金属,行业,重点监管\n{credit},铅、Cd,蓄电池,是\n"
    with engine.connect() as connection:
        free = connection.execute(select(Enterprise.credit_code).order_by(Enterprise.id.desc())
                                  ).scalars().first()  # fmt: skip
    imported = admin.post(f"{REG}/heavy-metal-enterprises/import?name=m.csv", headers=headers,
                          content=metals.format(credit=free).encode())  # fmt: skip
    assert imported.status_code == 200, imported.text
    listed = admin.get(f"{REG}/heavy-metal-enterprises?metal=Pb").json()["items"]
    assert [m["metals"] for m in listed if m["id"] == imported.json()["ids"][0]] == [["Pb", "Cd"]]

    # A workbook too: a park with its boundary ring (closed on import).
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["园区名称", "区县代码", "认定级别", "中心经度", "中心纬度", "边界"])
    sheet.append(["测试化工园区", "371502", "省级认定", 115.99, 36.46,
                  "115.98 36.45; 116.00 36.45; 116.00 36.47"])  # fmt: skip
    content = io.BytesIO()
    book.save(content)
    xlsx = {"X-CSRF-Token": csrf, "content-type": XLSX}
    park = admin.post(f"{REG}/chemical-parks/import?name=园区.xlsx", headers=xlsx,
                      content=content.getvalue())  # fmt: skip
    assert park.status_code == 200, park.text
    shown = admin.get(f"{REG}/chemical-parks/{park.json()['ids'][0]}").json()
    assert shown["level"] == "provincial" and len(shown["boundary"]) == 4
    assert shown["boundary"][0] == shown["boundary"][-1]

    # The demo's checks: every rule finds something last year.
    findings = admin.get(f"{REG}/hazardous-waste/findings").json()
    assert all(findings["summary"][rule] >= 1 for rule in findings["summary"]), findings
    unlicensed = [f for f in findings["items"] if f["rule"] == "receiver_unlicensed"]
    assert {f["evidence"]["reason"] for f in unlicensed} == {"no_licence", "category_not_licensed"}
    county = unlicensed[0]["county_code"]
    officer, _ = session(base_url, f"county-{county}")
    theirs = officer.get(f"{REG}/hazardous-waste/findings").json()["items"]
    assert theirs and {f["county_code"] for f in theirs} == {county}
    assert admin.get(f"{REG}/hazardous-waste/findings?year=1999").status_code == 422

    # The page, Chinese first and English, and the dashboard's register layer.
    page = officer.get("/registers?kind=hazardous_waste_unit")
    assert page.status_code == 200 and "危废产生/经营单位" in page.text
    assert "接收单位无相应经营许可" in page.text and 'id="waste-findings"' in page.text
    assert 'class="register hazardous-waste-unit"' in page.text
    english = admin.get("/registers?kind=chemical_park&lang=en")
    assert "Chemical parks" in english.text and "register-area" in english.text
    filtered = admin.get("/registers?kind=heavy_metal_enterprise&choice=Hg").text
    assert filtered.count("<tr data-entry=") == 1
    dashboard = admin.get("/")
    assert 'id="layer-registers"' in dashboard.text
    assert dashboard.text.count('data-register="') >= 10
    assert 'data-register="chemical_park:' in dashboard.text
    trail = json.loads(admin.get(f"{REG}/waste-transfers?year=2026&limit=500").text)
    assert any(t["manifest_no"] == "T-0001" for t in trail["items"])

    # Failing checks become rectification problems (整改事项) once.
    post = {"X-CSRF-Token": csrf}
    made = admin.post(f"{REG}/hazardous-waste/findings/problems", headers=post)
    assert made.status_code == 200, made.text
    assert made.json()["created"] == findings["total"] and made.json()["existing"] == 0
    again = admin.post(f"{REG}/hazardous-waste/findings/problems", headers=post).json()
    assert (again["created"], again["existing"]) == (0, findings["total"])
    problems = officer.get("/api/v1/problems?limit=500").json()["items"]
    checked = [p for p in problems if p["source"] == "register_check"]
    assert len(checked) == len(theirs) and {p["county"] for p in checked} == {county}
    assert all(p["category"] == "hazardous_waste" and p["state"] == "assigned" for p in checked)
    for client in (admin, officer):
        client.close()
