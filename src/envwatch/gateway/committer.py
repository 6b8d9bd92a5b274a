"""Group commit: many frames, one transaction, one fsync.

Connections ``submit`` what they received and wait; a single task gathers
what is queued (up to ``max_batch`` frames, waiting at most ``max_wait`` for
more) and writes it in one transaction on a worker thread. Each waiter learns
its row id once the transaction has committed, and only then may the frame be
acknowledged. When the store fails, every waiter of that batch gets
``StoreUnavailableError``: nothing is acknowledged, the loggers resend.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence

from envwatch.store.archive import ReceivedFrame

log = logging.getLogger(__name__)


class StoreUnavailableError(Exception):
    """The batch holding this frame could not be committed."""


class GroupCommitter:
    def __init__(
        self,
        write_batch: Callable[[Sequence[ReceivedFrame]], list[int]],
        *,
        max_batch: int = 500,
        max_wait: float = 0.005,
    ) -> None:
        self._write_batch = write_batch
        self.max_batch = max_batch
        self.max_wait = max_wait
        self._queue: asyncio.Queue[tuple[ReceivedFrame, asyncio.Future[int]] | None] = (
            asyncio.Queue()
        )
        self._task: asyncio.Task[None] | None = None
        self.batches = 0
        self.frames = 0
        self.commit_seconds = 0.0
        self.failures = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="group-commit")

    async def submit(self, frame: ReceivedFrame) -> int:
        """Queue ``frame``; its archive row id once committed."""
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((frame, future))
        return await future

    def submit_nowait(self, frame: ReceivedFrame) -> asyncio.Future[int]:
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((frame, future))
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
            item = await self._queue.get()
            if item is None:
                break
            batch = [item]
            deadline = loop.time() + self.max_wait
            while len(batch) < self.max_batch:
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
            await self._commit(batch)

    async def _commit(self, batch: list[tuple[ReceivedFrame, asyncio.Future[int]]]) -> None:
        frames = [frame for frame, _ in batch]
        started = time.perf_counter()
        try:
            ids = await asyncio.to_thread(self._write_batch, frames)
        except Exception as error:
            self.failures += 1
            log.warning("commit of %d frames failed: %s", len(frames), error)
            for _, future in batch:
                if not future.done():
                    future.set_exception(StoreUnavailableError(str(error)))
            return
        self.batches += 1
        self.frames += len(frames)
        self.commit_seconds += time.perf_counter() - started
        for (_, future), frame_id in zip(batch, ids, strict=True):
            if not future.done():
                future.set_result(frame_id)
