"""Simulated faults over real TCP, through the gateway and the store, to
findings: each fault yields its finding within 2 s of the frame that completes
its evidence; clean devices yield none over a simulated day. Then the CLI
contract, and replay finding the same. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, func, select

from envwatch.demo.profiles import Fault, FaultKind
from envwatch.demo.seed import seed_demo
from envwatch.demo.simulator import SimPoint, load_points, simulate
from envwatch.gateway.committer import GroupCommitter
from envwatch.gateway.server import Gateway, load_devices
from envwatch.processing.worker import Processor, follow_archive, replay
from envwatch.rules.catalogue import PARAM_MODELS
from envwatch.rules.parameters import DEFAULT_RULES_FILE, load_rule_set
from envwatch.settings import Settings
from envwatch.store.archive import Archive
from envwatch.store.schema import ArchivedFrame, FindingRecord

NOON = datetime(2026, 11, 29, 12, 0)
# The rule each simulated fault must trigger.
EXPECTED = {
    FaultKind.EXCEEDANCE: "exceedance",
    FaultKind.CONSTANT: "constant",
    FaultKind.ZEROS: "zero",
    FaultKind.PINNED: "pinned",
    FaultKind.O2_DILUTION: "o2_dilution",
    FaultKind.FLAG_ABUSE: "flag_abuse",
    FaultKind.OFFLINE: "offline",
    FaultKind.UNDECLARED_MARKS: "undeclared_maintenance",
    FaultKind.PARAMETER_CHANGE: "parameter_change",
    FaultKind.TREATMENT_OFF: "treatment_off",
}


def pick(points: list[SimPoint]) -> tuple[list[SimPoint], dict[str, Fault], list[str]]:
    """Thermal-power loggers (flue gas with O2 and limits) for the logger faults,
    a textile mill's meters for treatment-off, and clean devices beside them."""
    power = [p for p in points if p.meter is None and "a19001" in p.factors and p.limits
             and p.edition.value != "2005"]  # fmt: skip
    faults = {}
    chosen = []
    for point, kind in zip(power, [k for k in EXPECTED if k is not FaultKind.TREATMENT_OFF],
                           strict=False):  # fmt: skip
        faults[point.mn] = Fault(kind, NOON)
        chosen.append(point)
    clean = power[len(chosen) : len(chosen) + 3]
    meters = [p for p in points if p.meter is not None and p.meter.shift == (8, 20)]
    enterprise = meters[0].mn[6:16]
    mill = [p for p in meters if p.mn[6:16] == enterprise]
    treatment = next(p for p in mill if p.meter and p.meter.kind == "treatment")
    faults[treatment.mn] = Fault(FaultKind.TREATMENT_OFF, NOON)
    clean_mns = [p.mn for p in clean] + [p.mn for p in mill if p is not treatment]
    return [*chosen, *clean, *mill], faults, clean_mns


def sending(points: list[SimPoint], faults: dict[str, Fault]) -> list[str]:
    """The devices that keep sending (not those simulating an outage)."""
    return [p.mn for p in points if faults.get(p.mn, Fault(FaultKind.CONSTANT, NOON)).kind
            is not FaultKind.OFFLINE]  # fmt: skip


async def stop_when_simulated(
    engine: Engine, mns: list[str], until: datetime, stop: asyncio.Event, limit_s: float = 90.0
) -> None:
    """Set ``stop`` once every device's stored data reaches ``until`` (simulated
    time, so a slow machine simulates as much as a fast one), or after ``limit_s``."""

    def reached() -> bool:
        with engine.connect() as connection:
            newest = (
                connection.execute(
                    select(func.max(ArchivedFrame.data_time))
                    .where(ArchivedFrame.mn.in_(mns))
                    .group_by(ArchivedFrame.mn)
                )
                .scalars()
                .all()
            )
        times = [t for t in newest if t is not None]
        return len(times) == len(mns) and min(times) >= until

    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    while loop.time() < deadline and not await asyncio.to_thread(reached):
        await asyncio.sleep(0.2)
    stop.set()


