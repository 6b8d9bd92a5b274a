"""The frames stream on NATS JetStream, and the gateway's side of it.

``JetStreamSink`` takes the place of the group committer in a gateway: it
publishes the frames of one read (each to its device's partition subject,
with a de-duplication id) and resolves once JetStream has acknowledged every
one of them, i.e. stored it on disk; only then does the gateway answer the
logger. Without the acknowledgement (NATS down, timeout) it raises
``StoreUnavailableError``: nothing is answered, the loggers resend.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from envwatch.cluster import metrics
from envwatch.cluster.frames import SUBJECT_PREFIX, encode_frame, message_id, partition_of, subject
from envwatch.gateway.committer import StoreUnavailableError
from envwatch.settings import Settings
from envwatch.store.archive import ReceivedFrame

log = logging.getLogger(__name__)


async def connect(url: str, name: str) -> Client:
    """A NATS connection that reconnects for ever (a restarted server is found again)."""

    async def on_disconnect() -> None:
        log.warning("NATS disconnected")

    async def on_reconnect() -> None:
        log.info("NATS reconnected")

    async def on_error(error: Exception) -> None:
        log.warning("NATS error: %s", error)

    return await nats.connect(
        url.split(","),
        name=name,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        connect_timeout=3,
        drain_timeout=5,
        disconnected_cb=on_disconnect,
        reconnected_cb=on_reconnect,
        error_cb=on_error,
    )


def stream_config(settings: Settings) -> StreamConfig:
    return StreamConfig(
        name=settings.cluster_stream,
        subjects=[f"{SUBJECT_PREFIX}.*"],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        discard=DiscardPolicy.OLD,
        max_age=settings.cluster_stream_max_age_h * 3600,
        duplicate_window=settings.cluster_dedup_window_s,
    )


async def ensure_stream(js: JetStreamContext, settings: Settings) -> None:
    """Create the frames stream if missing (every role may start first)."""
    config = stream_config(settings)
    try:
        await js.stream_info(settings.cluster_stream)
    except NotFoundError:
        await js.add_stream(config)
        log.info("created stream %s", settings.cluster_stream)


class JetStreamSink:
    """The gateway's store in cluster mode (``submit`` as ``GroupCommitter``'s)."""

    def __init__(self, js: JetStreamContext, settings: Settings) -> None:
        self.js = js
        self.stream = settings.cluster_stream
        self.partitions = settings.cluster_partitions
        self.timeout = settings.cluster_publish_timeout_s
        self.published = 0
        self.duplicates = 0

    async def _publish(self, frame: ReceivedFrame) -> int:
        ack = await self.js.publish(
            subject(partition_of(frame.mn, self.partitions)),
            encode_frame(frame),
            timeout=self.timeout,
            stream=self.stream,
            headers={"Nats-Msg-Id": message_id(frame)},
        )
        if ack.duplicate:
            self.duplicates += 1
        return int(ack.seq)

    async def submit(self, frames: Sequence[ReceivedFrame]) -> list[int | None]:
        """Publish ``frames``; their stream sequences once all are stored."""
        started = time.perf_counter()
        for frame in frames:
            metrics.FRAMES_RECEIVED.labels(frame.verdict).inc()
            if frame.error_code:
                metrics.FRAMES_REJECTED.labels(frame.error_code).inc()
        try:
            seqs = await asyncio.gather(*(self._publish(frame) for frame in frames))
        except Exception as error:
            metrics.FRAMES_UNACKNOWLEDGED.inc(len(frames))
            raise StoreUnavailableError(f"JetStream did not confirm: {error!r}") from error
        self.published += len(frames)
        metrics.FRAMES_ACKNOWLEDGED.inc(len(frames))
        metrics.ACK_LATENCY.observe(time.perf_counter() - started)
        return list(seqs)
