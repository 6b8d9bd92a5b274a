"""The HTTP batch endpoint for meter readings, over real HTTP on SQLite and
PostgreSQL: bearer tokens, scopes, enterprise scoping, formats and row errors."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import Engine, select

from envwatch.auth.tokens import create_token, revoke_token
from envwatch.demo.seed import seed_demo
from envwatch.store.schema import ElectricityReading, Meter
from tests.web.server import serving

PATH = "/api/v1/electricity/readings"
NDJSON = {"content-type": "application/x-ndjson"}


@pytest.fixture
def base_url(engine: Engine) -> Iterator[str]:
    seed_demo(engine)
    with serving(engine) as url:
        yield url


def bearer(token: str, **headers: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}", **headers}


def lines(*records: dict[str, object]) -> bytes:
    return "\n".join(json.dumps(record) for record in records).encode()


def stored(engine: Engine) -> list[tuple[int, float | None, str]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(ElectricityReading.meter_id, ElectricityReading.power_kw,
                   ElectricityReading.source).order_by(ElectricityReading.meter_id)
        ).all()  # fmt: skip
    return [tuple(row) for row in rows]  # type: ignore[misc]


def test_a_collector_uploads_json_lines_and_csv_once(base_url: str, engine: Engine) -> None:
    _, token = create_token(engine, "collector", ["electricity:write"])
    batch = lines({"meter": 1, "time": "20261129100000", "power_kw": 812.5, "current_a": 1300},
                  {"meter": 2, "time": "2026-11-29T10:00:00+08:00", "power_kw": 40.1})  # fmt: skip
    for _ in range(2):  # resent: stored once
        response = httpx.post(base_url + PATH, content=batch, headers=bearer(token, **NDJSON))
        assert response.status_code == 200, response.text
        assert response.json() == {"readings": 2}
    csv = b"meter,time,power_kw,energy_kwh\n3,20261129100000,55.0,1200.5\n"
    csv_type = {"content-type": "text/csv; charset=utf-8"}
    response = httpx.post(base_url + PATH, content=csv, headers=bearer(token, **csv_type))
    assert response.status_code == 200, response.text
    assert stored(engine) == [(1, 812.5, "batch"), (2, 40.1, "batch"), (3, 55.0, "batch")]


def test_bad_rows_are_named_and_nothing_is_stored(base_url: str, engine: Engine) -> None:
    _, token = create_token(engine, "collector", ["electricity:write"])
    batch = lines({"meter": 1, "time": "20261129100000", "power_kw": 1.0},
                  {"meter": 1, "time": "yesterday"},
                  {"meter": 99999, "time": "20261129100000"})  # fmt: skip
    response = httpx.post(base_url + PATH, content=batch, headers=bearer(token, **NDJSON))
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_rows" and "未保存" in error["message_zh"]
    assert [(row["row"], row["column"]) for row in error["rows"]] == [(2, "time")]
    unknown = lines({"meter": 99999, "time": "20261129100000"})
    response = httpx.post(base_url + PATH, content=unknown, headers=bearer(token, **NDJSON))
    assert response.json()["error"]["rows"] == [
        {"row": 1, "column": "meter", "reason": "unknown meter 99999"}
    ]
    not_json = httpx.post(base_url + PATH, content=b"{oops", headers=bearer(token, **NDJSON))
    assert not_json.status_code == 400
    assert not_json.json()["error"]["code"] == "bad_import_file"
    assert stored(engine) == []


def test_tokens_are_required_checked_and_scoped(base_url: str, engine: Engine) -> None:
    batch = lines({"meter": 1, "time": "20261129100000", "power_kw": 1.0})
    missing = httpx.post(base_url + PATH, content=batch, headers=NDJSON)
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert missing.json()["error"]["code"] == "unauthenticated"
    forged = httpx.post(base_url + PATH, content=batch, headers=bearer("ew_forged", **NDJSON))
    assert forged.status_code == 401
    token_id, token = create_token(engine, "collector", ["electricity:write"])
    revoke_token(engine, token_id)
    revoked = httpx.post(base_url + PATH, content=batch, headers=bearer(token, **NDJSON))
    assert revoked.status_code == 401
    _, reader = create_token(engine, "no scopes", [])
    forbidden = httpx.post(base_url + PATH, content=batch, headers=bearer(reader, **NDJSON))
    assert forbidden.status_code == 403
    assert stored(engine) == []


def test_an_enterprise_token_reaches_only_its_own_meters(base_url: str, engine: Engine) -> None:
    with engine.connect() as connection:
        own, other = (
            connection.execute(
                select(Meter.id, Meter.enterprise_id).order_by(Meter.id).limit(300)
            ).all()[0],
            None,
        )
        other = connection.execute(
            select(Meter.id).where(Meter.enterprise_id != own.enterprise_id).limit(1)
        ).scalar_one()
    _, token = create_token(engine, "enterprise", ["electricity:write"], own.enterprise_id)
    batch = lines({"meter": own.id, "time": "20261129100000", "power_kw": 1.0},
                  {"meter": other, "time": "20261129100000", "power_kw": 2.0})  # fmt: skip
    response = httpx.post(base_url + PATH, content=batch, headers=bearer(token, **NDJSON))
    assert response.status_code == 422
    # Another enterprise's meter is "unknown": the token learns nothing of it.
    assert response.json()["error"]["rows"] == [
        {"row": 2, "column": "meter", "reason": f"unknown meter {other}"}
    ]
    alone = lines({"meter": own.id, "time": "20261129100000", "power_kw": 1.0})
    assert httpx.post(base_url + PATH, content=alone,
                      headers=bearer(token, **NDJSON)).status_code == 200  # fmt: skip


def test_wrong_media_types_and_oversized_batches_are_refused(base_url: str, engine: Engine) -> None:
    _, token = create_token(engine, "collector", ["electricity:write"])
    excel_type = {"content-type": "application/vnd.ms-excel"}
    excel = httpx.post(base_url + PATH, content=b"PK\x03\x04", headers=bearer(token, **excel_type))
    assert excel.status_code == 415
    assert excel.json()["error"]["code"] == "unsupported_media_type"
    huge = b"x" * ((16 << 20) + 1)
    response = httpx.post(base_url + PATH, content=huge, headers=bearer(token, **NDJSON))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
