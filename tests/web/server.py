"""The web application served over real HTTP on a free loopback port, for
the tests that talk to it as a browser or a client would."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import uvicorn
from sqlalchemy import Engine

from envwatch.web.app import create_app

START_TIMEOUT_S = 10.0


@contextmanager
def serving(engine: Engine | None = None) -> Iterator[str]:
    """``create_app(engine)`` under uvicorn in a thread; its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(engine), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.started:
        assert time.monotonic() < deadline, "web server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def form_login(client: httpx.Client, username: str, password: str) -> httpx.Response:
    """Log in as a browser does: the login page first (its CSRF token in the
    form and a cookie), then its form posted."""
    page = client.get("/login")
    token = page.text.split('name="login_csrf" value="')[1].split('"')[0]
    return client.post(
        "/login", data={"username": username, "password": password, "login_csrf": token}
    )
