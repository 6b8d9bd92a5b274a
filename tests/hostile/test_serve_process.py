"""Hostile and broken input against a real ``envwatch serve`` process over TCP,
on SQLite and PostgreSQL (issue 12 items 1-5): one device or one peer never
stops the city's acknowledgements or processing."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import Engine, select

from envwatch.store.schema import ArchivedFrame
from tests.gateway.helpers import register, upload
from tests.hostile.serve import envwatch_serve, exchange

MN_ODD = "010000A8900016F000169D01"
MN_GOOD = "010000A8900016F000169D02"


def test_an_over_long_field_stops_no_one_s_acknowledgement(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    register(engine, (MN_ODD, "123456"), (MN_GOOD, "123456"))
    long_qn = "2" * 24  # lenient decoding takes it; the archive's column holds 20

    async def traffic(port: int) -> tuple[list[str | None], list[str | None]]:
        odd = exchange(port, [upload(MN_ODD, long_qn, hour=h) for h in range(10)], 10)
        good = exchange(port, [upload(MN_GOOD, f"2026112910000{h:04d}", hour=h)
                               for h in range(10)], 10)  # fmt: skip
        odd_answers, good_answers = await asyncio.gather(odd, good)
        return [a.packet.qn for a in odd_answers], [a.packet.qn for a in good_answers]

    with envwatch_serve(database_url, tmp_path) as serving:
        odd_qns, good_qns = asyncio.run(traffic(serving.hj212_port))
    assert good_qns == [f"2026112910000{h:04d}" for h in range(10)]
    # The odd device is answered too, with its own QN, and its data are stored.
    assert odd_qns == [long_qn] * 10
    with engine.connect() as connection:
        stored = connection.execute(
            select(ArchivedFrame.qn, ArchivedFrame.verdict, ArchivedFrame.warnings).where(
                ArchivedFrame.mn == MN_ODD
            )
        ).all()
    assert {(qn, verdict) for qn, verdict, _ in stored} == {("2" * 20, "accepted")}
    assert all("field_too_long" in warnings for *_, warnings in stored)
