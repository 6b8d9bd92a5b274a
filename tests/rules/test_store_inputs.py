"""What the rules read from the store beyond measurements: analyser settings
sent over TCP in 3020 uploads, declared maintenance windows, and
heavy-pollution-weather warnings scoped to counties. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, select

from envwatch.demo.seed import seed_demo
from envwatch.hj212 import Packet, encode_packet
from envwatch.processing.inputs import load_contexts
from envwatch.processing.worker import Processor
from envwatch.rules.model import Period
from envwatch.store.schema import (
    ArchivedFrame,
    County,
    EmergencyPeriod,
    Enterprise,
    MaintenanceWindow,
    MonitoringPoint,
)
from envwatch.store.schema import FindingRecord as Finding
from tests.gateway.helpers import register
from tests.gateway.test_gateway_tcp import MN1, Running, answers, run

NOW = datetime(2026, 11, 29, 12, 0)


def settings_upload(qn: str, data_time: str, slope: str) -> bytes:
    """A 3020 upload of an SO2 analyser's settings (HJ 212-2017 §11.4 codes)."""
    return encode_packet(
        Packet.from_groups(
            "3020", qn=qn, st="31", pw="123456", mn=MN1, flag="5",
            cp=((("DataTime", data_time), ("PolId", "a21026")),
                (("i13008-Info", slope), ("i13001-Info", "200"))),
        )
    )  # fmt: skip


def test_a_changed_analyser_setting_sent_over_tcp_becomes_a_finding(engine: Engine) -> None:
    register(engine, (MN1, "123456"))

    async def scenario() -> None:
        async with Running(engine) as running:
            reader, writer = await running.connect()
            writer.write(settings_upload("20261129080000001", "20261129080000", "1.00"))
            writer.write(settings_upload("20261129090000001", "20261129090000", "0.80"))
            writer.write(settings_upload("20261129100000001", "20261129100000", "0.80"))
            assert len(await answers(reader, 3)) == 3
            writer.close()

    run(scenario)
    with engine.connect() as connection:
        frames = connection.execute(
            select(ArchivedFrame.id, ArchivedFrame.data_time).order_by(ArchivedFrame.id)
        ).all()
    assert [f.data_time for f in frames] == [datetime(2026, 11, 29, h) for h in (8, 9, 10)]
    processor = Processor.create(engine)
    while processor.run_once():
        pass
    with engine.connect() as connection:
        (found,) = connection.execute(
            select(Finding).where(Finding.rule == "parameter_change")
        ).all()
    assert (found.mn, found.pollutant) == (MN1, "a21026")
    assert (found.evidence["before"], found.evidence["after"]) == ("1.00", "0.80")
    assert found.evidence["frames"] == [frames[0].id, frames[1].id]
    assert found.window_start == datetime(2026, 11, 29, 8)


def test_contexts_carry_maintenance_windows_and_the_warnings_of_their_county(
    engine: Engine,
) -> None:
    seed_demo(engine)
    with engine.connect() as connection:
        zone = connection.execute(
            select(County.code, County.host_code).where(County.host_code.is_not(None))
        ).first()
        assert zone is not None
        points = connection.execute(
            select(MonitoringPoint.mn, Enterprise.county_code).join(
                Enterprise, MonitoringPoint.enterprise_id == Enterprise.id
            )
        ).all()
    in_zone = next(p.mn for p in points if p.county_code == zone.code)
    in_host = next(p.mn for p in points if p.county_code == zone.host_code)
    elsewhere = next(p.mn for p in points if p.county_code not in (zone.code, zone.host_code))
    window = (datetime(2026, 11, 29, 9), datetime(2026, 11, 29, 11))
    declared = datetime(2026, 11, 29, tzinfo=UTC)
    with engine.begin() as connection:
        connection.execute(
            MaintenanceWindow.__table__.insert(),  # type: ignore[attr-defined]
            [{"mn": in_host, "starts_at": window[0], "ends_at": window[1], "reason": "校准",
              "reported_by": "ops", "reported_at": declared}],
        )  # fmt: skip
        connection.execute(
            EmergencyPeriod.__table__.insert(),  # type: ignore[attr-defined]
            [{"level": "orange", "starts_at": datetime(2026, 12, 1),
              "ends_at": datetime(2026, 12, 3), "county_code": zone.host_code,
              "reference": "橙色预警", "declared_by": "city", "declared_at": declared},
             {"level": "yellow", "starts_at": datetime(2026, 12, 5),
              "ends_at": datetime(2026, 12, 6), "county_code": None, "reference": "",
              "declared_by": "city", "declared_at": declared}],
        )  # fmt: skip
    contexts = load_contexts(engine, NOW)
    assert contexts[in_host].maintenance == (Period(*window),)
    assert contexts[in_host].in_maintenance(datetime(2026, 11, 29, 10)) is not None
    assert contexts[in_zone].maintenance == ()
    # The host district's warning covers its development zone, not other counties;
    # the city's covers everyone.
    assert [w.level for w in contexts[in_host].emergencies] == ["orange", "yellow"]
    assert [w.level for w in contexts[in_zone].emergencies] == ["orange", "yellow"]
    assert [w.level for w in contexts[elsewhere].emergencies] == ["yellow"]
    assert contexts[in_zone].county_code == zone.code
