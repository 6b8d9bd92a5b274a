"""The raw archive and the measurements it yields: one transaction per batch.

``Archive.write_batch`` appends a batch of received frames to their hash
chains and stores their measurements in the same transaction, so a frame and
its measurements commit together or not at all. Measurements are keyed by
(MN, CN, DataTime, pollutant): a resent frame is archived again (it was
received again) but adds no second measurement.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Engine, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from envwatch.store.hashchain import GENESIS, BrokenLink, Link, first_broken_link, link_hash
from envwatch.store.schema import ArchivedFrame, ChainHead, Measurement

UNATTRIBUTED_CHAIN = "-"


class MeasurementRow(NamedTuple):
    """The values of one factor in one data upload, in the measurement table's
    column order (a tuple: one is built per factor of every stored frame)."""

    mn: str
    cn: str
    data_time: datetime
    pollutant: str
    rtd: float | None = None
    avg: float | None = None
    min: float | None = None
    max: float | None = None
    cou: float | None = None
    zs_rtd: float | None = None
    zs_avg: float | None = None
    flag: str | None = None
    eflag: str | None = None


@dataclass(frozen=True, slots=True)
class ReceivedFrame:
    """A frame (or rejected byte run) as received, with the gateway's verdict."""

    received_at: datetime
    peer: str
    raw: bytes
    verdict: str  # "accepted" or "rejected"
    error_code: str | None = None
    warnings: str = ""
    mn: str | None = None
    cn: str | None = None
    qn: str | None = None
    measurements: tuple[MeasurementRow, ...] = field(default=())

    @property
    def chain(self) -> str:
        return self.mn or UNATTRIBUTED_CHAIN


_MEASUREMENT_COLUMNS = (*MeasurementRow._fields, "frame_id")


def _measurement_insert(engine: Engine) -> tuple[str, Callable[[datetime], Any]]:
    """Driver-level SQL that inserts a measurement unless its key exists, and how
    DataTime is bound (exactly as SQLAlchemy binds it, so keys always match)."""
    marker = "?" if engine.dialect.paramstyle == "qmark" else "%s"
    sql = (
        f"INSERT INTO measurement ({', '.join(_MEASUREMENT_COLUMNS)}) "
        f"VALUES ({', '.join([marker] * len(_MEASUREMENT_COLUMNS))}) "
        "ON CONFLICT DO NOTHING"
    )
    column_type = Measurement.__table__.c.data_time.type
    bind = column_type.bind_processor(engine.dialect)
    return sql, bind if bind is not None else (lambda moment: moment)


