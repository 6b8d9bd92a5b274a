"""The segment layer: the data segment ``QN=..;ST=..;CN=..;PW=..;MN=..;Flag=..;CP=&&..&&``.

``parse_segment`` turns a data segment into a ``Packet`` that keeps every value
as the frame's own text; ``encode_segment`` is its inverse. Format checks of the
standard are made here: in strict mode a violation raises ``ProtocolError``, in
lenient mode the known deviations of real loggers are kept as ``Deviation``s.
Some findings are reported in both modes because the standard declares its code
tables extensible (unknown ST, CN, data flags, version bits).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from envwatch.errors import UsageError
from envwatch.hj212.codes import (
    COMMANDS,
    FLAG_A,
    FLAG_D,
    SYSTEM_CODES,
    DataFlag,
    ProtocolVersion,
    version_bits,
    version_from_flag,
)
from envwatch.hj212.errors import Deviation, DeviationCode, ErrorCode, ProtocolError
from envwatch.hj212.options import DecodeOptions

HEADER_FIELDS: Final = ("QN", "ST", "CN", "PW", "MN", "Flag", "PNUM", "PNO")
_FIELD_BY_UPPER: Final = {name.upper(): name for name in HEADER_FIELDS}

# Suffixes whose values are numbers (N… types of HJ 212-2017 Table 4).
NUMERIC_SUFFIXES: Final = frozenset(
    {
        "Rtd", "Avg", "Min", "Max", "Cou",
        "ZsRtd", "ZsAvg", "ZsMin", "ZsMax", "ZsCou",
        "RS", "RT", "Data", "DayData", "NightData",
    }
)  # fmt: skip
TIME_KEYS: Final = frozenset({"DataTime", "SystemTime", "RestartTime", "BeginTime", "EndTime"})
TIME_SUFFIXES: Final = frozenset({"SampleTime"})

_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_TIME = re.compile(r"[0-9]{14}")
_TIME_MS = re.compile(r"[0-9]{17}")
_QN = re.compile(r"[0-9]{17}")
_ST = re.compile(r"[0-9A-Z]{2}")
_CN = re.compile(r"[0-9]{4}")
_MN_2017 = re.compile(r"[0-9A-F]{24}")
_MN_2005 = re.compile(r"[0-9A-Za-z]{14}")
_MN_SEEN = re.compile(r"[0-9A-Za-z_\-]{1,32}")
_PW = re.compile(r"[^;,=&\r\n]{6}")
_COUNT = re.compile(r"[0-9]{1,4}")
_DATA_FLAGS: Final = frozenset(f.value for f in DataFlag)

# The header of a 2017/2025 frame exactly as the standard writes it.
_STANDARD_HEADER = re.compile(
    r"QN=(?P<QN>[0-9]{17});ST=(?P<ST>[0-9A-Z]{2});CN=(?P<CN>[0-9]{4});"
    r"PW=(?P<PW>[^;,=&\r\n]{6});MN=(?P<MN>[0-9A-F]{24});Flag=(?P<Flag>[0-9]{1,3});"
    r"(?:PNUM=(?P<PNUM>[0-9]{1,4});PNO=(?P<PNO>[0-9]{1,4});)?"
)
# A CP data area of plain key=value items: no blanks, no empty items, no log text.
_CP_GRAMMAR = re.compile(r"[^;,=\s/]+=[^;,=\s/]*(?:[;,][^;,=\s/]+=[^;,=\s/]*)*")
_VALUE_END = r"(?:[;,]|\Z)"
# A value the item-by-item reading would report: a number, data flag or time
# that is not one. Over-inclusive on purpose: a false alarm only costs speed.
_SUSPECT_VALUE = re.compile(
    r"-(?:" + "|".join(sorted(NUMERIC_SUFFIXES)) + r")="
    r"(?![+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)" + _VALUE_END + r")"
    r"|-Flag=(?![" + "".join(f.value for f in DataFlag) + r"]" + _VALUE_END + r")"
    r"|(?:" + "|".join(sorted(TIME_KEYS)) + r"|-SampleTime)=(?![0-9]{14}" + _VALUE_END + r")"
)
_CP_TIME_VALUE = re.compile(
    r"(?:" + "|".join(sorted(TIME_KEYS)) + r"|-SampleTime)=([0-9]{14})" + _VALUE_END
)
_CP_KEY = re.compile(r"(?:^|[;,])([^;,=]+)=")
_CP_PAIR = re.compile(r"([^,=]+)=([^,]*)")

CpGroup = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Packet:
    """One data segment, every value as the frame's own text.

    ``cp`` keeps the CP data area's structure: groups (separated by ``;``) of
    ``key=value`` pairs (separated by ``,``), in order, so a packet re-encodes
    to the same bytes.
    """

    cn: str
    mn: str | None = None
    st: str | None = None
    pw: str | None = None
    qn: str | None = None
    flag: str | None = None
    pnum: str | None = None
    pno: str | None = None
    cp: tuple[CpGroup, ...] = ()

    @property
    def flag_value(self) -> int | None:
        """The Flag as an int, or None when the frame has no Flag."""
        return None if self.flag is None else int(self.flag)

    @property
    def wants_answer(self) -> bool:
        """Flag bit A: the sender asks for an answer."""
        flag = self.flag_value
        return flag is not None and bool(flag & FLAG_A)

    @property
    def segmented(self) -> bool:
        """Flag bit D, or PNUM/PNO present (some loggers send them without a Flag)."""
        flag = self.flag_value
        return (flag is not None and bool(flag & FLAG_D)) or self.pnum is not None

    @property
    def claimed_version(self) -> ProtocolVersion | None:
        """The edition the Flag claims; None for unknown version bits."""
        return version_from_flag(self.flag_value)

    def cp_items(self) -> Iterator[tuple[str, str]]:
        """Every ``key=value`` pair of the CP data area, in order."""
        for group in self.cp:
            yield from group

    def cp_fields(self) -> dict[str, str]:
        """CP keys without a ``code-`` prefix (DataTime, RtdInterval, PolId, ...)."""
        return {key: value for key, value in self.cp_items() if "-" not in key}

    def factors(self) -> dict[str, dict[str, str]]:
        """CP ``code-Suffix`` pairs by code: ``{"a21026": {"Rtd": "12.3", "Flag": "N"}}``."""
        out: dict[str, dict[str, str]] = {}
        for key, value in self.cp_items():
            code, dash, suffix = key.partition("-")
            if dash:
                out.setdefault(code, {})[suffix] = value
        return out

    def cp_value(self, key: str) -> str | None:
        """The first value of ``key`` in the CP data area."""
        for k, value in self.cp_items():
            if k == key:
                return value
        return None


def _header_fields(packet: Packet) -> Iterator[tuple[str, str]]:
    values = (
        packet.qn, packet.st, packet.cn, packet.pw, packet.mn,
        packet.flag, packet.pnum, packet.pno,
    )  # fmt: skip
    for name, value in zip(HEADER_FIELDS, values, strict=True):
        if value is not None:
            yield name, value


_FORBIDDEN_IN_VALUE = re.compile(r"[;,=\r\n]")
_INFO_TEXT = re.compile(r"//(?:(?!//)[^\r\n])*//")


def encode_segment(packet: Packet) -> bytes:
    """The data segment bytes of ``packet``, header fields in the standard's order."""
    parts = []
    for name, value in _header_fields(packet):
        if _FORBIDDEN_IN_VALUE.search(value):
            raise UsageError(f"header field {name}={value!r} holds a separator")
        parts.append(f"{name}={value}")
    groups = []
    for group in packet.cp:
        if not group:
            raise UsageError("a CP group must hold at least one pair")
        pairs = []
        for key, value in group:
            if not key or _FORBIDDEN_IN_VALUE.search(key) or "&&" in key:
                raise UsageError(f"CP key {key!r} is empty or holds a separator")
            if _FORBIDDEN_IN_VALUE.search(value) and not _INFO_TEXT.fullmatch(value):
                raise UsageError(f"CP value {key}={value!r} holds a separator")
            pairs.append(f"{key}={value}")
        groups.append(",".join(pairs))
    parts.append("CP=&&" + ";".join(groups) + "&&")
    return ";".join(parts).encode("utf-8")


