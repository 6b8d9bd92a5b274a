"""Group commit: many frames, one transaction, one fsync.

Connections ``submit`` the frames of one read as a group and wait; a single
task gathers what is queued (about ``max_batch`` frames, waiting at most
``max_wait`` for more) and writes it in one transaction on a worker thread.
Each group learns its row ids once the transaction has committed, and only
then may its frames be acknowledged. When the store fails, every group of that
batch gets ``StoreUnavailableError``: nothing is acknowledged, the loggers
resend. A group is never split across transactions.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import NamedTuple, Protocol

from envwatch.store.archive import ReceivedFrame
from envwatch.store.db import error_summary

log = logging.getLogger(__name__)


class StoreUnavailableError(Exception):
    """The batch holding this frame could not be committed."""


class FrameSink(Protocol):
    """Where a gateway hands the frames of one read: resolves to their ids once
    durable (None: refused, archived as rejected), or raises
    ``StoreUnavailableError``. ``GroupCommitter`` here, ``JetStreamSink`` in
    cluster mode."""

    def submit(self, frames: Sequence[ReceivedFrame]) -> Awaitable[list[int | None]]: ...


class _Group(NamedTuple):
    """The frames of one read of one connection: committed and answered together."""

    frames: Sequence[ReceivedFrame]
    future: asyncio.Future[list[int | None]]


class GroupCommitter:
    def __init__(
        self,
        write_batch: Callable[[Sequence[ReceivedFrame]], list[int | None]],
        *,
        max_batch: int = 500,
        max_wait: float = 0.005,
        depth: int = 1,
    ) -> None:
        """``depth``: batches in flight at once. More than 1 only for a
        ``write_batch`` that is safe to call from several threads and stores
        batches one after another (``ArchiveProcess``): the next batch is then
        gathered and sent while the previous one commits."""
        self._write_batch = write_batch
        self.max_batch = max_batch
        self.max_wait = max_wait
        self._slots = asyncio.Semaphore(depth)
        self._in_flight: set[asyncio.Task[None]] = set()
        self._queue: asyncio.Queue[_Group | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.batches = 0
        self.frames = 0
        self.commit_seconds = 0.0
        self.failures = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="group-commit")

    def submit(self, frames: Sequence[ReceivedFrame]) -> asyncio.Future[list[int | None]]:
        """Queue ``frames``; resolves to their archive row ids once committed."""
        future: asyncio.Future[list[int | None]] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Group(frames, future))
        return future

    async def close(self) -> None:
        """Commit everything queued, then stop."""
        if self._task is None:
            return
        self._queue.put_nowait(None)
        await self._task
        self._task = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        stopping = False
        while not stopping:
            group = await self._queue.get()
            if group is None:
                break
            batch = [group]
            size = len(group.frames)
            deadline = loop.time() + self.max_wait
            while size < self.max_batch:
                try:
                    more = self._queue.get_nowait()
                except asyncio.QueueEmpty:
                    timeout = deadline - loop.time()
                    if timeout <= 0:
                        break
                    try:
                        more = await asyncio.wait_for(self._queue.get(), timeout)
                    except TimeoutError:
                        break
                if more is None:
                    stopping = True
                    break
                batch.append(more)
                size += len(more.frames)
            await self._slots.acquire()
            task = asyncio.create_task(self._commit(batch))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)
        if self._in_flight:
            await asyncio.wait(self._in_flight)

    async def _commit(self, batch: list[_Group]) -> None:
        try:
            await self._store(batch)
        finally:
            self._slots.release()

    async def _store(self, batch: list[_Group]) -> None:
        frames = [frame for group in batch for frame in group.frames]
        started = time.perf_counter()
        try:
            ids = await asyncio.to_thread(self._write_batch, frames)
        except Exception as error:
            self.failures += 1
            log.warning("commit of %d frames failed: %s", len(frames), error_summary(error))
            for group in batch:
                if not group.future.done():
                    group.future.set_exception(StoreUnavailableError(error_summary(error)))
            return
        self.batches += 1
        self.frames += len(frames)
        self.commit_seconds += time.perf_counter() - started
        offset = 0
        for group in batch:
            count = len(group.frames)
            if not group.future.done():
                group.future.set_result(ids[offset : offset + count])
            offset += count
