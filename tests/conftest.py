"""Fixtures for tests that need real services (PostgreSQL), never mocks of them.

Without a reachable server these tests skip with the reason; with
ENVWATCH_REQUIRE_SERVICES=1 (as .ci/run sets) such a skip is a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from envwatch.store.db import (
    create_scratch_database,
    drop_scratch_database,
    make_engine,
    scratch_server_url,
    upgrade,
)

POSTGRES_ADMIN_URL = scratch_server_url()

# Property tests assert behaviour, not speed: on a loaded 2-core machine (CI,
# benchmarks beside) slow input generation must not fail them.
settings.register_profile("envwatch", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("envwatch")


def service_missing(reason: str) -> None:
    """Skip for want of a service, or fail where services are required (CI)."""
    if os.environ.get("ENVWATCH_REQUIRE_SERVICES") == "1":
        pytest.fail(f"required service missing: {reason}")
    pytest.skip(reason)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A new, migrated PostgreSQL database for one test, dropped afterwards."""
    try:
        url = create_scratch_database(POSTGRES_ADMIN_URL, "envwatch_test")
    except OperationalError as error:
        service_missing(f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {error}")
    try:
        upgrade(url)
        yield url
    finally:
        drop_scratch_database(POSTGRES_ADMIN_URL, url)


@pytest.fixture
def sqlite_url(tmp_path: object) -> str:
    url = f"sqlite:///{tmp_path}/envwatch.db"
    upgrade(url)
    return url


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """The same test on embedded SQLite and on PostgreSQL."""
    return str(request.getfixturevalue(f"{request.param}_url"))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on ``database_url``, disposed after the test."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()
