"""A small registry for the permit tests: one enterprise, a stack with a
device (outlet 1) and one without (outlet 2), and uploads through the archive."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import Engine

from envwatch.store.archive import Archive, MeasurementRow, ReceivedFrame
from envwatch.store.schema import County, Enterprise, MonitoringPoint, Outlet, PointFactor

MN = "371502000000001001000000"
CREDIT = "91371500000000001X"
SO2, CO = "a21026", "a21005"


def seed(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(County.__table__.insert(), [  # type: ignore[attr-defined]
            {"code": "371502", "name_zh": "东昌府区", "name_en": "Dongchangfu", "kind": "district"}
        ])  # fmt: skip
        connection.execute(Enterprise.__table__.insert(), [  # type: ignore[attr-defined]
            {"id": 1, "name": "聊城示例热电有限公司", "credit_code": CREDIT,
             "county_code": "371502", "industry_code": "4411"}
        ])  # fmt: skip
        connection.execute(Outlet.__table__.insert(), [  # type: ignore[attr-defined]
            {"id": 1, "enterprise_id": 1, "code": "DA001", "name": "1号锅炉烟囱", "kind": "air"},
            {"id": 2, "enterprise_id": 1, "code": "DA002", "name": "2号锅炉烟囱", "kind": "air"},
        ])  # fmt: skip
        connection.execute(MonitoringPoint.__table__.insert(), [  # type: ignore[attr-defined]
            {"mn": MN, "pw": "123456", "enterprise_id": 1, "outlet_id": 1, "st": "31",
             "protocol_version": "2017", "lenient": True, "verify_crc": True,
             "verify_length": True, "active": True}
        ])  # fmt: skip
        connection.execute(PointFactor.__table__.insert(), [  # type: ignore[attr-defined]
            {"mn": MN, "pollutant": SO2, "unit": "mg/m³"}
        ])  # fmt: skip


def hourly(at: datetime, so2: float, flow: float = 100.0, flag: str = "N",
           co: float | None = None) -> tuple[MeasurementRow, ...]:  # fmt: skip
    rows = [MeasurementRow(MN, "2061", at, SO2, avg=so2, flag=flag),
            MeasurementRow(MN, "2061", at, "a00000", avg=flow, flag="N")]  # fmt: skip
    if co is not None:
        rows.append(MeasurementRow(MN, "2061", at, CO, avg=co, flag="N"))
    return tuple(rows)


def store(engine: Engine, uploads: Iterable[tuple[MeasurementRow, ...]]) -> None:
    """Archive each upload as one accepted 2061 frame, in the order given."""
    Archive(engine).write_batch([
        ReceivedFrame(datetime.now(UTC), "p", b"##", "accepted", mn=MN, cn="2061",
                      measurements=rows)
        for rows in uploads
    ])  # fmt: skip


COLUMNS = (
    "许可证编号,统一社会信用代码,管理类别,有效期起,有效期止,排放口编号,污染物编码,限值,单位,"
    "基准氧含量,依据,年许可排放量,月许可排放量,监测方式,监测频次,产生浓度,设计流量"
)
PERMIT = "91371500000000001X001P,91371500000000001X,重点管理,2026-01-01,2031-01-01"


def permit_csv(so2_t: float = 10.0, untreated: float = 1000.0) -> bytes:
    """Outlet DA001 (its device monitors SO2) and DA002 (no device: direct discharge)."""
    rows = [
        COLUMNS,
        f"{PERMIT},DA001,a21026,35,mg/m³,6,GB 13223-2011,{so2_t},,自动,continuous,,",
        f"{PERMIT},DA002,a21026,35,mg/m³,6,GB 13223-2011,5,,自动,continuous,{untreated},10000",
    ]
    return ("\n".join(rows) + "\n").encode()
