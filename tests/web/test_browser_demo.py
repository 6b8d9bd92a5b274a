"""The README's run command, end to end in a real browser: ``envwatch demo``
(the demo city on SQLite, the HJ 212 gateway, a simulated logger for every
device, the rules, the alert desk and the web) runs as its own process; the
test waits for the simulator's loggers to raise an alert, logs in as that
county's officer, opens the alert from the dashboard, acknowledges and
handles it, and sees its state move. Screenshots go to ``var/screenshots``."""

from __future__ import annotations

import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from envwatch.demo.seed import DEMO_PASSWORD
from tests.web.test_browser import SCREENSHOTS, browser, log_in

__all__ = ["browser"]

START_TIMEOUT_S = 120.0
ALERT_TIMEOUT_S = 240.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[str]:
    """``envwatch demo`` in a folder of its own; its web's base URL."""
    command = Path(sys.executable).with_name("envwatch")
    http, gateway = free_port(), free_port()
    env = {**os.environ, "ENVWATCH_DATABASE_URL": f"sqlite:///{tmp_path}/envwatch.db"}
    process = subprocess.Popen(
        [str(command), "demo", "--http", f"127.0.0.1:{http}", "--hj212", f"127.0.0.1:{gateway}"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()

    def read_lines() -> None:
        for line in process.stdout or ():
            lines.put(line)

    reader = threading.Thread(target=read_lines, daemon=True)
    reader.start()
    printed: list[str] = []
    deadline = time.monotonic() + START_TIMEOUT_S
    url = None
    try:
        while url is None:
            assert process.poll() is None, "envwatch demo stopped:\n" + "".join(printed)
            assert time.monotonic() < deadline, "envwatch demo did not start:\n" + "".join(printed)
            try:
                printed.append(lines.get(timeout=1))
            except queue.Empty:
                continue
            found = re.search(r"web on (http://\S+?)/? ", printed[-1])
            url = found.group(1) if found else None
        text = "".join(printed)
        # The README promises the printed URL and a printed login per role.
        assert f"password {DEMO_PASSWORD}" in text
        for login in ("admin", "supervisor", "enforcer", "viewer", "county-371502",
                      "enterprise-1", "contractor-1"):  # fmt: skip
            assert login in text, login
        yield url.rstrip("/")
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        reader.join(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def first_simulated_alert(url: str) -> dict[str, Any]:
    """Wait until the simulated loggers have raised a dispatched alert."""
    with httpx.Client(base_url=url, timeout=30) as client:
        login = client.post("/api/v1/session",
                            json={"username": "supervisor", "password": DEMO_PASSWORD})  # fmt: skip
        assert login.status_code == 200, login.text
        deadline = time.monotonic() + ALERT_TIMEOUT_S
        while time.monotonic() < deadline:
            items = client.get("/api/v1/alerts?state=dispatched").json()["items"]
            if items:
                return dict(items[0])
            time.sleep(2)
    pytest.fail(f"the simulator raised no alert within {ALERT_TIMEOUT_S:.0f} s")


def test_a_county_officer_works_an_alert_the_simulator_raised(demo: str, browser: Any) -> None:
    alert = first_simulated_alert(demo)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = log_in(browser, demo, f"county-{alert['county']}")
    newest = page.locator("#newest tbody a").first
    newest.wait_for(timeout=60_000)
    page.screenshot(path=str(SCREENSHOTS / "demo-dashboard.png"), full_page=True)
    alert_id = newest.inner_text()
    newest.click()
    page.wait_for_url(f"{demo}/alerts/{alert_id}")
    assert page.inner_text("#state") == "已派发"
    page.click("button[value=acknowledge]")
    page.wait_for_selector("#state:text-is('已响应')")
    page.select_option("select[name=outcome]", "offsite_check")
    page.fill("input[name=note]", "非现场检查：调取历史数据核实")
    page.click("button[value=handle]")
    page.wait_for_selector("#state:text-is('已处置')")
    assert "非现场检查：调取历史数据核实" in page.inner_text("ol.history")
    page.screenshot(path=str(SCREENSHOTS / "demo-alert.png"), full_page=True)
    page.close()
