"""Request bodies are capped before they are read, on every route (issue 12
items 6 and 11), over real HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import Engine

from envwatch.demo.seed import DEMO_PASSWORD, seed_demo
from envwatch.web.app import MAX_BODY_BYTES
from tests.web.server import serving


@pytest.fixture
def base_url(sqlite_url: str) -> Iterator[str]:
    from envwatch.store.db import make_engine  # noqa: PLC0415

    engine: Engine = make_engine(sqlite_url)
    seed_demo(engine)
    with serving(engine) as url:
        yield url
    engine.dispose()


def chunks(total: int, size: int = 65536) -> Iterator[bytes]:
    """A body without Content-Length (chunked), ``total`` bytes."""
    for start in range(0, total, size):
        yield b"x" * min(size, total - start)


def test_a_huge_login_is_refused_before_it_is_read(base_url: str) -> None:
    with httpx.Client(base_url=base_url, timeout=30) as client:
        form = {"content-type": "application/x-www-form-urlencoded"}
        declared = client.post("/login", content=b"x" * (MAX_BODY_BYTES + 1), headers=form)
        assert declared.status_code == 413
        assert declared.json()["error"]["code"] == "too_large"
        streamed = client.post("/api/v1/session", content=chunks(8 * MAX_BODY_BYTES),
                               headers={"content-type": "application/json"})  # fmt: skip
        assert streamed.status_code == 413
        # Within the cap, the same routes answer as ever.
        login = client.post("/api/v1/session",
                            json={"username": "admin", "password": DEMO_PASSWORD})  # fmt: skip
        assert login.status_code == 200


def test_decoding_a_flood_stalls_nothing_and_too_much_is_refused(base_url: str) -> None:
    async def scenario() -> tuple[int, int, int, int]:
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
            admin = {"username": "admin", "password": DEMO_PASSWORD}
            login = await client.post("/api/v1/session", json=admin)
            assert login.status_code == 200
            decode = client.post("/api/v1/hj212/decode", content=b"##" * (128 << 10))
            health = client.get("/healthz")
            decoded, healthy = await asyncio.gather(decode, health)
            too_much = await client.post("/api/v1/hj212/decode", content=b"#" * (300 << 10))
            return decoded.status_code, decoded.json()["count"], healthy.status_code, \
                too_much.status_code  # fmt: skip

    decoded, count, healthy, too_much = asyncio.run(scenario())
    # 256 KB of '##' is one run of input, not 131,072 errors; the web answers meanwhile.
    assert (decoded, healthy, too_much) == (200, 200, 413) and count <= 2
