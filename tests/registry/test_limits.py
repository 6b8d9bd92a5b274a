"""Permit limits in force: strictest first, expired and future ones left out."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from envwatch.registry.limits import limits_in_force
from envwatch.store.schema import Outlet, PermitLimit
from tests.gateway.helpers import register

NOW = datetime(2026, 11, 29, 12, 0)


def test_the_strictest_limit_in_force_comes_first(engine: Engine) -> None:
    register(engine, ("MN1", "123456"))

    def limit(
        value: float, basis: str, start: datetime, end: datetime | None = None
    ) -> dict[str, object]:
        return {"enterprise_id": 1, "outlet_id": 7, "pollutant": "a21026", "limit_value": value,
                "unit": "mg/m³", "basis": basis, "reference_o2": 6.0, "valid_from": start,
                "valid_to": end}  # fmt: skip

    with engine.begin() as connection:
        connection.execute(
            Outlet.__table__.insert(),  # type: ignore[attr-defined]
            [{"id": 7, "enterprise_id": 1, "code": "DA001", "name": "排放口", "kind": "air"}],
        )
        connection.execute(
            PermitLimit.__table__.insert(),  # type: ignore[attr-defined]
            [
                limit(100.0, "GB 13223-2011", datetime(2012, 1, 1)),
                limit(35.0, "超低排放", datetime(2020, 1, 1)),
                limit(20.0, "已到期", datetime(2019, 1, 1), datetime(2020, 1, 1)),
                limit(10.0, "尚未生效", datetime(2027, 1, 1)),
            ],
        )
    with engine.connect() as connection:
        in_force = limits_in_force(connection, NOW)
    assert [(limit.value, limit.basis) for limit in in_force[7]["a21026"]] == [
        (35.0, "超低排放"),
        (100.0, "GB 13223-2011"),
    ]