@dataclass(slots=True)
class _Checker:
    """Turns a finding into an error (strict) or a kept deviation (lenient)."""

    lenient: bool
    deviations: list[Deviation]

    def deviate(
        self, error: ErrorCode, code: DeviationCode, detail_en: str, detail_zh: str
    ) -> None:
        if not self.lenient:
            raise ProtocolError(error, detail_en, detail_zh)
        self.deviations.append(Deviation(code, detail_en, detail_zh))

    def note(self, code: DeviationCode, detail_en: str, detail_zh: str) -> None:
        """A finding kept in both modes."""
        self.deviations.append(Deviation(code, detail_en, detail_zh))


def _decode_text(segment: bytes, check: _Checker) -> str:
    try:
        return segment.decode("utf-8")
    except UnicodeDecodeError as exc:
        if check.lenient:
            try:
                text = segment.decode("gbk")
            except UnicodeDecodeError:
                pass
            else:
                check.note(
                    DeviationCode.GBK_TEXT,
                    "data segment is GBK, not UTF-8",
                    "数据段为GBK编码而非UTF-8",
                )
                return text
        raise ProtocolError(
            ErrorCode.BAD_ENCODING,
            f"invalid byte at offset {exc.start}",
            f"第{exc.start}字节无效",
        ) from None


