"""Shared helpers for codec tests: the standard's examples and the three ways
every codec case is run (whole, byte by byte, inside garbage)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from envwatch.hj212 import DecodedFrame, DecodeOptions, Decoder, ProtocolError

EXAMPLES_FILE = Path(__file__).parent / "data" / "hj212-examples.jsonl"
# C.19 "Flag=5CP=&&", C.22 "QN=...534,ST=32", C.42 "i12003-Info =0".
MALFORMED_TABLES = frozenset({"C.19", "C.22", "C.42"})


@dataclass(frozen=True)
class Example:
    source: str
    frame: bytes
    expected: dict[str, Any]
    notes: str

    @property
    def malformed(self) -> bool:
        """Kept as the standard prints it, with a typo that strict mode rejects."""
        return self.table in MALFORMED_TABLES

    @property
    def table(self) -> str:
        return self.source.split("Table ")[-1].split(" ")[0] if "Table" in self.source else "A"


def load_examples() -> list[Example]:
    examples = []
    for line in EXAMPLES_FILE.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        examples.append(
            Example(
                source=record["source"],
                frame=record["packet"].encode("utf-8"),
                expected=record.get("expected") or {},
                notes=record["notes"],
            )
        )
    return examples


EXAMPLES = load_examples()
WELL_FORMED = [e for e in EXAMPLES if not e.malformed]
MALFORMED = [e for e in EXAMPLES if e.malformed]

Item = DecodedFrame | ProtocolError


def feed_whole(data: bytes, options: DecodeOptions) -> list[Item]:
    decoder = Decoder(options)
    return decoder.feed(data) + decoder.close()


def feed_bytewise(data: bytes, options: DecodeOptions) -> list[Item]:
    decoder = Decoder(options)
    items: list[Item] = []
    for index in range(len(data)):
        items += decoder.feed(data[index : index + 1])
    return items + decoder.close()


GARBAGE_BEFORE = b"\x00\xff garbage \x17"
GARBAGE_AFTER = b"tail junk"


def feed_in_garbage(data: bytes, options: DecodeOptions) -> list[Item]:
    """Feed ``data`` between garbage and drop the two garbage reports it causes."""
    items = feed_whole(GARBAGE_BEFORE + data + GARBAGE_AFTER, options)
    first, last = items[0], items[-1]
    assert isinstance(first, ProtocolError) and first.code == "garbage"
    assert first.raw == GARBAGE_BEFORE
    assert isinstance(last, ProtocolError) and last.code == "garbage"
    assert last.raw == GARBAGE_AFTER
    return items[1:-1]


THREE_WAYS: list[Callable[[bytes, DecodeOptions], list[Item]]] = [
    feed_whole,
    feed_bytewise,
    feed_in_garbage,
]


def only_frame(items: list[Item]) -> DecodedFrame:
    assert len(items) == 1, items
    item = items[0]
    if isinstance(item, ProtocolError):
        raise AssertionError(f"expected a frame, got {item.code}: {item.message_en}")
    return item


def only_error(items: list[Item]) -> ProtocolError:
    assert len(items) == 1, items
    item = items[0]
    assert isinstance(item, ProtocolError), f"expected an error, got {item!r}"
    return item
