"""Delivering queued notifications (the outbox): webhooks as signed JSON,
e-mail over SMTP; a failed delivery is retried with growing waits, then
marked failed. Each attempt's result stays in the notification log."""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import httpx
from sqlalchemy import Engine, select, update

from envwatch.store.schema import Notification, NotificationTarget

SIGNATURE_HEADER = "X-Envwatch-Signature"
FIRST_RETRY = timedelta(seconds=10)
LONGEST_WAIT = timedelta(hours=1)

LEVELS_ZH = {"notice": "提示", "warning": "预警", "alarm": "报警", "severe": "严重"}
WARNING_LEVELS_ZH = {"blue": "蓝色", "yellow": "黄色", "orange": "橙色", "red": "红色"}
MEASURES_ZH = {
    "stop": "停产",
    "staggered": "错峰生产",
    "none": "无强制措施",
    "transport": "运输管控",
}


TIMESTAMP_HEADER = "X-Envwatch-Timestamp"


def measure_zh(measure: str) -> str:
    """An emergency-list measure (``stop``, ``cut:0.3``, ``cut:0.3+transport``, ...) in Chinese."""
    if "+" in measure:
        return "＋".join(measure_zh(part) for part in measure.split("+"))
    if measure.startswith("cut:"):
        return f"限产{float(measure[4:]):.0%}"
    return MEASURES_ZH.get(measure, measure)