def parse_segment(
    segment: bytes, options: DecodeOptions | None = None
) -> tuple[Packet, tuple[Deviation, ...]]:
    """Parse a data segment; raise ``ProtocolError`` when it cannot be accepted."""
    options = options or DecodeOptions()
    check = _Checker(options.lenient, [])
    text = _decode_text(segment, check)
    cp_at = text.find("CP=&&")
    if cp_at < 0:
        raise ProtocolError(
            ErrorCode.MISSING_FIELD, "no 'CP=&&' in the data segment", "缺少“CP=&&”"
        )
    if not text.endswith("&&") or len(text) < cp_at + 7:
        raise ProtocolError(
            ErrorCode.BAD_CP, "the CP data area does not end with '&&'", "CP数据区未以“&&”结束"
        )
    header_text = text[:cp_at]
    if header_text and not header_text.endswith(";"):
        check.deviate(
            ErrorCode.BAD_FIELD,
            DeviationCode.MISSING_SEPARATOR,
            f"no ';' between {header_text.rsplit(';', 1)[-1]!r} and 'CP'",
            f"“{header_text.rsplit(';', 1)[-1]}”与“CP”之间缺少分号",
        )
        header_text += ";"
    standard = _STANDARD_HEADER.fullmatch(header_text)
    if standard is not None:
        header = {name: value for name, value in standard.groupdict().items() if value is not None}
    else:
        header = _parse_header(header_text[:-1], check) if header_text else {}
    cp = _parse_cp(text[cp_at + 5 : -2], check)
    packet = _build_packet(header, cp, options, check, formats_checked=standard is not None)
    return packet, tuple(check.deviations)


def _parse_header(text: str, check: _Checker) -> dict[str, str]:
    items = text.split(";")
    if "," in text:
        # The standard itself prints "QN=...,ST=32" in Tables C.22 and C.48.
        check.deviate(
            ErrorCode.BAD_FIELD,
            DeviationCode.COMMA_SEPARATOR,
            "',' used between header fields instead of ';'",
            "包头字段之间用了“,”而非“;”",
        )
        items = [piece for item in items for piece in item.split(",")]
    fields: dict[str, str] = {}
    for item in items:
        name, eq, value = item.partition("=")
        if not item or not eq:
            check.deviate(
                ErrorCode.BAD_FIELD,
                DeviationCode.STRAY_SEPARATOR,
                f"header item {item!r} is not name=value",
                f"包头项“{item}”不是“名称=值”",
            )
            continue
        if name != name.strip() or value != value.strip():
            check.deviate(
                ErrorCode.BAD_FIELD,
                DeviationCode.WHITESPACE,
                f"blanks around header item {item!r}",
                f"包头项“{item}”含多余空格",
            )
            name, value = name.strip(), value.strip()
        canonical = _FIELD_BY_UPPER.get(name.upper())
        if canonical is None:
            check.deviate(
                ErrorCode.BAD_FIELD,
                DeviationCode.UNKNOWN_FIELD,
                f"unknown header field {name!r}",
                f"未知包头字段“{name}”",
            )
            continue
        if canonical != name:
            check.deviate(
                ErrorCode.BAD_FIELD,
                DeviationCode.FIELD_NAME_CASE,
                f"header field {name!r} should be written {canonical!r}",
                f"包头字段“{name}”应写作“{canonical}”",
            )
        if canonical in fields:
            check.deviate(
                ErrorCode.BAD_FIELD,
                DeviationCode.DUPLICATE_FIELD,
                f"header field {canonical} appears twice",
                f"包头字段{canonical}重复出现",
            )
            continue
        fields[canonical] = value
    return fields