class Archive:
    """Writes batches of received frames; the only writer of its chains."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._heads: dict[str, tuple[int, str]] = {}
        self._insert_measurements, self._data_time_to_db = _measurement_insert(engine)
        self._dialect = postgresql if engine.dialect.name == "postgresql" else sqlite

    def write_batch(self, frames: Sequence[ReceivedFrame]) -> list[int]:
        """Archive ``frames`` in one transaction; their row ids, in order."""
        try:
            return self._write(frames)
        except IntegrityError:
            # Another writer extended a chain: re-read the heads and retry once.
            self._heads.clear()
            return self._write(frames)

    def _write(self, frames: Sequence[ReceivedFrame]) -> list[int]:
        heads: dict[str, tuple[int, str]] = {}
        rows: list[dict[str, Any]] = []
        with self.engine.begin() as connection:
            for frame in frames:
                chain = frame.chain
                seq, prev_hash = heads.get(chain) or self._head(connection, chain)
                link = Link(
                    chain=chain,
                    seq=seq + 1,
                    received_at=frame.received_at,
                    peer=frame.peer,
                    raw=frame.raw,
                    verdict=frame.verdict,
                    error_code=frame.error_code,
                    warnings=frame.warnings,
                    mn=frame.mn,
                    cn=frame.cn,
                    qn=frame.qn,
                )
                digest = link_hash(prev_hash, link)
                heads[chain] = (seq + 1, digest)
                rows.append(
                    {
                        "chain": chain,
                        "seq": seq + 1,
                        "received_at": frame.received_at,
                        "peer": frame.peer,
                        "raw": frame.raw,
                        "verdict": frame.verdict,
                        "error_code": frame.error_code,
                        "warnings": frame.warnings,
                        "mn": frame.mn,
                        "cn": frame.cn,
                        "qn": frame.qn,
                        "prev_hash": prev_hash,
                        "hash": digest,
                    }
                )
            result = connection.execute(
                ArchivedFrame.__table__.insert().returning(  # type: ignore[attr-defined]
                    ArchivedFrame.id, sort_by_parameter_order=True
                ),
                rows,
            )
            ids = [row[0] for row in result]
            to_db = self._data_time_to_db
            measurements = [
                (m.mn, m.cn, to_db(m.data_time), *m[3:], frame_id)
                for frame, frame_id in zip(frames, ids, strict=True)
                for m in frame.measurements
            ]
            if measurements:
                # Straight to the driver: this is the bulk of every batch.
                connection.exec_driver_sql(self._insert_measurements, measurements)
            upsert = self._dialect.insert(ChainHead)
            connection.execute(
                upsert.on_conflict_do_update(
                    index_elements=[ChainHead.chain],
                    set_={"seq": upsert.excluded.seq, "hash": upsert.excluded.hash},
                ),
                [
                    {"chain": chain, "seq": seq, "hash": digest}
                    for chain, (seq, digest) in heads.items()
                ],
            )
        self._heads.update(heads)
        return ids

    def _head(self, connection: Any, chain: str) -> tuple[int, str]:
        cached = self._heads.get(chain)
        if cached is not None:
            return cached
        row = connection.execute(
            select(ChainHead.seq, ChainHead.hash).where(ChainHead.chain == chain)
        ).first()
        return (0, GENESIS) if row is None else (row[0], row[1])


def _links(engine: Engine, chain: str) -> Generator[tuple[int, str, str, Link]]:
    query = (
        select(ArchivedFrame)
        .where(ArchivedFrame.chain == chain)
        .order_by(ArchivedFrame.seq)
        .execution_options(yield_per=1000)
    )
    with engine.connect() as connection:
        result = connection.execute(query)
        try:
            for row in result:
                yield (
                    row.id,
                    row.prev_hash,
                    row.hash,
                    Link(
                        chain=row.chain,
                        seq=row.seq,
                        received_at=row.received_at,
                        peer=row.peer,
                        raw=row.raw,
                        verdict=row.verdict,
                        error_code=row.error_code,
                        warnings=row.warnings,
                        mn=row.mn,
                        cn=row.cn,
                        qn=row.qn,
                    ),
                )
        finally:
            result.close()


@dataclass(frozen=True, slots=True)
class VerifyReport:
    chains: int
    links: int
    broken: tuple[BrokenLink, ...]


def verify(engine: Engine) -> VerifyReport:
    """Check every chain of the archive against its links and its recorded head;
    the first broken link of each broken chain."""
    with engine.connect() as connection:
        chains = set(connection.execute(select(ArchivedFrame.chain).distinct()).scalars())
        links = connection.execute(select(func.count()).select_from(ArchivedFrame)).scalar_one()
        heads = {
            chain: (seq, digest)
            for chain, seq, digest in connection.execute(
                select(ChainHead.chain, ChainHead.seq, ChainHead.hash)
            )
        }
    broken = []
    for chain in sorted(chains | set(heads)):
        # closing(): a chain broken early must still release its server-side cursor.
        with closing(_links(engine, chain)) as links_of_chain:
            found = first_broken_link(chain, links_of_chain, heads.get(chain))
        if found is not None:
            broken.append(found)
    return VerifyReport(chains=len(chains | set(heads)), links=links, broken=tuple(broken))
