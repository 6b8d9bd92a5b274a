"""Rectification: how long a feedback list of N problems takes to import
(validated, written, audited, assigned and notified in one transaction), a
problem's action with a PDF, the deadline sweep over every problem, and the
hotspots of M complaints. One JSON object on stdout.

    python bench/rectification.py            # 2 000 problems, 2 000 complaints, SQLite
    python bench/rectification.py --quick    # a second or two; figures not meaningful
    python bench/rectification.py --db postgresql+psycopg://...   # an empty, migrated database
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from envwatch.rectification.complaints import Located, hotspots
from envwatch.rectification.desk import RectificationDesk
from envwatch.rectification.evidence import Upload
from envwatch.rectification.importing import COLUMNS, import_problems
from envwatch.store.db import make_engine, upgrade
from envwatch.store.schema import AppUser, County

PDF = b"%PDF-1.4\n" + b"0" * 200_000 + b"\n%%EOF\n"
COUNTIES = [(f"3715{n:02d}", f"演示县{n}") for n in range(1, 9)]


def feedback_list(rows: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for n in range(rows):
        code, _ = COUNTIES[n % len(COUNTIES)]
        title = f"基准问题{n + 1}"
        unit = f"{code}人民政府"
        writer.writerow(["中央生态环境保护督察", "基准批次", str(n + 1), title, "描述" * 20, "大气",
                         code, unit, "", "措施" * 10, "2026-01-31", "", "", ""])  # fmt: skip
    return out.getvalue().encode("utf-8")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--db", default=None)
    args = parser.parse_args()
    problems = 50 if args.quick else 2000
    complaints = 100 if args.quick else 2000
    with tempfile.TemporaryDirectory() as folder:
        url = args.db or f"sqlite:///{Path(folder) / 'bench.db'}"
        upgrade(url)
        engine = make_engine(url)
        with engine.begin() as connection:
            connection.execute(insert(County), [{"code": c, "name_zh": n} for c, n in COUNTIES])
            connection.execute(insert(AppUser), [
                {"username": f"county-{c}", "display_name": c, "role": "county_officer",
                 "county_codes": c, "active": True} for c, _ in COUNTIES])  # fmt: skip
        desk = RectificationDesk(engine)
        content = feedback_list(problems)
        started = time.perf_counter()
        ids, errors = import_problems(desk, "bench.csv", content)
        imported_s = time.perf_counter() - started
        assert not errors and len(ids) == problems
        started = time.perf_counter()
        desk.act(ids[0], "start", f"county-{COUNTIES[0][0]}", peer="bench")
        desk.act(ids[0], "apply", f"county-{COUNTIES[0][0]}", peer="bench",
                 files=[Upload("report.pdf", PDF)])  # fmt: skip
        act_s = (time.perf_counter() - started) / 2
        started = time.perf_counter()
        swept = desk.sweep(datetime(2026, 3, 1, tzinfo=UTC))
        sweep_s = time.perf_counter() - started
        rng = random.Random(7)
        t0 = datetime(2026, 11, 1)
        located = [Located(n, t0 + timedelta(hours=rng.uniform(0, 24 * 90)),
                           115.9 + rng.uniform(0, 0.3), 36.3 + rng.uniform(0, 0.3), "noise")
                   for n in range(complaints)]  # fmt: skip
        started = time.perf_counter()
        spots = hotspots(located, desk.policy.complaints)
        hotspots_s = time.perf_counter() - started
        engine.dispose()
    print(json.dumps({
        "database": engine.dialect.name, "problems": problems,
        "import_s": round(imported_s, 3), "import_rows_per_s": round(problems / imported_s),
        "action_with_200kB_pdf_ms": round(act_s * 1000, 1),
        "sweep_s": round(sweep_s, 3), "escalated": swept,
        "complaints": complaints, "hotspots_s": round(hotspots_s, 3), "hotspots": len(spots),
        "as_of": date.today().isoformat(),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