def _split_cp(text: str) -> list[list[str]]:
    """Split the CP data area into groups of ``key=value`` texts.

    Log text ``//...//`` may hold separators, so it is kept whole.
    """
    if "//" not in text:
        return [group.split(",") for group in text.split(";")]
    groups: list[list[str]] = [[]]
    start = i = 0
    length = len(text)
    while i < length:
        char = text[i]
        if char == "/" and text.startswith("//", i) and i > 0 and text[i - 1] == "=":
            close = text.find("//", i + 2)
            i = length if close < 0 else close + 2
            continue
        if char in ";,":
            groups[-1].append(text[start:i])
            if char == ";":
                groups.append([])
            start = i + 1
        i += 1
    groups[-1].append(text[start:])
    return groups


def _parse_cp(text: str, check: _Checker) -> tuple[CpGroup, ...]:
    if not text:
        return ()
    # A CP data area in the standard's own form takes the fast path: one
    # grammar match and one scan for suspicious values, pairs split in C.
    # Everything else is read item by item below, which names each fault.
    if _CP_GRAMMAR.fullmatch(text) and not _SUSPECT_VALUE.search(text):
        keys = _CP_KEY.findall(text)
        if len(set(keys)) == len(keys) and all(
            parse_time(value) is not None for value in _CP_TIME_VALUE.findall(text)
        ):
            return tuple(tuple(_CP_PAIR.findall(group)) for group in text.split(";"))
    raw_groups = _split_cp(text)
    last = len(raw_groups) - 1
    groups: list[CpGroup] = []
    seen: set[str] = set()
    for index, raw_group in enumerate(raw_groups):
        pairs: list[tuple[str, str]] = []
        for item in raw_group:
            key, eq, value = item.partition("=")
            if not item:
                trailing = index == last and len(raw_group) == 1
                check.deviate(
                    ErrorCode.BAD_CP,
                    DeviationCode.TRAILING_SEPARATOR if trailing else DeviationCode.STRAY_SEPARATOR,
                    "separator before '&&'" if trailing else "empty item between separators",
                    "“&&”前多余分隔符" if trailing else "分隔符之间为空",
                )
                continue
            if not eq or not key.strip():
                check.deviate(
                    ErrorCode.BAD_CP,
                    DeviationCode.STRAY_SEPARATOR,
                    f"CP item {item!r} is not key=value",
                    f"CP项“{item}”不是“键=值”",
                )
                continue
            if key != key.strip() or value != value.strip():
                check.deviate(
                    ErrorCode.BAD_CP,
                    DeviationCode.WHITESPACE,
                    f"blanks around CP item {item!r}",
                    f"CP项“{item}”含多余空格",
                )
                key, value = key.strip(), value.strip()
            if key in seen:
                check.deviate(
                    ErrorCode.BAD_CP,
                    DeviationCode.DUPLICATE_KEY,
                    f"CP key {key} appears twice",
                    f"CP键{key}重复出现",
                )
            seen.add(key)
            _check_value(key, value, check)
            pairs.append((key, value))
        if pairs:
            groups.append(tuple(pairs))
    return tuple(groups)


def _check_value(key: str, value: str, check: _Checker) -> None:
    _, dash, suffix = key.rpartition("-")
    if dash:
        if suffix in NUMERIC_SUFFIXES:
            kind = "number"
        elif suffix in TIME_SUFFIXES:
            kind = "time"
        elif suffix == "Flag":
            if value not in _DATA_FLAGS:
                check.note(
                    DeviationCode.UNKNOWN_DATA_FLAG,
                    f"{key}={value!r} is not a data flag of the standard",
                    f"{key}={value}不是标准规定的数据标记",
                )
            return
        else:
            return
    elif key in TIME_KEYS:
        kind = "time"
    else:
        return
    if not value:
        check.deviate(
            ErrorCode.BAD_CP, DeviationCode.EMPTY_VALUE, f"{key} is empty", f"{key}的值为空"
        )
    elif kind == "number":
        if not _NUMBER.fullmatch(value):
            check.deviate(
                ErrorCode.BAD_CP,
                DeviationCode.BAD_NUMBER,
                f"{key}={value!r} is not a number",
                f"{key}={value}不是数值",
            )
    elif parse_time(value) is None:
        check.deviate(
            ErrorCode.BAD_CP,
            DeviationCode.BAD_TIME,
            f"{key}={value!r} is not a time YYYYMMDDhhmmss",
            f"{key}={value}不是YYYYMMDDhhmmss格式的时间",
        )


