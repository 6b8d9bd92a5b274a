"""The rules engine over the store: following the archive as frames commit
(``Processor``), or over stored history (``replay``); findings stored once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, select
from sqlalchemy.exc import DBAPIError

from envwatch.electricity.hj212 import ElectricityCodes, default_codes
from envwatch.hj212.codes import now_cst
from envwatch.processing.inputs import batch_page, load_contexts, pages_after, upload_page
from envwatch.processing.quarantine import QuarantinedFinding, quarantine
from envwatch.rules.engine import RuleEngine, default_rule_set
from envwatch.rules.model import Finding, Upload
from envwatch.rules.parameters import RuleSet
from envwatch.store.cursors import read_cursor, save_cursor
from envwatch.store.db import dialect_insert
from envwatch.store.schema import (
    ArchivedFrame,
    FindingRecord,
)

log = logging.getLogger(__name__)

STREAM_CURSOR = "rules"
BATCH_CURSOR = "rules:electricity_batches"
"""The last electricity batch processed (kept in ``last_frame_id``: a batch id)."""


def json_safe(value: Any) -> Any:
    """``value`` as JSON every database takes: NaN and infinities become null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    return value


def _finding_row(finding: Finding, rule_set_version: str) -> dict[str, Any]:
    return {
        "mn": finding.mn,
        "pollutant": finding.pollutant or "",
        "rule": finding.rule,
        "rule_version": finding.rule_version,
        "rule_set_version": rule_set_version,
        "window_start": finding.window_start,
        "window_end": finding.window_end,
        "severity": str(finding.severity),
        "explanation": finding.explanation,
        "evidence": json_safe(dict(finding.evidence)),
        "found_at": datetime.now(UTC),
    }


def store_findings(
    connection: Connection, findings: Iterable[Finding], rule_set_version: str
) -> int:
    """Insert ``findings`` unless already stored (same rule, MN, pollutant and
    window start); how many were offered. A finding the database refuses is
    quarantined with the refusal; the others are stored all the same."""
    rows = [_finding_row(finding, rule_set_version) for finding in findings]
    if not rows:
        return 0
    insert = dialect_insert(connection, FindingRecord).on_conflict_do_nothing()
    try:
        with connection.begin_nested():
            connection.execute(insert, rows)
    except DBAPIError:
        for row in rows:
            try:
                with connection.begin_nested():
                    connection.execute(insert, [row])
            except DBAPIError as error:
                quarantine(
                    connection, [QuarantinedFinding(row, f"{type(error).__name__}: {error}")]
                )
    return len(rows)


@dataclass
class Processor:
    """Follows the archive: each pass feeds the uploads committed since the last
    pass to the engine and stores the findings and the cursor in one transaction."""

    engine: Engine
    rule_set: RuleSet
    codes: ElectricityCodes
    rules: RuleEngine | None = None
    last_frame_id: int | None = None
    last_batch_id: int | None = None
    """How far it got through the electricity batches (their readings)."""
    findings: int = 0
    quarantined: int = 0
    """Uploads set aside since start (a rule failed on them): the metric."""
    warm_up: timedelta = timedelta(hours=24)
    """Each device's data fed again on a start (``Settings.rules_warm_up_h``)."""
    live_clock: bool = False
    """Also let the wall clock (China Standard Time) move the data clock, so
    silence shows even when every device falls silent; for live data only."""
    simulated: bool = False
    """The demo's simulated loggers, catching up with the wall clock, send their
    history live: their receive times say nothing, data times stand in."""
    warm_up_frames: int = 500_000
    batch_frames: int = 2000
    """Frames read per pass at most."""
    cursor: str = STREAM_CURSOR
    batch_cursor: str = BATCH_CURSOR
    owns: Callable[[str], bool] | None = None
    """Cluster mode: the devices (MN) of this processor's partition; None: all."""

    @classmethod
    def create(
        cls, engine: Engine, rule_set: RuleSet | None = None, *, simulated: bool = False
    ) -> Processor:
        return cls(engine, rule_set or default_rule_set(), default_codes(), simulated=simulated)

    def refresh_registry(self) -> None:
        contexts = load_contexts(self.engine, now_cst().replace(tzinfo=None))
        if self.owns is not None:
            owns = self.owns
            contexts = {mn: context for mn, context in contexts.items() if owns(mn)}
        if self.rules is None:
            self.rules = RuleEngine(self.rule_set, contexts, trust_arrival=not self.simulated)
        else:
            self.rules.contexts = contexts

    def _warm_up(self, connection: Connection, cursor: int) -> None:
        """Rebuild the rules' state from the uploads of the ``warm_up`` before the
        cursor (at most ``warm_up_frames`` frames back), whose findings are stored
        already: a run of values that spans a restart is then neither missed nor
        found twice. The ``warm_up`` is each device's own, back from its newest
        data: a device whose data lag the others' (a logger sending its history)
        is warmed up as fully as they are."""
        assert self.rules is not None
        start = max(0, cursor - self.warm_up_frames)
        owned = self.mns()
        newest_of = select(ArchivedFrame.mn, func.max(ArchivedFrame.data_time)).where(
            ArchivedFrame.id > start,
            ArchivedFrame.id <= cursor,
            ArchivedFrame.data_time.is_not(None),
            ArchivedFrame.mn.is_not(None),
        )
        if owned is not None:
            newest_of = newest_of.where(ArchivedFrame.mn.in_(owned))
        since_of: dict[str, datetime] = {
            mn: newest - self.warm_up
            for mn, newest in connection.execute(newest_of.group_by(ArchivedFrame.mn))
            if mn is not None and newest is not None
        }
        if not since_of:
            return
        for page in pages_after(
            connection, start, self.codes, since=min(since_of.values()),
            through_frame_id=cursor, mns=owned,
        ):  # fmt: skip
            for upload in page:
                since = since_of.get(upload.mn)
                if since is not None and upload.data_time >= since:
                    self.rules.feed(upload)
            self.rules.advance_clock()
        self.rules.failures.clear()  # set aside when first processed

    def mns(self) -> set[str] | None:
        """The MNs to read (None: all): those of the partition."""
        if self.owns is None or self.rules is None:
            return None
        return set(self.rules.contexts)

    def run_once(self) -> int:
        """One pass; 0 when there was nothing new, else the uploads processed
        (at least 1, since frames without uploads were read past). A pass that
        fails leaves nothing behind: the next starts from the stored cursor."""
        try:
            return self._pass()
        except BaseException:
            # The rules have seen the failed pass's uploads, whose findings were
            # not stored: fed again, a run already open would not be found.
            # Rebuilt from the store, as after a restart.
            self.rules = None
            self.last_frame_id = self.last_batch_id = None
            raise

    def _pass(self) -> int:
        if self.rules is None:
            self.refresh_registry()
        assert self.rules is not None
        with self.engine.begin() as connection:
            if self.last_frame_id is None:
                self.last_frame_id = read_cursor(connection, self.cursor)
                if self.last_frame_id:
                    self._warm_up(connection, self.last_frame_id)
            if self.last_batch_id is None:
                self.last_batch_id = read_cursor(connection, self.batch_cursor)
            page = upload_page(
                connection, self.last_frame_id, self.codes, limit_frames=self.batch_frames,
                mns=self.mns(),
            )  # fmt: skip
            batches = batch_page(connection, self.last_batch_id)
            if page.last_frame_id is None and batches.last_batch_id is None:
                return 0
            batched = batches.uploads
            if self.owns is not None:
                batched = [upload for upload in batched if upload.mn in self.rules.contexts]
            uploads = [*batched, *page.uploads]
            found: list[Finding] = []
            for upload in uploads:
                found += self.rules.feed(upload)
            found += self.rules.advance_clock(
                now_cst().replace(tzinfo=None) if self.live_clock else None
            )
            self.quarantined += quarantine(connection, self.rules.failures)
            self.rules.failures.clear()
            self.findings += store_findings(connection, found, self.rule_set.version)
            # Past every frame read, also those with no uploads (resends).
            last_frame = page.last_frame_id or self.last_frame_id
            last_batch = batches.last_batch_id or self.last_batch_id
            save_cursor(connection, self.cursor, last_frame)
            save_cursor(connection, self.batch_cursor, last_batch)
        self.last_frame_id, self.last_batch_id = last_frame, last_batch
        return max(1, len(uploads))


