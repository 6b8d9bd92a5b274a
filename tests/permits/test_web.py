"""The permit API and page over real HTTP on the demo registry (SQLite and
PostgreSQL): a new version recorded and the old one kept, a refused version,
the year's emissions with monthly totals, and the page showing them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select

from envwatch.permits.materialise import Materialiser
from envwatch.store.archive import Archive, MeasurementRow, ReceivedFrame
from envwatch.store.schema import Enterprise, MonitoringPoint, Outlet
from envwatch.web.people import CSRF_HEADER
from tests.electricity.test_http_batch import base_url
from tests.web.test_pages_and_api import session

__all__ = ["base_url"]
SO2 = "a21026"
JAN = datetime(2026, 1, 5)


def test_permits_and_emissions_over_http(base_url: str, engine: Engine) -> None:
    with engine.connect() as connection:
        outlet = connection.execute(select(Outlet.id, Outlet.enterprise_id)
                                    .order_by(Outlet.id).limit(1)).one()  # fmt: skip
        assert outlet.enterprise_id == 1
        mn = connection.execute(select(MonitoringPoint.mn).where(
            MonitoringPoint.outlet_id == outlet.id)).scalar_one()  # fmt: skip
    foreign = next_outlet_elsewhere(engine)
    admin, csrf = session(base_url, "admin")
    item = {"outlet_id": outlet.id, "pollutant": SO2, "limit_value": 35, "unit": "mg/m³",
            "annual_tonnes": 3.0, "monthly_tonnes": 0.5, "seasonal_tonnes": 1.0,
            "season_from": "11-15", "season_to": "03-15"}  # fmt: skip
    version: dict[str, Any] = {"number": "91371500000000001X001P", "category": "key",
               "valid_from": "2026-01-01", "valid_to": "2031-01-01",
               "items": [item],
               "plan": [{"outlet_id": outlet.id, "pollutant": SO2, "method": "automatic",
                         "frequency": "continuous"}]}  # fmt: skip
    created = admin.post("/api/v1/enterprises/1/permits", json=version, headers={CSRF_HEADER: csrf})
    assert created.status_code == 201, created.text
    assert (created.json()["version"], created.json()["current"]) == (2, True)
    refused = admin.post("/api/v1/enterprises/1/permits", headers={CSRF_HEADER: csrf},
                         json={**version, "items": [{**item, "outlet_id": foreign}]})  # fmt: skip
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "invalid_request"
    no_tonnes = {**item, "seasonal_tonnes": None}  # a season without its cap
    assert admin.post("/api/v1/enterprises/1/permits", headers={CSRF_HEADER: csrf},
                      json={**version, "items": [no_tonnes]}).status_code == 422  # fmt: skip
    assert {k: created.json()["items"][0][k] for k in ("monthly_tonnes", "season_to")} == {
        "monthly_tonnes": 0.5, "season_to": "03-15"}  # fmt: skip
    history = admin.get("/api/v1/enterprises/1/permits?history=true").json()["items"]
    assert [(p["version"], p["current"]) for p in history] == [(1, False), (2, True)]
    assert len(history[0]["items"]) > 1  # the demo's first version, kept as it was
    # SO2 100 mg/m³ at 100 m³/s for 10 hours: 0.36 t of a 3 t permit.
    Archive(engine).write_batch([
        ReceivedFrame(datetime.now(UTC), "p", b"##", "accepted", mn=mn, cn="2061",
                      measurements=(MeasurementRow(mn, "2061", JAN + timedelta(hours=h), SO2,
                                                   avg=100.0, flag="N"),
                                    MeasurementRow(mn, "2061", JAN + timedelta(hours=h),
                                                   "a00000", avg=100.0, flag="N")))
        for h in range(10)
    ])  # fmt: skip
    Materialiser.create(engine).catch_up(JAN)
    body = admin.get("/api/v1/enterprises/1/emissions?year=2026").json()
    so2 = next(p for p in body["pollutants"] if p["code"] == SO2)
    assert so2["measured_t"] == pytest.approx(0.36)
    assert so2["permitted_t"] >= 3.0
    assert body["months"][SO2][0]["measured"] == pytest.approx(0.36)
    assert [(c["code"], c["status"]) for c in body["checks"]] == [("permit_valid", "ok")]
    # The monthly cap in force now (and the heating season's, between 11-15 and 03-15).
    assert ("month", SO2, 0.5) in [(c["kind"], c["code"], c["cap_t"]) for c in body["caps"]]
    page = admin.get("/enterprises/1/emissions?year=2026")
    assert page.status_code == 200
    assert "排污许可与排放量" in page.text and "0.360" in page.text
    assert 'data-chart="emissions"' in page.text and "月及季节许可排放量" in page.text
    manual_results_over_http(base_url, admin, csrf, engine)
    admin.close()


MANUAL = ("统一社会信用代码,排放口编号,污染物编码,采样开始时间,浓度,单位,流量,报告编号\n"
          "91371500000000001X,DA001,a20057,2026-01-05 08:00,0.004,mg/m³,300000,R-{}\n")  # fmt: skip


def manual_results_over_http(base_url: str, admin: httpx.Client, csrf: str, engine: Engine) -> None:
    """Manual results (手工监测): imported whole by a city administrator, listed in scope."""
    path = "/api/v1/permits/manual-results"
    upload = {CSRF_HEADER: csrf, "content-type": "text/csv"}
    mine, _ = session(base_url, "enterprise-1")
    seeded = mine.get(path).json()
    assert seeded["total"] == 4  # the demo's quarterly mercury results (demo/manual.py)
    assert {item["enterprise_id"] for item in seeded["items"]} == {1}
    with engine.connect() as connection:
        county = connection.execute(select(Enterprise.county_code).where(
            Enterprise.id != 1, Enterprise.county_code != select(Enterprise.county_code)
            .where(Enterprise.id == 1).scalar_subquery()).limit(1)).scalar_one()  # fmt: skip
    officer, _ = session(base_url, f"county-{county}")
    assert officer.get(path, params={"enterprise": 1}).json() == {"items": [], "total": 0}
    officer.close()
    bad = MANUAL.format(1) + MANUAL.format(2).split("\n")[1].replace("DA001", "DA404") + "\n"
    refused = admin.post(path, content=bad.encode(), headers=upload)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["code"] == "import_rejected"
    assert [(e["row"], e["column"]) for e in refused.json()["error"]["errors"]] == [
        (3, "outlet_code")]  # fmt: skip
    assert mine.get(path).json()["total"] == 4  # nothing of the file written
    created = admin.post(path, content=MANUAL.format(1).encode(), headers=upload,
                         params={"name": "lab.csv"})  # fmt: skip
    assert created.status_code == 201, created.text
    assert (created.json()["file"], created.json()["imported"]) == ("lab.csv", 1)
    assert mine.post(path, content=MANUAL.format(3).encode(),
                     headers={"content-type": "text/csv"}).status_code == 403  # fmt: skip
    newest = mine.get(path, params={"limit": 1}).json()
    assert (newest["total"], newest["items"][0]["report_number"]) == (5, "LCJC-2026-001-10")
    page = mine.get("/enterprises/1/emissions?year=2026")
    assert "手工监测结果" in page.text and "R-1" in page.text and "lab.csv" in page.text
    mine.close()


def next_outlet_elsewhere(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(
            select(Outlet.id).where(Outlet.enterprise_id != 1).order_by(Outlet.id).limit(1)
        ).scalar_one())  # fmt: skip
