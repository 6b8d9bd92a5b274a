"""Notifications delivered to real local receivers: a signed webhook, retried
with back-off after a failure, and e-mail over SMTP. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import timedelta

from sqlalchemy import Engine, func, insert, select

from envwatch.alerts.desk import AlertDesk
from envwatch.alerts.notify import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Mail,
    Notifier,
    backoff,
    signature,
)
from envwatch.alerts.service import run_alert_loop
from envwatch.demo.seed import seed_demo
from envwatch.store.schema import Alert, Notification, NotificationTarget
from tests.alerts.servers import Received, smtp_receiver, webhook_receiver
from tests.alerts.test_desk import DATA_T0, NOW, a_point, store_finding

SECRET = "s3cret"


def test_backoff_doubles_up_to_an_hour() -> None:
    assert [backoff(n).total_seconds() for n in (1, 2, 3)] == [10, 20, 40]
    assert backoff(30) == timedelta(hours=1)


def test_a_signed_webhook_is_retried_until_delivered_and_mail_is_sent(engine: Engine) -> None:
    seed_demo(engine)
    mn, county, _ = a_point(engine)
    received = Received(statuses=[500])
    with webhook_receiver(received) as url, smtp_receiver(received) as smtp_port:
        with engine.begin() as connection:
            connection.execute(insert(NotificationTarget), [
                {"county_code": county, "role": "county_officer", "channel": "webhook",
                 "address": url, "secret": SECRET, "active": True},
                {"county_code": county, "role": "county_officer", "channel": "email",
                 "address": "officer@county.example", "secret": None, "active": True}])  # fmt: skip
        store_finding(engine, mn, DATA_T0)
        AlertDesk(engine).run_once(NOW)
        notifier = Notifier(engine, Mail("127.0.0.1", smtp_port, "envwatch@city.example"),
                            timeout_s=5)  # fmt: skip
        assert notifier.deliver_due(NOW) == 1  # the mail; the webhook got a 500
        with engine.connect() as connection:
            hook = connection.execute(select(Notification).where(Notification.target_id == 1)).one()
        assert (hook.state, hook.attempts, hook.last_error) == ("pending", 1, "HTTP 500")
        assert notifier.deliver_due(NOW + timedelta(seconds=5)) == 0  # not due yet
        assert notifier.deliver_due(NOW + timedelta(seconds=11)) == 1
    headers, body = received.requests[-1]
    assert len(received.requests) == 2
    stamp = int(headers[TIMESTAMP_HEADER.lower()])
    assert headers[SIGNATURE_HEADER.lower()] == signature(SECRET, body, stamp)
    payload = json.loads(body)
    assert payload["event"] == "opened" and payload["alert"]["mn"] == mn
    assert payload["alert"]["county"] == county
    (mail,) = received.mail
    assert mail["To"] == "officer@county.example"
    assert "报警" in mail["Subject"] and mn in mail["Subject"]
    assert "二氧化硫小时均值超标" in mail.get_content()


def test_a_receiver_that_keeps_failing_is_given_up(engine: Engine) -> None:
    seed_demo(engine)
    mn, county, _ = a_point(engine)
    with engine.begin() as connection:
        connection.execute(insert(NotificationTarget).values(
            county_code=county, role="county_officer", channel="webhook",
            address="http://127.0.0.1:9/closed-port", active=True))  # fmt: skip
    store_finding(engine, mn, DATA_T0)
    AlertDesk(engine).run_once(NOW)
    notifier = Notifier(engine, Mail(None, 25, "x@y"), timeout_s=2, max_attempts=3)
    moment = NOW
    for _ in range(3):
        assert notifier.deliver_due(moment) == 0
        moment += timedelta(hours=1)
    with engine.connect() as connection:
        (row,) = connection.execute(select(Notification)).all()
    assert (row.state, row.attempts) == ("failed", 3)
    assert "ConnectError" in row.last_error


def test_a_stuck_receiver_delays_neither_other_receivers_nor_new_alerts(engine: Engine) -> None:
    seed_demo(engine)
    mn, county, _ = a_point(engine)
    stuck, fine = Received(hold=threading.Event()), Received()
    with webhook_receiver(stuck) as stuck_url, webhook_receiver(fine) as fine_url:
        with engine.begin() as connection:
            connection.execute(insert(NotificationTarget), [
                {"county_code": county, "role": "county_officer", "channel": "webhook",
                 "address": url, "secret": SECRET, "active": True}
                for url in (stuck_url, fine_url)])  # fmt: skip
        store_finding(engine, mn, DATA_T0)

        async def scenario() -> tuple[int, int]:
            stop = asyncio.Event()
            desk = AlertDesk(engine)
            notifier = Notifier(engine, Mail(None, 25, "envwatch@city.example"), timeout_s=30)
            loop = asyncio.create_task(run_alert_loop(desk, notifier, stop, interval_s=0.05))
            try:
                # The fine receiver is served while the stuck one holds its request.
                while not (fine.requests and stuck.requests):
                    await asyncio.sleep(0.05)
                # A new finding opens its alert meanwhile.
                store_finding(engine, mn, DATA_T0, rule="constant", severity="warning")
                while alerts_of(engine) < 2:
                    await asyncio.sleep(0.05)
                return len(fine.requests), alerts_of(engine)
            finally:
                stuck.hold.set()  # type: ignore[union-attr]
                stop.set()
                await loop

        delivered, alerts = asyncio.run(asyncio.wait_for(scenario(), 60))
    assert delivered >= 1 and alerts == 2


def alerts_of(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(Alert)).scalar_one())