def test_simulated_faults_become_findings(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    seed_demo(engine)
    points, faults, clean = pick(load_points(engine))
    # Short windows, so a simulated day passes in seconds; a logger the loaded
    # machine holds back for half a second is 30 simulated minutes late, so
    # offline waits for 2 hours.
    text = (
        DEFAULT_RULES_FILE.read_text(encoding="utf-8")
        .replace("min_hours = 24", "min_hours = 3")
        .replace("after_minutes = 30.0", "after_minutes = 120.0")
    )
    assert "min_hours = 3" in text and "after_minutes = 120.0" in text
    rules_file = tmp_path / "rules.toml"
    rules_file.write_text(text, encoding="utf-8")
    rule_set = load_rule_set(PARAM_MODELS, rules_file)

    async def scenario() -> None:
        committer = GroupCommitter(Archive(engine).write_batch)
        committer.start()
        gateway = Gateway(Settings(database_url="unused"), committer, load_devices(engine))
        await gateway.start("127.0.0.1", 0)
        stop = asyncio.Event()
        processor = Processor.create(engine, rule_set, simulated=True)
        processing = asyncio.create_task(follow_archive(processor, stop, interval_s=0.1))
        asyncio.get_running_loop().call_later(12.0, stop.set)
        await simulate(points, "127.0.0.1", gateway.port, scale=3600.0, stop=stop,
                       faults=faults, start=NOON - timedelta(minutes=1))  # fmt: skip
        await gateway.stop()
        await committer.close()
        await processing
        await asyncio.to_thread(processor.run_once)

    asyncio.run(asyncio.wait_for(scenario(), 120))
    with engine.connect() as connection:
        findings = connection.execute(select(FindingRecord)).all()
        received = dict(
            connection.execute(select(ArchivedFrame.id, ArchivedFrame.received_at)).all()
        )
    by_mn: dict[str, set[str]] = {}
    for finding in findings:
        by_mn.setdefault(finding.mn, set()).add(finding.rule)
    for mn, fault in faults.items():
        assert EXPECTED[fault.kind] in by_mn.get(mn, set()), (fault.kind, by_mn.get(mn))
    for mn in clean:
        assert mn not in by_mn, (mn, by_mn[mn])
    # Within 2 s of the frame that completed the evidence (the offline rule
    # has no such frame: silence completes it).
    for finding in findings:
        frames = [f for f in finding.evidence["frames"] if f is not None]
        if finding.rule == "offline" or not frames:
            continue
        last = received[max(frames)]
        found_at = finding.found_at
        if last.tzinfo is None:
            last = last.replace(tzinfo=found_at.tzinfo)
        if found_at.tzinfo is None:
            found_at = found_at.replace(tzinfo=last.tzinfo)
        assert found_at - last <= timedelta(seconds=2), finding.rule

    listed = subprocess.run(
        [sys.executable, "-m", "envwatch", "findings", "list", "--db", database_url, "--json"],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    lines = [json.loads(line) for line in listed.stdout.splitlines()]
    assert len(lines) == len(findings)
    assert set(lines[0]) == {"id", "mn", "pollutant", "rule", "rule_version", "window_start",
                             "window_end", "severity", "explanation", "evidence"}  # fmt: skip
    assert lines[0]["window_start"].endswith("+08:00")


def test_replay_finds_what_streaming_found(engine: Engine, tmp_path: Path) -> None:
    seed_demo(engine)
    points, faults, _ = pick(load_points(engine))

    async def scenario() -> None:
        committer = GroupCommitter(Archive(engine).write_batch)
        committer.start()
        gateway = Gateway(Settings(database_url="unused"), committer, load_devices(engine))
        await gateway.start("127.0.0.1", 0)
        stop = asyncio.Event()
        watching = asyncio.create_task(
            stop_when_simulated(engine, sending(points, faults), NOON + timedelta(hours=3), stop)
        )
        await simulate(points, "127.0.0.1", gateway.port, scale=3600.0, stop=stop,
                       faults=faults, start=NOON - timedelta(minutes=1))  # fmt: skip
        await watching
        await gateway.stop()
        await committer.close()

    asyncio.run(asyncio.wait_for(scenario(), 120))
    processor = Processor.create(engine, simulated=True)
    while processor.run_once():
        pass

    def stored() -> set[tuple[str, str, str, datetime]]:
        with engine.connect() as connection:
            rows = connection.execute(
                select(FindingRecord.rule, FindingRecord.mn, FindingRecord.pollutant,
                       FindingRecord.window_start)
            ).all()  # fmt: skip
        return {(r.rule, r.mn, r.pollutant, r.window_start) for r in rows}

    streamed = stored()
    assert {rule for rule, *_ in streamed} >= {"constant", "zero", "o2_dilution", "exceedance"}
    replay(engine, NOON - timedelta(days=1), NOON + timedelta(days=2), trust_arrival=False)
    assert stored() == streamed
