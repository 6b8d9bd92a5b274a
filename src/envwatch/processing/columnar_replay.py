"""Fast replay of stored history: the rules with a columnar form judge each
device's window in column form (``rules/columnar.py``); every other rule,
and every device the engine itself would intervene on, goes through the
streaming engine as ``worker.replay`` does. Findings are replaced device by
device (one transaction each); a dry run only counts what would change.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, select

from envwatch.electricity.hj212 import default_codes
from envwatch.hj212.codes import now_cst
from envwatch.hj212.model import DEVICE_INFO_COMMAND
from envwatch.processing.columns import read_columns
from envwatch.processing.inputs import devices_with_info, load_contexts, pages_after
from envwatch.processing.quarantine import quarantine
from envwatch.processing.worker import _finding_row, store_findings
from envwatch.rules.catalogue import RULES
from envwatch.rules.catalogue.base import watches
from envwatch.rules.catalogue.transmission import ImplausibleDataTime
from envwatch.rules.columnar import (
    CITY_WIDE,
    COLUMNAR,
    GATES,
    Arrivals,
    RuleFailedError,
    arrivals,
    evaluate,
    streaming_only,
    streams_on_columns,
)
from envwatch.rules.engine import REPLAY_CLOCK_STEP, RuleEngine, default_rule_set
from envwatch.rules.model import Finding, PointContext, Upload
from envwatch.rules.parameters import RuleSet
from envwatch.store.cursors import read_cursor, save_cursor
from envwatch.store.schema import FindingRecord


@dataclass
class ReplayReport:
    findings: int = 0
    points: int = 0
    """Values read in column form."""
    devices: int = 0
    columnar_rules: list[str] = field(default_factory=list)
    """The rules judged vectorised (``COLUMNAR``, ``CITY_WIDE``)."""
    gated_rules: list[str] = field(default_factory=list)
    """The rules with a vectorised test of where they can speak (``GATES``)."""
    streamed_on_columns: dict[str, int] = field(default_factory=dict)
    """By rule: the devices whose uploads its streaming code judged on the
    columns (a gated rule's test let them through; a streamed rule read some)."""
    streamed_rules: list[str] = field(default_factory=list)
    """The rules that fell back to their streaming code (no columnar form)."""
    engine_devices: dict[str, int] = field(default_factory=dict)
    """By rule: the devices the streaming engine judged it on, from the rows
    (not on the columns: its state spans devices, or the device sent device
    information, which columns do not hold)."""
    streamed_devices: dict[str, str] = field(default_factory=dict)
    """Devices the engine judged on every rule, with why (``streaming_only``)."""
    resumed_after: int = 0
    """Devices an interrupted run had already replaced (``resume``)."""
    changes: dict[str, int] | None = None
    """A dry run's: new, removed, changed and unchanged findings."""


Progress = Callable[[int, int], None]


Shard = tuple[int, int]
"""(k, n): this process replays the k-th of n shares of the devices (k from 0)."""


def shard_of(text: str) -> Shard:
    """``k/n`` (k from 0) as a shard; a clear error otherwise."""
    try:
        k, n = (int(part) for part in text.split("/"))
    except ValueError:
        raise ValueError(f"shard {text!r}: expected k/n, e.g. 0/4") from None
    if not 0 <= k < n:
        raise ValueError(f"shard {text!r}: k must be 0 to n-1")
    return k, n


def judge(
    engine: Engine,
    since: datetime,
    until: datetime,
    rule_set: RuleSet | None = None,
    *,
    rules: Sequence[str] | None = None,
    trust_arrival: bool = True,
    resume: bool = False,
    shard: Shard | None = None,
    devices: Collection[str] | None = None,
    progress: Progress | None = None,
    arrow: bool = True,
    blocks: bool = True,
) -> tuple[ReplayReport, dict[str, list[Finding]]]:
    """The findings of ``rules`` (default: all) for uploads with DataTime in
    [since, until), by device, and the report (nothing written). ``shard``:
    only this process's share of the devices (every n-th in MN order), so
    several processes split a replay; ``devices``: only these (a county's);
    ``resume``: after the devices an interrupted run of the same job already
    replaced. ``progress`` hears (devices judged, devices). ``arrow``: read
    PostgreSQL through ADBC where installed (``processing/columns.py``)."""
    rule_set = rule_set or default_rule_set()
    selected = list(rules) if rules is not None else list(RULES)
    unknown = [rule for rule in selected if rule not in RULES]
    if unknown:
        raise ValueError(f"unknown rules: {', '.join(unknown)}")
    city_wide = [rule for rule in selected if rule in CITY_WIDE]
    per_device = [rule for rule in selected if rule not in CITY_WIDE]
    report = ReplayReport(
        columnar_rules=[rule for rule in selected if rule in COLUMNAR or rule in CITY_WIDE],
        gated_rules=[rule for rule in selected if rule in GATES],
        streamed_rules=[rule for rule in selected
                        if rule not in COLUMNAR and rule not in CITY_WIDE and rule not in GATES],
    )  # fmt: skip
    contexts = load_contexts(engine, now_cst().replace(tzinfo=None))
    mns = _share(contexts, shard, devices)
    if resume:
        job = job_name(since, until, selected, shard, devices)
        with engine.connect() as connection:
            report.resumed_after = read_cursor(connection, job)
        mns = mns[report.resumed_after :]
    whole = len(mns) == len(contexts)
    contexts = {mn: contexts[mn] for mn in mns}
    informed: set[str] = set()
    if any(DEVICE_INFO_COMMAND in (RULES[rule].reads or {DEVICE_INFO_COMMAND})
           for rule in per_device):  # fmt: skip
        with engine.connect() as connection:
            informed = devices_with_info(connection, since, until)
    found: dict[str, list[Finding]] = defaultdict(list)
    by_engine: dict[str, set[str]] = {}
    """By device: the rules the streaming engine judges it on."""
    arrived: list[Arrivals] = []
    columnar = read_columns(engine, mns, since, until, whole=whole, arrow=arrow, blocks=blocks)
    for done, columns in enumerate(columnar, 1):
        context = contexts[columns.mn]
        report.devices += 1
        report.points += columns.points
        if city_wide:
            arrived.append(arrivals(columns, context, rule_set, trust_arrival=trust_arrival))
        why = streaming_only(columns, context, rule_set, trust_arrival=trust_arrival)
        if why is None:
            on_columns, elsewhere = _route(per_device, context, columns.mn in informed)
            try:
                found[columns.mn] += evaluate(columns, context, rule_set, on_columns,
                                              report.streamed_on_columns)  # fmt: skip
            except RuleFailedError:
                found.pop(columns.mn, None)
                why = "rule_failed"
            else:
                if elsewhere:
                    by_engine[columns.mn] = set(elsewhere)
        if why is not None:
            report.streamed_devices[columns.mn] = why
            by_engine[columns.mn] = set(per_device)
        if progress is not None:
            progress(done, len(mns))
    for rule in city_wide:
        judged = CITY_WIDE[rule](arrived, rule_set)
        if judged is None:  # no order to judge them in: streamed
            report.columnar_rules.remove(rule)
            report.streamed_rules.append(rule)
            for mn in contexts:
                by_engine.setdefault(mn, set()).add(rule)
            continue
        for finding in judged:
            found[finding.mn].append(finding)
    del arrived
    for rules_of in by_engine.values():
        for rule in rules_of:
            report.engine_devices[rule] = report.engine_devices.get(rule, 0) + 1
    if progress is not None:  # devices without uploads in the window are judged too
        progress(len(mns), len(mns))
    if by_engine:
        streamed = _stream(engine, since, until, rule_set, contexts, by_engine, trust_arrival)
        for finding in streamed:
            found[finding.mn].append(finding)
    report.findings = sum(len(items) for items in found.values())
    return report, found


def replay_columnar(
    engine: Engine,
    since: datetime,
    until: datetime,
    rule_set: RuleSet | None = None,
    *,
    rules: Sequence[str] | None = None,
    trust_arrival: bool = True,
    dry_run: bool = False,
    resume: bool = False,
    shard: Shard | None = None,
    devices: Collection[str] | None = None,
    progress: Progress | None = None,
    arrow: bool = True,
) -> ReplayReport:
    """Recompute the findings of ``rules`` (default: all) for uploads with
    DataTime in [since, until) and replace them device by device (``judge``).
    Each device's replacement commits with the job's cursor (devices done, in
    MN order): ``resume`` skips the devices an interrupted run of the same job
    (window, rules, shard and devices) already replaced. A dry run writes
    nothing and counts what would change. ``progress`` hears (steps done,
    steps): a device judged, then a device written, is a step each."""
    rule_set = rule_set or default_rule_set()
    contexts = load_contexts(engine, now_cst().replace(tzinfo=None))
    mns = _share(contexts, shard, devices)

    def judged(done: int, total: int) -> None:
        if progress is not None:
            progress(done, total if dry_run else 2 * total)

    report, found = judge(engine, since, until, rule_set, rules=rules,
                          trust_arrival=trust_arrival, resume=resume and not dry_run,
                          shard=shard, devices=devices, progress=judged,
                          arrow=arrow)  # fmt: skip
    selected = list(rules) if rules is not None else list(RULES)
    if dry_run:
        whole = shard is None and devices is None
        report.changes = _changes(engine, since, until, selected, found,
                                  None if whole else set(mns))  # fmt: skip
        return report
    mns = mns[report.resumed_after :]
    job = job_name(since, until, selected, shard, devices)
    mine = set(mns)
    done = report.resumed_after
    for written, mn in enumerate(sorted(set(mns) | set(found)), 1):
        with engine.begin() as connection:  # a device's window at once, with the cursor
            connection.execute(
                delete(FindingRecord).where(
                    FindingRecord.mn == mn,
                    FindingRecord.rule.in_(selected),
                    FindingRecord.window_start >= since,
                    FindingRecord.window_start < until,
                )
            )
            store_findings(connection, found.get(mn, []), rule_set.version)
            if mn in mine:
                done += 1
                save_cursor(connection, job, done)
        if progress is not None:
            progress(len(mns) + min(written, len(mns)), 2 * len(mns))  # after the judging
    with engine.begin() as connection:
        save_cursor(connection, job, 0)  # the job is over: a new run starts afresh
    return report


def _share(
    contexts: Mapping[str, Any], shard: Shard | None, devices: Collection[str] | None
) -> list[str]:
    """The devices a replay judges, in MN order: of ``devices`` (all: None),
    every n-th of shard k/n."""
    mns = sorted(contexts if devices is None else set(contexts) & set(devices))
    return mns if shard is None else mns[shard[0] :: shard[1]]


def job_name(
    since: datetime,
    until: datetime,
    rules: Sequence[str],
    shard: Shard | None = None,
    devices: Collection[str] | None = None,
) -> str:
    """The cursor of a replay job: its window, rules, shard and devices (32 characters)."""
    part = "" if shard is None else f"|{shard[0]}/{shard[1]}"
    if devices is not None:
        part += "|" + ",".join(sorted(devices))
    digest = hashlib.sha1(
        f"{since.isoformat()}|{until.isoformat()}|{','.join(sorted(rules))}{part}".encode(),
        usedforsecurity=False,
    ).hexdigest()
    return f"replay:{digest[:25]}"


def _route(rules: list[str], context: PointContext, informed: bool) -> tuple[list[str], list[str]]:
    """The rules a device's columns are judged by (vectorised, gated or
    streamed on them), and those the engine must judge it on (of the rules
    that watch it at all)."""
    on_columns, elsewhere = [], []
    for rule_id in rules:
        rule = RULES[rule_id]
        vectorised = rule_id in COLUMNAR or rule_id in GATES
        if vectorised or streams_on_columns(rule, context, informed=informed):
            on_columns.append(rule_id)
        elif any(watches(rule, context, cn) for cn in (rule.reads or (DEVICE_INFO_COMMAND,))):
            elsewhere.append(rule_id)
    return on_columns, elsewhere


def _stream(  # noqa: PLR0917
    engine: Engine,
    since: datetime,
    until: datetime,
    rule_set: RuleSet,
    contexts: dict[str, Any],
    by_engine: dict[str, set[str]],
    trust_arrival: bool,
) -> list[Finding]:
    """The streaming engine over the window's uploads of the devices in
    ``by_engine``, each judged on the rules it names; the time gate always
    runs (its refusals keep uploads from every rule), its findings kept where named."""
    named = {rule for rules in by_engine.values() for rule in rules}
    rules = {rule: RULES[rule] for rule in [*sorted(named), ImplausibleDataTime.id]}
    streaming = RuleEngine(rule_set, contexts, rules.values(), trust_arrival=trust_arrival)
    mns = None if len(by_engine) == len(contexts) else sorted(by_engine)
    with engine.begin() as connection:
        pages = pages_after(connection, 0, default_codes(), since=since, until=until, mns=mns)
        found = feed_replay(streaming, (upload for page in pages for upload in page))
        quarantine(connection, streaming.failures)
    return [finding for finding in found if finding.rule in by_engine.get(finding.mn, ())]


def feed_replay(
    streaming: RuleEngine, uploads: Iterable[Upload], *, step: timedelta = REPLAY_CLOCK_STEP
) -> list[Finding]:
    """A replay's uploads (in arrival order) through the streaming engine
    (``RuleEngine.replay``: its clock moved by the newest arrival fed, as
    ``columnar.clock_moves`` assumes), the clock moved at the end, and the
    back-fills closed."""
    found: list[Finding] = []
    for upload in uploads:
        found += streaming.replay(upload, step)
    return found + streaming.advance_clock() + streaming.finish()


def _changes(  # noqa: PLR0917
    engine: Engine,
    since: datetime,
    until: datetime,
    selected: list[str],
    found: dict[str, list[Finding]],
    mns: set[str] | None,
) -> dict[str, int]:
    """What replacing would do: findings new, removed, changed (same rule,
    device, pollutant and window start; other window end, severity,
    explanation or evidence) and unchanged."""

    def compared(row: Any) -> tuple[Any, ...]:
        return (row["window_end"], row["severity"], row["explanation"], row["evidence"])

    stored: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    with engine.connect() as connection:
        for row in connection.execute(
            select(FindingRecord).where(
                FindingRecord.rule.in_(selected),
                FindingRecord.window_start >= since,
                FindingRecord.window_start < until,
            )
        ).mappings():
            if mns is not None and row["mn"] not in mns:
                continue
            key = (row["mn"], row["rule"], row["pollutant"], row["window_start"])
            stored[key] = compared(row)
    counts = {"new": 0, "removed": 0, "changed": 0, "unchanged": 0}
    seen = set()
    for items in found.values():
        for finding in items:
            new = _finding_row(finding, "")
            key = (new["mn"], new["rule"], new["pollutant"], new["window_start"])
            seen.add(key)
            if key not in stored:
                counts["new"] += 1
            elif stored[key] == compared(new):
                counts["unchanged"] += 1
            else:
                counts["changed"] += 1
    counts["removed"] = sum(1 for key in stored if key not in seen)
    return counts
