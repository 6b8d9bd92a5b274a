"""The frame layer: ``## LLLL <data segment> CCCC CR LF`` (HJ 212-2017 Table 2).

``FrameReader`` is a sans-IO state machine: ``feed(bytes)`` returns the frames
and errors those bytes complete, whatever the chunking; ``close()`` reports what
is left when the stream ends. Garbage is skipped up to the next ``##`` and
reported; a frame that cannot be accepted is reported and the reader resyncs
on the next ``##`` after its start, so a good frame behind a truncated one is
never lost. The buffer never holds more than ``max_buffer`` bytes.

Strict mode trusts the declared length, as the standard does. Lenient mode
first tries the declared length and, when that does not land on a CRC and line
end, looks for the real end (``&&`` + 4 hex digits + line end), because real
loggers miscount the length, send LF alone, or no terminator at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from envwatch.hj212.crc import crc16, crc_text
from envwatch.hj212.errors import Deviation, DeviationCode, ErrorCode, ProtocolError
from envwatch.hj212.options import DecodeOptions

STANDARD_MAX_SEGMENT = 1024
HEADER = b"##"
TERMINATOR = b"\r\n"
_HEAD_LEN = 6  # "##" + 4 digits
_TAIL_LEN = 6  # 4 hex + CR LF

_TAIL = re.compile(rb"[0-9A-Fa-f]{4}\r\n")
# The real end of a frame in lenient mode: closing "&&", the CRC, optional
# blanks, a line end.
_LENIENT_END = re.compile(rb"&&([0-9A-Fa-f]{4})[ \t]*(\r\n|\n|\r)")
_FRAME_START = re.compile(rb"##[0-9]{4}")
_UNTERMINATED_END = re.compile(rb"&&([0-9A-Fa-f]{4})[ \t]*\Z")


@dataclass(frozen=True, slots=True)
class RawFrame:
    """One frame cut from the stream, its CRC verified (unless switched off)."""

    raw: bytes
    """The frame's bytes as received, header to terminator."""
    segment: bytes
    """The data segment (``QN=...&&``) whose length and CRC the header and tail state."""
    crc: str
    """The CRC as sent (case kept)."""
    deviations: tuple[Deviation, ...] = field(default=())


def frame_segment(segment: bytes) -> bytes:
    """Wrap a data segment into a frame: header, length, CRC and CR LF."""
    return b"##%04d%s%s\r\n" % (len(segment), segment, crc_text(segment).encode("ascii"))


