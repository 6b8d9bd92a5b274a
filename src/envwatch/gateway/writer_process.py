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
from collections.abc import Sequence
from datetime import datetime
from multiprocessing.connection import Connection
from typing import Any

from envwatch.store.archive import Archive, MeasurementRow, MeterReading, ReceivedFrame
from envwatch.store.db import make_engine

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
                pipe.send(("error", f"{type(error).__name__}: {error}"))
            else:
                pipe.send(("ok", ids))
    finally:
        engine.dispose()


class ArchiveProcess:
    """``Archive.write_batch`` served by a child process; one batch at a time."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self._context = multiprocessing.get_context("spawn")
        self._process: multiprocessing.process.BaseProcess | None = None
        self._pipe: Connection | None = None
        self._lock = threading.Lock()
        self.starts = 0

    def _ensure_started(self) -> Connection:
        if self._process is not None and self._process.is_alive() and self._pipe is not None:
            return self._pipe
        self._discard()
        parent, child = self._context.Pipe()
        process = self._context.Process(
            target=_serve_writes,
            args=(child, self.database_url),
            name="envwatch-archive-writer",
            daemon=True,
        )
        process.start()
        child.close()
        self.starts += 1
        if self.starts > 1:
            log.warning("archive writer process started again (%d starts)", self.starts)
        self._process, self._pipe = process, parent
        return parent

    def _discard(self) -> None:
        if self._pipe is not None:
            self._pipe.close()
        if self._process is not None:
            self._process.kill()
            self._process.join(timeout=5)
        self._process = self._pipe = None

    def write_batch(self, frames: Sequence[ReceivedFrame]) -> list[int]:
        """Store ``frames`` in one transaction (in the child); their row ids, in order."""
        with self._lock:
            pipe = self._ensure_started()
            try:
                pipe.send([_to_wire(frame) for frame in frames])
                status, answer = pipe.recv()
            except (EOFError, OSError) as error:
                # Dead or killed mid-batch: whether it committed is unknown, so
                # nothing is acknowledged; the loggers' resends are idempotent.
                self._discard()
                raise WriterFailedError(f"archive writer process lost: {error!r}") from error
            if status != "ok":
                raise WriterFailedError(answer)
            ids: list[int] = answer
            return ids

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def close(self) -> None:
        """Let the child finish and exit."""
        with self._lock:
            if self._pipe is not None and self._process is not None:
                with contextlib.suppress(OSError):  # already gone: nothing to finish
                    self._pipe.send(None)
                self._process.join(timeout=30)
            self._discard()
