"""Bytes in, decoded frames out: the frame layer and the segment layer together.

``Decoder`` is what a connection owns: ``feed(bytes)`` returns a
``DecodedFrame`` or a ``ProtocolError`` for every frame the bytes complete, in
order. ``decode_frame`` decodes exactly one frame; ``encode_packet`` is the
inverse: ``decode_frame(encode_packet(p)).packet == p``.
"""

from __future__ import annotations

from dataclasses import dataclass

from envwatch.hj212.codes import ProtocolVersion
from envwatch.hj212.errors import Deviation, ErrorCode, ProtocolError
from envwatch.hj212.framing import FrameReader, RawFrame, frame_segment
from envwatch.hj212.options import DecodeOptions
from envwatch.hj212.segment import Packet, encode_segment, parse_segment


@dataclass(frozen=True, slots=True)
class DecodedFrame:
    """A frame that was accepted, with what it says and how it deviates."""

    frame: RawFrame
    packet: Packet
    warnings: tuple[Deviation, ...]

    @property
    def claimed_version(self) -> ProtocolVersion | None:
        """The edition the frame's Flag claims (None: unknown version bits)."""
        return self.packet.claimed_version


class Decoder:
    """Decodes the byte stream of one connection."""

    def __init__(self, options: DecodeOptions | None = None) -> None:
        self._reader = FrameReader(options)

    @property
    def options(self) -> DecodeOptions:
        return self._reader.options

    @options.setter
    def options(self, options: DecodeOptions) -> None:
        # The gateway learns the device (and its registered strictness) from
        # the first frame, then reads the rest of the stream its way.
        self._reader.options = options

    @property
    def buffered(self) -> int:
        return self._reader.buffered

    def feed(self, data: bytes) -> list[DecodedFrame | ProtocolError]:
        return self._decode(self._reader.feed(data))

    def close(self) -> list[DecodedFrame | ProtocolError]:
        return self._decode(self._reader.close())

    def _decode(self, items: list[RawFrame | ProtocolError]) -> list[DecodedFrame | ProtocolError]:
        options = self._reader.options
        out: list[DecodedFrame | ProtocolError] = []
        for item in items:
            if isinstance(item, ProtocolError):
                out.append(item)
                continue
            try:
                packet, deviations = parse_segment(item.segment, options)
            except ProtocolError as error:
                out.append(error.with_raw(item.raw))
                continue
            out.append(DecodedFrame(item, packet, item.deviations + deviations))
        return out


def decode_frame(data: bytes, options: DecodeOptions | None = None) -> DecodedFrame:
    """Decode exactly one frame; raise ``ProtocolError`` if ``data`` is not one good frame."""
    decoder = Decoder(options)
    items = decoder.feed(data) + decoder.close()
    for item in items:
        if isinstance(item, ProtocolError):
            raise item
    if len(items) != 1:
        raise ProtocolError(
            ErrorCode.GARBAGE if items else ErrorCode.TRUNCATED,
            f"expected one frame, found {len(items)}",
            f"应为一个数据包，实际为{len(items)}个",
            raw=data,
        )
    result = items[0]
    assert isinstance(result, DecodedFrame)
    return result


def encode_packet(packet: Packet) -> bytes:
    """The complete frame for ``packet``: ``##`` + length + segment + CRC + CR LF."""
    return frame_segment(encode_segment(packet))
