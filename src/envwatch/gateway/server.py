"""The asyncio TCP server: moves bytes, runs timers, hands frames to the store.

Per connection: one ``Decoder``; every item it yields is admitted
(``admission.admit``), archived through the ``GroupCommitter`` and, once the
transaction holding it has committed, answered. Answers go out in the order
the frames came in. A failing store means no answers (the loggers resend),
never a crash. Bad input on one connection never touches another.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine, select

from envwatch.electricity.hj212 import load_codes
from envwatch.gateway.admission import (
    Admission,
    Device,
    admit,
    coalesced,
    connection_options,
    over_rate,
)
from envwatch.gateway.committer import FrameSink, GroupCommitter, StoreUnavailableError
from envwatch.gateway.peers import Episodes, PeerBudget, PeerConnections, connection_limit
from envwatch.gateway.writer_process import ArchiveProcess
from envwatch.hj212 import DecodeOptions, Decoder, Packet, ProtocolVersion, encode_packet
from envwatch.hj212.codes import now_cst
from envwatch.hj212.initialisation import InitialisationPlan, initialisation_commands
from envwatch.settings import Settings
from envwatch.store.archive import Archive, ReceivedFrame
from envwatch.store.schema import Meter, MonitoringPoint

log = logging.getLogger(__name__)

_READ_SIZE = 65536


def load_devices(engine: Engine) -> dict[str, Device]:
    """The active monitoring points of the registry, by MN (with their meter, if
    the point is an electricity meter reporting over HJ 212)."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(MonitoringPoint).where(MonitoringPoint.active.is_(True))
        ).all()
        meters: dict[str, int] = {}
        for meter_id, mn in connection.execute(
            select(Meter.id, Meter.mn).where(Meter.mn.is_not(None)).order_by(Meter.id)
        ):
            if mn is None:
                continue
            if mn in meters:
                log.warning("meters %d and %d share MN %s: readings go to %d",
                            meters[mn], meter_id, mn, meters[mn])  # fmt: skip
                continue
            meters[mn] = meter_id
    devices = {}
    for row in rows:
        version = ProtocolVersion(row.protocol_version)
        devices[row.mn] = Device(
            mn=row.mn,
            pw=row.pw,
            st=row.st,
            version=version,
            options=DecodeOptions(
                lenient=row.lenient,
                verify_crc=row.verify_crc,
                verify_length=row.verify_length,
                version=version,
            ),
            meter_id=meters.get(row.mn),
        )
    return devices


@dataclass(slots=True)
class _Connection:
    writer: asyncio.StreamWriter
    last_read: float
    """Event-loop time of the connection's latest read."""
    address: str = ""
    timed_out: bool = False
    frame_started: float | None = None
    """Event-loop time the unfinished frame in the decoder began arriving (None: none)."""


