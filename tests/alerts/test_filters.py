"""The alert filter: validated fields, SQL conditions checked without a
database, and the same filter through ``GET /api/v1/alerts`` on SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import Engine, select, update
from sqlalchemy.dialects.postgresql.base import PGDialect

from envwatch.alerts.desk import AlertDesk
from envwatch.alerts.filters import AlertFilter, FindingFilter
from envwatch.store.schema import Alert, Enterprise, FindingRecord
from tests.alerts.test_desk import DATA_T0, NOW, store_finding
from tests.electricity.test_http_batch import base_url
from tests.web.test_pages_and_api import points_in_two_counties, session

__all__ = ["base_url"]


def sql(filters: AlertFilter, now: datetime = NOW) -> str:
    query = select(Alert.id).where(*filters.conditions(now))
    return str(query.compile(dialect=PGDialect(),  # type: ignore[no-untyped-call]
                             compile_kwargs={"literal_binds": True}))  # fmt: skip


def test_an_empty_filter_keeps_everything() -> None:
    assert AlertFilter().conditions(NOW) == []


def test_each_field_narrows_on_its_own_column() -> None:
    assert "alert.state IN ('dispatched', 'acknowledged')" in sql(
        AlertFilter(state=("dispatched", "acknowledged"))
    )
    assert "alert.level IN ('alarm')" in sql(AlertFilter(level=("alarm",)))
    assert "alert.county_code IN ('371502')" in sql(AlertFilter(county=("371502",)))
    assert "alert.enterprise_id = 7" in sql(AlertFilter(enterprise_id=7))
    assert "enterprise.industry_code LIKE '44' || '%%'" in sql(AlertFilter(industry="44"))
    assert "alert.pollutant = 'a21026'" in sql(AlertFilter(pollutant="a21026"))
    kind = sql(AlertFilter(kind=("exceedance",)))
    assert "alert.rule IN ('daily_exceedance', 'exceedance')" in kind
    assert "'2026-11-29 02:00:00+00:00'" in sql(
        AlertFilter(opened_since=datetime(2026, 11, 29, 10, 0, tzinfo=UTC) - timedelta(hours=8))
    )


def test_times_are_compared_in_utc() -> None:
    """SQLite keeps UTC moments without their zone, so +08:00 input is converted."""
    cst = datetime.fromisoformat("2026-11-29T10:00:00+08:00")
    assert "alert.opened_at >= '2026-11-29 02:00:00+00:00'" in sql(AlertFilter(opened_since=cst))


def test_overdue_is_the_deadline_of_the_step_the_alert_is_at() -> None:
    text = sql(AlertFilter(overdue=True))
    assert "alert.acknowledge_by IS NOT NULL AND alert.acknowledge_by <" in text
    assert "alert.handle_by IS NOT NULL AND alert.handle_by <" in text
    assert "alert.close_by IS NOT NULL AND alert.close_by <" in text
    assert sql(AlertFilter(overdue=False)).count("NOT (") == 1


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"level": ("loud",)}, "unknown level loud"),
        ({"kind": ("gossip",)}, "unknown kind gossip"),
        ({"opened_since": datetime(2026, 1, 1)}, "give the time zone"),
        ({"industry": "power"}, "String should match pattern"),
        ({"enterprise_id": 0}, "greater than or equal to 1"),
        ({"county": ("37 15",)}, "String should match pattern"),
        ({"colour": "red"}, "Extra inputs are not permitted"),
    ],
)
def test_a_bad_filter_is_refused_saying_what_is_wrong(fields: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        AlertFilter.model_validate(fields)


def test_the_alert_api_filters_within_the_users_scope(base_url: str, engine: Engine) -> None:
    (mn_a, county_a, ent_a), (mn_b, county_b, _) = points_in_two_counties(engine)
    store_finding(engine, mn_a, DATA_T0)  # exceedance, alarm
    store_finding(engine, mn_a, DATA_T0, rule="constant", severity="warning", pollutant="a21002")
    store_finding(engine, mn_b, DATA_T0)
    AlertDesk(engine).run_once(NOW)
    with engine.begin() as connection:
        ids = dict(connection.execute(select(Alert.rule, Alert.id).where(Alert.mn == mn_a)).all())
        # The alerts opened at NOW, days ago: give them deadlines ahead, but
        # the constant-values alert has missed its acknowledgement deadline.
        ahead = datetime.now(UTC) + timedelta(days=1)
        connection.execute(update(Alert).values(acknowledge_by=ahead, handle_by=ahead,
                                                close_by=ahead))  # fmt: skip
        connection.execute(
            update(Alert).where(Alert.id == ids["constant"])
            .values(acknowledge_by=datetime.now(UTC) - timedelta(minutes=1))
        )  # fmt: skip
        industry = connection.execute(
            select(Enterprise.industry_code).where(Enterprise.id == ent_a)
        ).scalar_one()

    boss, _ = session(base_url, "supervisor")

    def listed(query: str, client: Any = boss) -> list[int]:
        response = client.get(f"/api/v1/alerts?{query}")
        assert response.status_code == 200, response.text
        return sorted(item["id"] for item in response.json()["items"])

    everything = listed("")
    assert len(everything) == 3
    assert listed("kind=falsification") == [ids["constant"]]
    assert listed("kind=exceedance&kind=falsification") == everything
    assert listed("level=warning") == [ids["constant"]]
    assert listed(f"county={county_a}") == sorted(ids.values())
    assert listed(f"county={county_a}&county={county_b}") == everything
    assert listed("overdue=true") == [ids["constant"]]
    assert ids["constant"] not in listed("overdue=false") and len(listed("overdue=false")) == 2
    assert listed(f"mn={mn_a}&pollutant=a21002") == [ids["constant"]]
    assert ids["exceedance"] in listed(f"industry={industry[:2]}")
    assert listed("opened_since=2099-01-01T00:00:00%2B08:00") == []
    assert listed("state=dispatched&open_only=true") == everything
    page = boss.get("/api/v1/alerts?limit=1&offset=1").json()
    assert (page["total"], len(page["items"]), page["offset"]) == (3, 1, 1)
    bad = boss.get("/api/v1/alerts?level=loud")
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_request"
    assert boss.get("/api/v1/alerts?colour=red").status_code == 422
    # Past the 32 bits of an INTEGER id (PostgreSQL would refuse to compare).
    assert boss.get("/api/v1/alerts?enterprise_id=25116892940").status_code == 422
    assert boss.get("/api/v1/findings?enterprise_id=25116892940").status_code == 422

    officer, _ = session(base_url, f"county-{county_b}")
    assert listed(f"county={county_a}", officer) == []  # a filter never widens the scope

    inbox = boss.get("/alerts?kind=falsification&overdue=1")
    assert inbox.status_code == 200
    assert f'href="/alerts/{ids["constant"]}"' in inbox.text
    assert f'href="/alerts/{ids["exceedance"]}"' not in inbox.text
    wrong = boss.get("/alerts?level=loud")
    assert wrong.status_code == 200 and "筛选条件有误" in wrong.text
    for client in (boss, officer):
        client.close()


def finding_sql(filters: FindingFilter) -> str:
    query = select(FindingRecord.id).where(*filters.conditions())
    return str(query.compile(dialect=PGDialect(),  # type: ignore[no-untyped-call]
                             compile_kwargs={"literal_binds": True}))  # fmt: skip


def test_finding_times_are_data_times_in_china_standard_time() -> None:
    assert FindingFilter().conditions() == []
    naive = finding_sql(FindingFilter(since=datetime(2026, 11, 29, 10, 0)))
    assert "finding.window_start >= '2026-11-29 10:00:00'" in naive
    utc = finding_sql(FindingFilter(until=datetime(2026, 11, 29, 2, 0, tzinfo=UTC)))
    assert "finding.window_start < '2026-11-29 10:00:00'" in utc
    kinds = finding_sql(FindingFilter(kind=("electricity",), severity=("alarm",)))
    assert "'treatment_off'" in kinds and "'exceedance'" not in kinds
    assert "finding.severity IN ('alarm')" in kinds
    with pytest.raises(ValidationError, match="unknown severity loud"):
        FindingFilter(severity=("loud",))


def test_the_findings_api_filters_within_the_users_scope(base_url: str, engine: Engine) -> None:
    (mn_a, county_a, ent_a), (mn_b, county_b, _) = points_in_two_counties(engine)
    early = store_finding(engine, mn_a, DATA_T0)
    constant = store_finding(engine, mn_a, DATA_T0 + timedelta(hours=3), rule="constant",
                             severity="warning", pollutant="a21002")  # fmt: skip
    other = store_finding(engine, mn_b, DATA_T0)
    boss, _ = session(base_url, "supervisor")

    def listed(query: str, client: Any = boss) -> list[int]:
        response = client.get(f"/api/v1/findings?{query}")
        assert response.status_code == 200, response.text
        return sorted(item["id"] for item in response.json()["items"])

    assert listed("") == sorted([early, constant, other])
    assert listed("kind=falsification") == [constant]
    assert listed("severity=alarm") == sorted([early, other])
    assert listed(f"county={county_b}") == [other]
    assert listed(f"enterprise_id={ent_a}&pollutant=a21002") == [constant]
    assert listed("since=2026-11-29T12:00:00") == [constant]  # a data time, CST
    assert listed("until=2026-11-29T03:00:00Z") == sorted([early, other])  # 11:00 CST
    assert listed(f"rule=exceedance&mn={mn_a}") == [early]
    bad = boss.get("/api/v1/findings?kind=gossip")
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_request"
    officer, _ = session(base_url, f"county-{county_a}")
    assert listed(f"county={county_b}", officer) == []
    for client in (boss, officer):
        client.close()
