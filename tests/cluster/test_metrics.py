"""JSON log lines and the health endpoints of the cluster roles (in process)."""

from __future__ import annotations

import asyncio
import json
import logging

import httpx

from envwatch.cluster.metrics import JsonFormatter, serve_health
from tests.cluster.harness import free_port


def test_log_lines_are_json_with_the_role() -> None:
    record = logging.LogRecord("envwatch.x", logging.WARNING, __file__, 1, "lost %s", ("p3",), None)
    line = json.loads(JsonFormatter("writer").format(record))
    assert line["level"] == "WARNING" and line["role"] == "writer"
    assert line["message"] == "lost p3" and line["logger"] == "envwatch.x"
    assert line["time"].endswith("+00:00")


def test_readiness_follows_the_role_liveness_does_not() -> None:
    ready = {"now": False}

    async def scenario() -> list[tuple[str, int]]:
        port = free_port()
        server = await serve_health("127.0.0.1", port, lambda: ready["now"])
        seen = []
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            for path in ("/livez", "/readyz"):
                seen.append((path, (await client.get(path)).status_code))
            ready["now"] = True
            seen.append(("/readyz", (await client.get("/readyz")).status_code))
            metrics = await client.get("/metrics")
            assert "envwatch_ack_latency_seconds_bucket" in metrics.text
            seen.append(("/nothing", (await client.get("/nothing")).status_code))
        server.close()
        await server.wait_closed()
        return seen

    assert asyncio.run(scenario()) == [
        ("/livez", 200),
        ("/readyz", 503),
        ("/readyz", 200),
        ("/nothing", 404),
    ]