async def follow_archive(
    processor: Processor,
    stop: asyncio.Event,
    *,
    interval_s: float = 0.2,
    registry_refresh_s: float = 60.0,
) -> None:
    """Run passes until ``stop``: at once while there is a backlog, else every ``interval_s``."""
    loop = asyncio.get_running_loop()
    refreshed = loop.time()
    while not stop.is_set():
        try:
            if loop.time() - refreshed > registry_refresh_s:
                await asyncio.to_thread(processor.refresh_registry)
                refreshed = loop.time()
            processed = await asyncio.to_thread(processor.run_once)
        except Exception as error:  # the store may be down: try again later
            log.warning("rules pass failed: %s", error)
            processed = 0
        if not processed:
            with contextlib.suppress(TimeoutError):  # no backlog: wait a little
                await asyncio.wait_for(stop.wait(), interval_s)


def batch_uploads(connection: Connection, since: datetime, until: datetime) -> list[Upload]:
    """Every batch reading timed in [since, until), in time order."""
    uploads: list[Upload] = []
    last = 0
    while (page := batch_page(connection, last, since=since, until=until)).last_batch_id:
        uploads += page.uploads
        last = page.last_batch_id
    return sorted(uploads, key=lambda upload: upload.data_time)


def replay(
    engine: Engine,
    since: datetime,
    until: datetime,
    rule_set: RuleSet | None = None,
    *,
    trust_arrival: bool = True,
) -> int:
    """Recompute the findings of uploads with DataTime in [since, until) (China
    Standard Time, naive): the window's findings are replaced by what the
    current rules find. The number of findings. ``trust_arrival`` False for
    the demo's simulated loggers (``Processor.simulated``)."""
    rule_set = rule_set or default_rule_set()
    contexts = load_contexts(engine, now_cst().replace(tzinfo=None))
    rules = RuleEngine(rule_set, contexts, trust_arrival=trust_arrival)
    codes = default_codes()
    found: list[Finding] = []
    with engine.begin() as connection:
        # Readings that came in batches go in with the archive's pages, those
        # no later than the page's newest data first.
        batched = deque(batch_uploads(connection, since, until))
        # The clock moved by the newest arrival fed (``RuleEngine.replay``), as
        # the columnar replay assumes.
        for page in pages_after(connection, 0, codes, since=since, until=until):
            newest = max((upload.data_time for upload in page), default=None)
            while batched and newest is not None and batched[0].data_time <= newest:
                found += rules.replay(batched.popleft())
            for upload in page:
                found += rules.replay(upload)
        for upload in batched:
            found += rules.replay(upload)
        found += rules.advance_clock()
        found += rules.finish()  # back-fills still open at the window's end
        quarantine(connection, rules.failures)
        connection.execute(
            delete(FindingRecord).where(
                FindingRecord.window_start >= since, FindingRecord.window_start < until
            )
        )
        store_findings(connection, found, rule_set.version)
    return len(found)
