"""One demo city with three weeks of air and water history, shared by the
module's tests (seeding is the slow part), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import OperationalError

from envwatch.demo.quality_seed import seed_quality_history
from envwatch.demo.seed import seed_demo
from envwatch.store.db import (
    create_scratch_database,
    drop_scratch_database,
    make_engine,
    upgrade,
)
from envwatch.store.schema import Alert, County, Enterprise, HourlyEmission, RectificationProblem
from tests.conftest import POSTGRES_ADMIN_URL, service_missing

WEEK = "2026-W47"  # 2026-11-16 .. 2026-11-22 (CST)
HISTORY_END = datetime(2026, 11, 30, 0)
NOW = datetime(2026, 12, 1, tzinfo=UTC)
EMPTY = "371599"  # a zone added without any data
COUNTY = "371502"  # 东昌府区: the county given alerts, hours and problems


def seeded(url: str) -> Engine:
    upgrade(url)
    engine = make_engine(url)
    seed_demo(engine)
    seed_quality_history(engine, HISTORY_END, 21)
    add_activity(engine)
    return engine


def add_activity(engine: Engine) -> None:
    """Alerts (one late), device-hours (some invalid), problems (one overdue) in COUNTY."""
    opened = datetime(2026, 11, 17, 2, tzinfo=UTC)
    base = {"mn": "M1", "pollutant": "a21026", "enterprise_id": 1, "county_code": COUNTY,
            "level": "yellow", "explanation": "", "evidence": {}, "finding_count": 1,
            "first_finding_at": datetime(2026, 11, 17, 9), "last_finding_at":
            datetime(2026, 11, 17, 9), "opened_at": opened, "escalation": 0, "outcome": None,
            "acknowledge_by": None, "acknowledged_at": None, "handle_by": None,
            "handled_at": None, "close_by": None, "closed_at": None}  # fmt: skip
    with engine.begin() as connection:
        enterprise = (
            connection.execute(
                select(Enterprise.id)
                .where(Enterprise.county_code == COUNTY)
                .order_by(Enterprise.id)
            )
            .scalars()
            .first()
        )
        connection.execute(
            insert(County).values(
                code=EMPTY, name_zh="测试园区", name_en="Test zone", kind="zone", host_code=COUNTY
            )
        )
        connection.execute(insert(Alert), [
            base | {"rule": "exceedance", "state": "closed",
                    "acknowledge_by": opened + timedelta(hours=1),
                    "acknowledged_at": opened + timedelta(minutes=30),
                    "handle_by": opened + timedelta(days=1),
                    "handled_at": opened + timedelta(hours=5),
                    "close_by": opened + timedelta(days=3),
                    "closed_at": opened + timedelta(days=2)},
            base | {"rule": "constant", "state": "acknowledged",
                    "acknowledge_by": opened + timedelta(hours=1),
                    "acknowledged_at": opened + timedelta(hours=2),
                    "handle_by": opened + timedelta(days=1)},
            base | {"rule": "zero", "state": "closed", "outcome": "false_alarm",
                    "acknowledge_by": opened + timedelta(hours=1),
                    "acknowledged_at": opened + timedelta(minutes=10)},
        ])  # fmt: skip
        hours = [
            {"mn": "M1", "pollutant": "a21026", "hour": datetime(2026, 11, 16) + timedelta(hours=h),
             "enterprise_id": enterprise, "validity": "invalid" if h % 10 == 0 else "valid",
             "method": "measured"}
            for h in range(48)
        ]  # fmt: skip
        connection.execute(insert(HourlyEmission), hours)
        created = datetime(2026, 10, 1, tzinfo=UTC)
        problem = {"source": "city", "batch": "b", "title": "t", "category": "air",
                   "county_code": COUNTY, "lead_unit": "u", "state": "closed",
                   "created_at": created}  # fmt: skip
        connection.execute(insert(RectificationProblem), [
            problem | {"item_no": "1", "deadline": datetime(2026, 11, 10),
                       "closed_at": datetime(2026, 11, 9, tzinfo=UTC)},
            problem | {"item_no": "2", "deadline": datetime(2026, 11, 12),
                       "closed_at": datetime(2026, 11, 20, tzinfo=UTC)},
            problem | {"item_no": "3", "deadline": datetime(2026, 11, 18), "state": "rectifying",
                       "closed_at": None},
            problem | {"item_no": "4", "deadline": datetime(2026, 12, 20), "state": "rectifying",
                       "closed_at": None},
        ])  # fmt: skip


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def city(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[Engine]:  # fmt: skip
    """The seeded demo city (per module), on each database."""
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("judgement") / "city.db"
        engine = seeded(f"sqlite:///{path}")
        yield engine
        engine.dispose()
        return
    try:
        url = create_scratch_database(POSTGRES_ADMIN_URL, "envwatch_judge")
    except OperationalError as error:
        service_missing(f"PostgreSQL not reachable: {error}")
    try:
        engine = seeded(url)
        yield engine
        engine.dispose()
    finally:
        drop_scratch_database(POSTGRES_ADMIN_URL, url)
