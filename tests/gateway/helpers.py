"""Building frames and registering devices for gateway tests."""

from __future__ import annotations

from sqlalchemy import Engine

from envwatch.hj212 import Packet, encode_packet
from envwatch.store.schema import County, Enterprise, MonitoringPoint


def register(engine: Engine, *points: tuple[str, str], lenient: bool = True) -> None:
    """Register monitoring points ``(MN, PW)`` under one enterprise."""
    with engine.begin() as connection:
        connection.execute(
            County.__table__.insert(),  # type: ignore[attr-defined]
            [
                {
                    "code": "371502",
                    "name_zh": "东昌府区",
                    "name_en": "Dongchangfu",
                    "kind": "district",
                }
            ],
        )
        connection.execute(
            Enterprise.__table__.insert(),  # type: ignore[attr-defined]
            [
                {
                    "id": 1,
                    "name": "聊城示例热电有限公司",
                    "credit_code": "91371500000000001X",
                    "county_code": "371502",
                    "industry_code": "4411",
                }
            ],
        )
        connection.execute(
            MonitoringPoint.__table__.insert(),  # type: ignore[attr-defined]
            [
                {
                    "mn": mn,
                    "pw": pw,
                    "enterprise_id": 1,
                    "st": "31",
                    "protocol_version": "2017",
                    "lenient": lenient,
                    "verify_crc": True,
                    "verify_length": True,
                    "active": True,
                }
                for mn, pw in points
            ],
        )


def upload(
    mn: str,
    qn: str,
    *,
    pw: str = "123456",
    hour: int = 10,
    so2: str = "12.5",
    data_time: str | None = None,
) -> bytes:
    """A 2061 hourly upload asking for an answer (Flag=5)."""
    return encode_packet(
        Packet.from_groups(
            "2061",
            qn=qn,
            st="31",
            pw=pw,
            mn=mn,
            flag="5",
            cp=(
                (("DataTime", data_time or f"20261129{hour:02d}0000"),),
                (("a21026-Avg", so2), ("a21026-Flag", "N")),
                (("a19001-Avg", "9.8"), ("a19001-Flag", "N")),
            ),
        )
    )
