"""``envwatch cluster status``: the stream, its consumers and their lag, the
writers' and workers' positions and every lease (who holds what)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, text

from envwatch.cluster.jetstream import connect
from envwatch.cluster.lease import all_leases
from envwatch.settings import Settings


async def cluster_status(settings: Settings, engine: Engine) -> dict[str, Any]:
    assert settings.nats_url is not None
    nc = await connect(settings.nats_url, "envwatch-status")
    try:
        js = nc.jetstream()
        info = await js.stream_info(settings.cluster_stream)
        consumers = await js.consumers_info(settings.cluster_stream)
    finally:
        await nc.close()
    with engine.connect() as connection:
        positions: dict[str, int] = dict(
            connection.execute(
                text(
                    "SELECT name, last_frame_id FROM processing_cursor "
                    "WHERE name LIKE 'ingest:p%' OR name LIKE 'rules:p%'"
                )
            ).all()
        )
        newest_frame = connection.execute(text("SELECT max(id) FROM archived_frame")).scalar()
    leases = all_leases(engine)
    return {
        "stream": {
            "name": settings.cluster_stream,
            "messages": info.state.messages,
            "bytes": info.state.bytes,
            "first_seq": info.state.first_seq,
            "last_seq": info.state.last_seq,
            "partitions": settings.cluster_partitions,
        },
        "consumers": [
            {
                "name": consumer.name,
                "filter": consumer.config.filter_subject,
                "lag": consumer.num_pending,
                "unacknowledged": consumer.num_ack_pending,
                "redelivered": consumer.num_redelivered,
            }
            for consumer in sorted(consumers, key=lambda c: c.name)
        ],
        "positions": {name: int(value) for name, value in sorted(positions.items())},
        "rule_lag_frames": {
            name: max(0, int(newest_frame or 0) - int(value))
            for name, value in sorted(positions.items())
            if name.startswith("rules:")
        },
        "roles": [
            {"lease": name, "holder": holder, "seconds_left": round(left, 1)}
            for name, holder, left in leases
            if left > 0
        ],
    }
