"""The positive lists as a register: criteria as versioned data, an
enterprise's spells on a list (removed and re-admitted keeps both), the
former flag read from the register (set through the registry too), and the
migration that turned the flags into entries."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, insert, select, text

from envwatch.audit.log import Actor
from envwatch.errors import ConfigError
from envwatch.ledger.importing import import_positive
from envwatch.ledger.positive import (
    Admission,
    PositiveListError,
    admit,
    criteria_problems,
    default_criteria,
    follow_flag,
    load_criteria,
    remove,
)
from envwatch.store.db import alembic_config, make_engine
from envwatch.store.schema import AuditEntry, County, Enterprise, PositiveListEntry

ACTOR = Actor("supervisor", "city_supervisor", "test")


def test_criteria_are_versioned_and_checked(tmp_path: Path) -> None:
    criteria = default_criteria()
    assert criteria.current == "2020-1"
    assert criteria_problems("enforcement", ["livelihood", "no_violation_24m"], criteria) == []
    problems = criteria_problems("enforcement", ["livelihood", "made_up"], criteria)
    assert [p[0] for p in problems] == [
        "unknown criterion 'made_up' of the Enforcement positive list",
        "the Enforcement positive list needs at least 2 criteria met",
    ]  # both sets wrong at once, in both languages
    assert problems[1][1] == "监督执法正面清单至少须满足2项标准"
    broken = tmp_path / "criteria.toml"
    broken.write_text('current = "9"\n[[version]]\nid = "1"\n', "utf-8")
    with pytest.raises(ConfigError):
        load_criteria(broken)


def _enterprise(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(insert(County), [{"code": "371502", "name_zh": "东昌府区"}])
        connection.execute(
            insert(Enterprise),
            [
                {
                    "id": 1,
                    "name": "甲厂",
                    "credit_code": "913715000000000001",
                    "county_code": "371502",
                },
            ],
        )


def _flag(engine: Engine) -> bool:
    with engine.connect() as connection:
        return bool(
            connection.execute(
                select(Enterprise.positive_list).where(Enterprise.id == 1)
            ).scalar_one()
        )


def test_removed_and_readmitted_keeps_both_spells_and_the_flag_follows(engine: Engine) -> None:
    _enterprise(engine)
    first = Admission(
        1,
        "enforcement",
        ("livelihood", "no_violation_24m"),
        "民生保障",
        date(2024, 3, 1),
        "局务会2024-3",
    )
    assert not _flag(engine)
    with engine.begin() as c:
        admit(c, first, ACTOR)
        admit(
            c,
            Admission(1, "eia", ("commitment_approval",), "告知承诺", date(2024, 5, 1), "审批科"),
            ACTOR,
        )
    assert _flag(engine)
    with engine.begin() as c, pytest.raises(PositiveListError, match="already_listed"):
        admit(c, first, ACTOR)
    with engine.begin() as c:
        remove(
            c,
            1,
            "enforcement",
            on=date(2025, 2, 1),
            reason="超标被处罚",
            decided_by="局务会2025-2",
            actor=ACTOR,
        )
    assert not _flag(engine)
    with engine.begin() as c:
        admit(
            c,
            Admission(
                1,
                "enforcement",
                ("livelihood", "online_monitoring"),
                "整改完成",
                date(2025, 10, 1),
                "局务会2025-10",
            ),
            ACTOR,
        )
    assert _flag(engine)
    with engine.connect() as c:
        spells = c.execute(
            select(
                PositiveListEntry.added_on,
                PositiveListEntry.removed_on,
                PositiveListEntry.removal_reason,
            )
            .where(PositiveListEntry.kind == "enforcement")
            .order_by(PositiveListEntry.id)
        ).all()
        actions = c.execute(select(AuditEntry.action).order_by(AuditEntry.seq)).scalars().all()
    assert [tuple(s) for s in spells] == [
        (date(2024, 3, 1), date(2025, 2, 1), "超标被处罚"),
        (date(2025, 10, 1), None, ""),
    ]
    assert actions == [
        "positive_list.admit",
        "positive_list.admit",
        "positive_list.remove",
        "positive_list.admit",
    ]
    # The registry's flag unset closes the open entry; set again, it opens a new one.
    with engine.begin() as c:
        follow_flag(c, 1, False, date(2026, 1, 5), ACTOR)
    assert not _flag(engine)
    with engine.begin() as c:
        follow_flag(c, 1, True, date(2026, 2, 5), ACTOR)
        follow_flag(c, 1, True, date(2026, 2, 6), ACTOR)  # already so: nothing
    with engine.connect() as c:
        count = c.execute(
            select(PositiveListEntry.id).where(PositiveListEntry.kind == "enforcement")
        ).all()
    assert len(count) == 3 and _flag(engine)  # 2024, 2025 (closed by the flag), 2026


def test_an_import_admits_and_removes_with_row_errors(engine: Engine) -> None:
    _enterprise(engine)
    header = "统一社会信用代码,清单类别,入选标准,入选理由,纳入日期,决定单位,移出日期,移出理由\n"
    good = (
        header
        + "913715000000000001,监督执法,民生保障类企业（供水、污水垃圾处理、医疗、防疫物资等）;"
        "online_monitoring,民生,2025-01-01,局务会,,\n"
    )
    bad = (
        good
        + "913715000000000009,环评审批,major_project,重点,2025-01-01,局务会,,\n"
        + "913715000000000001,环评审批,unknown,重点,2025-01-01,局务会,,\n"
    )
    imported, errors = import_positive(engine, "lists.csv", bad.encode(), ACTOR)
    assert imported == 0 and [e.row for e in errors] == [3, 4]
    assert not _flag(engine)
    assert import_positive(engine, "lists.csv", good.encode(), ACTOR) == (1, [])
    assert _flag(engine)
    removal = header + "913715000000000001,enforcement,,,,局务会,2025-06-01,违法\n"
    assert import_positive(engine, "lists.csv", removal.encode(), ACTOR) == (1, [])
    assert not _flag(engine)


def test_the_migration_turns_flags_into_entries(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/flags.db"
    config = alembic_config(url)
    command.upgrade(config, "0032")
    engine = make_engine(url)
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO county (code, name_zh, name_en, kind) "
                "VALUES ('371502', '东昌府区', '', 'county')"
            )
        )
        for eid, flagged in ((1, True), (2, False)):
            c.execute(
                text(
                    "INSERT INTO enterprise (id, name, credit_code, county_code, "
                    "industry_code, key_categories, positive_list, performance_grade, "
                    "emergency_exempt, work_shifts) VALUES (:id, :n, :cc, '371502', '', "
                    "'', :p, '', false, '')"
                ),
                {"id": eid, "n": f"厂{eid}", "cc": f"91371500000000000{eid}", "p": flagged},
            )
        # Rows referring to the enterprise: the column goes without rebuilding its table.
        c.execute(
            text(
                "INSERT INTO outlet (id, enterprise_id, code, name, kind) "
                "VALUES (1, 1, 'DA001', '1号排气筒', 'air')"
            )
        )
    command.upgrade(config, "head")
    with engine.connect() as c:
        listed = dict(c.execute(select(Enterprise.id, Enterprise.positive_list)).all())
        (entry,) = c.execute(select(PositiveListEntry)).all()
    assert listed == {1: True, 2: False}
    assert (entry.enterprise_id, entry.kind, entry.criteria_version) == (
        1,
        "enforcement",
        "migrated",
    )
    command.downgrade(config, "0032")
    with engine.connect() as c:
        flags: dict[int, int] = dict(
            c.execute(text("SELECT id, positive_list FROM enterprise")).all()
        )
    assert flags == {1: 1, 2: 0}
    engine.dispose()