def parse_time(text: str, *, with_millis: bool = False) -> datetime | None:
    """An HJ 212 time ``YYYYMMDDhhmmss`` (China Standard Time, naive), or None.

    ``with_millis`` also reads ``YYYYMMDDhhmmsszzz``, which some 2005-era
    loggers send as DataTime.
    """
    if not _TIME.fullmatch(text) and not (with_millis and _TIME_MS.fullmatch(text)):
        return None
    try:
        return datetime(
            int(text[0:4]), int(text[4:6]), int(text[6:8]),
            int(text[8:10]), int(text[10:12]), int(text[12:14]),
            int(text[14:17] or 0) * 1000,
        )  # fmt: skip
    except ValueError:
        return None


def _require(fields: Mapping[str, str], name: str, *, tolerable: bool, check: _Checker) -> None:
    """A missing field: an error, or (``tolerable``) a deviation in lenient mode."""
    if name in fields:
        return
    if tolerable:
        check.deviate(
            ErrorCode.MISSING_FIELD,
            DeviationCode.MISSING_FIELD,
            f"header field {name} is missing",
            f"缺少包头字段{name}",
        )
    else:
        raise ProtocolError(
            ErrorCode.MISSING_FIELD, f"header field {name} is missing", f"缺少包头字段{name}"
        )


def _check_format(
    fields: Mapping[str, str],
    name: str,
    pattern: re.Pattern[str],
    what: tuple[str, str],
    check: _Checker,
) -> None:
    value = fields.get(name)
    if value is not None and not pattern.fullmatch(value):
        check.deviate(
            ErrorCode.BAD_FIELD,
            DeviationCode.BAD_HEADER_VALUE,
            f"{name}={value!r} is not {what[0]}",
            f"{name}={value}不是{what[1]}",
        )


def _build_packet(
    fields: dict[str, str],
    cp: tuple[CpGroup, ...],
    options: DecodeOptions,
    check: _Checker,
    *,
    formats_checked: bool = False,
) -> Packet:
    """Check the header fields and build the packet.

    ``formats_checked``: the header matched ``_STANDARD_HEADER``, so the field
    formats of the 2017/2025 editions hold already.
    """
    # CN and MN are needed to do anything with a frame, in any mode.
    _require(fields, "CN", tolerable=False, check=check)
    _require(fields, "MN", tolerable=False, check=check)
    if not _CN.fullmatch(fields["CN"]):
        raise ProtocolError(
            ErrorCode.BAD_FIELD,
            f"CN={fields['CN']!r} is not 4 digits",
            f"CN={fields['CN']}不是4位数字",
        )
    flag_text = fields.get("Flag")
    flag: int | None = None
    if flag_text is not None:
        if not flag_text.isdecimal() or not flag_text.isascii() or int(flag_text) > 255:
            raise ProtocolError(
                ErrorCode.BAD_FIELD,
                f"Flag={flag_text!r} is not an integer 0..255",
                f"Flag={flag_text}不是0～255的整数",
            )
        flag = int(flag_text)
    claimed = version_from_flag(flag)
    if claimed is None and flag is not None:
        check.note(
            DeviationCode.UNKNOWN_VERSION_BITS,
            f"Flag={flag} has unknown version bits {version_bits(flag):06b}",
            f"Flag={flag}的版本位{version_bits(flag):06b}未知",
        )
    # A frame with a known Flag is formatted by the edition it claims; without
    # a Flag (2005 style) or with unknown bits, by the registered edition.
    if flag is not None and claimed is not None:
        version = claimed
    else:
        version = options.version or claimed or ProtocolVersion.HJ212_2017
    if options.version is not None and flag is not None and claimed is not options.version:
        check.note(
            DeviationCode.VERSION_MISMATCH,
            f"device is registered as {options.version.value}, frame claims "
            f"{claimed.value if claimed else 'unknown version bits'}",
            f"设备登记为{options.version.value}版，数据包声明为"
            f"{claimed.value if claimed else '未知版本'}",
        )
    is_2005 = version is ProtocolVersion.HJT212_2005
    for name in ("ST", "PW"):
        _require(fields, name, tolerable=True, check=check)
    if not is_2005:
        for name in ("QN", "Flag"):
            _require(fields, name, tolerable=True, check=check)
    if not (formats_checked and not is_2005):
        _check_format(fields, "QN", _QN, ("17 digits", "17位数字"), check)
        _check_format(fields, "ST", _ST, ("2 characters 0-9/A-Z", "2位数字或大写字母"), check)
        _check_format(fields, "PW", _PW, ("6 characters", "6位字符"), check)
        if is_2005:
            _check_format(fields, "MN", _MN_2005, ("14 letters or digits", "14位字母或数字"), check)
        else:
            _check_format(
                fields, "MN", _MN_2017, ("24 hex digits 0-9/A-F", "24位十六进制数字"), check
            )
    if not _MN_SEEN.fullmatch(fields["MN"]):
        raise ProtocolError(
            ErrorCode.BAD_FIELD,
            f"MN={fields['MN']!r} is not 1-32 letters, digits, '_' or '-'",
            f"MN={fields['MN']}不是1～32位字母、数字、“_”或“-”",
        )
    st = fields.get("ST")
    if st is not None and st not in SYSTEM_CODES:
        check.note(
            DeviationCode.UNKNOWN_SYSTEM_CODE,
            f"ST={st} is not in the standard's table",
            f"ST={st}不在标准的系统编码表中",
        )
    cn = fields["CN"]
    if cn not in COMMANDS:
        check.note(
            DeviationCode.UNKNOWN_COMMAND,
            f"CN={cn} is not a known command",
            f"CN={cn}不是已知命令编码",
        )
    _check_segments(fields, flag, check)
    _check_period_start(cn, cp, check)
    return Packet(
        cn=cn,
        mn=fields["MN"],
        st=st,
        pw=fields.get("PW"),
        qn=fields.get("QN"),
        flag=flag_text,
        pnum=fields.get("PNUM"),
        pno=fields.get("PNO"),
        cp=cp,
    )


