"""Rules benchmark: detection and throughput on a labelled synthetic fleet,
ours beside SaQC's.

The fleet (``rules_fleet.py``): N devices × M minutes of one pollutant, most
with one fault at a known place (constant run, zeros, negatives, a gap, a
spike). envwatch's engine streams the minutes as they would arrive, all
devices interleaved; per pattern it prints recall (devices whose fault was
found by the matching rule) and precision (findings of that rule that lie on
such a fault), and the points checked per second. Replay: the same rules over
a stored subset, read back from SQLite. SaQC (saqc from PyPI, in its own venv
``.venv-saqc``, made on first use from ``requirements-saqc.txt``; or the
Python in ENVWATCH_SAQC_PYTHON) runs its tests for the same patterns on the
same fleet.

Prints one JSON object. ``--quick`` for a short smoke run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

sys.path.insert(0, str(Path(__file__).parent))
from envwatch.demo.plant_week import interleaved, plant_week
from envwatch.processing.columnar_replay import feed_replay, judge, shard_of
from envwatch.processing.columns import read_columns
from envwatch.processing.compaction import DEVICES_PER_PASS, compact
from envwatch.processing.inputs import load_contexts
from envwatch.processing.worker import replay
from envwatch.rules.catalogue import RULES, Rule
from envwatch.rules.engine import RuleEngine, default_rule_set
from envwatch.rules.model import Finding, Limit, PointContext, Upload, Values
from envwatch.store.archive import Archive, MeasurementRow, ReceivedFrame
from envwatch.store.db import (
    create_scratch_database,
    drop_scratch_database,
    make_engine,
    scratch_server_url,
    upgrade,
)
from envwatch.store.schema import (
    County,
    Enterprise,
    MonitoringPoint,
    Outlet,
    PermitLimit,
)
from rules_fleet import CROSS_PATTERNS, PATTERNS, Device, fleet
from rules_fleet import LIMIT as FLEET_LIMIT

HERE = Path(__file__).parent
START = datetime(2026, 1, 5)
POLLUTANT = "a21026"
FLOW = "a00000"
RULE_OF = {"constant": "constant", "zeros": "zero", "negative": "negative",
           "gap": "offline", "spike": "spike", "marks": "undeclared_maintenance",
           "drop": "drop_after_warning"}  # fmt: skip
LIMIT = Limit(FLEET_LIMIT, "mg/m³", "基准测试限值", None)


def context(device: Device) -> PointContext:
    return PointContext(device.mn, 1, "4411", "air", {POLLUTANT: (LIMIT,)})


def upload(device: Device, minute: int, value: float) -> Upload:
    flag = device.flags.get(minute, "N")
    values = {POLLUTANT: Values(rtd=value, flag=flag), FLOW: Values(rtd=100.0, flag="N")}
    return Upload(device.mn, "2011", START + timedelta(minutes=minute), values, None)


def stream(
    devices: list[Device], minutes: int, rules: list[Rule] | None = None
) -> tuple[list[Finding], float, int]:
    engine = RuleEngine(default_rule_set(), {d.mn: context(d) for d in devices}, rules)
    found: list[Finding] = []
    points = 0
    started = time.perf_counter()
    for minute in range(minutes):
        for device in devices:
            value = device.values[minute]
            if value is None:
                continue
            found += engine.feed(upload(device, minute, value))
            points += 1
        found += engine.advance_clock(START + timedelta(minutes=minute))
    return found, time.perf_counter() - started, points


def score(
    devices: list[Device], found: list[Finding], patterns: tuple[str, ...] = PATTERNS
) -> dict[str, Any]:
    by_mn = {device.mn: device for device in devices}
    injected: dict[str, int] = defaultdict(int)
    for device in devices:
        if device.fault is not None:
            injected[device.fault.pattern] += 1
    detected: dict[str, set[str]] = defaultdict(set)
    true: dict[str, int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    for finding in found:
        total[finding.rule] += 1
        fault = by_mn[finding.mn].fault
        if fault is None or RULE_OF[fault.pattern] != finding.rule:
            continue
        start = START + timedelta(minutes=fault.start - 1)
        end = START + timedelta(minutes=fault.start + fault.length + 1)
        if finding.window_start <= end and finding.window_end >= start:
            true[finding.rule] += 1
            detected[fault.pattern].add(finding.mn)
    return {
        pattern: {
            "rule": RULE_OF[pattern],
            "injected": injected[pattern],
            "recall": round(len(detected[pattern]) / injected[pattern], 4)
            if injected[pattern]
            else None,
            "precision": round(true[RULE_OF[pattern]] / total[RULE_OF[pattern]], 4)
            if total[RULE_OF[pattern]]
            else None,
        }
        for pattern in patterns
    }


def cross_channel(devices_n: int, minutes: int) -> dict[str, Any]:
    """The patterns only envwatch covers (undeclared marks, a fall right after a
    warning), on a fleet of their own streamed the same way."""
    devices = fleet(devices_n, minutes, CROSS_PATTERNS)
    found, seconds, points = stream(devices, minutes)
    return {"devices": devices_n, "points": points,
            "points_per_second": round(points / seconds),
            "per_pattern": score(devices, found, CROSS_PATTERNS)}  # fmt: skip


def register(engine: Engine, devices: list[Device]) -> None:
    """A county, an enterprise with one flue-gas outlet and its limit, and the devices."""
    enterprise = {"id": 1, "name": "基准测试企业", "credit_code": "X", "county_code": "371502",
                  "industry_code": "4411"}  # fmt: skip
    outlet = {"id": 1, "enterprise_id": 1, "code": "DA001", "name": "排放口", "kind": "air"}
    limit = {
        "enterprise_id": 1,
        "outlet_id": 1,
        "pollutant": POLLUTANT,
        "unit": LIMIT.unit,
        "limit_value": LIMIT.value,
        "basis": LIMIT.basis,
        "valid_from": datetime(2020, 1, 1),
    }
    points = [{"mn": d.mn, "pw": "123456", "enterprise_id": 1, "outlet_id": 1, "st": "31"}
              for d in devices]  # fmt: skip
    with engine.begin() as connection:
        for table, rows in (
            (County, [{"code": "371502", "name_zh": "东昌府区"}]),
            (Enterprise, [enterprise]),
            (Outlet, [outlet]),
            (PermitLimit, [limit]),
            (MonitoringPoint, points),
        ):
            connection.execute(table.__table__.insert(), rows)  # type: ignore[attr-defined]


def store(engine: Engine, devices: list[Device], minutes: int) -> int:
    """The devices' uploads of ``minutes`` minutes, stored through the archive; points stored."""
    register(engine, devices)
    archive = Archive(engine)
    now = datetime.now(UTC)
    batch: list[ReceivedFrame] = []
    for minute in range(minutes):
        for device in devices:
            value = device.values[minute]
            if value is None:
                continue
            moment = START + timedelta(minutes=minute)
            flag = device.flags.get(minute, "N")
            rows = (
                MeasurementRow(device.mn, "2011", moment, POLLUTANT, rtd=value, flag=flag),
                MeasurementRow(device.mn, "2011", moment, FLOW, rtd=100.0, flag="N"),
            )
            batch.append(
                ReceivedFrame(
                    now, "bench", b"##", "accepted", mn=device.mn, cn="2011", measurements=rows
                )
            )
            if len(batch) >= 5000:
                archive.write_batch(batch)
                batch = []
    if batch:
        archive.write_batch(batch)
    return sum(1 for d in devices for v in d.values[:minutes] if v is not None)


