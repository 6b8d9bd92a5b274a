"""The alert desk on real SQLite and PostgreSQL: findings become one alert per
episode routed to the device's county; people work it through the workflow
within their scope; missed deadlines escalate, also after a restart; every
change is in the audit chain, which shows an edited row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, delete, insert, select, text

from envwatch.alerts.desk import AlertDesk, AlertError
from envwatch.alerts.workflow import TransitionError
from envwatch.audit.log import verify
from envwatch.demo.seed import seed_demo
from envwatch.store.schema import (
    Alert,
    AlertEvent,
    AuditEntry,
    Enterprise,
    FindingRecord,
    MonitoringPoint,
    Notification,
    NotificationTarget,
)

DATA_T0 = datetime(2026, 11, 29, 10, 0)  # data time, China Standard Time
NOW = datetime(2026, 11, 29, 2, 0, 30, tzinfo=UTC)


def a_point(engine: Engine) -> tuple[str, str, int]:
    """A demo monitoring point: MN, its county and its enterprise."""
    with engine.connect() as connection:
        row = connection.execute(
            select(MonitoringPoint.mn, Enterprise.county_code, Enterprise.id)
            .join(Enterprise, MonitoringPoint.enterprise_id == Enterprise.id)
            .where(MonitoringPoint.mn.not_like("%E%"))
            .order_by(MonitoringPoint.mn)
        ).first()
    assert row is not None
    return row.mn, row.county_code, row.id


def store_finding(engine: Engine, mn: str, start: datetime, **fields: Any) -> int:
    values = {"mn": mn, "pollutant": "a21026", "rule": "exceedance", "rule_version": 1,
              "rule_set_version": "test", "window_start": start,
              "window_end": start + timedelta(hours=1), "severity": "alarm",
              "explanation": "二氧化硫小时均值超标", "evidence": {"frames": []},
              "found_at": NOW} | fields  # fmt: skip
    with engine.begin() as connection:
        return int(
            connection.execute(
                insert(FindingRecord).values(**values).returning(FindingRecord.id)
            ).scalar_one()
        )


def alerts(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.execute(select(Alert).order_by(Alert.id)).all())


@pytest.fixture
def seeded(engine: Engine) -> Engine:
    seed_demo(engine)
    return engine


def test_findings_become_one_alert_per_episode_routed_to_the_county(seeded: Engine) -> None:
    engine = seeded
    mn, county, enterprise = a_point(engine)
    desk = AlertDesk(engine)
    store_finding(engine, mn, DATA_T0)
    assert desk.run_once(NOW) == 1
    (alert,) = alerts(engine)
    assert (alert.mn, alert.county_code, alert.enterprise_id) == (mn, county, enterprise)
    assert (alert.state, alert.level, alert.finding_count) == ("dispatched", "alarm", 1)
    assert alert.acknowledge_by.replace(tzinfo=UTC) == NOW + timedelta(hours=1)
    # The same episode: counted, and one level up once it persists.
    store_finding(engine, mn, DATA_T0 + timedelta(hours=1))
    store_finding(engine, mn, DATA_T0 + timedelta(hours=2))
    assert desk.run_once(NOW) == 2
    (alert,) = alerts(engine)
    assert (alert.finding_count, alert.level) == (3, "severe")
    assert alert.acknowledge_by.replace(tzinfo=UTC) == NOW + timedelta(minutes=30)
    # After a quiet day a new episode; another rule is another alert.
    store_finding(engine, mn, DATA_T0 + timedelta(hours=30))
    store_finding(engine, mn, DATA_T0, rule="constant", severity="warning")
    desk.run_once(NOW)
    assert [(a.rule, a.finding_count) for a in alerts(engine)] == [
        ("exceedance", 3), ("exceedance", 1), ("constant", 1)]  # fmt: skip
    assert desk.run_once(NOW) == 0  # every finding read once
    with engine.connect() as connection:
        actions = connection.execute(select(AuditEntry.action).order_by(AuditEntry.seq)).scalars()
        assert list(actions)[:3] == ["alert.open", "alert.dispatch", "alert.upgrade"]
        assert verify(connection) is None


def add_users(engine: Engine, county: str, enterprise: int) -> None:
    from envwatch.audit.log import SYSTEM  # noqa: PLC0415
    from envwatch.auth.users import NewUser, add_user  # noqa: PLC0415

    with engine.connect() as connection:
        other_county = (
            connection.execute(
                text("SELECT code FROM county WHERE code != :c ORDER BY code"), {"c": county}
            )
            .scalars()
            .first()
        )
    assert other_county is not None
    with engine.begin() as connection:
        for user in (
            NewUser("officer", "区县人员", "county_officer", (county,)),
            NewUser("elsewhere", "他县人员", "county_officer", (other_county,)),
            NewUser("owner", "企业用户", "enterprise_user", enterprise_id=enterprise),
            NewUser("stranger", "他企用户", "enterprise_user", enterprise_id=enterprise + 1),
            NewUser("boss", "市局人员", "city_supervisor"),
        ):
            add_user(connection, user, SYSTEM)


def test_an_alert_worked_through_to_closing_within_each_users_scope(seeded: Engine) -> None:
    engine = seeded
    mn, county, enterprise = a_point(engine)
    # The demo seeds users too; these have names the test controls.
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM app_user"))
    add_users(engine, county, enterprise)
    desk = AlertDesk(engine)
    store_finding(engine, mn, DATA_T0)
    desk.run_once(NOW)
    (alert,) = alerts(engine)
    for outsider in ("elsewhere", "stranger"):
        with pytest.raises(AlertError) as refused:
            desk.act(alert.id, "acknowledge", outsider, peer="test")
        assert refused.value.code == "unknown_alert"
    with pytest.raises(AlertError, match="no active user"):
        desk.act(alert.id, "acknowledge", "nobody", peer="test")
    assert desk.act(alert.id, "explain", "owner", peer="test", note="除尘器检修",
                    attachments=["检修记录.pdf sha256:ab"]) == "dispatched"  # fmt: skip
    with pytest.raises(TransitionError) as wrong:
        desk.act(alert.id, "handle", "owner", peer="test", outcome="false_alarm")
    assert wrong.value.code == "action_not_allowed"
    steps = [("acknowledge", "officer", "acknowledged"), ("handle", "officer", "handled"),
             ("review", "boss", "reviewed"), ("close", "boss", "closed")]  # fmt: skip
    for action, user, state in steps:
        assert desk.act(alert.id, action, user, peer="10.0.0.9", outcome="onsite_check") == state
    (closed,) = alerts(engine)
    assert closed.outcome == "onsite_check" and closed.closed_at is not None
    # Nothing in a closed alert changes without a trace: only a reopening.
    with pytest.raises(TransitionError):
        desk.act(alert.id, "comment", "boss", peer="test", note="改一下")
    assert desk.act(alert.id, "reopen", "boss", peer="test", note="复查") == "dispatched"
    with engine.connect() as connection:
        events = connection.execute(
            select(AlertEvent.action, AlertEvent.actor, AlertEvent.to_state)
            .where(AlertEvent.alert_id == alert.id).order_by(AlertEvent.id)
        ).all()  # fmt: skip
        peers = (
            connection.execute(select(AuditEntry.peer).where(AuditEntry.action == "alert.close"))
            .scalars()
            .all()
        )
        assert verify(connection) is None
    assert [e.action for e in events] == ["dispatch", "explain", "acknowledge", "handle",
                                          "review", "close", "reopen"]  # fmt: skip
    assert events[1].actor == "owner" and peers == ["10.0.0.9"]


def test_a_missed_deadline_escalates_after_a_restart_too(seeded: Engine) -> None:
    engine = seeded
    mn, county, _ = a_point(engine)
    with engine.begin() as connection:
        connection.execute(insert(NotificationTarget), [
            {"county_code": county, "role": "county_officer", "channel": "webhook",
             "address": "http://127.0.0.1:9/officer", "active": True},
            {"county_code": county, "role": "county_head", "channel": "webhook",
             "address": "http://127.0.0.1:9/head", "active": True},
            {"county_code": None, "role": "city_bureau", "channel": "email",
             "address": "duty@sthjj.example", "active": True}])  # fmt: skip
    store_finding(engine, mn, DATA_T0)
    AlertDesk(engine).run_once(NOW)
    restarted = AlertDesk(engine)  # deadlines live in the store
    assert restarted.sweep(NOW + timedelta(minutes=59)) == 0
    assert restarted.sweep(NOW + timedelta(minutes=61)) == 1
    assert restarted.sweep(NOW + timedelta(minutes=62)) == 0  # once per step
    assert restarted.sweep(NOW + timedelta(hours=25)) == 1
    (alert,) = alerts(engine)
    assert alert.escalation == 2
    with engine.connect() as connection:
        queued = connection.execute(
            select(Notification.event, NotificationTarget.role)
            .join(NotificationTarget, Notification.target_id == NotificationTarget.id)
            .order_by(Notification.id)
        ).all()  # fmt: skip
        notes = (
            connection.execute(
                select(AlertEvent.note)
                .where(AlertEvent.action == "escalate")
                .order_by(AlertEvent.id)
            )
            .scalars()
            .all()
        )
    assert [tuple(q) for q in queued] == [("opened", "county_officer"),
                                          ("escalated", "county_head"),
                                          ("escalated", "city_bureau")]  # fmt: skip
    assert notes == ["逾期未响应，督办至区县分管负责人", "逾期未处置，督办至市生态环境局"]


def test_the_audit_chain_shows_an_edited_or_removed_entry(seeded: Engine) -> None:
    engine = seeded
    mn, _, _ = a_point(engine)
    store_finding(engine, mn, DATA_T0)
    store_finding(engine, mn, DATA_T0, rule="zero", severity="warning")
    AlertDesk(engine).run_once(NOW)
    with engine.begin() as connection:
        assert verify(connection) is None
        connection.execute(text("UPDATE audit_log SET after = '{}' WHERE seq = 2"))
        broken = verify(connection)
        assert broken is not None and (broken.seq, broken.reason) == (2, "its content was changed")
        connection.rollback()
    with engine.begin() as connection:
        last = connection.execute(select(AuditEntry.seq).order_by(AuditEntry.seq.desc())).first()
        assert last is not None
        connection.execute(delete(AuditEntry).where(AuditEntry.seq == last.seq))
        broken = verify(connection)
        assert broken is not None and "gone" in broken.reason
