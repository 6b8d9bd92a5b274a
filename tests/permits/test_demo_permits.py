"""The demo city's permits: every enterprise holds one with annual totals, and
the outlets of enterprises without a monitor are accounted as direct discharge."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from envwatch.demo.city import load_city
from envwatch.demo.seed import demo_rows, seed_demo
from envwatch.permits.materialise import Materialiser
from envwatch.permits.report import year_totals


def test_every_demo_enterprise_holds_a_permit_with_annual_totals() -> None:
    rows = demo_rows(load_city())
    holders = {permit["enterprise_id"] for permit in rows["permit"]}
    assert holders == {enterprise["id"] for enterprise in rows["enterprise"]}
    with_totals = {limit["enterprise_id"] for limit in rows["permit_limit"]
                   if limit["annual_tonnes"] and limit["permit_id"]}  # fmt: skip
    assert with_totals == holders


def test_an_unmonitored_demo_enterprise_is_accounted_as_direct_discharge(engine: Engine) -> None:
    seed_demo(engine)
    rows = demo_rows(load_city())
    monitored = {point["outlet_id"] for point in rows["monitoring_point"] if point["outlet_id"]}
    direct = next(item for item in rows["permit_monitoring"] if item["outlet_id"] not in monitored)
    enterprise = next(o["enterprise_id"] for o in rows["outlet"] if o["id"] == direct["outlet_id"])
    materialiser = Materialiser.create(engine)
    materialiser.catch_up(datetime(2026, 1, 2))  # one day of the permit
    with engine.connect() as connection:
        totals = {t.code: t for t in year_totals(connection, enterprise, 2026,
                                                  materialiser.parameters)}  # fmt: skip
    total = totals[direct["pollutant"]]
    assert total.direct_t > 0 and total.measured_t == 0
    assert total.permitted_t is not None and total.permitted_t > 0
    assert total.share is not None and str(total.status) in {"ok", "warning", "alarm"}
