"""The web application's current endpoints, over real HTTP on loopback."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from envwatch.web.app import create_app
from tests.hj212.conftest import EXAMPLES


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("web server did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_health_and_start_page_in_chinese(base_url: str) -> None:
    assert httpx.get(f"{base_url}/healthz").json()["status"] == "ok"
    page = httpx.get(f"{base_url}/")
    assert page.status_code == 200
    assert "智慧环境监管平台" in page.text
    assert "http://" not in page.text and "https://" not in page.text  # no external assets


def test_decoding_frames_needs_a_login(base_url: str) -> None:
    response = httpx.post(f"{base_url}/api/v1/hj212/decode", content=EXAMPLES[0].frame)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"
