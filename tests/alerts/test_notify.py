"""Notifications delivered to real local receivers: a signed webhook, retried
with back-off after a failure, and e-mail over SMTP. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import Engine, insert, select

from envwatch.alerts.desk import AlertDesk
from envwatch.alerts.notify import SIGNATURE_HEADER, Mail, Notifier, backoff, signature
from envwatch.demo.seed import seed_demo
from envwatch.store.schema import Notification, NotificationTarget
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
    assert headers[SIGNATURE_HEADER.lower()] == signature(SECRET, body)
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
