"""The total-quantity ledger: exact arithmetic and the draws (pure), then a
county's ledger in the store (SQLite and PostgreSQL): the balance, the
refusal of an allocation above it with nothing recorded, cancellation, the
history with its running balance, the audit trail and an import with
row-level errors."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, func, insert, select

from envwatch.audit.log import Actor
from envwatch.ledger.importing import import_quota
from envwatch.ledger.quota import LedgerError, Source, grams_of, plan_draws, text_t
from envwatch.ledger.quota_store import (
    Allocation,
    Freed,
    balances,
    cancel,
    entries,
    record_allocation,
    record_freed,
)
from envwatch.store.schema import AuditEntry, County, Enterprise, QuotaEntry

ACTOR = Actor("supervisor", "city_supervisor", "test")
SO2 = "a21026"
COUNTY = "371502"


def test_tonnes_are_exact_grams() -> None:
    assert grams_of("10.5") == 10_500_000 and grams_of(0.1) == 100_000
    assert grams_of("0.000001") == 1
    for bad in ("0", "-1", "0.0000001", "abc", "nan"):
        with pytest.raises(LedgerError):
            grams_of(bad)
    assert text_t(4_750_000) == "4.75"


def test_draws_oldest_first_or_as_given_and_refused_above_the_balance() -> None:
    sources = [Source(1, 3_000_000), Source(2, 5_000_000)]
    assert plan_draws(4_000_000, sources) == {1: 3_000_000, 2: 1_000_000}
    assert plan_draws(2_000_000, sources, {2: 2_000_000}) == {2: 2_000_000}
    with pytest.raises(LedgerError) as refused:
        plan_draws(8_000_001, sources, where="东昌府区(371502)", pollutant="二氧化硫")
    assert refused.value.code == "quota_exceeded"
    assert "exceeds the balance of 8 t" in refused.value.message_en
    assert refused.value.message_zh == (
        "分配量8.000001吨超过东昌府区(371502)二氧化硫总量指标余额8吨，未登记"
    )
    with pytest.raises(LedgerError, match="source_exceeded"):
        plan_draws(4_000_000, sources, {1: 4_000_000})
    with pytest.raises(LedgerError, match="sources_mismatch"):
        plan_draws(4_000_000, sources, {1: 1_000_000})


@given(st.lists(st.integers(0, 10**9), max_size=6), st.integers(1, 10**10))
def test_a_plan_never_takes_more_than_asked_or_held(held: list[int], wanted: int) -> None:
    sources = [Source(i + 1, grams) for i, grams in enumerate(held)]
    try:
        draws = plan_draws(wanted, sources)
    except LedgerError:
        assert wanted > sum(held)
        return
    assert sum(draws.values()) == wanted
    assert all(0 < draws[s.id] <= s.remaining for s in sources if s.id in draws)


def _county(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(
            insert(County),
            [{"code": COUNTY, "name_zh": "东昌府区"}, {"code": "371503", "name_zh": "茌平区"}],
        )
        connection.execute(
            insert(Enterprise),
            [
                {
                    "id": 1,
                    "name": "甲厂",
                    "credit_code": "913715000000000001",
                    "county_code": COUNTY,
                },
                {
                    "id": 2,
                    "name": "乙厂",
                    "credit_code": "913715000000000002",
                    "county_code": "371503",
                },
            ],
        )


def test_a_county_ledger_balances_and_refuses_too_much(engine: Engine) -> None:
    _county(engine)
    with engine.begin() as c:
        closure = record_freed(
            c,
            Freed(COUNTY, SO2, grams_of("10.5"), "closure", date(2025, 3, 1), "聊环〔2025〕1号", 1),
            ACTOR,
        )
        upgrade = record_freed(
            c,
            Freed(COUNTY, SO2, grams_of("2.25"), "upgrade", date(2025, 6, 1), "聊环〔2025〕2号", 1),
            ACTOR,
        )
        allocation = record_allocation(
            c,
            Allocation(
                COUNTY, SO2, grams_of("12"), date(2026, 1, 10), "聊环审〔2026〕3号", "新材料项目"
            ),
            ACTOR,
        )
    with engine.connect() as c:
        (row,) = balances(c, [COUNTY])
    assert (row["freed_t"], row["allocated_t"], row["balance_t"]) == (12.75, 12.0, 0.75)
    with engine.begin() as c, pytest.raises(LedgerError) as refused:
        record_allocation(
            c,
            Allocation(
                COUNTY, SO2, grams_of("0.750001"), date(2026, 2, 1), "聊环审〔2026〕4号", "扩建项目"
            ),
            ACTOR,
        )
    assert refused.value.code == "quota_exceeded"
    assert "余额0.75吨" in refused.value.message_zh
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(QuotaEntry)).scalar_one() == 3
        history = entries(c, QuotaEntry.county_code == COUNTY)
    assert [(e["id"], e["balance_after_t"]) for e in history] == [
        (closure, 10.5),
        (upgrade, 12.75),
        (allocation, 0.75),
    ]
    assert history[2]["draws"] == [
        {"source": closure, "tonnes": 10.5},
        {"source": upgrade, "tonnes": 1.5},
    ]
    # A freed entry drawn on cannot be cancelled; the allocation can, then it can.
    with engine.begin() as c, pytest.raises(LedgerError, match="quota_entry_drawn"):
        cancel(c, closure, "录入错误", date(2026, 2, 2), ACTOR)
    with engine.begin() as c:
        cancel(c, allocation, "项目取消", date(2026, 2, 2), ACTOR)
        cancel(c, closure, "录入错误", date(2026, 2, 2), ACTOR)
    with engine.connect() as c:
        (row,) = balances(c, [COUNTY])
        actions = (
            c.execute(
                select(AuditEntry.action)
                .where(AuditEntry.entity == "quota_entry")
                .order_by(AuditEntry.seq)
            )
            .scalars()
            .all()
        )
    assert row["balance_t"] == 2.25
    assert actions == [
        "quota.freed",
        "quota.freed",
        "quota.allocated",
        "quota.cancel",
        "quota.cancel",
    ]
    # Freed capacity names an enterprise of its county.
    with engine.begin() as c, pytest.raises(LedgerError, match="enterprise_elsewhere"):
        record_freed(c, Freed(COUNTY, SO2, 1, "closure", date(2025, 1, 1), "x号", 2), ACTOR)


def test_an_import_is_all_or_nothing_with_row_errors(engine: Engine) -> None:
    _county(engine)
    header = "区县代码,污染物编码,类型,吨数,日期,文号,统一社会信用代码,项目名称,来源条目\n"
    good = (
        header + f"{COUNTY},{SO2},关停,5,2025-03-01,甲号,913715000000000001,,\n"
        f"{COUNTY},{SO2},腾笼换鸟,3,2026-01-01,乙号,,新项目,#2:3\n"
    )
    bad = (
        header + f"{COUNTY},{SO2},关停,5,2025-03-01,甲号,913715000000000001,,\n"
        f"{COUNTY},{SO2},腾笼换鸟,6,2026-01-01,乙号,,新项目,\n"
        f"{COUNTY},{SO2},拆除,1,2026-01-01,丙号,,,\n"
    )
    errors = import_quota(engine, "ledger.csv", bad.encode(), ACTOR)[1]
    assert [e.row for e in errors] == [4]  # the cause is checked first, per row
    imported, errors = import_quota(
        engine,
        "ledger.csv",
        bad.encode()
        .replace("拆除".encode(), "关停".encode())
        .replace(b",,,\n", b",913715000000000001,,\n"),
        ACTOR,
    )
    assert imported == 0 and [
        (e.row, "quota_exceeded" in e.reason or "超过" in e.reason) for e in errors
    ] == [(3, True)]
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(QuotaEntry)).scalar_one() == 0
    assert import_quota(engine, "ledger.csv", good.encode(), ACTOR) == (2, [])
    with engine.connect() as c:
        (row,) = balances(c, None)
    assert row["balance_t"] == 2.0
