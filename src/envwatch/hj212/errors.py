"""What can be wrong with what a data logger sent, as stable machine codes.

Two outcomes exist for a fault in a frame:

* ``ProtocolError`` rejects the frame (framing faults always; content faults in
  strict mode). Its ``code`` is stable: the gateway counts by it and the CLI
  prints it.
* ``Deviation`` keeps the frame and records that it differs from the standard
  (content faults in lenient mode, and facts worth knowing in both modes, such
  as unknown version bits). Each has a stable ``code`` too.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from envwatch.errors import PeerError
from envwatch.hj212.secrets import masked_text


class ErrorCode(StrEnum):
    """Why a frame or a byte run was rejected."""

    GARBAGE = "garbage"
    BAD_HEADER = "bad_header"
    BAD_LENGTH = "bad_length"
    CRC_MISMATCH = "crc_mismatch"
    BAD_TRAILER = "bad_trailer"
    FRAME_TOO_LONG = "frame_too_long"
    TRUNCATED = "truncated"
    BAD_ENCODING = "bad_encoding"
    BAD_FIELD = "bad_field"
    MISSING_FIELD = "missing_field"
    BAD_CP = "bad_cp"
    SEGMENT_TIMEOUT = "segment_timeout"
    SEGMENT_CONFLICT = "segment_conflict"


_ERROR_TEXT: dict[ErrorCode, tuple[str, str]] = {
    ErrorCode.GARBAGE: ("bytes outside any frame were skipped", "帧外的无效字节已丢弃"),
    ErrorCode.BAD_HEADER: (
        "frame header is not '##' followed by a 4-digit length",
        "包头不是“##”加4位数据段长度",
    ),
    ErrorCode.BAD_LENGTH: (
        "declared data-segment length does not match the frame",
        "数据段长度与实际不符",
    ),
    ErrorCode.CRC_MISMATCH: ("CRC check failed", "CRC校验失败"),
    ErrorCode.BAD_TRAILER: (
        "frame does not end with 4 hex CRC digits and CR LF",
        "包尾不是4位十六进制CRC加回车换行",
    ),
    ErrorCode.FRAME_TOO_LONG: ("frame exceeds the maximum size", "数据包超过最大长度"),
    ErrorCode.TRUNCATED: (
        "frame is incomplete (truncated)",
        "数据包不完整（被截断）",
    ),
    ErrorCode.BAD_ENCODING: (
        "data segment is not valid UTF-8 text",
        "数据段不是有效的UTF-8文本",
    ),
    ErrorCode.BAD_FIELD: ("a data-segment field is malformed", "数据段字段格式错误"),
    ErrorCode.MISSING_FIELD: ("a required field is missing", "缺少必需字段"),
    ErrorCode.BAD_CP: ("the CP data area is malformed", "CP指令参数区格式错误"),
    ErrorCode.SEGMENT_TIMEOUT: (
        "segmented upload incomplete when its time ran out",
        "拆分包在超时前未收齐",
    ),
    ErrorCode.SEGMENT_CONFLICT: (
        "segment does not fit its segmented upload",
        "拆分包与同组其他分包不一致",
    ),
}


class ProtocolError(PeerError):
    """A data logger sent bytes that cannot be accepted as an HJ 212 frame.

    ``raw`` holds the offending bytes (for the raw archive); ``detail_*`` says
    exactly what was wrong, e.g. which field.
    """

    def __init__(
        self,
        code: ErrorCode,
        detail_en: str = "",
        detail_zh: str = "",
        *,
        raw: bytes = b"",
    ) -> None:
        base_en, base_zh = _ERROR_TEXT[code]
        # What went wrong, never a device password (errors are archived and shown).
        detail_en, detail_zh = masked_text(detail_en), masked_text(detail_zh)
        message_en = f"{base_en}: {detail_en}" if detail_en else base_en
        message_zh = f"{base_zh}：{detail_zh or detail_en}" if (detail_zh or detail_en) else base_zh
        super().__init__(code.value, message_en, message_zh)
        self.error_code = code
        self.raw = raw

    def with_raw(self, raw: bytes) -> ProtocolError:
        """The same error, carrying the frame bytes it was found in."""
        self.raw = raw
        return self


class DeviationCode(StrEnum):
    """How a kept frame differs from the standard."""

    LENGTH_MISMATCH = "length_mismatch"
    CRC_NOT_VERIFIED = "crc_not_verified"
    OVERSIZE_SEGMENT = "oversize_segment"
    BAD_TERMINATOR = "bad_terminator"
    GBK_TEXT = "gbk_text"
    MISSING_FIELD = "missing_field"
    UNKNOWN_FIELD = "unknown_field"
    FIELD_NAME_CASE = "field_name_case"
    DUPLICATE_FIELD = "duplicate_field"
    STRAY_SEPARATOR = "stray_separator"
    MISSING_SEPARATOR = "missing_separator"
    COMMA_SEPARATOR = "comma_separator"
    WHITESPACE = "whitespace"
    BAD_HEADER_VALUE = "bad_header_value"
    PNO_WITHOUT_FLAG = "pno_without_flag"
    UNKNOWN_VERSION_BITS = "unknown_version_bits"
    VERSION_MISMATCH = "version_mismatch"
    UNKNOWN_SYSTEM_CODE = "unknown_system_code"
    UNKNOWN_COMMAND = "unknown_command"
    DUPLICATE_KEY = "duplicate_key"
    TRAILING_SEPARATOR = "trailing_separator"
    EMPTY_VALUE = "empty_value"
    BAD_NUMBER = "bad_number"
    BAD_TIME = "bad_time"
    UNKNOWN_DATA_FLAG = "unknown_data_flag"
    UNALIGNED_DATA_TIME = "unaligned_data_time"
    FIELDS_AFTER_CP = "fields_after_cp"
    SEGMENT_FLAG_WITHOUT_NUMBERS = "segment_flag_without_numbers"
    DASHED_FACTOR_CODE = "dashed_factor_code"
    BAD_DATA_FLAG = "bad_data_flag"


@dataclass(frozen=True, slots=True)
class Deviation:
    """A kept frame's difference from the standard, e.g. ``length_mismatch``."""

    code: DeviationCode
    message_en: str
    message_zh: str

    def __post_init__(self) -> None:
        # Archived with the frame and shown: never a device password.
        object.__setattr__(self, "message_en", masked_text(self.message_en))
        object.__setattr__(self, "message_zh", masked_text(self.message_zh))

    def as_json(self) -> dict[str, str]:
        return {"code": self.code.value, "message": self.message_en, "message_zh": self.message_zh}
