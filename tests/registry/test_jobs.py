"""Registry jobs end once, on SQLite and PostgreSQL: a reader that saw a job
open while its runner was finishing cannot overwrite how it really ended (the
race that showed a bad import file as "interrupted")."""

from __future__ import annotations

from sqlalchemy import Engine

from envwatch.registry.jobs import _fail, create_job, read_job


def test_a_job_that_ended_keeps_its_ending(engine: Engine) -> None:
    job_id = create_job(engine, direction="import", kind="points", file_format="xlsx",
                        file_name="p.xlsx", owner="admin")  # fmt: skip
    _fail(engine, job_id, "bad_import_file", "not a workbook", "不是有效的工作簿")
    # What read_job does for a job it last saw open, once the runner is gone.
    _fail(engine, job_id, "interrupted", "the job was interrupted", "任务中断")
    job = read_job(engine, job_id)
    assert (job.state, job.error_code) == ("failed", "bad_import_file")


def test_a_job_its_process_left_open_reads_as_interrupted(engine: Engine) -> None:
    job_id = create_job(engine, direction="import", kind="points", file_format="csv",
                        file_name="p.csv", owner="admin")  # fmt: skip
    # Queued by this process but in no worker of it: the process lost it.
    job = read_job(engine, job_id)
    assert (job.state, job.error_code) == ("failed", "interrupted")
