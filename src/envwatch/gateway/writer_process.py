"""The archive writer in a process of its own, so storing and serving run on two cores.

Python runs one thread at a time: in one process, hashing and binding rows for
the store competes with reading, decoding and answering frames. ``ArchiveProcess``
has the same ``write_batch`` as ``Archive`` (the group committer calls it from
its worker thread) but hands each batch to a child process that owns the
``Archive`` and answers with the row ids once the transaction has committed.

Failure keeps the gateway's promise: if the child fails or dies, the batch
raises, nothing of it is acknowledged, and the next batch starts a new child
(whose ``Archive`` re-reads the chain heads). A child whose parent died sees
the end of its pipe and exits.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import signal
import threading
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing.connection import Connection
from typing import Any

from envwatch.store.archive import Archive, MeasurementRow, MeterReading, ReceivedFrame
from envwatch.store.db import error_summary, make_engine

log = logging.getLogger(__name__)

# A frame as plain tuples: pickled in C, several times faster than the dataclass.
_WireFrame = tuple[
    datetime, str, bytes, str, str | None, str, str | None, str | None, str | None,
    tuple[tuple[Any, ...], ...], tuple[tuple[Any, ...], ...],
]  # fmt: skip


class WriterFailedError(Exception):
    """The writer process could not store a batch (or is gone)."""


def _to_wire(frame: ReceivedFrame) -> _WireFrame:
    return (
        frame.received_at, frame.peer, frame.raw, frame.verdict, frame.error_code,
        frame.warnings, frame.mn, frame.cn, frame.qn,
        tuple(tuple(row) for row in frame.measurements),
        tuple(tuple(reading) for reading in frame.electricity),
    )  # fmt: skip


def _from_wire(wire: _WireFrame) -> ReceivedFrame:
    received_at, peer, raw, verdict, error_code, warnings, mn, cn, qn, rows, readings = wire
    return ReceivedFrame(
        received_at=received_at,
        peer=peer,
        raw=raw,
        verdict=verdict,
        error_code=error_code,
        warnings=warnings,
        mn=mn,
        cn=cn,
        qn=qn,
        measurements=tuple(MeasurementRow._make(row) for row in rows),
        electricity=tuple(MeterReading._make(reading) for reading in readings),
    )


def _serve_writes(pipe: Connection, database_url: str) -> None:
    """The child: store each batch it receives, answer ``("ok", ids)`` or ``("error", text)``."""
    # Ctrl-C and a service manager's SIGTERM reach the whole process group: the
    # child must finish its batch and leave when the gateway says so (or dies).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    engine = make_engine(database_url)
    archive = Archive(engine)
    try:
        while True:
            try:
                batch = pipe.recv()
            except EOFError:
                return  # the gateway is gone
            if batch is None:
                return
            try:
                ids = archive.write_batch([_from_wire(wire) for wire in batch])
            except Exception as error:
                pipe.send(("error", error_summary(error)))
            else:
                pipe.send(("ok", ids))
    finally:
        engine.dispose()


@dataclass
class _Child:
    """One writer process, its pipe, and the batches sent to it awaiting answers."""

    process: multiprocessing.process.BaseProcess
    pipe: Connection
    pending: deque[Future[list[int | None]]] = field(default_factory=deque)
    reader: threading.Thread | None = None
    lost: bool = False
    """Its pipe ended: it died, though the OS may not report it dead yet."""


class ArchiveProcess:
    """``Archive.write_batch`` served by a child process.

    Thread-safe and pipelined: a second batch may be sent while the child
    still stores the first, so it never waits for the gateway between
    batches. The child stores batches in the order sent; a reader thread
    matches its answers to the batches in that order.
    """

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self._context = multiprocessing.get_context("spawn")
        self._child: _Child | None = None
        self._lock = threading.Lock()
        self._closed = False
        self.starts = 0

    def _ensure_started(self) -> _Child:
        child = self._child
        if child is not None and not child.lost and child.process.is_alive():
            return child
        self._discard()
        parent_end, child_end = self._context.Pipe()
        process = self._context.Process(
            target=_serve_writes,
            args=(child_end, self.database_url),
            name="envwatch-archive-writer",
            daemon=True,
        )
        process.start()
        child_end.close()
        self.starts += 1
        if self.starts > 1:
            log.warning("archive writer process started again (%d starts)", self.starts)
        child = _Child(process, parent_end)
        child.reader = threading.Thread(
            target=self._read_answers, args=(child,), name="archive-writer-answers", daemon=True
        )
        child.reader.start()
        self._child = child
        return child

    def _read_answers(self, child: _Child) -> None:
        while True:
            try:
                status, answer = child.pipe.recv()
            except (EOFError, OSError) as error:
                # Dead or killed mid-batch: whether it committed is unknown, so
                # nothing is acknowledged; the loggers' resends are idempotent.
                with self._lock:
                    while child.pending:
                        child.pending.popleft().set_exception(
                            WriterFailedError(f"archive writer process lost: {error!r}")
                        )
                    child.lost = True
                # This thread alone closes the pipe: closing it under a blocked
                # read could hand its descriptor number to another file.
                child.pipe.close()
                return
            with self._lock:
                future = child.pending.popleft()
            if status == "ok":
                future.set_result(answer)
            else:
                future.set_exception(WriterFailedError(answer))

    def _discard(self) -> None:
        child, self._child = self._child, None
        if child is None:
            return
        # Its end of the pipe closes with it: the reader thread sees the end,
        # fails what is still pending and closes ours.
        child.process.kill()
        child.process.join(timeout=5)

    def submit(self, frames: Sequence[ReceivedFrame]) -> Future[list[int | None]]:
        """Send ``frames`` to be stored in one transaction; resolves to their row ids."""
        wire = [_to_wire(frame) for frame in frames]
        future: Future[list[int | None]] = Future()
        with self._lock:
            if self._closed:
                raise WriterFailedError("archive writer closed")
            for attempt in range(2):
                child = self._ensure_started()
                child.pending.append(future)
                try:
                    child.pipe.send(wire)
                except OSError as error:
                    # Not sent, so safe to send again, once, to a new child.
                    child.pending.remove(future)
                    child.lost = True
                    if attempt:
                        raise WriterFailedError(
                            f"archive writer process lost: {error!r}"
                        ) from error
                else:
                    break
        return future

    def write_batch(self, frames: Sequence[ReceivedFrame]) -> list[int | None]:
        """Store ``frames`` in one transaction (in the child); their row ids, in order."""
        return self.submit(frames).result()

    @property
    def pid(self) -> int | None:
        return None if self._child is None else self._child.process.pid

    def close(self) -> None:
        """Let the child finish what it was sent, then exit; no batch is taken after."""
        with self._lock:
            self._closed = True
            child = self._child
            if child is not None:
                with contextlib.suppress(OSError):  # already gone: nothing to finish
                    child.pipe.send(None)
        if child is not None:
            # Without the lock: the reader thread takes it to hand out the answers.
            child.process.join(timeout=30)
            if child.reader is not None:
                child.reader.join(timeout=30)
        with self._lock:
            self._discard()