@dataclass
class _RateLimit:
    """A token bucket per device."""

    rate: float
    burst: float
    tokens: float
    stamp: float = field(default_factory=time.monotonic)

    def allow(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class Gateway:
    def __init__(
        self,
        settings: Settings,
        committer: FrameSink,
        devices: Mapping[str, Device],
    ) -> None:
        self.settings = settings
        self.committer = committer
        self.devices = devices
        self.counts: Counter[str] = Counter()
        self.electricity_codes = load_codes(settings.electricity_codes_file)
        self._server: asyncio.Server | None = None
        self._connections: dict[asyncio.Task[None], _Connection] = {}
        self._rates: dict[str, _RateLimit] = {}
        self._sweeper: asyncio.Task[None] | None = None
        self.max_connections = connection_limit(
            settings.max_connections, settings.descriptor_reserve
        )
        self._budget = PeerBudget(
            settings.peer_rejected_bytes_per_min,
            settings.peer_rejected_records_per_min,
            settings.peer_ban_s,
        )
        self._per_peer = PeerConnections(settings.max_connections_per_peer)
        self._episodes = Episodes(settings.overload_quiet_s, log.warning)

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self, host: str | None = None, port: int | None = None) -> None:
        self._server = await asyncio.start_server(
            self._accept,
            host if host is not None else self.settings.gateway_host,
            port if port is not None else self.settings.gateway_port,
            limit=_READ_SIZE,
        )
        self._sweeper = asyncio.create_task(self._close_idle(), name="idle-sweeper")
        loop = asyncio.get_running_loop()
        default_handler = loop.get_exception_handler()

        def on_loop_error(loop: asyncio.AbstractEventLoop, context: dict[str, object]) -> None:
            # Out of descriptors, asyncio reports every failed accept: one line an episode.
            if str(context.get("message", "")).startswith("socket.accept() out of system"):
                self._episodes.occurred("accepting connections fails", str(
                    context.get("exception")), loop.time())  # fmt: skip
            elif default_handler is not None:
                default_handler(loop, context)
            else:
                loop.default_exception_handler(context)

        loop.set_exception_handler(on_loop_error)

    async def _close_idle(self) -> None:
        # One timer for all connections instead of one per read: a read is the
        # gateway's hottest path.
        settings = self.settings
        idle = settings.idle_timeout_s
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(min(idle / 4, settings.frame_deadline_s / 4, 1.0))
            now = loop.time()
            self._episodes.settle(now)
            self._budget.forget_idle(now)
            for connection in list(self._connections.values()):
                if connection.timed_out:
                    continue
                started = connection.frame_started
                if now - connection.last_read > idle:
                    self.counts["idle_timeouts"] += 1
                elif started is not None and now - started > settings.frame_deadline_s:
                    # A frame trickling in (slowloris) keeps no slot for ever.
                    self.counts["frame_timeouts"] += 1
                else:
                    continue
                connection.timed_out = True
                # The pending read sees the end of the stream: what the
                # connection sent is stored before it closes.
                connection.writer.transport.abort()

    async def stop(self, grace: float = 10.0) -> None:
        """Stop accepting; close every connection after what it received is stored."""
        if self._server is not None:
            self._server.close()
        if self._sweeper is not None:
            self._sweeper.cancel()
        for connection in list(self._connections.values()):
            # The pending read sees the end of the stream: the connection's
            # last frames are stored (and answered if still possible) first.
            connection.writer.transport.abort()
        if self._connections:
            _, late = await asyncio.wait(list(self._connections), timeout=grace)
            for task in late:
                task.cancel()
        if self._server is not None:
            await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        peername = writer.get_extra_info("peername")
        address = str(peername[0]) if peername else "?"
        now = asyncio.get_running_loop().time()
        refusal = None
        if self._budget.banned(address, now):
            refusal = "refused_banned_peer"
        elif len(self._connections) >= self.max_connections:
            refusal = "refused_connections"
        elif not self._per_peer.open(address):
            refusal = "refused_peer_connections"
        if refusal is not None:
            self.counts[refusal] += 1
            self._episodes.occurred(refusal, f"{address}; {len(self._connections)} open "
                                    f"of {self.max_connections}", now)  # fmt: skip
            writer.transport.abort()
            return
        try:
            await self._serve_connection(task, reader, writer, address)
        finally:
            self._per_peer.close(address)

    async def _serve_connection(
        self,
        task: asyncio.Task[None],
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        address: str,
    ) -> None:
        connection = self._connections[task] = _Connection(
            writer, asyncio.get_running_loop().time(), address
        )
        if self.settings.send_buffer_bytes:
            sock = writer.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(
                    socket.SOL_SOCKET, socket.SO_SNDBUF, self.settings.send_buffer_bytes
                )
        try:
            await self._serve(reader, connection)
        except ConnectionError:
            self.counts["connection_errors"] += 1
        finally:
            del self._connections[task]
            writer.close()

    def _initialisation(self, device: Device) -> list[Packet]:
        settings = self.settings
        plan = InitialisationPlan(
            rtd_interval_s=settings.init_rtd_interval_s,
            min_interval_min=settings.init_min_interval_min,
        )
        return initialisation_commands(
            mn=device.mn,
            pw=device.pw,
            st=device.st,
            version=device.version,
            plan=plan,
            now=now_cst(),
        )

    def _within_rate(self, mn: str) -> bool:
        bucket = self._rates.get(mn)
        if bucket is None:
            burst = float(self.settings.device_rate_burst)
            bucket = self._rates[mn] = _RateLimit(self.settings.device_rate_per_s, burst, burst)
        return bucket.allow()

    async def _serve(self, reader: asyncio.StreamReader, connection: _Connection) -> None:
        writer = connection.writer
        peername = writer.get_extra_info("peername")
        peer = f"{peername[0]}:{peername[1]}" if peername else "?"
        decoder = Decoder(connection_options())
        connection_mn: str | None = None
        settings = self.settings
        loop = asyncio.get_running_loop()
        while True:
            try:
                data = await reader.read(_READ_SIZE)
            except ConnectionError:
                data = b""
            now = connection.last_read = loop.time()
            decoded_with = decoder.options
            initialise: Device | None = None
            items = decoder.feed(data) if data else decoder.close()
            if not decoder.buffered:
                connection.frame_started = None
            elif connection.frame_started is None:
                connection.frame_started = now
            received_at = datetime.now(UTC)
            admissions: list[Admission] = []
            for item in items:
                admission = admit(
                    item,
                    self.devices,
                    peer=peer,
                    received_at=received_at,
                    connection_mn=connection_mn,
                    decoded_with=decoded_with,
                    electricity_codes=self.electricity_codes,
                )
                if admission.device is not None:
                    if connection_mn is None:
                        # Read the rest of the stream the way this device is registered.
                        decoder.options = admission.device.options
                        if settings.initialise_devices:
                            initialise = admission.device
                    connection_mn = admission.device.mn
                    if not self._within_rate(connection_mn):
                        admission = over_rate(admission, settings.device_rate_per_s)
                self.counts[admission.record.verdict] += 1
                if admission.record.error_code:
                    self.counts[admission.record.error_code] += 1
                admissions.append(admission)
            over_budget = False
            if any(not admission.accepted for admission in admissions):
                rejected_bytes = sum(len(a.record.raw) for a in admissions if not a.accepted)
                admissions = coalesced(admissions, settings.rejected_sample_bytes)
                records = sum(not admission.accepted for admission in admissions)
                over_budget = not self._budget.charge(
                    connection.address, rejected_bytes, records, now
                )
                if over_budget:
                    # Told here, not at the hang-up below: a peer that stops
                    # reading leaves by the slow-client path and is banned all the same.
                    self.counts["peers_over_budget"] += 1
                    self._episodes.occurred("peers over their rejected-input budget",
                                            connection.address, now)  # fmt: skip
            answers: list[bytes] = []
            if admissions:
                try:
                    ids = await self.committer.submit(
                        [admission.record for admission in admissions]
                    )
                except StoreUnavailableError:
                    self.counts["unacknowledged"] += len(admissions)
                else:
                    # A frame the store refused (id None) was archived as rejected: no answer.
                    self.counts["unstorable"] += ids.count(None)
                    answers.extend(
                        encode_packet(reply)
                        for admission, frame_id in zip(admissions, ids, strict=True)
                        if frame_id is not None
                        for reply in admission.replies
                    )
            if initialise is not None:
                answers.extend(
                    encode_packet(command) for command in self._initialisation(initialise)
                )
            if answers and not writer.is_closing():
                writer.write(b"".join(answers))
                # Wait only when the kernel did not take it all: usually it does.
                if writer.transport.get_write_buffer_size():
                    try:
                        await asyncio.wait_for(writer.drain(), settings.write_timeout_s)
                    except (TimeoutError, ConnectionError):
                        self.counts["slow_clients"] += 1
                        return
            if over_budget:
                # What it sent is stored; now it is refused for a while.
                return
            if not data:
                return


