"""The demo city's county judgement (run by ``envwatch demo``'s serve in the
background, see ``judgement/scheduler.py``): a year of weekly snapshots computed
from the seeded history (the listing rule applied week by week, listed
counties working through their listings as the weeks pass), interview
records for the latest listings, eco-compensation for the last quarters,
and the newest week's report kept for download. Seconds, not minutes: the
snapshots read a week of daily figures each."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import Engine, select

from envwatch.audit.log import Actor
from envwatch.errors import PeerError
from envwatch.hj212.codes import CHINA_STANDARD_TIME
from envwatch.judgement.core import Parameters, load_parameters
from envwatch.judgement.report import weekly_report
from envwatch.judgement.store import ListingDesk, compute_quarter, judge_week, record_interview
from envwatch.judgement.weeks import last_ended_week, parse_week, quarter_of, week_of
from envwatch.store.schema import AccountabilityInterview, CountyListing

WEEKS = 52
QUARTERS = 4
DEMO_PEER = "demo"


def seed_judgement(
    engine: Engine, end: datetime, parameters: Parameters | None = None
) -> dict[str, int]:
    """Snapshots of the ``WEEKS`` weeks ended by ``end`` (China Standard Time, naive)."""
    parameters = parameters or load_parameters()
    newest = last_ended_week(end.replace(tzinfo=CHINA_STANDARD_TIME))
    first = parse_week(newest) - timedelta(weeks=WEEKS - 1)
    desk = ListingDesk(engine)
    snapshots = 0
    for offset in range(WEEKS):
        week = week_of(first + timedelta(weeks=offset))
        monday = parse_week(week) + timedelta(days=7)
        at = datetime.combine(monday, time(1), CHINA_STANDARD_TIME).astimezone(UTC)
        judge_week(engine, week, parameters, now=at)
        snapshots += 1
        _work_listings(desk, at)
        desk.sweep(at)
    interviews = _interviews(engine, end)
    quarters = 0
    quarter_day = end.date()
    for _ in range(QUARTERS):
        quarter_day = quarter_day.replace(day=1) - timedelta(days=1)
        quarter_day = quarter_day.replace(month=(quarter_day.month - 1) // 3 * 3 + 1)
        compute_quarter(engine, quarter_of(quarter_day), parameters)
        quarters += 1
    weekly_report(engine, newest, parameters)
    return {"judgement_snapshot": snapshots, "accountability_interview": interviews,
            "eco_quarters": quarters}  # fmt: skip


def _work_listings(desk: ListingDesk, at: datetime) -> None:
    """Listed counties start rectifying the next week and ask to be lifted
    once the criteria hold; the city bureau lifts them."""
    with desk.engine.connect() as connection:
        active = connection.execute(
            select(CountyListing.id, CountyListing.county_code, CountyListing.state,
                   CountyListing.created_at)
            .where(CountyListing.state.in_(("listed", "rectifying", "escalated")))
        ).all()  # fmt: skip
    for listing in active:
        officer = f"county-{listing.county_code}"
        try:
            if listing.state in ("listed", "escalated"):
                desk.act(listing.id, "start", officer, peer=DEMO_PEER, now=at,
                         note="已制定整改方案并报市局")  # fmt: skip
            with desk.engine.connect() as connection:
                row = connection.execute(
                    select(CountyListing).where(CountyListing.id == listing.id)
                ).one()
                met, _ = desk.criteria(connection, row)
            if met:
                desk.act(listing.id, "request_lift", officer, peer=DEMO_PEER, now=at,
                         note="连续两周退出末位，申请摘牌")  # fmt: skip
                desk.act(listing.id, "lift", "supervisor", peer=DEMO_PEER, now=at)
        except PeerError:
            continue  # e.g. a zone without an officer


def _interviews(engine: Engine, end: datetime) -> int:
    """Interviews of the latest listings (once: a restarted demo adds none)."""
    with engine.connect() as connection:
        if connection.execute(select(AccountabilityInterview.id).limit(1)).first() is not None:
            return 0
        listings = connection.execute(
            select(CountyListing).order_by(CountyListing.id.desc()).limit(3)
        ).all()
    actor = Actor("supervisor", "city_supervisor", DEMO_PEER)
    count = 0
    for listing in listings:
        held = listing.created_at.astimezone(CHINA_STANDARD_TIME).date() + timedelta(days=3)
        held = min(held, end.date())
        record_interview(
            engine, actor, county=listing.county_code, held_on=held,
            interviewees="区县政府分管负责同志、生态环境分局主要负责同志",
            problems="；".join(r["zh"] for r in listing.reasons),
            commitments=[{"text": "两周内退出末位", "done": False,
                          "deadline": (held + timedelta(days=14)).isoformat()},
                         {"text": "逐项整改预警处置超时问题", "done": False,
                          "deadline": (held + timedelta(days=30)).isoformat()}],
            listing_id=listing.id, snapshot_id=listing.snapshot_id,
            follow_up="市局每周跟踪排名变化", outcome="pending",
            now=datetime.combine(held, time(10), CHINA_STANDARD_TIME),
        )  # fmt: skip
        count += 1
    return count
