"""The API's documentation page in a real browser (Playwright driving
Debian's chromium): Swagger UI from envwatch's own copy loads every
documented operation and draws them, and the page asks no other host for
anything."""

from __future__ import annotations

from typing import Any

import httpx

from tests.electricity.test_http_batch import base_url
from tests.web.test_browser import browser

__all__ = ["base_url", "browser"]


def test_the_api_documentation_is_drawn_from_local_assets_only(base_url: str, browser: Any) -> None:
    operations = sum(
        len(methods) for methods in httpx.get(f"{base_url}/openapi.json").json()["paths"].values()
    )
    page = browser.new_page()
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    page.goto(f"{base_url}/docs")
    page.locator(".opblock").first.wait_for(timeout=30_000)
    # Swagger UI draws the operations in view (the page grew past what it draws
    # at once): every operation of the schema is in the spec it loaded.
    assert page.evaluate("ui.specSelectors.operations().size") == operations
    assert page.get_by_text("/api/v1/alerts", exact=True).count() >= 1
    foreign = [url for url in asked if not url.startswith(base_url) and not url.startswith("data:")]
    assert foreign == []
    page.close()
