"""Prometheus metrics, JSON logs and the health endpoints of every cluster role.

One small HTTP server per process (``serve_health``): ``/metrics`` in the
Prometheus text format, ``/livez`` (the process runs its loop) and
``/readyz`` (its role can do its work now: NATS and PostgreSQL reachable,
partitions held).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

FRAMES_RECEIVED = Counter(
    "envwatch_frames_received", "Frames a gateway received", ["verdict"]
)  # fmt: skip
FRAMES_REJECTED = Counter(
    "envwatch_frames_rejected", "Frames rejected, by error code", ["code"]
)  # fmt: skip
FRAMES_ACKNOWLEDGED = Counter(
    "envwatch_frames_acknowledged", "Frames answered after JetStream stored them"
)  # fmt: skip
FRAMES_UNACKNOWLEDGED = Counter(
    "envwatch_frames_unacknowledged", "Frames not answered: the stream did not confirm them"
)  # fmt: skip
FRAMES_STORED = Counter(
    "envwatch_frames_stored", "Frames a writer stored in PostgreSQL", ["partition"]
)  # fmt: skip
FRAMES_SKIPPED = Counter(
    "envwatch_frames_redelivered_skipped", "Redelivered frames a writer found stored already"
)  # fmt: skip
ACK_LATENCY = Histogram(
    "envwatch_ack_latency_seconds",
    "From a read's frames received to JetStream's acknowledgement",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
QUEUE_LAG = Gauge(
    "envwatch_queue_lag_frames", "Frames in the stream not yet stored, by partition", ["partition"]
)  # fmt: skip
RULE_LAG = Gauge(
    "envwatch_rule_lag_frames", "Stored frames the rules have not processed, by partition",
    ["partition"],
)  # fmt: skip
PARTITIONS_HELD = Gauge("envwatch_partitions_held", "Partitions this process holds", ["role"])
ALERTS_OPEN = Gauge("envwatch_alerts_open", "Open alerts, by level", ["level"])
NOTIFICATION_FAILURES = Gauge(
    "envwatch_notification_failures", "Notifications that failed for good"
)  # fmt: skip
ROLE_ACTIVE = Gauge("envwatch_single_active", "1 where this process holds the lease", ["role"])


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, message, role."""

    def __init__(self, role: str) -> None:
        super().__init__()
        self.role = role

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "role": self.role,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def json_logging(role: str, level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter(role))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


async def serve_health(host: str, port: int, ready: Callable[[], bool]) -> asyncio.Server:
    """``/metrics``, ``/livez`` and ``/readyz`` on ``host:port``."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readline(), 5)
            while (await asyncio.wait_for(reader.readline(), 5)) not in (b"\r\n", b"\n", b""):
                pass
            parts = request.decode("latin-1").split()
            path = parts[1] if len(parts) > 1 else "/"
            status, body, kind = "404 Not Found", b"not found\n", "text/plain"
            if path == "/metrics":
                status, body, kind = "200 OK", generate_latest(), CONTENT_TYPE_LATEST
            elif path == "/livez":
                status, body = "200 OK", b"ok\n"
            elif path == "/readyz":
                ok = ready()
                status = "200 OK" if ok else "503 Service Unavailable"
                body = b"ready\n" if ok else b"not ready\n"
            writer.write(
                f"HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {len(body)}\r\n"
                "Connection: close\r\n\r\n".encode("latin-1")
                + body
            )
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

    return await asyncio.start_server(handle, host, port)
