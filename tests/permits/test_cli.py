"""The command-line contract of ``envwatch permits`` (real processes, SQLite
and PostgreSQL): ``emissions`` and ``hours`` print the issue's JSON."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine

from tests.permits.helpers import MN, SO2, hourly, permit_csv, seed, store
from tests.test_cli_contract import envwatch

JAN = datetime(2026, 1, 1)
H = timedelta(hours=1)


def test_permits_emissions_and_hours_follow_the_contract(
    database_url: str, engine: Engine, tmp_path: object
) -> None:
    seed(engine)
    permits = f"{tmp_path}/permits.csv"
    with open(permits, "wb") as file:
        file.write(permit_csv(so2_t=2.0))
    done = envwatch("permits", "import", permits, "--db", database_url)
    assert done.returncode == 0, done.stderr
    store(engine, [hourly(JAN + i * H, 100.0) for i in range(12) if i not in (4, 5)])
    now = "2026-01-01T12:00:00"
    done = envwatch("permits", "emissions", "--db", database_url, "--enterprise", "1",
                    "--year", "2026", "--json", "--now", now)  # fmt: skip
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert set(document) == {"enterprise", "year", "pollutants"}
    assert (document["enterprise"], document["year"]) == (1, 2026)
    (so2,) = document["pollutants"]
    assert set(so2) == {"code", "permitted_t", "actual_t", "measured_t", "substituted_t",
                        "direct_t", "manual_t", "share", "projection_t", "status"}  # fmt: skip
    assert so2["code"] == SO2
    assert [so2[k] for k in ("permitted_t", "actual_t", "measured_t", "substituted_t",
                             "direct_t", "manual_t")] == pytest.approx(
        [7.0, 0.552, 0.36, 0.072, 0.12, 0.0])  # fmt: skip
    assert so2["share"] == pytest.approx(0.552 / 7.0)
    assert so2["status"] == "warning"
    done = envwatch("permits", "hours", "--db", database_url, "--mn", MN,
                    "--since", "2026-01-01T03:00:00", "--until", "2026-01-01T05:00:00", "--json",
                    "--now", now)  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert lines == [
        {"mn": MN, "pollutant": SO2, "hour": "2026-01-01T03:00:00", "concentration": 100.0,
         "flow": pytest.approx(360_000.0), "emission_kg": pytest.approx(36.0),
         "method": "measured", "rule": None},
        {"mn": MN, "pollutant": SO2, "hour": "2026-01-01T04:00:00", "concentration": None,
         "flow": None, "emission_kg": pytest.approx(36.0), "method": "substituted",
         "rule": "max of the last 2160 valid hours"},
    ]  # fmt: skip
    direct = envwatch("permits", "hours", "--db", database_url, "--mn", "outlet:2", "--json",
                      "--since", "2026-01-01", "--until", "2026-01-01T01:00:00")  # fmt: skip
    (line,) = [json.loads(text) for text in direct.stdout.splitlines()]
    assert (line["method"], line["emission_kg"]) == ("direct", pytest.approx(10.0))
    assert "按直排核算" in line["rule"]
