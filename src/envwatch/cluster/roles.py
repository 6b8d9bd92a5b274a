"""The roles of a cluster: gateway, archive writer, rule and alert worker.

Writers and workers share the partitions of the frames stream through leases
in PostgreSQL (``PartitionedRole``): each live member takes at most its fair
share, a member that dies loses its partitions after the lease's time to
live and the others take them over. The alert desk and its sweeps (with the
hourly emissions and daily quality followers) run in exactly one worker at a
time, under the ``desk`` lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from sqlalchemy import Connection, Engine, func, select, text

from envwatch.cluster import metrics
from envwatch.cluster.frames import BadMessageError, decode_frame, partition_of, subject
from envwatch.cluster.jetstream import JetStreamSink, connect, ensure_stream
from envwatch.cluster.lease import Leases, fair_share, member_lease
from envwatch.processing.compaction import follow_compaction
from envwatch.settings import Settings
from envwatch.store.archive import Archive, ReceivedFrame
from envwatch.store.cursors import read_cursor
from envwatch.store.db import error_summary
from envwatch.store.partitions import at_start as partitions_at_start
from envwatch.store.partitions import periodic as periodic_partitions
from envwatch.store.schema import ArchivedFrame

log = logging.getLogger(__name__)

DESK_LEASE = "desk"


def member_name(role: str) -> str:
    return f"{role}-{socket.gethostname()}-{os.getpid()}"


def ingest_cursor(partition: int) -> str:
    """The writer's position in a partition: the last stream sequence stored."""
    return f"ingest:p{partition}"


def partition_lease(role: str, partition: int) -> str:
    return f"{role}:p{partition}"


class PartitionMovedError(Exception):
    """Another member stored this partition meanwhile: this one lost it."""


async def run_gateway_role(settings: Settings, engine: Engine, stop: asyncio.Event) -> None:
    """A gateway publishing to JetStream until ``stop``."""
    from envwatch.gateway.server import serve_gateway  # noqa: PLC0415

    assert settings.nats_url is not None
    nc = await connect(settings.nats_url, member_name("gateway"))
    js = nc.jetstream()
    await ensure_stream(js, settings)
    sink = JetStreamSink(js, settings)
    health = await _health(settings, lambda: nc.is_connected)
    # Seen in ``cluster status`` beside the writers and workers.
    heartbeat = asyncio.create_task(_heartbeat("gateway", settings, engine, stop))
    try:
        gateway = await serve_gateway(settings, engine, sink, stop)
    finally:
        await heartbeat
        await nc.drain()
        if health is not None:
            health.close()
    log.info("gateway stopped: %d frames published (%d duplicates); %s",
             sink.published, sink.duplicates, dict(gateway.counts))  # fmt: skip


async def _heartbeat(role: str, settings: Settings, engine: Engine, stop: asyncio.Event) -> None:
    leases = Leases(engine, member_name(role), settings.cluster_lease_ttl_s)
    while not stop.is_set():
        with contextlib.suppress(Exception):  # the database down: the gateway serves on
            await asyncio.to_thread(leases.heartbeat, role)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), settings.cluster_lease_ttl_s / 3)
    with contextlib.suppress(Exception):
        await asyncio.to_thread(leases.release, member_lease(role, leases.holder))


async def _health(settings: Settings, ready: Callable[[], bool]) -> asyncio.Server | None:
    if settings.metrics_port is None:
        return None
    return await metrics.serve_health(settings.gateway_host, settings.metrics_port, ready)


PartitionTask = Callable[[int, asyncio.Event], Awaitable[None]]


