"""Fixtures of the cluster tests: their own nats-server (JetStream, a free
port, a temporary store) and their own PostgreSQL database, never the
machine's running services' data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from envwatch.store.db import create_scratch_database, drop_scratch_database, upgrade
from tests.cluster.harness import NatsServer, find_nats_server
from tests.conftest import POSTGRES_ADMIN_URL, service_missing


@pytest.fixture(scope="module")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    binary = find_nats_server()
    if binary is None:
        service_missing("nats-server not installed (apt-get install nats-server)")
    assert binary is not None
    server = NatsServer(binary, Path(tmp_path_factory.mktemp("jetstream")))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def cluster_db() -> Iterator[str]:
    """A new, migrated PostgreSQL database for the module's tests."""
    try:
        url = create_scratch_database(POSTGRES_ADMIN_URL, "envwatch_cluster")
    except OperationalError as error:
        service_missing(f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {error}")
    try:
        upgrade(url)
        yield url
    finally:
        drop_scratch_database(POSTGRES_ADMIN_URL, url)
