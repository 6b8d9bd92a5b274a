"""The permit audit file (审计式监管): the period's parsing and the checks
judged from facts (pure), the CLI contract as a real process writing a PDF
and an XLSX that hold the figures and come out byte for byte the same when
made twice from the same data, and the API and pages over real HTTP
(SQLite and PostgreSQL) scoped like the rest."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine, func, insert, select, true

from envwatch.audit.log import Actor
from envwatch.demo.seed import seed_demo
from envwatch.permits.audit_file import (
    AuditError,
    AuditFacts,
    PlanFact,
    SeriesHours,
    build_audit,
    parse_period,
)
from envwatch.permits.audit_store import create_audit_file
from envwatch.permits.importing import import_file
from envwatch.permits.materialise import Materialiser
from envwatch.permits.parameters import load_parameters
from envwatch.permits.report import year_totals
from envwatch.permits.usage import usage_rows
from envwatch.reports.audit_file import audit_pdf, audit_xlsx, read_back
from envwatch.rules.engine import default_rule_set
from envwatch.store.archive import Archive, MeasurementRow, ReceivedFrame
from envwatch.store.db import make_engine, upgrade
from envwatch.store.schema import (
    Alert,
    ArchivedFrame,
    AuditRun,
    EnforcementCase,
    Enterprise,
    FindingRecord,
    MonitoringPoint,
    Outlet,
)
from envwatch.web.people import CSRF_HEADER
from tests.electricity.test_http_batch import base_url
from tests.pdftext import pdf_text, require_pdf_tools
from tests.permits.helpers import MN, SO2, hourly, permit_csv, seed, store
from tests.test_cli_contract import envwatch
from tests.web.test_pages_and_api import session

__all__ = ["base_url"]
JAN = datetime(2026, 1, 1)
H = timedelta(hours=1)
PARAMETERS = load_parameters()


# --- pure ----------------------------------------------------------------


def test_periods_are_years_quarters_and_months() -> None:
    year, quarter, month = parse_period("2026"), parse_period("2026-q3"), parse_period("2026-12")
    assert (year.kind, year.start, year.end) == ("year", JAN, datetime(2027, 1, 1))
    assert (quarter.label, quarter.start, quarter.end) == (
        "2026-Q3", datetime(2026, 7, 1), datetime(2026, 10, 1))  # fmt: skip
    assert quarter.months == ["2026-07", "2026-08", "2026-09"]
    assert (month.start, month.end, month.months) == (
        datetime(2026, 12, 1), datetime(2027, 1, 1), ["2026-12"])  # fmt: skip
    for bad in ("2026-13", "2026-Q5", "26", "1999", "2026-07-01", ""):
        with pytest.raises(AuditError):
            parse_period(bad)


def facts(**changes: Any) -> AuditFacts:
    """A quarter of one enterprise: a permit in force, SO2 measured and
    substituted at one device, nothing wrong unless ``changes`` say so."""
    base = AuditFacts(
        enterprise_id=1, enterprise_name="示例热电", county="东昌府区",
        period=parse_period("2026-Q3"), as_of=datetime(2026, 10, 1), newest_frame_id=42,
        permits=[{"number": "P-1", "version": 1, "category": "key",
                  "valid_from": "2026-01-01", "valid_to": "2031-01-01"}],
        permitted_t={SO2: 100.0}, monthly_caps_t={},
        monthly_t={SO2: {f"2026-{m:02d}": {"measured": 2.0, "substituted": 0.5}
                         for m in range(1, 10)}},
        accounted_until=datetime(2026, 10, 1),
        series=[SeriesHours(MN, "DA001", SO2, {"measured": 2000, "substituted": 208}, 0,
                            {"2026-Q3": (2208, 0, 208)})],
        plan=[PlanFact("DA001", SO2, "automatic", "continuous", True, 0)],
        exceedance_hours={}, alerts=[], cases=[], electricity=[], falsification=[],
        capture_threshold=0.75, pollutant_names={SO2: "二氧化硫"},
    )  # fmt: skip
    return replace(base, **changes)


def statuses(document: dict[str, Any]) -> dict[str, str]:
    return {check["code"]: check["status"] for check in document["checks"]}


def test_a_clean_quarter_passes_every_check_with_its_evidence() -> None:
    document = build_audit(facts(), PARAMETERS)
    assert set(statuses(document).values()) == {"ok"}
    assert document["problems"] == []
    hours = next(c for c in document["checks"] if c["code"] == "data_hours")["evidence"]
    assert (hours["valid"], hours["invalid"], hours["substituted"]) == (2000, 208, 208)
    (rate,) = next(c for c in document["checks"] if c["code"] == "capture_rate")["evidence"]
    assert rate["rate"] == pytest.approx(2000 / 2208, abs=1e-4)
    assert [r["month"] for r in document["monthly"]] == ["2026-07", "2026-08", "2026-09"]
    assert document["monthly"][0]["actual_t"] == pytest.approx(2.5)
    assert document["quarterly"] == [{"quarter": "2026-Q3", "pollutant": SO2, "measured": 6.0,
                                      "substituted": 1.5, "direct": 0.0, "manual": 0.0,
                                      "actual_t": 7.5}]  # fmt: skip
    (annual,) = document["annual"]  # January to September
    assert (annual["actual_t"], annual["share"], annual["status"]) == (22.5, 0.225, "ok")


def test_each_failed_check_is_a_problem_with_its_rectification() -> None:
    document = build_audit(facts(
        as_of=datetime(2026, 9, 30),
        permits=[{"number": "P-1", "version": 2, "category": "key",
                  "valid_from": "2021-10-20", "valid_to": "2026-10-20"}],
        series=[SeriesHours(MN, "DA001", SO2, {"measured": 1500, "missing": 708}, 300,
                            {"2026-Q3": (2208, 0, 708)})],
        plan=[PlanFact("DA001", SO2, "automatic", "continuous", True, 0),
              PlanFact("DA002", SO2, "automatic", "continuous", False, 0),
              PlanFact("DW001", "w01018", "manual", "1/month", False, 2)],
        exceedance_hours={SO2: 5},
        alerts=[{"id": 7, "state": "acknowledged"}],
        cases=[{"id": 3, "state": "closed", "penalty_reference": "聊环罚〔2026〕12号"}],
        electricity=[{"id": 1}], falsification=[{"id": 2}],
    ), PARAMETERS)  # fmt: skip
    assert statuses(document) == {
        "permit_expiring": "warning", "data_hours": "ok", "exceedance_hours": "problem",
        "monitoring_items": "problem", "monitoring_frequency": "problem",
        "capture_rate": "problem", "data_unusable": "problem", "emission_totals": "ok",
        "alerts": "warning", "cases": "problem", "electricity": "warning",
        "falsification": "problem",
    }  # fmt: skip
    checks = {c["code"]: c for c in document["checks"]}
    assert "20天" in checks["permit_expiring"]["detail_zh"]
    assert checks["monitoring_frequency"]["evidence"] == [
        {"outlet": "DW001", "pollutant": "w01018", "frequency": "1/month", "required": 3,
         "samples": 2}]  # fmt: skip
    assert checks["capture_rate"]["evidence"][0]["rate"] == pytest.approx(1500 / 2208, abs=1e-4)
    assert checks["data_unusable"]["evidence"] == [{"mn": MN, "pollutant": SO2, "hours": 300}]
    assert checks["exceedance_hours"]["evidence"] == {SO2: 5}
    assert "处罚1件" in checks["cases"]["detail_zh"]
    problems = {p["code"]: p for p in document["problems"]}
    assert set(problems) == {code for code, s in statuses(document).items() if s != "ok"}
    assert "延续" in problems["permit_expiring"]["rectification_zh"]


def test_an_expired_permit_and_emissions_without_one_are_problems() -> None:
    expired = [{"number": "P-0", "version": 1, "category": "simplified",
                "valid_from": "2021-01-01", "valid_to": "2026-06-01"}]  # fmt: skip
    document = build_audit(facts(permits=expired), PARAMETERS)
    assert statuses(document)["permit_expired"] == "problem"
    assert statuses(document)["no_valid_permit"] == "problem"
    quiet = build_audit(facts(permits=expired, monthly_t={}), PARAMETERS)
    assert "no_valid_permit" not in statuses(quiet)


def test_the_totals_warn_and_alarm_as_rules_md_5_2_says() -> None:
    warned = build_audit(facts(permitted_t={SO2: 25.0}), PARAMETERS)  # 22.5 of 25: 90 %
    assert statuses(warned)["emission_totals"] == "warning"
    alarmed = build_audit(facts(permitted_t={SO2: 20.0}), PARAMETERS)
    assert statuses(alarmed)["emission_totals"] == "problem"
    assert next(r for r in alarmed["annual"])["status"] == "alarm"


def test_the_renderers_give_the_same_bytes_for_the_same_document(tmp_path: Path) -> None:
    require_pdf_tools()
    document = build_audit(facts(exceedance_hours={SO2: 5}), PARAMETERS)
    pdf, xlsx = audit_pdf(document), audit_xlsx(document)
    assert audit_pdf(json.loads(json.dumps(document))) == pdf  # as stored and read back
    assert audit_xlsx(json.loads(json.dumps(document))) == xlsx
    text = pdf_text(pdf, tmp_path)
    assert "示例热电 排污许可审计档案 2026-Q3" in text
    assert "超标5小时" in text and "22.500" in text and "7.500" in text
    sheets = read_back(xlsx)
    assert sheets["季度排放量"][1][3:8] == [6.0, 1.5, 0.0, 0.0, 7.5]


# --- CLI (a real process) --------------------------------------------------


def add_evidence(engine: Engine) -> None:
    """An exceedance and a falsification finding, an alert and a penalised case."""
    found = datetime(2026, 1, 1, 3, tzinfo=UTC)
    with engine.begin() as connection:
        for rule, hour in (("exceedance", JAN + 2 * H), ("exceedance", JAN + 3 * H),
                           ("zero", JAN + 6 * H)):  # fmt: skip
            connection.execute(insert(FindingRecord).values(
                mn=MN, pollutant=SO2, rule=rule, rule_version=1, rule_set_version="t",
                window_start=hour, window_end=hour + H, severity="alarm",
                explanation=f"{rule} at {hour:%H}", evidence={}, found_at=found))  # fmt: skip
        connection.execute(insert(Alert).values(
            mn=MN, pollutant=SO2, rule="exceedance", enterprise_id=1, county_code="371502",
            level="alarm", state="closed", explanation="超标", evidence={}, finding_count=2,
            first_finding_at=JAN + 2 * H, last_finding_at=JAN + 3 * H, opened_at=found,
            closed_at=found + H, outcome="rectified"))  # fmt: skip
        connection.execute(insert(EnforcementCase).values(
            enterprise_id=1, kind="offsite", state="open", opened_by="enforcer",
            opened_at=found, findings="超标排放", legal_basis="大气法第九十九条",
            penalty_reference="聊环罚〔2026〕7号"))  # fmt: skip


def test_audit_file_cli_writes_pdf_and_xlsx_with_the_figures_reproducibly(
    sqlite_url: str, tmp_path: Path
) -> None:
    require_pdf_tools()
    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    seed(engine)
    assert import_file(engine, "p.csv", permit_csv(so2_t=2.0), Actor("t", "cli", "test")) == []
    store(engine, [hourly(JAN + i * H, 100.0) for i in range(12) if i not in (4, 5)])
    add_evidence(engine)
    args = ("audit", "file", "--db", sqlite_url, "--enterprise", "1", "--period", "2026-01",
            "--as-of", "2026-01-01T12:00:00")  # fmt: skip
    first = envwatch(*args, "--out", str(tmp_path / "a"))
    second = envwatch(*args, "--out", str(tmp_path / "b"))
    assert first.returncode == 0, first.stdout + first.stderr
    summary = json.loads(first.stdout)
    assert (summary["enterprise"], summary["period"]) == (1, "2026-01")
    assert summary["checks"]["exceedance_hours"] == "problem"
    assert summary["checks"]["monitoring_items"] == "problem"  # DA002: direct discharge
    assert summary["checks"]["falsification"] == "problem"
    (so2,) = summary["annual"]
    assert [so2[k] for k in ("measured", "substituted", "direct", "actual_t")] == pytest.approx(
        [0.36, 0.072, 0.12, 0.552])  # the figures of test_cli's contract  # fmt: skip
    assert json.loads(second.stdout)["run"] == summary["run"] + 1
    for name in ("audit-1-2026-01.pdf", "audit-1-2026-01.xlsx"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    text = pdf_text(tmp_path / "a" / "audit-1-2026-01.pdf", tmp_path)
    for figure in ("聊城示例热电有限公司", "0.360", "0.072", "0.120", "0.552", "按直排核算",
                   "超标2小时", "聊环罚〔2026〕7号",
                   "有效10小时，无效2小时，其中替代2小时"):  # fmt: skip
        assert figure in text, figure
    workbook = load_workbook(tmp_path / "a" / "audit-1-2026-01.xlsx", read_only=True)
    annual = [list(r) for r in workbook["年度排放量"].iter_rows(values_only=True)]
    assert annual[0][:3] == ["污染物编码", "污染物", "年许可排放量(t)"]
    assert annual[1][0] == SO2 and annual[1][2] == 7.0
    assert annual[1][3:8] == pytest.approx([0.36, 0.072, 0.12, 0.0, 0.552])
    monthly = [list(r) for r in workbook["月度排放量"].iter_rows(values_only=True)]
    assert monthly[1][0] == "2026-01" and monthly[1][7] == pytest.approx(0.552)
    with engine.connect() as connection:
        runs = connection.execute(select(AuditRun).order_by(AuditRun.id)).all()
        newest = connection.execute(select(func.max(ArchivedFrame.id))).scalar()
    assert len(runs) == 2 and runs[0].document == runs[1].document
    assert runs[0].newest_frame_id == newest
    assert runs[0].parameters["period"] == "2026-01"
    assert runs[0].parameters["capture_threshold"] == 0.75
    assert runs[0].pdf_sha256 == runs[1].pdf_sha256


def test_audit_file_cli_refuses_with_a_json_error(sqlite_url: str, tmp_path: Path) -> None:
    for period, enterprise, code in (("2026-Q9", "1", "bad_period"),
                                     ("2026", "999", "unknown_enterprise")):  # fmt: skip
        done = envwatch("audit", "file", "--db", sqlite_url, "--enterprise", enterprise,
                        "--period", period, "--out", str(tmp_path / "out"))  # fmt: skip
        assert done.returncode == 1
        assert json.loads(done.stdout)["error"]["code"] == code
    assert not (tmp_path / "out").exists()


# --- API and pages over HTTP -----------------------------------------------


def test_audit_files_and_usage_over_http_are_scoped(base_url: str, engine: Engine) -> None:
    require_pdf_tools()
    with engine.connect() as connection:
        mn = connection.execute(
            select(MonitoringPoint.mn).join(Outlet, Outlet.id == MonitoringPoint.outlet_id)
            .where(Outlet.enterprise_id == 1).order_by(MonitoringPoint.mn).limit(1)
        ).scalar_one()  # fmt: skip
        county = connection.execute(
            select(Enterprise.county_code).where(Enterprise.id == 1)).scalar_one()  # fmt: skip
        other = connection.execute(
            select(Enterprise.id).where(Enterprise.county_code != county)
            .order_by(Enterprise.id).limit(1)).scalar_one()  # fmt: skip
    Archive(engine).write_batch([
        ReceivedFrame(datetime.now(UTC), "p", b"##", "accepted", mn=mn, cn="2061",
                      measurements=(MeasurementRow(mn, "2061", JAN + i * H, SO2, avg=100.0,
                                                   flag="N"),
                                    MeasurementRow(mn, "2061", JAN + i * H, "a00000",
                                                   avg=100.0, flag="N")))
        for i in range(10)
    ])  # fmt: skip
    Materialiser.create(engine).catch_up(JAN + 10 * H)
    admin, csrf = session(base_url, "admin")
    made = admin.post("/api/v1/enterprises/1/audit-files", headers={CSRF_HEADER: csrf},
                      json={"period": "2026-01", "as_of": "2026-01-01T10:00:00"})  # fmt: skip
    assert made.status_code == 201, made.text
    run = made.json()
    assert run["checks"]["permit_valid"] == "ok" and run["period"] == "2026-01"
    bad = admin.post("/api/v1/enterprises/1/audit-files", headers={CSRF_HEADER: csrf},
                     json={"period": "2026-Q5"})  # fmt: skip
    assert bad.status_code == 422
    pdf = admin.get(run["pdf"])
    assert pdf.status_code == 200 and pdf.headers["x-envwatch-reproduced"] == "yes"
    assert pdf.content.startswith(b"%PDF")
    xlsx = admin.get(run["xlsx"])
    assert xlsx.headers["x-envwatch-reproduced"] == "yes"
    annual = load_workbook(io.BytesIO(xlsx.content), read_only=True)["年度排放量"]
    so2 = next(r for r in annual.iter_rows(values_only=True) if r[0] == SO2)
    assert so2[3] == pytest.approx(0.36)  # 100 mg/m³ × 100 m³/s × 10 h
    document = admin.get(f"/api/v1/audit-files/{run['id']}").json()["document"]
    assert document["newest_frame_id"] == run["newest_frame_id"]
    page = admin.get(f"/audit-files/{run['id']}")
    assert page.status_code == 200 and "浓度超标小时" in page.text and "0.360" in page.text
    assert admin.get("/enterprises/1/audit").status_code == 200
    usage = admin.get("/api/v1/permits/usage?year=2026").json()
    shares = [r["share"] for r in usage["items"] if r["share"] is not None]
    assert shares and shares == sorted(shares, reverse=True)  # the largest share first
    mine = next(r for r in usage["items"] if r["enterprise_id"] == 1)
    assert mine["measured_t"] >= 0.36 - 1e-9
    assert {r["enterprise_id"] for r in usage["items"]} >= {1, other}
    by_name = admin.get("/api/v1/permits/usage?year=2026&sort=enterprise&order=asc").json()
    names = [r["enterprise"] for r in by_name["items"]]
    assert names == sorted(names)
    exported = admin.get("/api/v1/permits/usage?year=2026&format=xlsx")
    sheet = load_workbook(io.BytesIO(exported.content), read_only=True).active
    assert sheet is not None
    assert len(list(sheet.iter_rows())) == usage["total"] + 1
    assert admin.get("/permits/usage?year=2026&sort=share").status_code == 200
    admin.close()

    enterprise, enterprise_csrf = session(base_url, "enterprise-1")
    assert enterprise.get(f"/api/v1/audit-files/{run['id']}").status_code == 200
    assert enterprise.get(run["pdf"]).status_code == 200
    refused = enterprise.post("/api/v1/enterprises/1/audit-files",
                              headers={CSRF_HEADER: enterprise_csrf},
                              json={"period": "2026"})  # fmt: skip
    assert refused.status_code == 403
    own = enterprise.get("/api/v1/permits/usage?year=2026").json()["items"]
    assert {r["enterprise_id"] for r in own} == {1}
    enterprise.close()

    officer, officer_csrf = session(base_url, f"county-{county}")
    assert officer.get(f"/api/v1/audit-files/{run['id']}").status_code == 200
    theirs = officer.post(f"/api/v1/enterprises/{other}/audit-files",
                          headers={CSRF_HEADER: officer_csrf}, json={"period": "2026"})  # fmt: skip
    assert theirs.status_code == 404
    seen = officer.get("/api/v1/permits/usage?year=2026").json()["items"]
    assert other not in {r["enterprise_id"] for r in seen}
    officer.close()
    contractor, _ = session(base_url, "contractor-1")
    assert contractor.get(f"/api/v1/audit-files/{run['id']}").status_code == 404
    assert contractor.get("/api/v1/permits/usage").json()["items"] == []
    contractor.close()
    assert httpx.get(base_url + run["pdf"]).status_code == 401


def test_the_demo_showcase_shows_measured_substituted_and_direct_parts(
    sqlite_url: str, tmp_path: Path
) -> None:
    """The demo's enterprise 1: its analyser's hours measured, a gap substituted,
    and the CO its permit requires but no analyser measures accounted as direct
    discharge, in its year's totals (the emissions page) and its audit file."""
    require_pdf_tools()
    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    seed_demo(engine)
    with engine.connect() as connection:
        mn = connection.execute(
            select(MonitoringPoint.mn).where(MonitoringPoint.outlet_id == 1)
        ).scalar_one()  # fmt: skip
    Archive(engine).write_batch([
        ReceivedFrame(datetime.now(UTC), "p", b"##", "accepted", mn=mn, cn="2061",
                      measurements=(MeasurementRow(mn, "2061", JAN + i * H, SO2, avg=100.0,
                                                   flag="N"),
                                    MeasurementRow(mn, "2061", JAN + i * H, "a00000",
                                                   avg=100.0, flag="N")))
        for i in range(12) if i not in (4, 5)
    ])  # fmt: skip
    materialiser = Materialiser.create(engine)
    materialiser.catch_up(JAN + 12 * H)
    with engine.begin() as connection:
        totals = {t.code: t for t in year_totals(connection, 1, 2026, materialiser.parameters)}
        made = create_audit_file(connection, 1, "2026-01", JAN + 12 * H,
                                 Actor("t", "cli", "test"), parameters=materialiser.parameters,
                                 rules=default_rule_set())  # fmt: skip
    assert totals[SO2].measured_t > 0 and totals[SO2].substituted_t > 0
    assert totals["a21005"].direct_t > 0
    assert made is not None
    annual = {row["pollutant"]: row for row in made.document["annual"]}
    assert annual[SO2]["measured"] == pytest.approx(totals[SO2].measured_t)
    assert annual[SO2]["substituted"] == pytest.approx(totals[SO2].substituted_t)
    assert annual["a21005"]["direct"] == pytest.approx(totals["a21005"].direct_t)
    items = next(c for c in made.document["checks"] if c["code"] == "monitoring_items")
    assert items["evidence"] == [{"outlet": "DA001", "pollutant": "a21005"}]
    with engine.connect() as connection:
        for now, valid in ((JAN + 12 * H, True), (datetime(2031, 6, 1), False)):
            rows = usage_rows(connection, 2026, true(), materialiser.parameters, now)
            showcase = next(r for r in rows if r["enterprise_id"] == 1)
            assert (showcase["valid_permit"], showcase["emitting_without_permit"]) == (
                valid, not valid)  # fmt: skip
    text = pdf_text(made.pdf, tmp_path)
    assert "按直排核算" in text and "数据替代" in text and "自动监测" in text
    assert f"{annual['a21005']['direct']:.3f}" in text
    # Enterprise 19's wastewater suspended solids are monitored by hand each month
    # (demo/manual.py): its result of 10 January, 108 mg/L at 12 m³/h, from 09:00 on.
    materialiser.catch_up(datetime(2026, 1, 10, 12))
    with engine.connect() as connection:
        water = {t.code: t for t in year_totals(connection, 19, 2026, materialiser.parameters)}
    assert water["w01012"].manual_t == pytest.approx(3 * 108.0 * 12.0 * 1e-6)


def test_a_monitored_item_whose_device_sent_nothing_captured_nothing() -> None:
    document = build_audit(facts(series=[], monthly_t={}), PARAMETERS)
    (rate,) = next(c for c in document["checks"] if c["code"] == "capture_rate")["evidence"]
    assert (rate["outlet"], rate["pollutant"], rate["rate"], rate["ok"]) == (
        "DA001", SO2, 0.0, False)  # fmt: skip
    assert statuses(document)["capture_rate"] == "problem"
