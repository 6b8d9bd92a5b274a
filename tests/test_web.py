"""The web application's current endpoints, over real HTTP on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.hj212.conftest import EXAMPLES
from tests.web.server import serving


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with serving() as url:
        yield url


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
