"""The ``envwatch rectify`` contract (issue 15): import all or nothing with
row/column/reason, list as JSON lines with the promised keys, act with an
attached file (real processes, real SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from sqlalchemy import Engine, func, select

from envwatch.store.schema import ProblemEvidence, RectificationProblem
from tests.rectification.helpers import DONGCHANGFU, PDF, as_csv, feedback_rows, registry
from tests.rectification.test_complaints import complaint, hotline_export
from tests.test_cli_contract import envwatch

LIST_KEYS = {"id", "source", "batch", "county", "title", "state", "deadline", "overdue",
             "responsible"}  # fmt: skip


def test_rectify_import_list_and_act(database_url: str, engine: Engine, tmp_path: Path) -> None:
    registry(engine)
    rows = feedback_rows()
    rows[1][6] = "火星县"
    bad = tmp_path / "反馈清单.csv"
    bad.write_bytes(as_csv(rows))
    refused = envwatch("rectify", "import", "--db", database_url, str(bad))
    assert refused.returncode == 1
    assert "row 3, column 区县: unknown county '火星县'" in refused.stderr
    assert "nothing imported" in refused.stderr
    with engine.connect() as connection:
        assert connection.execute(select(func.count(RectificationProblem.id))).scalar() == 0

    good = tmp_path / "反馈清单.csv"
    good.write_bytes(as_csv(feedback_rows()))
    done = envwatch("rectify", "import", "--db", database_url, str(good))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["imported"] == 3

    listed = envwatch("rectify", "list", "--db", database_url, "--json")
    assert listed.returncode == 0, listed.stderr
    lines = [json.loads(line) for line in listed.stdout.splitlines()]
    assert len(lines) == 3 and all(set(line) == LIST_KEYS for line in lines)
    first = lines[0]
    assert (first["source"], first["county"], first["state"], first["overdue"]) == (
        "central", DONGCHANGFU, "assigned", False)  # fmt: skip
    assert first["responsible"] == "东昌府区人民政府" and first["deadline"] == "2027-03-31"

    problem = str(first["id"])
    started = envwatch("rectify", "act", "--db", database_url, problem, "start",
                       "--user", "county-dcf", "--note", "开始整改")  # fmt: skip
    assert started.returncode == 0, started.stderr
    assert json.loads(started.stdout) == {"id": first["id"], "state": "rectifying"}
    report = tmp_path / "验收报告.pdf"
    report.write_bytes(PDF)
    applied = envwatch("rectify", "act", "--db", database_url, problem, "apply", "--user",
                       "county-dcf", "--note", "整改完成", "--attach", str(report))  # fmt: skip
    assert applied.returncode == 0, applied.stderr
    assert json.loads(applied.stdout)["state"] == "applied"
    with engine.connect() as connection:
        assert connection.execute(select(ProblemEvidence.name)).scalars().all() == ["验收报告.pdf"]

    dossier = tmp_path / "dossier.zip"
    written = envwatch("rectify", "dossier", "--db", database_url, problem, "--out", str(dossier))
    assert written.returncode == 0, written.stderr
    assert json.loads(written.stdout)["bytes"] == dossier.stat().st_size
    with zipfile.ZipFile(dossier) as archive:
        assert "evidence/001-验收报告.pdf" in archive.namelist()

    wrong = envwatch("rectify", "act", "--db", database_url, problem, "sign",
                     "--user", "county-dcf", "--note", "")  # fmt: skip
    assert wrong.returncode == 1
    assert wrong.stderr.startswith("action_not_allowed:")
    assert "'applied'" in wrong.stderr and "'sign'" in wrong.stderr
    assert "'county_officer'" in wrong.stderr


def test_complaints_import_cluster_and_become_a_problem(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    registry(engine)
    export = tmp_path / "12345.csv"
    export.write_bytes(hotline_export([complaint(f"GD{i}", 30 * i, 150 * i) for i in range(3)]))
    done = envwatch("complaints", "import", "--db", database_url, str(export))
    assert done.returncode == 0, done.stderr
    ids = json.loads(done.stdout)["ids"]
    spots = envwatch("complaints", "hotspots", "--db", database_url)
    assert [json.loads(line)["complaints"] for line in spots.stdout.splitlines()] == [ids]
    unit = "东昌府区住建局"
    made = envwatch("complaints", "to-problem", "--db", database_url, str(ids[0]), "--user",
                    "county-dcf", "--lead-unit", unit, "--deadline", "2026-12-31")  # fmt: skip
    assert made.returncode == 0, made.stderr
    problem = json.loads(made.stdout)["problem"]
    listed = envwatch("rectify", "list", "--db", database_url, "--json")
    (line,) = [json.loads(text) for text in listed.stdout.splitlines()]
    assert (line["id"], line["source"], line["state"]) == (problem, "complaint", "assigned")