FRAME_COLUMNS = ("id", "chain", "seq", "received_at", "peer", "raw", "verdict", "warnings", "mn",
                 "cn", "prev_hash", "hash", "data_time")  # fmt: skip
VALUE_COLUMNS = ("mn", "cn", "data_time", "pollutant", "rtd", "flag", "frame_id")


def bulk_store(engine: Engine, devices: list[Device], minutes: int) -> int:
    """As ``store``, straight into the tables (the archive's hash chain is not
    what the replay reads: placeholders), fast enough for the 1,000-device
    week; each upload received 30 s after its minute. Points stored."""
    register(engine, devices)
    postgres = engine.dialect.name == "postgresql"
    raw = engine.raw_connection()
    cursor = raw.cursor()
    if not postgres:  # a bulk load of a throwaway database: no fsync, a large cache
        for pragma in ("synchronous = OFF", "cache_size = -1500000"):
            cursor.execute(f"PRAGMA {pragma}")
    frame_id = points = 0
    for minute in range(minutes):
        moment = START + timedelta(minutes=minute)
        received = moment - timedelta(hours=8) + timedelta(seconds=30)  # UTC
        if postgres:
            received = received.replace(tzinfo=UTC)
        frames: list[tuple[Any, ...]] = []
        values: list[tuple[Any, ...]] = []
        for device in devices:
            value = device.values[minute]
            if value is None:
                continue
            frame_id += 1
            points += 1
            frames.append((frame_id, device.mn, minute + 1, received, "bench", b"##", "accepted",
                           "", device.mn, "2011", "-", "-", moment))  # fmt: skip
            if not postgres:  # SQLAlchemy's text for a DateTime on SQLite
                moment_text = moment.strftime("%Y-%m-%d %H:%M:%S.%f")
                frames[-1] = (*frames[-1][:3], received.strftime("%Y-%m-%d %H:%M:%S.%f"),
                              *frames[-1][4:12], moment_text)  # fmt: skip
            flag = device.flags.get(minute, "N")
            at = moment if postgres else frames[-1][-1]
            values.append((device.mn, "2011", at, POLLUTANT, value, flag, frame_id))
            values.append((device.mn, "2011", at, FLOW, 100.0, "N", frame_id))
        for table, columns, rows in (("archived_frame", FRAME_COLUMNS, frames),
                                     ("measurement", VALUE_COLUMNS, values)):  # fmt: skip
            if postgres:
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join("?" * len(columns))
                cursor.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows
                )
        if minute % 1440 == 1439:
            raw.commit()
    if postgres:
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('archived_frame', 'id'), {frame_id})")
    raw.commit()
    raw.close()
    return points