def _check_segments(fields: Mapping[str, str], flag: int | None, check: _Checker) -> None:
    has_numbers = "PNUM" in fields or "PNO" in fields
    flagged = flag is not None and bool(flag & FLAG_D)
    if flagged or has_numbers:
        for name in ("PNUM", "PNO"):
            value = fields.get(name)
            if value is None:
                raise ProtocolError(
                    ErrorCode.MISSING_FIELD,
                    f"segmented upload without {name}",
                    f"拆分包缺少{name}",
                )
            if not _COUNT.fullmatch(value) or int(value) == 0:
                raise ProtocolError(
                    ErrorCode.BAD_FIELD,
                    f"{name}={value!r} is not a number 1..9999",
                    f"{name}={value}不是1～9999的数字",
                )
        if int(fields["PNO"]) > int(fields["PNUM"]):
            raise ProtocolError(
                ErrorCode.BAD_FIELD,
                f"PNO={fields['PNO']} exceeds PNUM={fields['PNUM']}",
                f"PNO={fields['PNO']}大于PNUM={fields['PNUM']}",
            )
    if has_numbers and not flagged:
        check.deviate(
            ErrorCode.BAD_FIELD,
            DeviationCode.PNO_WITHOUT_FLAG,
            "PNUM/PNO present but Flag bit D is not set",
            "有PNUM/PNO但Flag的拆分位D未置位",
        )


# DataTime of minute, hourly and daily data is the start of the period.
_PERIOD_START: Final[dict[str, tuple[str, str, Callable[[datetime], bool]]]] = {
    "2051": ("minute", "分钟", lambda t: t.second == 0),
    "2061": ("hour", "小时", lambda t: t.minute == 0 and t.second == 0),
    "2031": ("day", "日", lambda t: t.hour == 0 and t.minute == 0 and t.second == 0),
}


def _check_period_start(cn: str, cp: tuple[CpGroup, ...], check: _Checker) -> None:
    rule = _PERIOD_START.get(cn)
    if rule is None:
        return
    data_time = next((value for group in cp for key, value in group if key == "DataTime"), None)
    moment = parse_time(data_time) if data_time else None
    period, period_zh, is_start = rule
    if moment is not None and not is_start(moment):
        check.note(
            DeviationCode.UNALIGNED_DATA_TIME,
            f"CN={cn} DataTime={data_time} is not the start of a {period}",
            f"CN={cn}的DataTime={data_time}不是{period_zh}的起始时刻",
        )