class PartitionedRole:
    """Holds a fair share of the partitions under leases; runs ``work(partition,
    stop)`` for each held, stops it when the lease is lost or given up."""

    def __init__(self, role: str, settings: Settings, engine: Engine, work: PartitionTask) -> None:
        self.role = role
        self.settings = settings
        self.name = member_name(role)
        self.leases = Leases(engine, self.name, settings.cluster_lease_ttl_s)
        self.work = work
        self.held: dict[int, tuple[asyncio.Task[None], asyncio.Event]] = {}
        self.healthy = False

    def _start(self, partition: int) -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(self._guarded(partition, stop), name=f"p{partition}")
        self.held[partition] = (task, stop)
        log.info("%s took partition %d", self.name, partition)

    async def _guarded(self, partition: int, stop: asyncio.Event) -> None:
        try:
            await self.work(partition, stop)
        except Exception:
            log.exception("%s: partition %d failed", self.name, partition)

    async def _give_up(self, partition: int) -> None:
        task, stop = self.held.pop(partition)
        stop.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), self.settings.cluster_stop_grace_s)
        except TimeoutError:
            # Safe to cut short: what it stored is recorded with its position.
            log.warning("%s: partition %d did not stop in time; cancelled", self.name, partition)
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        await asyncio.to_thread(self.leases.release, partition_lease(self.role, partition))
        log.info("%s gave up partition %d", self.name, partition)

    async def tick(self) -> None:
        leases = self.leases
        count = self.settings.cluster_partitions
        await asyncio.to_thread(leases.heartbeat, self.role)
        members = await asyncio.to_thread(leases.live_members, self.role)
        share = fair_share(count, len(members))
        for partition in list(self.held):
            task, _ = self.held[partition]
            kept = await asyncio.to_thread(leases.acquire, partition_lease(self.role, partition))
            if not kept or task.done():
                # Lost (or its work ended on an error): stop, and take it anew below.
                await self._give_up(partition)
        while len(self.held) > share:
            await self._give_up(max(self.held))
        # Start the search at this member's place among the members: spread out.
        index = members.index(self.name) if self.name in members else 0
        for step in range(count):
            if len(self.held) >= share:
                break
            partition = (index * share + step) % count
            if partition in self.held:
                continue
            if await asyncio.to_thread(leases.acquire, partition_lease(self.role, partition)):
                self._start(partition)
        metrics.PARTITIONS_HELD.labels(self.role).set(len(self.held))

    async def run(self, stop: asyncio.Event) -> None:
        interval = self.settings.cluster_lease_ttl_s / 3
        while not stop.is_set():
            try:
                await self.tick()
                self.healthy = True
            except Exception as error:  # PostgreSQL down: keep what runs, retry
                self.healthy = False
                log.warning("%s: lease round failed: %s", self.name, error_summary(error))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)
        # Graceful: every partition finishes its batch (in parallel), then its lease goes.
        await asyncio.gather(*(self._give_up(partition) for partition in list(self.held)))
        with contextlib.suppress(Exception):
            await asyncio.to_thread(self.leases.release, member_lease(self.role, self.name))