def measure_replay(devices: list[Device], minutes: int) -> dict[str, Any]:
    """Store the devices' uploads, then time ``replay`` over them."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'replay.db'}"
        upgrade(url)
        engine = make_engine(url)
        points = store(engine, devices, minutes)
        started = time.perf_counter()
        findings = replay(engine, START - timedelta(days=1), START + timedelta(minutes=minutes + 1))
        seconds = time.perf_counter() - started
        engine.dispose()
    return {"devices": len(devices), "minutes": minutes, "points": points, "findings": findings,
            "seconds": round(seconds, 3), "points_per_second": round(points / seconds)}  # fmt: skip


def rss_kib() -> int:
    """The process's peak resident memory so far (KiB, Linux): VmHWM, which
    exec resets (``ru_maxrss`` of a child keeps its forked parent's peak)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


WINDOW = (START - timedelta(days=1), START + timedelta(days=8))


def columnar_child(url: str, shard: str | None, *, blocks: bool = True) -> dict[str, Any]:
    """In a process of its own (its peak memory is the replay's): a read-only
    pass over the window (``read_columns``), then the columnar replay's
    judgement end to end from the database (``judge``: read, the engine's
    checks, every rule; nothing written), with how each rule was judged.
    ``blocks``: closed days from their value blocks (else every day from the rows)."""
    engine = make_engine(url)
    contexts = load_contexts(engine, datetime(2026, 1, 1))
    shard_ = shard_of(shard) if shard else None
    mns = sorted(contexts)[shard_[0] :: shard_[1]] if shard_ else sorted(contexts)
    started = time.perf_counter()
    points = sum(c.points for c in read_columns(engine, mns, *WINDOW, whole=shard_ is None,
                                                blocks=blocks))  # fmt: skip
    read_seconds = time.perf_counter() - started
    started = time.perf_counter()
    report, found = judge(engine, *WINDOW, shard=shard_, blocks=blocks)
    seconds = time.perf_counter() - started
    engine.dispose()
    return {"points": report.points // 2, "values_read": points, "seconds": round(seconds, 3),
            "read_seconds": round(read_seconds, 3), "rules": len(RULES),
            "vectorised_rules": report.columnar_rules, "gated_rules": report.gated_rules,
            "streamed_rules": report.streamed_rules,
            "streamed_on_columns": report.streamed_on_columns,
            "engine_devices": report.engine_devices, "streamed_devices": report.streamed_devices,
            "max_rss_mib": round(rss_kib() / 2**10),
            "findings": [(f.mn, f.rule, str(f.pollutant), f.window_start.isoformat(),
                          f.window_end.isoformat(), str(f.severity), f.explanation)
                         for items in found.values() for f in items]}  # fmt: skip


def compact_child(url: str) -> dict[str, Any]:
    """In a process of its own: the compactor builds the value blocks of the
    window's days (all closed), as ``envwatch store compact`` does."""
    engine = make_engine(url)
    report = compact(engine, WINDOW[0].date(), WINDOW[1].date(),
                     today=WINDOW[1].date() + timedelta(days=1))  # fmt: skip
    engine.dispose()
    return {**report.as_dict(), "devices_per_pass": DEVICES_PER_PASS,
            "max_rss_mib": round(rss_kib() / 2**10)}  # fmt: skip


def run_child(url: str, shard: str | None = None, *, mode: str = "blocks") -> subprocess.Popen[str]:
    """A child process: ``mode`` blocks or rows (the columnar replay) or compact."""
    command = [sys.executable, __file__, "--columnar-child", url, "--child-mode", mode]
    return subprocess.Popen([*command, *(["--shard", shard] if shard else [])],
                            stdout=subprocess.PIPE, text=True)  # fmt: skip


def child_result(process: subprocess.Popen[str]) -> dict[str, Any]:
    out, _ = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"columnar child failed ({process.returncode})")
    result: dict[str, Any] = json.loads(out)
    return result