class FrameReader:
    """Cuts HJ 212 frames out of a byte stream fed in arbitrary chunks."""

    def __init__(self, options: DecodeOptions | None = None) -> None:
        self.options = options or DecodeOptions()
        self._buf = bytearray()
        self._pos = 0

    @property
    def options(self) -> DecodeOptions:
        return self._options

    @options.setter
    def options(self, options: DecodeOptions) -> None:
        self._options = options
        # The longest data segment accepted: the standard's 1024 in strict mode.
        self._limit = options.max_segment_length
        if not options.lenient:
            self._limit = min(self._limit, STANDARD_MAX_SEGMENT)

    @property
    def buffered(self) -> int:
        """Bytes held while waiting for the rest of a frame."""
        return len(self._buf) - self._pos

    def feed(self, data: bytes) -> list[RawFrame | ProtocolError]:
        """Add received bytes; return every frame or error they complete."""
        self._buf += data
        out: list[RawFrame | ProtocolError] = []
        while True:
            while (item := self._next(final=False)) is not None:
                out.append(item)
            if self.buffered <= self.options.max_buffer:
                break
            # Only an unfinished frame can be this long (garbage runs are
            # reported as soon as they reach the cap): drop it and go on.
            out.append(self._drop_oversized())
        del self._buf[: self._pos]
        self._pos = 0
        return out

    def close(self) -> list[RawFrame | ProtocolError]:
        """The stream ended: report what is still buffered (frames then errors)."""
        out: list[RawFrame | ProtocolError] = []
        while (item := self._next(final=True)) is not None:
            out.append(item)
        if self.buffered:
            rest = bytes(self._buf[self._pos :])
            code = ErrorCode.TRUNCATED if rest.startswith(HEADER) else ErrorCode.GARBAGE
            out.append(
                ProtocolError(
                    code,
                    f"{len(rest)} bytes at end of stream",
                    f"流结束时剩余{len(rest)}字节",
                    raw=rest,
                )
            )
        self._buf.clear()
        self._pos = 0
        return out

    # -- internals ---------------------------------------------------------

    def _take(self, end: int) -> bytes:
        chunk = bytes(self._buf[self._pos : end])
        self._pos = end
        return chunk

    def _resync_point(self, start: int) -> int:
        nxt = self._buf.find(HEADER, start + 1)
        return nxt if nxt >= 0 else len(self._buf)

    def _bad_header_end(self, start: int, *, final: bool) -> int | None:
        """Where the input after a malformed header ends: at the next plausible
        frame start (``##`` and 4 digits), so a run of ``#`` is one error, not
        one per ``##``; None: wait, the run may go on (as garbage runs do)."""
        found = _FRAME_START.search(self._buf, start + 2)
        if found is not None:
            return found.start()
        size = len(self._buf)
        if final:
            return size
        if size - start < self.options.max_buffer:
            return None
        return size - (_HEAD_LEN - 1)  # the tail may be the start of a header

    def _reject(self, code: ErrorCode, detail_en: str, detail_zh: str, end: int) -> ProtocolError:
        return ProtocolError(code, detail_en, detail_zh, raw=self._take(end))

    def _drop_oversized(self) -> ProtocolError:
        start = self._pos
        return self._reject(
            ErrorCode.FRAME_TOO_LONG,
            f"more than {self.options.max_buffer} bytes buffered without a frame end",
            f"缓冲超过{self.options.max_buffer}字节仍无包尾",
            self._resync_point(start),
        )

    def _next(self, *, final: bool) -> RawFrame | ProtocolError | None:
        buf = self._buf
        start = self._pos
        size = len(buf)
        if start >= size:
            return None
        header_at = buf.find(HEADER, start)
        if header_at != start:
            if header_at < 0:
                # Garbage is reported in runs, not byte by byte: wait for the
                # next header unless the run already fills the buffer. A lone
                # trailing '#' may be the first half of that header.
                if not final and size - start < self.options.max_buffer:
                    return None
                keep = 1 if buf[size - 1] == 0x23 and not final else 0
                header_at = size - keep
            if header_at == start:
                return None
            skipped = header_at - start
            return self._reject(
                ErrorCode.GARBAGE,
                f"{skipped} bytes before '##'",
                f"“##”前有{skipped}字节无效数据",
                header_at,
            )
        if size - start < _HEAD_LEN:
            return None
        length_digits = buf[start + 2 : start + _HEAD_LEN]
        if not length_digits.isdigit():
            end = self._bad_header_end(start, final=final)
            if end is None:
                return None
            return self._reject(
                ErrorCode.BAD_HEADER,
                f"length field {bytes(length_digits)!r} is not 4 digits",
                f"长度字段{bytes(length_digits)!r}不是4位数字",
                end,
            )
        declared = int(length_digits)
        limit = self._limit
        if declared > limit:
            return self._declared_too_long(start, declared, final=final)
        seg_end = start + _HEAD_LEN + declared
        frame_end = seg_end + _TAIL_LEN
        if frame_end <= size and _TAIL.fullmatch(buf, seg_end, frame_end):
            inner = buf.find(HEADER, start + 2, seg_end)
            if inner >= 0 and self._complete_at(inner, verify_crc=True):
                # A cut-off frame whose declared length happens to end right
                # where the complete frame behind it ends.
                return self._truncated(inner)
            return self._accept(start, seg_end, frame_end, ())
        if self._options.lenient or not self._options.verify_length:
            return self._search_end(start, declared, final=final)
        return self._strict_failure(start, seg_end, final=final)

    def _accept(
        self, start: int, seg_end: int, frame_end: int, deviations: tuple[Deviation, ...]
    ) -> RawFrame | ProtocolError:
        raw = self._take(frame_end)
        size = seg_end - start - _HEAD_LEN
        segment = raw[_HEAD_LEN : _HEAD_LEN + size]
        crc = raw[_HEAD_LEN + size : _HEAD_LEN + size + 4].decode("ascii")
        if size > self._limit:
            return ProtocolError(
                ErrorCode.FRAME_TOO_LONG,
                f"data segment of {size} bytes exceeds {self._limit}",
                f"数据段长度{size}超过{self._limit}字节",
                raw=raw,
            )
        if size > STANDARD_MAX_SEGMENT:
            deviations += (
                Deviation(
                    DeviationCode.OVERSIZE_SEGMENT,
                    f"data segment of {size} bytes exceeds the standard's {STANDARD_MAX_SEGMENT}",
                    f"数据段{size}字节，超过标准规定的{STANDARD_MAX_SEGMENT}字节",
                ),
            )
        if int(crc, 16) != crc16(segment):
            expected = crc_text(segment)
            if self._options.verify_crc:
                return ProtocolError(
                    ErrorCode.CRC_MISMATCH,
                    f"frame says {crc}, data segment gives {expected}",
                    f"包中CRC为{crc}，按数据段计算应为{expected}",
                    raw=raw,
                )
            deviations += (
                Deviation(
                    DeviationCode.CRC_NOT_VERIFIED,
                    f"CRC {crc} does not match {expected}; kept because CRC checking is off "
                    "for this device",
                    f"CRC {crc}与计算值{expected}不符；该设备已关闭CRC校验，予以接收",
                ),
            )
        return RawFrame(raw, segment, crc, deviations)

    def _declared_too_long(self, start: int, declared: int, *, final: bool) -> ProtocolError | None:
        """A frame declared longer than the limit is consumed whole, as one
        rejection, up to its real end (not one error per ``##`` inside it);
        a complete frame found inside it ends it there."""
        buf = self._buf
        size = len(buf)
        end = self._real_end(start, size)
        if end is not None and self._may_grow(end, final=final):
            return None
        stop = end.end() if end is not None else size
        for inner in _FRAME_START.finditer(buf, start + 2, stop):
            if self._complete_at(inner.start(), verify_crc=True):
                stop, end = inner.start(), None
                break
        else:
            if end is None and not final and size - self._pos < self.options.max_buffer:
                return None  # its end may still come
        return self._reject(
            ErrorCode.FRAME_TOO_LONG,
            f"declared data segment of {declared} bytes exceeds {self._limit}",
            f"声明的数据段长度{declared}超过{self._limit}字节",
            stop,
        )

    def _inner_frame_start(self, start: int, before: int) -> int:
        match = _FRAME_START.search(self._buf, start + 2, before)
        return match.start() if match else -1

    def _search_end(
        self, start: int, declared: int, *, final: bool
    ) -> RawFrame | ProtocolError | None:
        """Find where a frame really ends when its declared length does not say."""
        buf = self._buf
        size = len(buf)
        inner = self._inner_frame_start(start, size)
        stop = inner if inner >= 0 else size
        end = self._real_end(start, stop)
        if end is not None:
            if self._may_grow(end, final=final):
                return None
            seg_end = end.start() + 2
            return self._accept_searched(start, declared, seg_end, end.end())
        if inner >= 0 or final:
            bare = _UNTERMINATED_END.search(buf, start + _HEAD_LEN, stop)
            if bare is not None:
                return self._accept_searched(start, declared, bare.start() + 2, bare.end())
            if inner >= 0:
                return self._truncated(inner)
        return None

    def _accept_searched(
        self, start: int, declared: int, seg_end: int, frame_end: int
    ) -> RawFrame | ProtocolError:
        deviations: list[Deviation] = []
        actual = seg_end - start - _HEAD_LEN
        if actual != declared:
            deviations.append(
                Deviation(
                    DeviationCode.LENGTH_MISMATCH,
                    f"declared length {declared}, actual {actual}",
                    f"声明长度{declared}，实际{actual}",
                )
            )
        trailer = bytes(self._buf[seg_end + 4 : frame_end])
        if trailer != TERMINATOR:
            shown = repr(trailer) if trailer else "nothing"
            if not self.options.lenient:
                return self._reject(
                    ErrorCode.BAD_TRAILER,
                    f"the CRC is followed by {shown} instead of CR LF",
                    f"CRC后为{shown}而非回车换行",
                    frame_end,
                )
            deviations.append(
                Deviation(
                    DeviationCode.BAD_TERMINATOR,
                    f"the CRC is followed by {shown} instead of CR LF",
                    f"CRC后为{shown}而非回车换行",
                )
            )
        return self._accept(start, seg_end, frame_end, tuple(deviations))

    def _truncated(self, inner: int) -> ProtocolError:
        return self._reject(
            ErrorCode.TRUNCATED,
            "a new frame starts before this one ended",
            "本包未结束即出现新的包头",
            inner,
        )

    def _real_end(self, start: int, stop: int) -> re.Match[bytes] | None:
        """The first ``&&`` + CRC + line end after ``start``, before ``stop``."""
        return _LENIENT_END.search(self._buf, start + _HEAD_LEN, stop)

    def _may_grow(self, end: re.Match[bytes], *, final: bool) -> bool:
        """Whether ``end`` is a lone CR at the end of the buffer that may become CR LF."""
        return not final and end.group(2) == b"\r" and end.end() == len(self._buf)

    def _strict_failure(self, start: int, seg_end: int, *, final: bool) -> ProtocolError | None:
        size = len(self._buf)
        frame_end = seg_end + _TAIL_LEN
        inner = self._inner_frame_start(start, size)
        end = self._real_end(start, inner if inner >= 0 else size)
        if end is not None and self._may_grow(end, final=final):
            return None
        next_frame = inner
        if inner >= frame_end:
            inner = -1  # the next frame starts after this one's declared end
        if end is not None:
            if end.start() + 2 == seg_end:
                return self._reject(
                    ErrorCode.BAD_TRAILER,
                    f"the CRC is followed by {end.group(2)!r} instead of CR LF",
                    f"CRC后为{end.group(2)!r}而非回车换行",
                    end.end(),
                )
            declared = seg_end - start - _HEAD_LEN
            actual = end.start() + 2 - start - _HEAD_LEN
            return self._reject(
                ErrorCode.BAD_LENGTH,
                f"declared length {declared}, actual {actual}",
                f"声明长度{declared}，实际{actual}",
                end.end(),
            )
        if inner >= 0:
            # A frame starts inside this one. Once it is complete this one was
            # cut short, and waiting for its declared end would stall the good one.
            if final or self._complete_at(inner):
                return self._truncated(inner)
            return None
        if frame_end > size:
            if not final:
                return None
            return self._reject(
                ErrorCode.TRUNCATED,
                f"stream ended {frame_end - size} bytes before the frame's end",
                f"流结束时距包尾还差{frame_end - size}字节",
                size,
            )
        # The declared end has arrived but is wrong. Until the real end, the
        # next frame or the end of the stream shows up, it may still be a
        # miscounted length rather than a broken trailer.
        if not final and next_frame < 0:
            return None
        return self._reject(
            ErrorCode.BAD_TRAILER,
            "no 4-digit hex CRC and CR LF after the data segment",
            "数据段后不是4位十六进制CRC加回车换行",
            frame_end,
        )

    def _complete_at(self, start: int, *, verify_crc: bool = False) -> bool:
        """Whether a whole frame (by its declared length) starts at ``start``."""
        buf = self._buf
        if not _FRAME_START.match(buf, start):
            return False
        seg_end = start + _HEAD_LEN + int(buf[start + 2 : start + _HEAD_LEN])
        if not _TAIL.fullmatch(buf, seg_end, seg_end + _TAIL_LEN):
            return False
        if not verify_crc:
            return True
        crc = buf[seg_end : seg_end + 4].decode("ascii").upper()
        return crc_text(bytes(buf[start + _HEAD_LEN : seg_end])) == crc