class PartitionWriter:
    """Stores one partition of the stream in PostgreSQL, in stream order.

    Exactly once: the partition's position (the last stream sequence stored)
    is updated in the same transaction as the frames, conditionally on its
    value before (``guard``); a redelivered message at or below it is only
    acknowledged. On taking a partition the writer recreates its consumer to
    start right after the stored position, so delivery is in stream order
    whatever the previous holder left unacknowledged.
    """

    def __init__(self, settings: Settings, engine: Engine, js: JetStreamContext) -> None:
        self.settings = settings
        self.engine = engine
        self.js = js
        self.archive = Archive(engine)
        self._subscriptions: dict[int, JetStreamContext.PullSubscription] = {}

    def _position(self, partition: int) -> int:
        with self.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO processing_cursor (name, last_frame_id) VALUES (:name, 0) "
                    "ON CONFLICT (name) DO NOTHING"
                ),
                {"name": ingest_cursor(partition)},
            )
            return read_cursor(connection, ingest_cursor(partition))

    async def _subscribe(self, partition: int, position: int) -> JetStreamContext.PullSubscription:
        stream = self.settings.cluster_stream
        durable = f"writer-{partition}"
        with contextlib.suppress(NotFoundError):
            await self.js.delete_consumer(stream, durable)
        config = ConsumerConfig(
            durable_name=durable,
            filter_subject=subject(partition),
            ack_policy=AckPolicy.ALL,
            ack_wait=120,
            max_ack_pending=self.settings.cluster_batch * 4,
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE if position else DeliverPolicy.ALL,
            opt_start_seq=position + 1 if position else None,
        )
        old = self._subscriptions.pop(partition, None)
        if old is not None:
            with contextlib.suppress(Exception):
                await old.unsubscribe()
        await self.js.add_consumer(stream, config)
        subscription = await self.js.pull_subscribe_bind(durable=durable, stream=stream)
        self._subscriptions[partition] = subscription
        return subscription

    def _store(
        self, partition: int, seqs: list[int], frames: list[ReceivedFrame], base: int
    ) -> None:
        name = ingest_cursor(partition)

        def guard(connection: Connection, start: int, count: int) -> None:
            before = base if start == 0 else seqs[start - 1]
            after = seqs[start + count - 1]
            moved = connection.execute(
                text(
                    "UPDATE processing_cursor SET last_frame_id = :after "
                    "WHERE name = :name AND last_frame_id = :before"
                ),
                {"name": name, "before": before, "after": after},
            ).rowcount
            if moved != 1:
                raise PartitionMovedError(f"partition {partition} moved past {before}")

        self.archive.write_batch(frames, guard)

    async def run(self, partition: int, stop: asyncio.Event) -> None:
        self.archive.forget_heads()
        position = await asyncio.to_thread(self._position, partition)
        subscription = await self._subscribe(partition, position)
        try:
            await self._follow(partition, stop, position, subscription)
        finally:
            with contextlib.suppress(Exception):
                await self._subscriptions.pop(partition).unsubscribe()

    async def _follow(
        self,
        partition: int,
        stop: asyncio.Event,
        position: int,
        subscription: JetStreamContext.PullSubscription,
    ) -> None:
        label = str(partition)
        lag_checked = 0.0
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            try:
                messages = await subscription.fetch(self.settings.cluster_batch, timeout=1)
            except TimeoutError:
                messages = []
            except Exception as error:  # NATS restarting
                log.warning("partition %d: fetch failed: %s", partition, error)
                await asyncio.sleep(1)
                continue
            if loop.time() - lag_checked > 2:
                lag_checked = loop.time()
                with contextlib.suppress(Exception):
                    info = await self.js.consumer_info(
                        self.settings.cluster_stream, f"writer-{partition}"
                    )
                    metrics.QUEUE_LAG.labels(label).set(info.num_pending + info.num_ack_pending)
            if not messages:
                continue
            seqs: list[int] = []
            frames: list[ReceivedFrame] = []
            skipped = 0
            for message in messages:
                seq = message.metadata.sequence.stream
                if seq <= (seqs[-1] if seqs else position):
                    skipped += 1  # stored already (a redelivery)
                    continue
                seqs.append(seq)
                frames.append(_frame_of(message.data))
            if frames:
                try:
                    await asyncio.to_thread(self._store, partition, seqs, frames, position)
                except PartitionMovedError as error:
                    log.warning("%s; stopping it here", error)
                    return
                except Exception as error:  # PostgreSQL down: read again from the position
                    log.warning("partition %d: store failed: %s", partition, error_summary(error))
                    await asyncio.sleep(1)
                    position = await _retrying(lambda: self._position(partition), stop)
                    subscription = await self._subscribe(partition, position)
                    continue
                position = seqs[-1]
                metrics.FRAMES_STORED.labels(label).inc(len(frames))
            metrics.FRAMES_SKIPPED.inc(skipped)
            # Acknowledging the last acknowledges every one before it (AckPolicy.ALL:
            # delivery is in order). Unacknowledged: redelivered, then skipped.
            with contextlib.suppress(Exception):
                await messages[-1].ack()