async def run_gateway(settings: Settings, engine: Engine, *, stop: asyncio.Event) -> None:
    """Serve until ``stop`` is set; then drain and commit what was received."""
    writer: ArchiveProcess | None = None
    write_batch: Callable[[Sequence[ReceivedFrame]], list[int | None]] = Archive(engine).write_batch
    if settings.archive_writer_process and engine.url.database not in (None, "", ":memory:"):
        writer = ArchiveProcess(engine.url.render_as_string(hide_password=False))
        write_batch = writer.write_batch
    committer = GroupCommitter(
        write_batch,
        max_batch=settings.commit_max_batch,
        max_wait=settings.commit_max_wait_ms / 1000,
        depth=1 if writer is None else 2,
    )
    committer.start()
    try:
        gateway = await serve_gateway(settings, engine, committer, stop)
    finally:
        await committer.close()
        if writer is not None:
            await asyncio.to_thread(writer.close)
    log.info(
        "gateway stopped: %d frames in %d commits (%.1f ms each on average); %s",
        committer.frames,
        committer.batches,
        1000 * committer.commit_seconds / max(1, committer.batches),
        dict(gateway.counts),
    )


async def serve_gateway(
    settings: Settings, engine: Engine, sink: FrameSink, stop: asyncio.Event
) -> Gateway:
    """A gateway on ``sink`` until ``stop``; its registry (read from ``engine``)
    kept current. Returns the stopped gateway, every connection closed after
    what it sent was handed to ``sink``."""
    gateway = Gateway(settings, sink, load_devices(engine))
    await gateway.start()
    log.info("HJ 212 gateway listening on %s:%d", settings.gateway_host, gateway.port)

    async def refresh_registry() -> None:
        # Devices registered (or deactivated) since start-up, without a restart.
        while True:
            await asyncio.sleep(settings.registry_refresh_s)
            try:
                gateway.devices = await asyncio.to_thread(load_devices, engine)
            except Exception as error:  # the store may be down; keep the old view
                log.warning("registry refresh failed: %s", error)

    refresher = asyncio.create_task(refresh_registry())
    try:
        await stop.wait()
    finally:
        refresher.cancel()
        await gateway.stop()
    return gateway
