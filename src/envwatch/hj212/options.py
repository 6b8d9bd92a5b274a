"""How a decoder reads frames: strict or lenient, and per-device strictness."""

from __future__ import annotations

from dataclasses import dataclass

from envwatch.errors import UsageError
from envwatch.hj212.codes import ProtocolVersion


@dataclass(frozen=True, slots=True)
class DecodeOptions:
    """Settings of one decoder; the gateway builds one per device from the registry."""

    lenient: bool = False
    """Tolerate the deviations real loggers are known for, each kept as a warning."""
    verify_crc: bool = True
    """Reject a frame whose CRC does not match. Off only for devices known to miscompute it."""
    verify_length: bool = True
    """Reject a frame whose declared length is wrong, even in strict mode when True."""
    version: ProtocolVersion | None = None
    """The device's registered edition; None reads each frame by what it claims."""
    max_segment_length: int = 4096
    """Hard cap on a data segment [bytes]; the standard's 1024 applies in strict mode."""
    max_buffer: int = 8192
    """Hard cap on bytes buffered while waiting for a frame's end [bytes]."""

    def __post_init__(self) -> None:
        if not 0 < self.max_segment_length <= 9999:
            raise UsageError("max_segment_length must be within 1..9999 (4-digit length field)")
        if self.max_buffer < self.max_segment_length + 12:
            raise UsageError("max_buffer must hold at least one whole frame")
