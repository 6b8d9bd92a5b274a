"""Uploads set aside: a rule failed on them, or their finding could not be
stored. Processing goes on past them; administrators see them here (the CLI's
``envwatch rules quarantine``, the API's ``/api/v1/processing/quarantine``)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select

from envwatch.rules.engine import RuleFailure
from envwatch.store.schema import QuarantinedUpload
from envwatch.times import cst_text, utc_as_cst_text

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class QuarantinedFinding:
    row: dict[str, Any]
    error: str


def quarantine(connection: Connection, failures: Iterable[RuleFailure | QuarantinedFinding]) -> int:
    """Set ``failures`` aside in ``quarantined_upload``; how many."""
    now = datetime.now(UTC)
    rows = []
    for failure in failures:
        if isinstance(failure, QuarantinedFinding):
            row = failure.row
            record = {"mn": row["mn"][:32], "cn": None, "data_time": row["window_start"],
                      "frame_id": None, "rule": row["rule"], "error": failure.error}  # fmt: skip
        else:
            upload = failure.upload
            record = {
                "mn": failure.mn[:32],
                "cn": None if upload is None else upload.cn[:4],
                "data_time": None if upload is None else upload.data_time,
                "frame_id": None if upload is None else upload.frame_id,
                "rule": failure.rule,
                "error": failure.error,
            }
        log.warning("quarantined %s of %s at %s: %s", record["rule"], record["mn"],
                    record["data_time"], record["error"])  # fmt: skip
        rows.append({**record, "error": record["error"][:2000], "quarantined_at": now})
    if rows:
        connection.execute(insert(QuarantinedUpload), rows)
    return len(rows)


def quarantined_view(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "mn": row.mn,
        "cn": row.cn,
        "data_time": None if row.data_time is None else cst_text(row.data_time),
        "frame_id": row.frame_id,
        "rule": row.rule,
        "error": row.error,
        "quarantined_at": utc_as_cst_text(row.quarantined_at),
    }


def list_quarantined(
    engine: Engine, *, mn: str | None = None, limit: int = 100, offset: int = 0
) -> dict[str, Any]:
    """The quarantined uploads, newest first, in the API's list envelope."""
    query = select(QuarantinedUpload)
    if mn is not None:
        query = query.where(QuarantinedUpload.mn == mn)
    with engine.connect() as connection:
        total = connection.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        rows = connection.execute(
            query.order_by(QuarantinedUpload.id.desc()).limit(limit).offset(offset)
        ).all()
    return {"items": [quarantined_view(row) for row in rows], "total": int(total),
            "limit": limit, "offset": offset}  # fmt: skip
