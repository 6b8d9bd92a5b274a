"""Declared maintenance windows and warning periods: every refusal names its
problem and stores nothing; the CLI adds and lists them (real processes, real
SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from envwatch.demo.seed import seed_demo
from envwatch.errors import PeerError, UsageError
from envwatch.hj212.codes import CHINA_STANDARD_TIME
from envwatch.processing.inputs import load_contexts
from envwatch.registry.maintenance import (
    EMERGENCY_LEVELS,
    MAX_MAINTENANCE_WINDOW,
    declare_emergency,
    declare_maintenance,
    declared_periods,
    list_emergencies,
    list_maintenance,
)
from envwatch.rules.engine import RuleEngine, default_rule_set
from envwatch.rules.model import PointContext, Upload, Values
from envwatch.store.schema import (
    AppUser,
    AuditEntry,
    County,
    EmergencyPeriod,
    MaintenanceWindow,
    MonitoringPoint,
)

START = datetime(2026, 12, 1, 8, 0)
END = datetime(2026, 12, 1, 12, 0)
MAINTENANCE_KEYS = {
    "id", "mn", "starts_at", "ends_at", "reason", "reported_by", "reported_at", "kind",
}  # fmt: skip
EMERGENCY_KEYS = {
    "id",
    "level",
    "starts_at",
    "ends_at",
    "county_code",
    "reference",
    "declared_by",
    "declared_at",
}


def envwatch(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "envwatch", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.fixture
def registry(engine: Engine) -> tuple[str, str, str]:
    """Two real MNs and a county code of the seeded demo city."""
    seed_demo(engine)
    with engine.connect() as connection:
        mns = connection.scalars(
            select(MonitoringPoint.mn).order_by(MonitoringPoint.mn).limit(2)
        ).all()
        county = connection.scalars(select(County.code).order_by(County.code)).first()
    assert len(mns) == 2 and county is not None
    return mns[0], mns[1], county


def count(engine: Engine, table: type[object]) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


@pytest.mark.parametrize(
    ("changes", "code", "words"),
    [
        ({"mn": "NO-SUCH-MN"}, "unknown_mn", ("MN 'NO-SUCH-MN'", "监测点")),
        ({"ends_at": START}, "bad_period", ("not after the start", "必须晚于开始时间")),
        ({"ends_at": START - timedelta(hours=1)}, "bad_period", ("not after", "必须晚于")),
        (
            {"ends_at": START + MAX_MAINTENANCE_WINDOW + timedelta(seconds=1)},
            "window_too_long",
            ("at most 30 days", "最长30天"),
        ),
        ({"reason": "  "}, "empty_reason", ("reason", "运维原因不能为空")),
        ({"reported_by": ""}, "empty_user", ("who declares it", "登记人不能为空")),
    ],
)
def test_maintenance_refusals_name_the_problem(
    engine: Engine,
    registry: tuple[str, str, str],
    changes: dict[str, Any],
    code: str,
    words: tuple[str, str],
) -> None:
    arguments: dict[str, Any] = {
        "mn": registry[0],
        "starts_at": START,
        "ends_at": END,
        "reason": "更换SO2分析仪探头",
        "reported_by": "运维公司张三",
    }
    with pytest.raises(PeerError) as caught, engine.begin() as connection:
        declare_maintenance(connection, **(arguments | changes))
    assert caught.value.code == code
    english, chinese = words
    assert english in caught.value.message_en
    assert chinese in caught.value.message_zh
    assert count(engine, MaintenanceWindow) == 0


@pytest.mark.parametrize(
    ("changes", "code", "words"),
    [
        ({"level": "purple"}, "unknown_level", ("'purple'", "预警级别")),
        ({"level": "Red"}, "unknown_level", ("blue, yellow, orange, red", "预警级别")),
        ({"county_code": "999999"}, "unknown_county", ("county with code '999999'", "区县代码")),
        ({"ends_at": START}, "bad_period", ("not after the start", "必须晚于开始时间")),
        ({"declared_by": " "}, "empty_user", ("who declares it", "登记人不能为空")),
        ({"reference": "文" * 201}, "reference_too_long", ("reference", "文号")),
    ],
)
def test_emergency_refusals_name_the_problem(
    engine: Engine,
    registry: tuple[str, str, str],
    changes: dict[str, Any],
    code: str,
    words: tuple[str, str],
) -> None:
    arguments: dict[str, Any] = {
        "level": "orange",
        "starts_at": START,
        "ends_at": END,
        "county_code": registry[2],
        "reference": "聊环委字〔2026〕12号",
        "declared_by": "市重污染天气应急指挥部",
    }
    with pytest.raises(PeerError) as caught, engine.begin() as connection:
        declare_emergency(connection, **(arguments | changes))
    assert caught.value.code == code
    english, chinese = words
    assert english in caught.value.message_en
    assert chinese in caught.value.message_zh
    assert count(engine, EmergencyPeriod) == 0


def test_aware_data_times_are_a_bug_of_the_caller(
    engine: Engine, registry: tuple[str, str, str]
) -> None:
    with pytest.raises(UsageError), engine.begin() as connection:
        declare_maintenance(
            connection,
            mn=registry[0],
            starts_at=START.replace(tzinfo=CHINA_STANDARD_TIME),
            ends_at=END.replace(tzinfo=CHINA_STANDARD_TIME),
            reason="校准",
            reported_by="张三",
        )


def test_declared_periods_are_listed(engine: Engine, registry: tuple[str, str, str]) -> None:
    first, second, county = registry
    longest = START + MAX_MAINTENANCE_WINDOW  # exactly the limit is allowed
    before = datetime.now(CHINA_STANDARD_TIME)
    with engine.begin() as connection:
        later = declare_maintenance(
            connection, mn=first, starts_at=END, ends_at=longest, reason="停产检修",
            reported_by="张三",
        )  # fmt: skip
        earlier = declare_maintenance(
            connection, mn=first, starts_at=START, ends_at=END, reason=" 校准 ",
            reported_by="张三",
        )  # fmt: skip
        other = declare_maintenance(
            connection, mn=second, starts_at=START, ends_at=END, reason="更换探头",
            reported_by="李四",
        )  # fmt: skip
        city = declare_emergency(
            connection, level="red", starts_at=START, ends_at=END, declared_by="指挥部"
        )
        local = declare_emergency(
            connection, level="blue", starts_at=END, ends_at=longest, county_code=county,
            reference="文号1", declared_by="指挥部",
        )  # fmt: skip
    with engine.connect() as connection:
        windows = list_maintenance(connection, mn=first)
        everything = list_maintenance(connection)
        periods = list_emergencies(connection)
    assert [window.id for window in windows] == [earlier, later]
    assert windows[0].reason == "校准"
    assert (windows[1].starts_at, windows[1].ends_at) == (END, longest)
    assert {window.id for window in everything} == {earlier, later, other}
    reported = windows[0].reported_at
    assert reported.utcoffset() == timedelta(hours=8)
    assert before - timedelta(seconds=5) <= reported <= datetime.now(CHINA_STANDARD_TIME)
    assert [(p.id, p.level, p.county_code) for p in periods] == [
        (city, "red", None),
        (local, "blue", county),
    ]
    assert periods[0].reference == ""
    assert periods[1].declared_at.utcoffset() == timedelta(hours=8)
    assert set(EMERGENCY_LEVELS) == {"blue", "yellow", "orange", "red"}


def test_cli_adds_and_lists_maintenance(
    database_url: str, engine: Engine, registry: tuple[str, str, str]
) -> None:
    first, second, _ = registry
    done = envwatch(
        "maintenance", "add", "--db", database_url, "--mn", first, "--from", "20261201080000",
        "--until", "2026-12-01T12:30:00+08:00", "--reason", "更换SO2分析仪探头", "--by", "admin",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    done = envwatch(
        "maintenance", "add", "--db", database_url, "--mn", second, "--from", "2026-12-02T08:00",
        "--until", "2026-12-02T09:00", "--reason", "校准", "--by", "supervisor",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    listed = envwatch("maintenance", "list", "--db", database_url, "--mn", first, "--json")
    assert listed.returncode == 0, listed.stderr
    lines = [json.loads(line) for line in listed.stdout.splitlines()]
    assert len(lines) == 1
    assert set(lines[0]) == MAINTENANCE_KEYS
    assert {key: value for key, value in lines[0].items() if key not in {"id", "reported_at"}} == {
        "mn": first,
        "starts_at": "2026-12-01T08:00:00+08:00",
        "ends_at": "2026-12-01T12:30:00+08:00",
        "reason": "更换SO2分析仪探头",
        "reported_by": "admin",
        "kind": "maintenance",
    }
    assert lines[0]["reported_at"].endswith("+08:00")
    listed = envwatch("maintenance", "list", "--db", database_url, "--json")
    assert listed.returncode == 0, listed.stderr
    assert [json.loads(line)["mn"] for line in listed.stdout.splitlines()] == [first, second]
    table = envwatch("maintenance", "list", "--db", database_url)
    assert table.returncode == 0, table.stderr
    assert "原因" in table.stdout and "校准" in table.stdout


def test_cli_refuses_with_a_message_and_an_exit_status(
    database_url: str, engine: Engine, registry: tuple[str, str, str]
) -> None:
    done = envwatch(
        "maintenance", "add", "--db", database_url, "--mn", "NO-SUCH-MN", "--from",
        "20261201080000", "--until", "20261201120000", "--reason", "校准", "--by", "admin",
    )  # fmt: skip
    assert done.returncode == 1
    assert "unknown_mn: 登记库中没有" in done.stderr and "no monitoring point" in done.stderr
    done = envwatch(
        "maintenance", "add", "--db", database_url, "--mn", registry[0], "--from", "yesterday",
        "--until", "20261201120000", "--reason", "校准", "--by", "admin",
    )  # fmt: skip
    assert done.returncode == 2
    assert "yesterday" in done.stderr
    done = envwatch(
        "emergency", "declare", "--db", database_url, "--level", "purple", "--from",
        "20261201080000", "--until", "20261201120000", "--by", "supervisor",
    )  # fmt: skip
    assert done.returncode == 1
    assert "unknown_level: 预警级别" in done.stderr
    assert count(engine, MaintenanceWindow) == count(engine, EmergencyPeriod) == 0


def test_cli_declares_and_lists_emergencies(
    database_url: str, engine: Engine, registry: tuple[str, str, str]
) -> None:
    county = registry[2]
    done = envwatch(
        "emergency", "declare", "--db", database_url, "--level", "orange", "--from",
        "20261201000000", "--until", "20261204000000", "--by", "supervisor",
        "--reference", "聊环委字〔2026〕12号",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    done = envwatch(
        "emergency", "declare", "--db", database_url, "--level", "yellow", "--from",
        "2026-12-05T00:00", "--until", "2026-12-06T00:00", "--county", county,
        "--by", f"county-{county}",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    listed = envwatch("emergency", "list", "--db", database_url, "--json")
    assert listed.returncode == 0, listed.stderr
    lines = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [set(line) for line in lines] == [EMERGENCY_KEYS, EMERGENCY_KEYS]
    city, local = lines
    assert (city["level"], city["county_code"], city["reference"]) == (
        "orange",
        None,
        "聊环委字〔2026〕12号",
    )
    assert (city["starts_at"], city["ends_at"]) == (
        "2026-12-01T00:00:00+08:00",
        "2026-12-04T00:00:00+08:00",
    )
    assert (local["level"], local["county_code"], local["declared_by"]) == (
        "yellow",
        county,
        f"county-{county}",
    )
    assert local["declared_at"].endswith("+08:00")
    table = envwatch("emergency", "list", "--db", database_url)
    assert table.returncode == 0, table.stderr
    assert "级别" in table.stdout and "全市" in table.stdout


def test_cli_declarations_need_a_user_whose_role_and_scope_allow_them(
    database_url: str, engine: Engine, registry: tuple[str, str, str]
) -> None:
    first, _, county = registry
    with engine.connect() as connection:
        other_county = (
            connection.execute(
                select(County.code).where(County.code != county).order_by(County.code)
            )
            .scalars()
            .first()
        )
        contractor = connection.execute(
            select(AppUser.contractor_id).where(AppUser.username == "contractor-1")
        ).scalar_one()
        run_by: dict[str, int | None] = {
            row.mn: row.contractor_id
            for row in connection.execute(select(MonitoringPoint.mn, MonitoringPoint.contractor_id))
        }
    theirs = next(mn for mn, runner in sorted(run_by.items()) if runner == contractor)
    foreign = next(mn for mn, runner in sorted(run_by.items()) if runner != contractor)
    window = ("--from", "20261201080000", "--until", "20261201120000", "--reason", "校准")
    refused = [
        ("maintenance", "add", "--mn", first, *window, "--by", "nobody"),
        ("maintenance", "add", "--mn", first, *window, "--by", "viewer"),
        # A contractor declares only for the devices its contractor runs.
        ("maintenance", "add", "--mn", foreign, *window, "--by", "contractor-1"),
        ("emergency", "declare", "--level", "red", *window[:4], "--by", "enterprise-1"),
        ("emergency", "declare", "--level", "red", *window[:4], "--by", f"county-{other_county}",
         "--county", county),
    ]  # fmt: skip
    for args in refused:
        done = envwatch(*args[:2], "--db", database_url, *args[2:])
        assert done.returncode == 1, args
        assert "unknown_user" in done.stderr or "not_allowed" in done.stderr, done.stderr
    assert count(engine, MaintenanceWindow) == count(engine, EmergencyPeriod) == 0
    allowed = envwatch("emergency", "declare", "--db", database_url, "--level", "red",
                       *window[:4], "--by", f"county-{county}", "--county", county)  # fmt: skip
    assert allowed.returncode == 0, allowed.stderr
    with engine.connect() as connection:
        (entry,) = connection.execute(
            select(AuditEntry).where(AuditEntry.action == "emergency.declare")
        ).all()
    assert (entry.actor, entry.role) == (f"county-{county}", "county_officer")
    assert entry.peer.startswith("cli:")
    by_contractor = envwatch("maintenance", "add", "--db", database_url, "--mn", theirs,
                             *window, "--by", "contractor-1")  # fmt: skip
    assert by_contractor.returncode == 0, by_contractor.stderr


def test_a_declared_daily_calibration_explains_its_marks(
    database_url: str, engine: Engine, registry: tuple[str, str, str]
) -> None:
    """Issue 20 item 6: a calibration declared once (or a learned one confirmed)
    reaches the rules, and a 25-minute span check inside it is no alarm."""
    mn = registry[0]
    refused = envwatch("maintenance", "calibration", "--db", database_url, "--mn", mn,
                       "--at", "02:00", "--minutes", "500", "--by", "admin")  # fmt: skip
    assert refused.returncode == 1 and "bad_minutes" in refused.stderr
    done = envwatch("maintenance", "calibration", "--db", database_url, "--mn", mn,
                    "--at", "02:00", "--minutes", "30", "--pollutant", "a21026",
                    "--by", "admin")  # fmt: skip
    assert done.returncode == 0, done.stderr
    shown = envwatch("maintenance", "calibrations", "--db", database_url, "--mn", mn)
    (listed,) = [json.loads(line) for line in shown.stdout.splitlines()]
    assert (listed["at"], listed["minutes"], listed["pollutant"]) == ("02:00", 30.0, "a21026")
    context = load_contexts(engine, datetime(2026, 12, 1, 12))[mn]
    (schedule,) = context.calibrations
    assert schedule.covers(datetime(2026, 12, 3, 2, 20), "a21026")
    with engine.connect() as connection:
        audited = connection.execute(
            select(AuditEntry.action).where(AuditEntry.entity == "calibration_schedule")
        ).scalars().all()  # fmt: skip
    assert audited == ["calibration.declare"]

    def span_check(context: PointContext) -> list[str]:
        engine_ = RuleEngine(default_rule_set(), {mn: context})
        found = []
        for minute in range(40):
            when = datetime(2026, 12, 3, 1, 55) + timedelta(minutes=minute)
            marked = 2 <= when.hour < 3 and when.minute < 25
            values = {"a21026": Values(rtd=80.0 if marked else 20.0 + minute % 3,
                                       flag="C" if marked else "N"),
                      "a19001": Values(rtd=6.0, flag="N"),
                      "a00000": Values(rtd=180.0, flag="N")}  # fmt: skip
            found += engine_.feed(Upload(mn, "2011", when, values))
        return sorted(f.rule for f in found if f.severity in ("warning", "alarm", "severe"))

    assert span_check(context) == []
    assert "flag_abuse" in span_check(replace(context, calibrations=()))


def test_windows_of_start_up_and_out_of_control_reach_the_rules_and_the_hours(
    database_url: str, engine: Engine, registry: tuple[str, str, str]
) -> None:
    """Issue 20 items 2 and 4: a declared start-up period is not judged against
    the limits; a declared out-of-control period makes its hours invalid with
    that cause (and substituted as such) in the hours the API and CLI give."""
    mn = registry[0]
    refused = envwatch("maintenance", "add", "--db", database_url, "--mn", mn, "--from",
                       "20261201080000", "--until", "20261201100000", "--reason", "点火",
                       "--by", "admin", "--kind", "lunch")  # fmt: skip
    assert refused.returncode == 1 and "unknown_kind" in refused.stderr
    for kind, start, end in (("startup_shutdown", "20261201060000", "20261201080000"),
                             ("out_of_control", "20261201100000", "20261201120000")):  # fmt: skip
        done = envwatch("maintenance", "add", "--db", database_url, "--mn", mn,
                        "--from", start, "--until", end, "--reason", kind, "--by", "admin",
                        "--kind", kind)  # fmt: skip
        assert done.returncode == 0, done.stderr
    context = load_contexts(engine, datetime(2026, 12, 1, 12))[mn]
    assert context.maintenance == () and len(context.startups) == 1
    limit = next(c for c, limits in context.limits.items() if limits[0].reference_o2)
    cap = context.limits[limit][0].value

    def hour(at: datetime) -> Upload:
        return Upload(mn, "2061", at, {limit: Values(avg=cap * 3, flag="N"),
                                       "a19001": Values(avg=6.0, flag="N")})  # fmt: skip

    rules_engine = RuleEngine(default_rule_set(), {mn: context})
    during, after = datetime(2026, 12, 1, 7), datetime(2026, 12, 1, 8)
    assert [f.rule for f in rules_engine.feed(hour(during)) if f.rule == "exceedance"] == []
    assert [f.rule for f in rules_engine.feed(hour(after)) if f.rule == "exceedance"] == [
        "exceedance"
    ]
    with engine.connect() as connection:
        windows = declared_periods(connection, "out_of_control", mn=mn)
    assert [(p.start, p.end) for p in windows[mn]] == [
        (datetime(2026, 12, 1, 10), datetime(2026, 12, 1, 12))
    ]