def _frame_of(data: bytes) -> ReceivedFrame:
    """The frame of a message; what is not one is archived as a rejected byte run."""
    try:
        return decode_frame(data)
    except BadMessageError as error:
        return ReceivedFrame(
            received_at=datetime.now(UTC),
            peer="jetstream",
            raw=data[:65536],
            verdict="rejected",
            error_code="bad_message",
            warnings=f'[{{"code": "bad_message", "message": "{type(error).__name__}"}}]',
        )


async def _retrying(read: Callable[[], int], stop: asyncio.Event) -> int:
    while True:
        try:
            return await asyncio.to_thread(read)
        except Exception as error:
            if stop.is_set():
                raise
            log.warning("position read failed: %s", error_summary(error))
            await asyncio.sleep(1)


async def run_writer_role(settings: Settings, engine: Engine, stop: asyncio.Event) -> None:
    assert settings.nats_url is not None
    nc: Client = await connect(settings.nats_url, member_name("writer"))
    js = nc.jetstream()
    await ensure_stream(js, settings)
    # This month's and the coming months' partitions exist before the first
    # insert (the DEFAULT partition would take the rows anyway).
    await asyncio.to_thread(partitions_at_start, engine, settings)
    writer = PartitionWriter(settings, engine, js)
    role = PartitionedRole("writer", settings, engine, writer.run)
    health = await _health(settings, lambda: nc.is_connected and role.healthy)
    try:
        await role.run(stop)
    finally:
        await nc.drain()
        if health is not None:
            health.close()


def owner(partition: int, partitions: int) -> Callable[[str], bool]:
    return lambda mn: partition_of(mn, partitions) == partition


async def run_worker_role(settings: Settings, engine: Engine, stop: asyncio.Event) -> None:
    """Rules per partition; the alert desk and sweeps where this worker holds the desk."""
    from envwatch.processing.worker import Processor, follow_archive  # noqa: PLC0415
    from envwatch.rules.engine import default_rule_set  # noqa: PLC0415

    rule_set = default_rule_set(settings.rules_file)

    async def rules(partition: int, partition_stop: asyncio.Event) -> None:
        processor = Processor.create(engine, rule_set)
        processor.owns = owner(partition, settings.cluster_partitions)
        processor.cursor = f"rules:p{partition}"
        processor.batch_cursor = f"rules:batches:p{partition}"
        processor.live_clock = settings.cluster_live_clock
        processor.warm_up = timedelta(hours=settings.rules_warm_up_h)
        lag = asyncio.create_task(_rule_lag(engine, processor, partition, partition_stop))
        try:
            await follow_archive(processor, partition_stop)
        finally:
            await lag

    role = PartitionedRole("worker", settings, engine, rules)
    desk = SingleActive(DESK_LEASE, settings, engine, role.name)
    health = await _health(settings, lambda: role.healthy)
    try:
        await asyncio.gather(role.run(stop), desk.run(stop))
    finally:
        if health is not None:
            health.close()


