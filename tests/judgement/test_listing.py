"""挂牌督办: a county last two weeks running is listed once, its head is
notified through the outbox, and it is lifted only once the criteria hold;
every step is an event and an audit entry."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select

from envwatch.alerts.workflow import TransitionError
from envwatch.judgement.core import load_parameters
from envwatch.judgement.store import JudgementError, ListingDesk
from envwatch.judgement.weeks import parse_week
from envwatch.store.db import make_engine
from envwatch.store.schema import (
    AuditEntry,
    CountyListing,
    JudgementSnapshot,
    ListingEvent,
    Notification,
)
from tests.rectification.helpers import DONGCHANGFU, GUANXIAN, registry

NOW = datetime(2026, 11, 2, tzinfo=UTC)


def result(week: str, last: str, low: float = 40.0) -> dict[str, Any]:
    """A week where ``last`` ranks last with ``low``, the other scores 80."""
    other = GUANXIAN if last == DONGCHANGFU else DONGCHANGFU
    return {"week": week, "parameters_version": load_parameters().version, "counties": [
        {"county": other, "name": other, "score": 80.0, "rank": 1, "rank_change": None,
         "indicators": {}},
        {"county": last, "name": last, "score": low, "rank": 2, "rank_change": None,
         "indicators": {}},
    ]}  # fmt: skip


def store(engine: Engine, week: str, body: dict[str, Any]) -> None:
    parameters = load_parameters()
    with engine.begin() as connection:
        connection.execute(insert(JudgementSnapshot).values(
            week=week, first_day=parse_week(week), parameters_version=parameters.version,
            parameters=dict(parameters.content), inputs={}, result=body, computed_at=NOW,
            computed_by="test"))  # fmt: skip


@pytest.fixture
def desk(sqlite_url: str) -> Iterator[ListingDesk]:
    engine = make_engine(sqlite_url)
    registry(engine)  # with a county_head target for 东昌府区
    yield ListingDesk(engine)
    engine.dispose()


def apply(desk: ListingDesk, week: str, body: dict[str, Any], at: datetime) -> list[int]:
    store(desk.engine, week, body)
    with desk.engine.begin() as connection:
        return desk.apply_rule(connection, week, load_parameters(), now=at)


def test_last_twice_listed_once_notified_and_lifted_on_criteria(desk: ListingDesk) -> None:
    engine = desk.engine
    # Above the floor (no floor reason): only the two weeks running list it.
    assert apply(desk, "2026-W40", result("2026-W40", DONGCHANGFU, 55.0), NOW) == []
    listed = apply(desk, "2026-W41", result("2026-W41", DONGCHANGFU, 55.0), NOW)
    assert len(listed) == 1
    assert apply(desk, "2026-W42", result("2026-W42", DONGCHANGFU, 55.0), NOW) == []
    with engine.connect() as connection:
        listings = connection.execute(select(CountyListing)).all()
        notices = connection.execute(select(Notification)).all()
    assert [(x.county_code, x.state) for x in listings] == [(DONGCHANGFU, "listed")]
    assert listings[0].reasons[0]["code"] == "bottom_running"
    assert listings[0].required_actions and listings[0].deadline > NOW.date()
    assert [(n.listing_id, n.event) for n in notices] == [(listed[0], "listed")]
    assert notices[0].payload["listing"]["county"] == DONGCHANGFU

    listing = listed[0]
    with pytest.raises(TransitionError):  # a county officer may not lift
        desk.act(listing, "lift", "county-dcf", peer="test")
    with pytest.raises(JudgementError):  # another county's officer does not see it
        desk.act(listing, "start", "county-gx", peer="test")
    assert desk.act(listing, "start", "county-dcf", peer="test") == "rectifying"
    assert desk.act(listing, "request_lift", "county-dcf", peer="test") == "lift_requested"
    with pytest.raises(JudgementError) as refused:  # still last in W42
        desk.act(listing, "lift", "supervisor", peer="test")
    assert refused.value.code == "criteria_not_met"
    assert desk.act(listing, "reject_lift", "supervisor", peer="test") == "rectifying"
    later = NOW + timedelta(days=21)
    apply(desk, "2026-W43", result("2026-W43", GUANXIAN, 55.0), later)
    apply(desk, "2026-W44", result("2026-W44", GUANXIAN, 55.0), later)
    desk.act(listing, "request_lift", "county-dcf", peer="test")
    assert desk.act(listing, "lift", "supervisor", peer="test", now=later) == "lifted"
    with engine.connect() as connection:
        events = connection.execute(
            select(ListingEvent.action).where(ListingEvent.listing_id == listing)
            .order_by(ListingEvent.id)).scalars().all()  # fmt: skip
        audited = connection.execute(
            select(AuditEntry.action).where(AuditEntry.entity == "county_listing",
                                            AuditEntry.entity_id == str(listing))
        ).scalars().all()  # fmt: skip
        lifted = connection.execute(select(CountyListing).where(CountyListing.id == listing)).one()
    assert events == ["list", "start", "request_lift", "reject_lift", "request_lift", "lift"]
    assert audited == ["listing.list", "listing.start", "listing.request_lift",
                       "listing.reject_lift", "listing.request_lift", "listing.lift"]  # fmt: skip
    assert lifted.lifted_at is not None
    with engine.connect() as connection:  # 冠县 was last in W43 and W44: listed in its turn
        counties = connection.execute(select(CountyListing.county_code)).scalars().all()
    assert counties == [DONGCHANGFU, GUANXIAN]


def test_a_score_below_the_floor_lists_at_once_and_a_missed_deadline_escalates(
    desk: ListingDesk,
) -> None:
    listed = apply(desk, "2026-W40", result("2026-W40", GUANXIAN, 30.0), NOW)
    assert len(listed) == 1
    with desk.engine.connect() as connection:
        row = connection.execute(select(CountyListing)).one()
    assert row.reasons[0]["code"] == "below_floor"
    assert desk.sweep(NOW + timedelta(days=5)) == 0
    assert desk.sweep(NOW + timedelta(days=40)) == 1
    with desk.engine.connect() as connection:
        assert connection.execute(select(CountyListing.state)).scalar_one() == "escalated"


def test_interviews_are_recorded_by_the_city_and_linked_to_a_listing(desk: ListingDesk) -> None:
    from datetime import date  # noqa: PLC0415

    from envwatch.audit.log import Actor  # noqa: PLC0415
    from envwatch.judgement.store import interviews, record_interview  # noqa: PLC0415
    from envwatch.store.schema import AppUser  # noqa: PLC0415

    listed = apply(desk, "2026-W40", result("2026-W40", GUANXIAN, 30.0), NOW)
    with pytest.raises(JudgementError):
        record_interview(desk.engine, Actor("county-gx", "county_officer", "test"),
                         county=GUANXIAN, held_on=date(2026, 11, 5), interviewees="x",
                         problems="y", commitments=[])  # fmt: skip
    record_interview(desk.engine, Actor("supervisor", "city_supervisor", "test"),
                     county=GUANXIAN, held_on=date(2026, 11, 5), interviewees="县长",
                     problems="排名末位", listing_id=listed[0],
                     commitments=[{"text": "两周内退出末位",
                                   "deadline": "2026-11-19"}])  # fmt: skip
    with desk.engine.connect() as connection:
        officer = connection.execute(
            select(AppUser).where(AppUser.username == "county-dcf")).one()  # fmt: skip
        from envwatch.alerts.scope import viewer_of  # noqa: PLC0415

        seen_by_other = interviews(connection, viewer_of(officer))
        supervisor = connection.execute(
            select(AppUser).where(AppUser.username == "supervisor")).one()  # fmt: skip
        seen = interviews(connection, viewer_of(supervisor))
        audited = connection.execute(
            select(AuditEntry.action).where(AuditEntry.entity == "accountability_interview")
        ).scalars().all()  # fmt: skip
    assert seen_by_other == []  # another county's officer
    assert [(i["county"], i["listing_id"]) for i in seen] == [(GUANXIAN, listed[0])]
    assert seen[0]["commitments"][0]["deadline"] == "2026-11-19"
    assert audited == ["interview.record"]
