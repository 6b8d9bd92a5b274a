"""Carbon beside pollutants and the ledgers on the demo city: the time of a
year's summary for every enterprise (``carbon/summary.py``: 2 × 12 monthly
aggregates of the hourly table, declarations, meters) and of the county
balances, best of 3, on SQLite (``--quick``: one run, same keys).

The demo city (120 enterprises) with ``seed_ledger``'s two years of billed
electricity, declared emissions and the counties' ledgers; the hourly table
is empty here (the simulator fills it live), so the figure is the query
path's, not the materialiser's. Prints one JSON object."""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from sqlalchemy import true

from envwatch.carbon.core import default_data
from envwatch.carbon.summary import enterprises_of, summary
from envwatch.demo.ledger import seed_ledger
from envwatch.demo.seed import seed_demo
from envwatch.ledger.quota_store import balances
from envwatch.store.db import make_engine, upgrade

YEAR = 2026


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    runs = 1 if parser.parse_args().quick else 3
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        upgrade(url)
        engine = make_engine(url)
        seed_demo(engine)
        counts = seed_ledger(engine, YEAR)
        data = default_data()
        best_summary = best_balances = float("inf")
        enterprises = 0
        for _ in range(runs):
            with engine.connect() as connection:
                started = time.perf_counter()
                document = summary(connection, YEAR, enterprises_of(connection, true()), data)
                best_summary = min(best_summary, time.perf_counter() - started)
                enterprises = len(document["enterprises"])
                started = time.perf_counter()
                balances(connection, None)
                best_balances = min(best_balances, time.perf_counter() - started)
        engine.dispose()
    print(
        json.dumps(
            {
                "runs": runs,
                "enterprises": enterprises,
                "declared_months": counts.get("energy_declaration", 0),
                "summary_s": round(best_summary, 4),
                "balances_s": round(best_balances, 4),
            }
        )
    )


if __name__ == "__main__":
    main()
