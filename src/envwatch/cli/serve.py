"""``envwatch serve``: run the web application."""

from __future__ import annotations

from typing import Annotated

import typer


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="HTTP port.")] = 8000,
) -> None:
    """Start the envwatch web server (首页、健康检查、HJ 212 在线解析)."""
    # Imported here so that the codec commands start without loading the web stack.
    import uvicorn  # noqa: PLC0415

    from envwatch.web.app import create_app  # noqa: PLC0415

    uvicorn.run(create_app(), host=host, port=port, log_level="info")
