"""A replay started from the web as a job (``processing/replay_jobs.py``,
``POST /api/v1/processing/replays``): city administrators only, progress and
report in the API, a dry run writes nothing, a stopped job resumes; and the
devices split by county and by shard."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, insert, select

from envwatch.audit.log import Actor
from envwatch.auth.passwords import hash_password
from envwatch.demo.seed import DEMO_PASSWORD
from envwatch.processing.columnar_replay import judge, replay_columnar
from envwatch.processing.replay_jobs import (
    ReplayRequest,
    county_devices,
    create_replay_job,
    run_replay_job,
)
from envwatch.registry.jobs import job_view, read_job
from envwatch.store.db import make_engine
from envwatch.store.schema import AppUser, AuditEntry, FindingRecord
from tests.web.server import serving

sys.path.insert(0, str(Path(__file__).parents[1] / "bench"))
from rules import START, store
from rules_fleet import fleet

MINUTES = 600
SINCE, UNTIL = START - timedelta(days=1), START + timedelta(minutes=MINUTES + 1)
RULES = ["negative", "zero", "constant", "spike"]


def findings(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        return sorted(
            tuple(row)
            for row in connection.execute(
                select(FindingRecord.mn, FindingRecord.rule, FindingRecord.window_start,
                       FindingRecord.explanation)
            )
        )  # fmt: skip


@pytest.fixture
def stored_fleet(sqlite_url: str) -> Iterator[Engine]:
    engine = make_engine(sqlite_url)
    store(engine, fleet(12, MINUTES), MINUTES)
    with engine.begin() as connection:
        connection.execute(insert(AppUser), [
            {"username": name, "display_name": name, "role": role, "county_codes": counties,
             "active": True, "password_hash": hash_password(DEMO_PASSWORD), "failed_logins": 0}
            for name, role, counties in (("admin", "city_admin", ""),
                                         ("officer", "county_officer", "371502"))
        ])  # fmt: skip
    yield engine
    engine.dispose()


def log_in(base: str, username: str) -> tuple[httpx.Client, dict[str, str]]:
    client = httpx.Client(base_url=base)
    response = client.post("/api/v1/session",
                           json={"username": username, "password": DEMO_PASSWORD})  # fmt: skip
    assert response.status_code == 200, response.text
    return client, {"X-CSRF-Token": response.json()["csrf"]}


def finished(client: httpx.Client, href: str) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while True:
        job: dict[str, Any] = client.get(href).json()
        if job["state"] in {"done", "failed"}:
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.1)


def test_an_administrator_replays_from_the_web(stored_fleet: Engine) -> None:
    engine = stored_fleet
    window = {"since": SINCE.isoformat(), "until": UNTIL.isoformat(), "rules": RULES}
    with serving(engine) as base:
        officer, officer_csrf = log_in(base, "officer")
        refused = officer.post("/api/v1/processing/replays", json=window, headers=officer_csrf)
        assert refused.status_code == 403
        admin, csrf = log_in(base, "admin")
        assert admin.post("/api/v1/processing/replays", json=window).status_code == 403  # CSRF
        bad = admin.post("/api/v1/processing/replays", headers=csrf,
                         json={**window, "rules": ["nonesuch"]})  # fmt: skip
        assert bad.status_code == 422 and "nonesuch" in bad.text

        started = admin.post("/api/v1/processing/replays", headers=csrf,
                             json={**window, "dry_run": True})  # fmt: skip
        assert started.status_code == 202
        job = finished(admin, started.json()["href"])
        assert job["state"] == "done" and job["steps_done"] == job["steps_total"] == 12
        new = job["result"]["changes"]["new"]
        assert new > 0 and job["result"]["changes"]["removed"] == 0
        assert findings(engine) == []  # a dry run writes nothing
        assert officer.get(started.json()["href"]).status_code == 403

        started = admin.post("/api/v1/processing/replays", json=window, headers=csrf)
        job = finished(admin, started.json()["href"])
        assert job["state"] == "done" and job["steps_done"] == job["steps_total"] == 24
        assert len(findings(engine)) == new == job["result"]["findings"]
        with engine.connect() as connection:
            audited = connection.execute(select(AuditEntry.action, AuditEntry.actor)).all()
        assert ("rules.replay", "admin") in [tuple(row) for row in audited]
        stale = admin.post(started.json()["href"] + "/cancel", headers=csrf)
        assert stale.status_code == 409  # done: nothing to stop
        admin.close()
        officer.close()


def test_a_stopped_replay_job_ends_cancelled_and_resumes(stored_fleet: Engine) -> None:
    engine = stored_fleet
    actor = Actor("admin", "city_admin", "test")
    request = ReplayRequest(SINCE, UNTIL, tuple(RULES))
    job_id = create_replay_job(engine, request, "admin")
    stop = threading.Event()
    stop.set()  # asked to stop before it judged a device
    run_replay_job(engine, job_id, request, actor=actor, stop=stop)
    job = job_view(read_job(engine, job_id))
    assert (job["state"], job["error"]["code"]) == ("failed", "cancelled")
    assert findings(engine) == []
    again = ReplayRequest(SINCE, UNTIL, tuple(RULES), resume=True)
    job_id = create_replay_job(engine, again, "admin")
    run_replay_job(engine, job_id, again, actor=actor)
    assert job_view(read_job(engine, job_id))["state"] == "done"
    assert findings(engine)


def test_devices_split_by_county_and_shard(engine: Engine) -> None:
    """On both databases: two shards find what one process finds; a county
    narrows to its points."""
    store(engine, fleet(12, MINUTES), MINUTES)
    whole = judge(engine, SINCE, UNTIL, rules=RULES, trust_arrival=False)[1]
    everything = sorted((mn, f.rule, f.window_start) for mn, items in whole.items() for f in items)
    assert everything
    shares = [judge(engine, SINCE, UNTIL, rules=RULES, trust_arrival=False, shard=(k, 2))[1]
              for k in range(2)]  # fmt: skip
    assert not set(shares[0]) & set(shares[1])
    split = sorted((mn, f.rule, f.window_start)
                   for share in shares for mn, items in share.items() for f in items)  # fmt: skip
    assert split == everything
    assert sorted(county_devices(engine, "371502")) == sorted(d.mn for d in fleet(12, MINUTES))
    assert county_devices(engine, "371503") == []
    report = replay_columnar(engine, SINCE, UNTIL, rules=RULES, trust_arrival=False,
                             devices=[], dry_run=True)  # fmt: skip
    assert report.devices == 0 and report.changes == {"new": 0, "removed": 0, "changed": 0,
                                                      "unchanged": 0}  # fmt: skip