class SingleActive:
    """The alert desk and its sweeps in one worker of the cluster at a time."""

    def __init__(self, lease: str, settings: Settings, engine: Engine, holder: str) -> None:
        self.lease = lease
        self.settings = settings
        self.engine = engine
        self.leases = Leases(engine, holder, settings.cluster_lease_ttl_s)
        self.active: tuple[asyncio.Future[Any], asyncio.Event] | None = None

    def _start(self) -> None:
        from envwatch.alerts.desk import AlertDesk  # noqa: PLC0415
        from envwatch.alerts.notify import Mail, Notifier  # noqa: PLC0415
        from envwatch.alerts.policy import load_policy  # noqa: PLC0415
        from envwatch.alerts.service import run_alert_loop  # noqa: PLC0415
        from envwatch.alerts.workflow import load_workflow  # noqa: PLC0415
        from envwatch.permits.materialise import Materialiser, follow_emissions  # noqa: PLC0415
        from envwatch.quality.daily import follow_quality  # noqa: PLC0415
        from envwatch.rectification.desk import configured_desk  # noqa: PLC0415

        settings, engine = self.settings, self.engine
        desk = AlertDesk(
            engine,
            load_policy(settings.alert_policy_file),
            load_workflow(settings.alert_workflow_file),
        )
        notifier = Notifier(
            engine,
            Mail(settings.smtp_host, settings.smtp_port, settings.smtp_sender),
            settings.notify_timeout_s,
            settings.notify_max_attempts,
        )
        stop = asyncio.Event()
        sweepers = (
            configured_desk(engine).sweep,
            periodic_partitions(engine, settings, time.monotonic),
        )
        task = asyncio.ensure_future(
            asyncio.gather(
                run_alert_loop(desk, notifier, stop, sweepers=sweepers),
                follow_emissions(Materialiser.create(engine), stop),
                follow_quality(engine, stop),
                follow_compaction(engine, settings, stop),
                _alert_gauges(engine, stop),
            )
        )
        self.active = (task, stop)
        metrics.ROLE_ACTIVE.labels(self.lease).set(1)
        log.info("%s: now the active alert desk", self.leases.holder)

    async def _stop(self) -> None:
        if self.active is None:
            return
        task, stop = self.active
        self.active = None
        stop.set()
        with contextlib.suppress(BaseException):
            await asyncio.wait_for(task, self.settings.cluster_stop_grace_s)
        metrics.ROLE_ACTIVE.labels(self.lease).set(0)
        log.info("%s: no longer the alert desk", self.leases.holder)

    async def run(self, stop: asyncio.Event) -> None:
        interval = self.settings.cluster_lease_ttl_s / 3
        while not stop.is_set():
            try:
                held = await asyncio.to_thread(self.leases.acquire, self.lease)
            except Exception as error:
                log.warning("desk lease round failed: %s", error_summary(error))
                held = False
            if held and self.active is None:
                self._start()
            elif not held and self.active is not None:
                await self._stop()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)
        await self._stop()
        with contextlib.suppress(Exception):
            await asyncio.to_thread(self.leases.release, self.lease)


async def _alert_gauges(engine: Engine, stop: asyncio.Event) -> None:
    """Open alerts by level and failed notifications, every 15 s."""

    def read() -> tuple[list[tuple[str, int]], int]:
        with engine.connect() as connection:
            levels = connection.execute(
                text(
                    "SELECT level, count(*) FROM alert "
                    "WHERE state NOT IN ('closed', 'merged') GROUP BY level"
                )
            ).all()
            failed = connection.execute(
                text("SELECT count(*) FROM notification WHERE state = 'failed'")
            ).scalar_one()
        return [(str(level), int(count)) for level, count in levels], int(failed)

    while not stop.is_set():
        with contextlib.suppress(Exception):
            levels, failed = await asyncio.to_thread(read)
            for level, count in levels:
                metrics.ALERTS_OPEN.labels(level).set(count)
            metrics.NOTIFICATION_FAILURES.set(failed)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 15)


async def _rule_lag(engine: Engine, processor: Any, partition: int, stop: asyncio.Event) -> None:
    """Stored frames of the partition the rules have not processed, every 5 s."""

    def read() -> int:
        mns = processor.mns()
        if not mns or processor.last_frame_id is None:
            return 0
        with engine.connect() as connection:
            return int(
                connection.execute(
                    select(func.count())
                    .select_from(ArchivedFrame)
                    .where(ArchivedFrame.id > processor.last_frame_id, ArchivedFrame.mn.in_(mns))
                ).scalar_one()
            )

    while not stop.is_set():
        with contextlib.suppress(Exception):
            metrics.RULE_LAG.labels(str(partition)).set(await asyncio.to_thread(read))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 5)
