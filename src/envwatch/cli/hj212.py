"""``envwatch hj212 decode`` and ``envwatch hj212 encode``: the codec on stdin/stdout.

Other tools rely on the JSON shape (see ``envwatch.hj212.jsonform``).
"""

from __future__ import annotations

import json
import sys
from typing import Annotated, BinaryIO, TextIO

import typer

from envwatch.errors import PeerError, UsageError
from envwatch.hj212 import DecodedFrame, DecodeOptions, Decoder, ProtocolVersion, encode_packet
from envwatch.hj212.jsonform import JsonShapeError, item_to_json, packet_from_json

hj212_app = typer.Typer(
    help="HJ 212 codec: decode frames to JSON lines, encode JSON lines to frames."
)

_CHUNK = 65536


def decode_stream(source: BinaryIO, sink: TextIO, options: DecodeOptions) -> bool:
    """Decode every frame of ``source``, one JSON object per line; True if all decoded."""
    decoder = Decoder(options)
    all_ok = True

    def emit(items: list[DecodedFrame | PeerError]) -> None:
        nonlocal all_ok
        for item in items:
            all_ok = all_ok and isinstance(item, DecodedFrame)
            sink.write(json.dumps(item_to_json(item), ensure_ascii=False) + "\n")

    read = getattr(source, "read1", source.read)
    while chunk := read(_CHUNK):
        emit(list(decoder.feed(chunk)))
    emit(list(decoder.close()))
    sink.flush()
    return all_ok


@hj212_app.command("decode")
def decode_command(
    lenient: Annotated[
        bool, typer.Option("--lenient", help="Tolerate known logger deviations, as warnings.")
    ] = False,
    version: Annotated[
        ProtocolVersion | None,
        typer.Option("--version", help="Read frames as this registered edition."),
    ] = None,
    no_crc_check: Annotated[
        bool, typer.Option("--no-crc-check", help="Keep frames whose CRC does not match.")
    ] = False,
) -> None:
    """Read an HJ 212 byte stream on stdin; print one JSON object per frame.

    Exit status 0 when every frame decoded, 1 otherwise.
    """
    options = DecodeOptions(lenient=lenient, version=version, verify_crc=not no_crc_check)
    if not decode_stream(sys.stdin.buffer, sys.stdout, options):
        raise typer.Exit(1)


@hj212_app.command("encode")
def encode_command() -> None:
    """Read JSON lines in the shape ``decode`` prints; write one frame per line.

    Lines with ``"ok": false`` are skipped. Exit status 1 if any line was bad.
    """
    out = sys.stdout.buffer
    failed = False
    for number, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict):
                raise JsonShapeError("a line must hold a JSON object", "每行必须是一个JSON对象")
            if obj.get("ok") is False:
                continue
            out.write(encode_packet(packet_from_json(obj)))
        # UsageError: the JSON asks for a value the frame format cannot carry.
        except (ValueError, PeerError, UsageError) as error:
            failed = True
            sys.stderr.write(f"line {number}: {error}\n")
    out.flush()
    if failed:
        raise typer.Exit(1)