def replay_reference(devices: list[Device], minutes: int, checked: list[Device]) -> list[Finding]:
    """What the streaming engine finds replaying the stored fleet as the
    columnar replay reads it (``feed_replay``: frame order, each upload
    received 30 s after its minute, the clock moved by the newest arrival):
    every rule on the ``checked`` devices, and ``offline`` (whose clock is the
    whole fleet's) on every device, fed their arrivals."""

    def uploads(of: set[str], values: bool) -> Iterator[Upload]:
        frame = 0
        for minute in range(minutes):
            moment = START + timedelta(minutes=minute)
            for device in devices:
                value = device.values[minute]
                if value is None:
                    continue
                frame += 1
                if device.mn in of:
                    light = (
                        upload(device, minute, value)
                        if values
                        else Upload(device.mn, "2011", moment, {})
                    )
                    yield replace(light, frame_id=frame,
                                  received_at=moment + timedelta(seconds=30))  # fmt: skip

    contexts = {d.mn: context(d) for d in devices}
    every = RuleEngine(default_rule_set(), contexts,
                       [rule for rule in RULES.values() if rule.id != "offline"])  # fmt: skip
    mine = {device.mn for device in checked}
    found = feed_replay(every, uploads(mine, True))
    clock = RuleEngine(default_rule_set(), contexts,
                       [RULES["offline"], RULES["implausible_data_time"]])  # fmt: skip
    arrivals = feed_replay(clock, uploads(set(contexts), False))
    return found + [f for f in arrivals if f.mn in mine and f.rule == "offline"]


def measure_columnar(
    devices: list[Device],
    minutes: int,
    *,
    postgres: bool,
    checked: list[Device],
    expected: list[Finding],
) -> dict[str, Any]:
    """Store the fleet (SQLite, or a scratch PostgreSQL database), then time
    the columnar replay of every rule from the database in a child process;
    per-pattern scores of its findings, and whether they are the streaming
    engine's replaying them (``expected``, on the ``checked`` devices). On
    PostgreSQL also two processes splitting the devices (``--shard k/2``),
    wall time."""
    fleet_mns = {device.mn for device in checked}
    with tempfile.TemporaryDirectory() as folder:
        if postgres:
            admin = scratch_server_url()
            url = create_scratch_database(admin, "envwatch_bench")
        else:
            url = f"sqlite:///{Path(folder) / 'columnar.db'}"
        try:
            upgrade(url)
            engine = make_engine(url)
            started = time.perf_counter()
            points = bulk_store(engine, devices, minutes)
            store_seconds = time.perf_counter() - started
            engine.dispose()
            rows = child_result(run_child(url, mode="rows"))
            compaction = child_result(run_child(url, mode="compact"))
            compaction["uploads_per_second"] = round(points / compaction["seconds"])
            child = child_result(run_child(url))
            split: dict[str, Any] = {}
            if postgres:
                started = time.perf_counter()
                processes = [run_child(url, f"{k}/2") for k in range(2)]
                shares = [child_result(process) for process in processes]
                wall = time.perf_counter() - started
                both = sorted(f for share in shares for f in share["findings"])
                one = sorted(child["findings"])
                split = {"processes": 2, "wall_seconds_including_read_only_pass": round(wall, 3),
                         "seconds": [share["seconds"] for share in shares],
                         "points_per_second": round(points / max(s["seconds"] for s in shares)),
                         "same_findings_as_one_process": both == one,
                         # Each process's clock is its share's (offline).
                         "same_findings_as_one_process_but_offline":
                             [f for f in both if f[1] != "offline"]
                             == [f for f in one if f[1] != "offline"]}  # fmt: skip
        finally:
            if postgres:
                drop_scratch_database(admin, url)
    found = child.pop("findings")
    row_found = sorted(map(tuple, rows.pop("findings")))
    mine = sorted(tuple(f) for f in found if f[0] in fleet_mns)
    wanted = sorted((f.mn, f.rule, str(f.pollutant), f.window_start.isoformat(),
                     f.window_end.isoformat(), str(f.severity), f.explanation)
                    for f in expected)  # fmt: skip
    scored = [_Found(f[0], f[1], datetime.fromisoformat(f[3]), datetime.fromisoformat(f[4]))
              for f in found]  # fmt: skip
    return {"database": "postgresql" if postgres else "sqlite", "devices": len(devices),
            "minutes": minutes, "store_seconds": round(store_seconds, 1),
            "compaction": compaction,
            "from_rows": {**rows, "points_per_second": round(points / rows["seconds"]),
                          "read_only_points_per_second": round(points / rows["read_seconds"]),
                          "same_findings_as_blocks": row_found == sorted(map(tuple, found))},
            **child,
            "points_per_second": round(points / child["seconds"]),
            "read_only_points_per_second": round(points / child["read_seconds"]),
            "findings": len(found), "findings_by_rule": dict(Counter(f[1] for f in found)),
            "same_as_streaming": mine == wanted,
            "same_as_streaming_devices": len(fleet_mns),
            "same_as_streaming_findings": len(wanted),
            "per_pattern": score(devices, scored, PATTERNS),  # type: ignore[arg-type]
            **({"two_processes": split} if split else {})}  # fmt: skip


