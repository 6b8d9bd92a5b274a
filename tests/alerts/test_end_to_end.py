"""End to end over real TCP: a simulated exceedance becomes exactly one
alert within 2 s of the frame that proved it, routed to the right county,
with a signed webhook delivered to a local server; left alone past its
deadline it escalates. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, timedelta

from sqlalchemy import Engine, insert, select

from envwatch.alerts.desk import AlertDesk
from envwatch.alerts.notify import SIGNATURE_HEADER, TIMESTAMP_HEADER, Mail, Notifier, signature
from envwatch.alerts.service import run_alert_loop
from envwatch.demo.profiles import Fault, FaultKind
from envwatch.demo.seed import seed_demo
from envwatch.demo.simulator import load_points, simulate
from envwatch.gateway.committer import GroupCommitter
from envwatch.gateway.server import Gateway, load_devices
from envwatch.processing.worker import Processor, follow_archive
from envwatch.settings import Settings
from envwatch.store.archive import Archive
from envwatch.store.schema import Alert, Enterprise, MonitoringPoint, NotificationTarget
from tests.alerts.servers import Received, webhook_receiver
from tests.rules.test_end_to_end import NOON, sending, stop_when_simulated

SECRET = "county-hook-key"


def test_a_simulated_exceedance_becomes_one_alert_and_a_webhook(engine: Engine) -> None:
    seed_demo(engine)
    power = [p for p in load_points(engine) if p.meter is None and "a19001" in p.factors
             and p.limits and p.edition.value != "2005"]  # fmt: skip
    culprit, clean = power[0], power[1:3]
    faults = {culprit.mn: Fault(FaultKind.EXCEEDANCE, NOON)}
    with engine.connect() as connection:
        county = connection.execute(
            select(Enterprise.county_code)
            .join(MonitoringPoint, MonitoringPoint.enterprise_id == Enterprise.id)
            .where(MonitoringPoint.mn == culprit.mn)
        ).scalar_one()
    received = Received()
    with webhook_receiver(received) as url:
        with engine.begin() as connection:
            connection.execute(insert(NotificationTarget).values(
                county_code=county, role="county_officer", channel="webhook", address=url,
                secret=SECRET, active=True))  # fmt: skip
        points = [culprit, *clean]
        notifier = Notifier(engine, Mail(None, 25, "envwatch@localhost"), timeout_s=5)

        async def scenario() -> None:
            committer = GroupCommitter(Archive(engine).write_batch)
            committer.start()
            gateway = Gateway(Settings(database_url="unused"), committer, load_devices(engine))
            await gateway.start("127.0.0.1", 0)
            stop = asyncio.Event()
            processing = asyncio.create_task(
                follow_archive(Processor.create(engine, simulated=True), stop, interval_s=0.1)
            )
            alerting = asyncio.create_task(
                run_alert_loop(AlertDesk(engine), notifier, stop, interval_s=0.1)
            )
            watching = asyncio.create_task(stop_when_simulated(
                engine, sending(points, faults), NOON + timedelta(hours=3), stop))  # fmt: skip
            await simulate(points, "127.0.0.1", gateway.port, scale=3600.0, stop=stop,
                           faults=faults, start=NOON - timedelta(minutes=1))  # fmt: skip
            await watching
            await gateway.stop()
            await committer.close()
            await asyncio.gather(processing, alerting)

        asyncio.run(asyncio.wait_for(scenario(), 120))
        AlertDesk(engine).run_once()
        notifier.deliver_due()
    with engine.connect() as connection:
        exceedances = connection.execute(
            select(Alert).where(Alert.rule == "exceedance").order_by(Alert.id)
        ).all()
    # One alert per exceeding pollutant of the device, not one per finding.
    assert {a.mn for a in exceedances} == {culprit.mn}
    pollutants = [a.pollutant for a in exceedances]
    assert len(pollutants) == len(set(pollutants)) and "a21026" in pollutants
    alert = next(a for a in exceedances if a.pollutant == "a21026")
    assert (alert.mn, alert.county_code, alert.state) == (culprit.mn, county, "dispatched")
    assert alert.finding_count >= 2  # hour after hour: one alert, not a flood
    opened = alert.opened_at.replace(tzinfo=alert.opened_at.tzinfo or UTC)
    frame = alert.frame_received_at.replace(tzinfo=alert.frame_received_at.tzinfo or UTC)
    assert timedelta(0) <= opened - frame <= timedelta(seconds=2)
    deliveries = [json.loads(body) for _, body in received.requests]
    assert alert.id in [d["alert"]["id"] for d in deliveries if d["event"] == "opened"]
    headers, body = received.requests[0]
    stamp = int(headers[TIMESTAMP_HEADER.lower()])
    assert headers[SIGNATURE_HEADER.lower()] == signature(SECRET, body, stamp)
    # Nobody acknowledges: past the deadline it escalates to the county head.
    desk = AlertDesk(engine)
    assert desk.sweep(opened + timedelta(minutes=30)) == 0
    assert desk.sweep(opened + timedelta(hours=2)) == len(exceedances)
    with engine.connect() as connection:
        escalation = connection.execute(
            select(Alert.escalation).where(Alert.id == alert.id)
        ).scalar_one()
    assert escalation == 1