def signature(secret: str, body: bytes, timestamp: int) -> str:
    """``sha256=`` and the hex HMAC-SHA256 of ``<timestamp>.<body>``: receivers
    check it, and refuse an old timestamp, so a captured delivery cannot be
    replayed later."""
    signed = str(timestamp).encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failure: 10 s, 20 s, 40 s, … at most an hour."""
    wait: timedelta = FIRST_RETRY * (2 ** max(0, attempts - 1))
    return min(wait, LONGEST_WAIT)


@dataclass(frozen=True, slots=True)
class Mail:
    host: str | None
    port: int
    sender: str


@dataclass
class Notifier:
    engine: Engine
    mail: Mail
    timeout_s: float = 10.0
    max_attempts: int = 8
    parallel_targets: int = 8
    """Targets delivered to at once: a slow or dead one holds up only its own queue."""
    per_target: int = 5
    """A target's notifications tried in one pass at most."""

    def deliver_due(self, now: datetime | None = None) -> int:
        """Try the pending notifications that are due, target by target in
        parallel (each target's in order, stopping at its first failure); how
        many were sent."""
        now = now or datetime.now(UTC)
        with self.engine.connect() as connection:
            due = connection.execute(
                select(Notification, NotificationTarget.channel, NotificationTarget.address,
                       NotificationTarget.secret)
                .join(NotificationTarget, Notification.target_id == NotificationTarget.id)
                .where(Notification.state == "pending", Notification.next_attempt_at <= now)
                .order_by(Notification.id)
                .limit(100)
            ).all()  # fmt: skip
        queues: dict[int, list[Any]] = {}
        for row in due:
            queue = queues.setdefault(row.target_id, [])
            if len(queue) < self.per_target:
                queue.append(row)
        if not queues:
            return 0
        workers = min(len(queues), self.parallel_targets)
        with ThreadPoolExecutor(workers, thread_name_prefix="notify") as pool:
            return sum(pool.map(lambda rows: self._deliver(rows, now), queues.values()))

    def _deliver(self, rows: list[Any], now: datetime) -> int:
        """One target's due notifications in order; how many were sent."""
        sent = 0
        for row in rows:
            error = self._send(row)
            attempts = row.attempts + 1
            if error is None:
                changes: dict[str, Any] = {"state": "sent", "sent_at": now, "last_error": ""}
                sent += 1
            elif attempts >= self.max_attempts:
                changes = {"state": "failed", "last_error": error}
            else:
                changes = {"last_error": error, "next_attempt_at": now + backoff(attempts)}
            with self.engine.begin() as connection:
                connection.execute(
                    update(Notification)
                    .where(Notification.id == row.id)
                    .values(attempts=attempts, **changes)
                )
            if error is not None:
                break  # the rest wait for this target's next pass
        return sent

    def _send(self, row: Any) -> str | None:
        """None when delivered, else what went wrong."""
        try:
            if row.channel == "webhook":
                return self._post(row)
            if row.channel == "email":
                return self._mail(row)
            return f"unknown channel {row.channel!r}"
        except (httpx.HTTPError, OSError, smtplib.SMTPException) as error:
            return f"{type(error).__name__}: {error}"[:500]

    def _post(self, row: Any) -> str | None:
        body = json.dumps(
            {**row.payload, "notification_id": row.id}, ensure_ascii=False, sort_keys=True
        ).encode()
        headers = {"content-type": "application/json", "X-Envwatch-Delivery": str(row.id)}
        if row.secret:
            timestamp = int(time.time())
            headers[TIMESTAMP_HEADER] = str(timestamp)
            headers[SIGNATURE_HEADER] = signature(row.secret, body, timestamp)
        response = httpx.post(row.address, content=body, headers=headers, timeout=self.timeout_s)
        if response.is_success:
            return None
        return f"HTTP {response.status_code}"

    def _mail(self, row: Any) -> str | None:
        if self.mail.host is None:
            return "no mail server configured (ENVWATCH_SMTP_HOST)"
        if "warning" in row.payload:
            return self._warning_mail(row)
        message = EmailMessage()
        message["From"] = self.mail.sender
        message["To"] = row.address
        problem = row.payload.get("problem")
        if problem is not None:  # a rectification problem (rectification/desk.py)
            event = "整改督办" if row.payload["event"] == "escalated" else "整改交办"
            message["Subject"] = f"【envwatch {event}】#{problem['id']} {problem['title']}"
            message.set_content(
                f"{problem['title']}\n\n整改事项编号：{problem['id']}\n"
                f"批次：{problem['batch']} 第{problem['item_no']}项\n区县：{problem['county']}\n"
                f"牵头单位：{problem['lead_unit']}\n整改时限：{problem['deadline']}\n"
                f"状态：{problem['state']}\n"
            )
            with smtplib.SMTP(self.mail.host, self.mail.port, timeout=self.timeout_s) as smtp:
                smtp.send_message(message)
            return None
        alert = row.payload["alert"]
        level = LEVELS_ZH.get(alert["level"], alert["level"])
        event = "督办" if row.payload["event"] == "escalated" else "新预警"
        message["Subject"] = f"【envwatch {event}】{level} #{alert['id']} {alert['mn']}"
        message.set_content(
            f"{alert['explanation']}\n\n预警编号：{alert['id']}\n监测点：{alert['mn']}\n"
            f"规则：{alert['rule']}\n级别：{level}\n状态：{alert['state']}\n"
        )
        return self._send_mail(message)

    def _warning_mail(self, row: Any) -> str | None:
        """A heavy-pollution-weather warning notice to an enterprise, with the
        measures its own emergency list requires at the level."""
        warning, enterprise = row.payload["warning"], row.payload["enterprise"]
        level = WARNING_LEVELS_ZH.get(warning["level"], warning["level"])
        message = EmailMessage()
        message["From"] = self.mail.sender
        message["To"] = row.address
        message["Subject"] = f"【envwatch 重污染天气{level}预警】{enterprise['name']}"
        measures = (
            "\n".join(f"  {m['line']}：{measure_zh(m['measure'])}" for m in row.payload["measures"])
            or "  （未登记应急减排清单）"
        )
        exempt = "\n本企业为应急减排豁免企业。" if enterprise["exempt"] else ""
        message.set_content(
            f"{warning['reference']}\n预警级别：{level}\n"
            f"时段：{warning['starts_at']} 至 {warning['ends_at']}\n"
            f"企业：{enterprise['name']}（绩效分级：{enterprise['grade'] or '未评级'}）{exempt}\n"
            f"请按应急减排清单落实以下措施：\n{measures}\n"
        )
        return self._send_mail(message)

    def _send_mail(self, message: EmailMessage) -> str | None:
        if self.mail.host is None:
            return "no mail server configured (ENVWATCH_SMTP_HOST)"
        with smtplib.SMTP(self.mail.host, self.mail.port, timeout=self.timeout_s) as smtp:
            smtp.send_message(message)
        return None