@dataclass(frozen=True)
class _Found:
    mn: str
    rule: str
    window_start: datetime
    window_end: datetime


def saqc_python() -> Path | None:
    configured = os.environ.get("ENVWATCH_SAQC_PYTHON")
    if configured:
        return Path(configured)
    venv = HERE.parent / ".venv-saqc"
    python = venv / "bin" / "python"
    if not python.exists():
        made = subprocess.run([sys.executable, "-m", "venv", str(venv)], check=False)
        if made.returncode != 0:
            return None
        requirements = HERE / "requirements-saqc.txt"
        installed = subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "-r", str(requirements)], check=False
        )
        if installed.returncode != 0:
            return None
    return python


def run_saqc(devices: int, minutes: int) -> dict[str, Any]:
    python = saqc_python()
    if python is None:
        return {"skipped": "could not install saqc (bench/requirements-saqc.txt)"}
    done = subprocess.run(
        [str(python), str(HERE / "rules_saqc.py"), str(devices), str(minutes)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        return {"skipped": f"saqc run failed: {done.stderr.strip()[-500:]}"}
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def normal_plant_week(days: int) -> dict[str, Any]:
    """False alarms on the normal plant week (``envwatch/demo/plant_week.py``):
    findings per device-week by rule and severity, where the target is no
    alarm and no warning (notices are allowed), and by scenario."""
    devices = plant_week(days)
    engine = RuleEngine(default_rule_set(), {d.context.mn: d.context for d in devices})
    found = []
    started = time.perf_counter()
    for index, upload in enumerate(interleaved(devices)):
        found += engine.feed(upload)
        if index % 200 == 0:
            found += engine.advance_clock()
    found += engine.advance_clock() + engine.finish()
    seconds = time.perf_counter() - started
    device_weeks = len(devices) * days / 7
    names = {d.context.mn: d.name for d in devices}
    by_rule: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    by_scenario: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for finding in found:
        by_rule[finding.rule][str(finding.severity)] += 1 / device_weeks
        by_scenario[names[finding.mn]][f"{finding.rule}:{finding.severity}"] += 1
    false_alarms = sum(1 for f in found if str(f.severity) in {"warning", "alarm", "severe"})
    return {
        "devices": len(devices),
        "days": days,
        "seconds": round(seconds, 3),
        "alarms_and_warnings": false_alarms,
        "alarms_and_warnings_per_device_week": round(false_alarms / device_weeks, 3),
        "target_alarms_and_warnings": 0,
        "per_rule_per_device_week": {
            rule: {severity: round(n, 3) for severity, n in sorted(counts.items())}
            for rule, counts in sorted(by_rule.items())
        },
        "per_scenario": {name: dict(sorted(c.items())) for name, c in sorted(by_scenario.items())},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--minutes", type=int, default=7 * 24 * 60)
    parser.add_argument("--replay-devices", type=int, default=50)
    parser.add_argument("--columnar-devices", type=int, default=1000)
    parser.add_argument("--no-postgres", action="store_true", help="columnar replay on SQLite only")
    parser.add_argument("--columnar-child", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--shard", help=argparse.SUPPRESS)
    parser.add_argument("--child-mode", default="blocks", help=argparse.SUPPRESS)
    parser.add_argument("--no-saqc", action="store_true", help="leave SaQC out")
    parser.add_argument(
        "--saqc-devices", type=int, default=1000, help="SaQC's fleet (its rate is per point)"
    )
    parser.add_argument(
        "--columnar-only",
        action="store_true",
        help="only the columnar replay (and SaQC), and the streaming figure on --check-devices",
    )
    parser.add_argument(
        "--check-devices",
        type=int,
        default=100,
        help="devices whose replayed findings are held to the streaming engine's",
    )
    args = parser.parse_args()
    if args.columnar_child:
        if args.child_mode == "compact":
            print(json.dumps(compact_child(args.columnar_child)))
        else:
            blocks = args.child_mode == "blocks"
            print(json.dumps(columnar_child(args.columnar_child, args.shard, blocks=blocks)))
        return
    devices_n = 25 if args.quick else args.devices
    minutes = 24 * 60 if args.quick else args.minutes
    devices = fleet(devices_n, minutes)
    result: dict[str, Any] = {
        "benchmark": "envwatch rules (labelled synthetic fleet)",
        "quick": args.quick,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "load_average_at_start": os.getloadavg(),
        "devices": devices_n,
        "minutes": minutes,
        "targets": {"recall": 0.95, "precision": 0.9, "points_per_second_vs_saqc": 10,
                    "columnar_points_per_second": 1_000_000, "columnar_vs_saqc_per_test": 5,
                    "columnar_peak_memory_mib": 2048},
    }  # fmt: skip
    columnar = devices[: args.columnar_devices]
    checked = columnar[: args.check_devices]
    if args.columnar_only:  # the streaming figure: every rule, on the first devices
        found, seconds, points = stream(checked, minutes)
        result["envwatch"] = {"streaming": {
            "devices": len(checked), "points": points, "seconds": round(seconds, 3),
            "points_per_second": round(points / seconds)}}  # fmt: skip
    else:
        found, seconds, points = stream(devices, minutes)
        result["envwatch"] = {
            "streaming": {"points": points, "seconds": round(seconds, 3),
                          "points_per_second": round(points / seconds), "findings": len(found)},
            "per_pattern": score(devices, found),
            "cross_channel": cross_channel(devices_n // 5, minutes),
            "replay": measure_replay(devices[: args.replay_devices], min(minutes, 24 * 60)),
            "normal_plant_week": normal_plant_week(2 if args.quick else 7),
        }  # fmt: skip
    started = time.perf_counter()
    expected = replay_reference(columnar, minutes, checked)
    result["envwatch"]["replay_reference_seconds"] = round(time.perf_counter() - started, 1)
    result["envwatch"]["columnar_replay"] = measure_columnar(
        columnar, minutes, postgres=False, checked=checked, expected=expected
    )
    if not args.no_postgres:
        result["envwatch"]["columnar_replay_postgresql"] = measure_columnar(
            columnar, minutes, postgres=True, checked=checked, expected=expected
        )
    if not args.no_saqc:
        saqc = run_saqc(min(devices_n, args.saqc_devices), minutes)
        result["saqc"] = saqc
        if "points_per_second" in saqc:
            # SaQC runs one test per pattern over every point; envwatch runs every rule.
            per_test = saqc["points_per_second"] / len(PATTERNS)
            result["saqc_per_test_points_per_second"] = round(per_test)
            if "streaming" in result["envwatch"]:
                result["envwatch_vs_saqc_points_per_second"] = round(
                    result["envwatch"]["streaming"]["points_per_second"] / per_test, 3
                )
            for key in ("columnar_replay", "columnar_replay_postgresql"):
                if key in result["envwatch"]:
                    result[f"{key}_vs_saqc_per_test"] = round(
                        result["envwatch"][key]["points_per_second"] / per_test, 3
                    )
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
