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
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from envwatch.errors import UsageError
from envwatch.hj212.codes import (
    COMMANDS,
    FLAG_D,
    SYSTEM_CODES,
    VERSION_BITS_OF,
    DataFlag,
    ProtocolVersion,
    asks_for_answer,
    is_segmented,
    version_bits,
    version_from_flag,
)
from envwatch.hj212.errors import Deviation, DeviationCode, ErrorCode, ProtocolError
from envwatch.hj212.options import DecodeOptions

HEADER_FIELDS: Final = ("QN", "ST", "CN", "PW", "MN", "Flag", "PNUM", "PNO")
_KNOWN_VERSION_BITS: Final = frozenset(VERSION_BITS_OF.values())
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
# Every suffix of a ``code-Suffix`` key: the standard's (Table 4) and those
# real loggers send beside them (hj212.md §5.1).
FIELD_SUFFIXES: Final = (
    NUMERIC_SUFFIXES
    | TIME_SUFFIXES
    | frozenset(
        {"Flag", "EFlag", "Info", "SN", "ID", "ValidNum", "TotalNum", "Ala", "UpValue", "LowValue"}
    )
)


def split_factor_key(key: str) -> tuple[str, str, str]:
    """``(code, "-", suffix)`` of a CP key, like ``str.partition("-")``.

    Vendor factor codes may hold a ``-`` themselves (``a34004-1-Rtd``): such a
    key is split at its last ``-`` when what follows is a known suffix, so the
    code keeps its own dashes.
    """
    code, dash, suffix = key.partition("-")
    if "-" in suffix:
        vendor_code, _, last = key.rpartition("-")
        if last in FIELD_SUFFIXES:
            return vendor_code, dash, last
    return code, dash, suffix


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
# What a flag can be, known or not: Flag is C1, EFlag C4 (HJ 212-2017 Table 4).
_FLAG_ALPHABETS: Final = {
    "Flag": re.compile(r"[0-9A-Za-z]"),
    "EFlag": re.compile(r"[0-9A-Za-z]{1,4}"),
}

# The standard form of a data segment, as a 2017/2025 logger following the
# standard writes it: header fields in the standard's order and format, and a
# CP data area of typed values (numbers where the suffix says number, known
# data flags, valid calendar times), no blanks, no empty items, no log text.
# Frames of this form take a fast path. The patterns may reject what the
# field-by-field reading accepts (that only costs speed), never the other way
# round: property tests hold both readings equal on what they accept.
_HEADER_PATTERN = (
    r"QN=([0-9]{17});ST=([0-9A-Z]{2});CN=([0-9]{4});PW=([^;,=&\r\n]{6});"
    r"MN=([0-9A-F]{24});Flag=([0-9]{1,3});(?:PNUM=([0-9]{1,4});PNO=([0-9]{1,4});)?"
)


def _cp_pattern() -> str:
    number = r"[+-]?+(?:[0-9]++(?:\.[0-9]*+)?+|\.[0-9]++)"
    leap_year = r"(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)"
    month_day = (
        r"(?:(?:0[1-9]|1[0-2])(?:0[1-9]|1[0-9]|2[0-8])"
        r"|(?:0[13-9]|1[0-2])(?:29|30)|(?:0[13578]|1[02])31)"
    )
    clock = r"(?:[01][0-9]|2[0-3])[0-5][0-9][0-5][0-9]"
    time = rf"(?!0000)(?:[0-9]{{4}}{month_day}|{leap_year}0229){clock}"
    code = r"[^;,=\s/\-]++"
    # Most frequent first: alternatives are tried in order (every factor has a Flag).
    numeric = "|".join(sorted(NUMERIC_SUFFIXES, key=_SUFFIX_FREQUENCY.index))
    flags = "".join(flag.value for flag in DataFlag)
    time_keys = "|".join(sorted(TIME_KEYS))
    value = r"[^;,=\s/&]*+"  # no "&": the segment pattern ends in "&&"
    item = (
        rf"(?>{code}-(?>Flag=[{flags}]|EFlag=[0-9A-Za-z]{{1,4}}|(?:{numeric})={number}"
        rf"|SampleTime={time}|(?!(?:{numeric}|Flag|EFlag|SampleTime)=){code}={value})"
        rf"|(?:{time_keys})={time}"
        rf"|(?!(?:{time_keys})=){code}={value})"
    )
    return rf"{item}(?:[;,]{item})*+"


_SUFFIX_FREQUENCY: Final = (
    "Rtd", "Avg", "Min", "Max", "Cou", "ZsRtd", "ZsAvg", "ZsMin", "ZsMax", "ZsCou",
    "RS", "RT", "Data", "DayData", "NightData",
)  # fmt: skip
_STANDARD_CP = re.compile(_cp_pattern())
_STANDARD_SEGMENT = re.compile(rf"{_HEADER_PATTERN}CP=&&({_cp_pattern()})?&&")
_ALL_BUT_SEPARATORS: Final = bytes(b for b in range(256) if b not in b";,")

CpGroup = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Packet:
    """One data segment, every value as the frame's own text.

    The CP data area is kept as its ``items`` (``key=value`` pairs, in order)
    and its ``layout``: the separator before each item after the first, ``;``
    where a new group starts and ``,`` where an item joins the group before
    (as a pollutant's Rtd and Flag do). So a packet re-encodes to the same
    bytes. ``from_groups`` builds one from groups; ``cp`` gives them back.
    """

    cn: str
    mn: str | None = None
    st: str | None = None
    pw: str | None = None
    qn: str | None = None
    flag: str | None = None
    pnum: str | None = None
    pno: str | None = None
    items: tuple[tuple[str, str], ...] = ()
    layout: str = ""

    @classmethod
    def from_groups(
        cls,
        cn: str,
        *,
        cp: Iterable[CpGroup] = (),
        mn: str | None = None,
        st: str | None = None,
        pw: str | None = None,
        qn: str | None = None,
        flag: str | None = None,
        pnum: str | None = None,
        pno: str | None = None,
    ) -> Packet:
        """A packet whose CP data area is ``cp``: groups of ``(key, value)`` pairs."""
        for group in cp:
            if not group:
                raise UsageError("a CP group must hold at least one pair")
        items, layout = _flatten(cp)
        return cls(cn, mn, st, pw, qn, flag, pnum, pno, items, layout)

    @property
    def cp(self) -> tuple[CpGroup, ...]:
        """The CP data area as groups of ``(key, value)`` pairs."""
        if not self.items:
            return ()
        groups: list[CpGroup] = []
        start = 0
        for index, separator in enumerate(self.layout, start=1):
            if separator == ";":
                groups.append(self.items[start:index])
                start = index
        groups.append(self.items[start:])
        return tuple(groups)

    @property
    def flag_value(self) -> int | None:
        """The Flag as an int, or None when the frame has no Flag."""
        return None if self.flag is None else int(self.flag)

    @property
    def wants_answer(self) -> bool:
        """Flag bit A: the sender asks for an answer."""
        return asks_for_answer(self.flag_value)

    @property
    def segmented(self) -> bool:
        """PNUM/PNO present, with Flag bit D or without it (some loggers send no Flag)."""
        return is_segmented(self.pnum)

    @property
    def claimed_version(self) -> ProtocolVersion | None:
        """The edition the Flag claims; None for unknown version bits."""
        return version_from_flag(self.flag_value)

    def cp_items(self) -> tuple[tuple[str, str], ...]:
        """Every ``key=value`` pair of the CP data area, in order."""
        return self.items

    def cp_fields(self) -> dict[str, str]:
        """CP keys without a ``code-`` prefix (DataTime, RtdInterval, PolId, ...)."""
        return {key: value for key, value in self.cp_items() if "-" not in key}

    def factors(self) -> dict[str, dict[str, str]]:
        """CP ``code-Suffix`` pairs by code: ``{"a21026": {"Rtd": "12.3", "Flag": "N"}}``."""
        out: dict[str, dict[str, str]] = {}
        for key, value in self.cp_items():
            code, dash, suffix = split_factor_key(key)
            if dash:
                out.setdefault(code, {})[suffix] = value
        return out

    def cp_value(self, key: str) -> str | None:
        """The first value of ``key`` in the CP data area."""
        for k, value in self.cp_items():
            if k == key:
                return value
        return None


CpArea = tuple[tuple[tuple[str, str], ...], str]


def _flatten(groups: Iterable[CpGroup]) -> CpArea:
    """The items and layout of a CP data area given as groups."""
    items: list[tuple[str, str]] = []
    layout: list[str] = []
    for group in groups:
        layout.append(";" + "," * (len(group) - 1))
        items.extend(group)
    return tuple(items), "".join(layout)[1:]


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
    if len(packet.layout) != max(0, len(packet.items) - 1) or packet.layout.strip(";,"):
        raise UsageError("layout must hold one ';' or ',' between consecutive items")
    area = []
    for index, (key, value) in enumerate(packet.items):
        if not key or _FORBIDDEN_IN_VALUE.search(key) or "&&" in key:
            raise UsageError(f"CP key {key!r} is empty or holds a separator")
        if _FORBIDDEN_IN_VALUE.search(value) and not _INFO_TEXT.fullmatch(value):
            raise UsageError(f"CP value {key}={value!r} holds a separator")
        if index:
            area.append(packet.layout[index - 1])
        area.append(f"{key}={value}")
    parts.append("CP=&&" + "".join(area) + "&&")
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
    standard = _STANDARD_SEGMENT.fullmatch(text)
    if standard is not None and (packet := _standard_packet(standard, options, check)):
        return packet, tuple(check.deviations)
    return _read_fields(text, options, check), tuple(check.deviations)


def _read_fields(text: str, options: DecodeOptions, check: _Checker) -> Packet:
    """Read a data segment field by field, naming each fault."""
    cp_at = text.find("CP=&&")
    if cp_at < 0:
        raise ProtocolError(
            ErrorCode.MISSING_FIELD, "no 'CP=&&' in the data segment", "缺少“CP=&&”"
        )
    header_text = text[:cp_at]
    if not text.endswith("&&") and check.lenient:
        text, header_text = _move_fields_after_cp(text, cp_at, header_text, check)
    if not text.endswith("&&") or len(text) < cp_at + 7:
        raise ProtocolError(
            ErrorCode.BAD_CP, "the CP data area does not end with '&&'", "CP数据区未以“&&”结束"
        )
    if header_text and not header_text.endswith(";"):
        check.deviate(
            ErrorCode.BAD_FIELD,
            DeviationCode.MISSING_SEPARATOR,
            f"no ';' between {header_text.rsplit(';', 1)[-1]!r} and 'CP'",
            f"“{header_text.rsplit(';', 1)[-1]}”与“CP”之间缺少分号",
        )
        header_text += ";"
    header = _parse_header(header_text[:-1], check) if header_text else {}
    cp = _parse_cp(text[cp_at + 5 : -2], check)
    return _build_packet(header, cp, options, check)


_TRAILING_FIELDS = re.compile(r"(?:;?(?:QN|ST|CN|PW|MN|Flag|PNUM|PNO)=[^;,=&\s]*)+;?")


def _move_fields_after_cp(
    text: str, cp_at: int, header_text: str, check: _Checker
) -> tuple[str, str]:
    """Header fields a serializer wrote after the CP area (``&&;Flag=5``), moved
    before it; the text as it was when what follows ``&&`` is not header fields."""
    end = text.rfind("&&")
    if end < cp_at + 5:
        return text, header_text
    trailing = text[end + 2 :]
    if not _TRAILING_FIELDS.fullmatch(trailing):
        return text, header_text
    check.deviate(
        ErrorCode.BAD_CP,
        DeviationCode.FIELDS_AFTER_CP,
        f"header fields {trailing.strip(';')!r} after the CP data area",
        f"包头字段“{trailing.strip(';')}”位于CP数据区之后",
    )
    if header_text and not header_text.endswith(";"):
        header_text += ";"
    return text[: end + 2], header_text + trailing.strip(";") + ";"


def _standard_items(text: str) -> CpArea | None:
    """Items and layout of a CP data area that matched ``_STANDARD_CP``; None if a key repeats."""
    # Each item holds exactly one '=' and no value holds a separator, so
    # splitting at all three yields key, value, key, value, ... (all in C).
    parts = iter(text.replace(";", "=").replace(",", "=").split("="))
    items = tuple(zip(parts, parts, strict=True))
    if len(dict(items)) != len(items):
        return None
    # The layout is the text's separators (bytes deleted in C; UTF-8 never
    # hides a ';' or ',' inside a multi-byte character).
    layout = text.encode().translate(None, _ALL_BUT_SEPARATORS).decode("ascii")
    return items, layout


def _standard_packet(
    match: re.Match[str], options: DecodeOptions, check: _Checker
) -> Packet | None:
    """The packet of a segment in the standard form, or None to read it field by field."""
    qn, st, cn, pw, mn, flag_text, pnum, pno, cp_text = match.groups()
    flag = int(flag_text)
    if flag > 255 or flag < 4:
        return None  # an error, or 2005 formats: the general path says which
    if options.version is ProtocolVersion.HJT212_2005 and flag >> 2 not in _KNOWN_VERSION_BITS:
        return None  # unknown version bits are read by the registered 2005 formats
    items: tuple[tuple[str, str], ...] = ()
    layout = ""
    if cp_text:
        standard = _standard_items(cp_text)
        if standard is None:
            return None
        items, layout = standard
    if (
        st not in SYSTEM_CODES
        or cn not in COMMANDS
        or options.version is not None
        or flag >> 2 not in _KNOWN_VERSION_BITS
    ):
        _note_codes(cn, st, flag, options, check)
    if pnum is not None or flag & FLAG_D:
        fields = {"PNUM": pnum, "PNO": pno} if pnum is not None else {}
        _check_segments(fields, flag, check)
    if cn in _PERIOD_START:
        _check_period_start(cn, items, check)
    return Packet(cn, mn, st, pw, qn, flag_text, pnum, pno, items, layout)


def _read_pair(
    item: str, error: ErrorCode, what: tuple[str, str], check: _Checker
) -> tuple[str, str] | None:
    """``name=value`` of one header or CP item; None when it is not one (lenient)."""
    name, eq, value = item.partition("=")
    if not eq or not name.strip():
        check.deviate(
            error,
            DeviationCode.STRAY_SEPARATOR,
            f"{what[0]} {item!r} is not name=value",
            f"{what[1]}“{item}”不是“名称=值”",
        )
        return None
    if name != name.strip() or value != value.strip():
        check.deviate(
            error,
            DeviationCode.WHITESPACE,
            f"blanks around {what[0]} {item!r}",
            f"{what[1]}“{item}”含多余空格",
        )
        return name.strip(), value.strip()
    return name, value


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
        pair = _read_pair(item, ErrorCode.BAD_FIELD, ("header item", "包头项"), check)
        if pair is None:
            continue
        name, value = pair
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


def _parse_cp(text: str, check: _Checker) -> CpArea:
    if not text:
        return (), ""
    # A CP data area in the standard's own form takes the fast path: one
    # pattern match, pairs split in C. Everything else is read item by item
    # below, which names each fault.
    if _STANDARD_CP.fullmatch(text) and (standard := _standard_items(text)) is not None:
        return standard
    return _read_cp_items(text, check)


def _read_cp_items(text: str, check: _Checker) -> CpArea:
    """Read a CP data area item by item, naming each fault."""
    raw_groups = _split_cp(text)
    last = len(raw_groups) - 1
    groups: list[CpGroup] = []
    seen: set[str] = set()
    for index, raw_group in enumerate(raw_groups):
        pairs: list[tuple[str, str]] = []
        for item in raw_group:
            if not item:
                trailing = index == last and len(raw_group) == 1
                check.deviate(
                    ErrorCode.BAD_CP,
                    DeviationCode.TRAILING_SEPARATOR if trailing else DeviationCode.STRAY_SEPARATOR,
                    "separator before '&&'" if trailing else "empty item between separators",
                    "“&&”前多余分隔符" if trailing else "分隔符之间为空",
                )
                continue
            pair = _read_pair(item, ErrorCode.BAD_CP, ("CP item", "CP项"), check)
            if pair is None:
                continue
            key, value = pair
            if key in seen:
                check.deviate(
                    ErrorCode.BAD_CP,
                    DeviationCode.DUPLICATE_KEY,
                    f"CP key {key} appears twice",
                    f"CP键{key}重复出现",
                )
            seen.add(key)
            if _check_value(key, value, check):
                pairs.append((key, value))
        if pairs:
            groups.append(tuple(pairs))
    return _flatten(groups)


def _check_value(key: str, value: str, check: _Checker) -> bool:
    """Check one CP value; False: leave it out (lenient), it cannot be what it claims."""
    code, dash, suffix = split_factor_key(key)
    if "-" in code:
        check.deviate(
            ErrorCode.BAD_CP,
            DeviationCode.DASHED_FACTOR_CODE,
            f"factor code {code!r} holds a '-'",
            f"因子编码“{code}”含有“-”",
        )
    if dash:
        if suffix in NUMERIC_SUFFIXES:
            kind = "number"
        elif suffix in TIME_SUFFIXES:
            kind = "time"
        elif suffix in _FLAG_ALPHABETS:
            if not _FLAG_ALPHABETS[suffix].fullmatch(value):
                # No flag of any edition or vendor: never stored (nor exported as a cell).
                check.deviate(
                    ErrorCode.BAD_CP,
                    DeviationCode.BAD_DATA_FLAG,
                    f"{key}={value[:40]!r} is not a data flag (left out)",
                    f"{key}={value[:40]}不是数据标记（已舍弃）",
                )
                return False
            if suffix == "Flag" and value not in _DATA_FLAGS:
                check.note(
                    DeviationCode.UNKNOWN_DATA_FLAG,
                    f"{key}={value!r} is not a data flag of the standard",
                    f"{key}={value}不是标准规定的数据标记",
                )
            return True
        else:
            return True
    elif key in TIME_KEYS:
        kind = "time"
    else:
        return True
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
    return True


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


def _note_codes(
    cn: str, st: str | None, flag: int | None, options: DecodeOptions, check: _Checker
) -> None:
    """Report codes the standard's extensible tables do not hold, and a
    version that differs from the registered one. Never an error."""
    claimed = version_from_flag(flag)
    if claimed is None and flag is not None:
        check.note(
            DeviationCode.UNKNOWN_VERSION_BITS,
            f"Flag={flag} has unknown version bits {version_bits(flag):06b}",
            f"Flag={flag}的版本位{version_bits(flag):06b}未知",
        )
    if options.version is not None and flag is not None and claimed is not options.version:
        check.note(
            DeviationCode.VERSION_MISMATCH,
            f"device is registered as {options.version.value}, frame claims "
            f"{claimed.value if claimed else 'unknown version bits'}",
            f"设备登记为{options.version.value}版，数据包声明为"
            f"{claimed.value if claimed else '未知版本'}",
        )
    if st is not None and st not in SYSTEM_CODES:
        check.note(
            DeviationCode.UNKNOWN_SYSTEM_CODE,
            f"ST={st} is not in the standard's table",
            f"ST={st}不在标准的系统编码表中",
        )
    if cn not in COMMANDS:
        check.note(
            DeviationCode.UNKNOWN_COMMAND,
            f"CN={cn} is not a known command",
            f"CN={cn}不是已知命令编码",
        )


def _build_packet(
    fields: dict[str, str], cp: CpArea, options: DecodeOptions, check: _Checker
) -> Packet:
    """Check the header fields read one by one and build the packet."""
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
    # A frame with a known Flag is formatted by the edition it claims; without
    # a Flag (2005 style) or with unknown bits, by the registered edition.
    if flag is not None and claimed is not None:
        version = claimed
    else:
        version = options.version or claimed or ProtocolVersion.HJ212_2017
    is_2005 = version is ProtocolVersion.HJT212_2005
    for name in ("ST", "PW") if is_2005 else ("QN", "ST", "PW", "Flag"):
        _require(fields, name, tolerable=True, check=check)
    _check_format(fields, "QN", _QN, ("17 digits", "17位数字"), check)
    _check_format(fields, "ST", _ST, ("2 characters 0-9/A-Z", "2位数字或大写字母"), check)
    _check_format(fields, "PW", _PW, ("6 characters", "6位字符"), check)
    if is_2005:
        _check_format(fields, "MN", _MN_2005, ("14 letters or digits", "14位字母或数字"), check)
    else:
        _check_format(fields, "MN", _MN_2017, ("24 hex digits 0-9/A-F", "24位十六进制数字"), check)
    if not _MN_SEEN.fullmatch(fields["MN"]):
        raise ProtocolError(
            ErrorCode.BAD_FIELD,
            f"MN={fields['MN']!r} is not 1-32 letters, digits, '_' or '-'",
            f"MN={fields['MN']}不是1～32位字母、数字、“_”或“-”",
        )
    cn = fields["CN"]
    st = fields.get("ST")
    _note_codes(cn, st, flag, options, check)
    _check_segments(fields, flag, check)
    _check_period_start(cn, cp[0], check)
    return Packet(
        cn=cn,
        mn=fields["MN"],
        st=st,
        pw=fields.get("PW"),
        qn=fields.get("QN"),
        flag=flag_text,
        pnum=fields.get("PNUM"),
        pno=fields.get("PNO"),
        items=cp[0],
        layout=cp[1],
    )


def _check_segments(fields: Mapping[str, str], flag: int | None, check: _Checker) -> None:
    has_numbers = "PNUM" in fields or "PNO" in fields
    flagged = flag is not None and bool(flag & FLAG_D)
    if flagged and not has_numbers:
        # 2005-era loggers set bit D on whole uploads: read as one whole packet.
        check.deviate(
            ErrorCode.MISSING_FIELD,
            DeviationCode.SEGMENT_FLAG_WITHOUT_NUMBERS,
            f"Flag={flag} marks a segmented upload but PNUM and PNO are missing",
            f"Flag={flag}标记为拆分包但缺少PNUM和PNO",
        )
        return
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


# DataTime of minute, hourly and daily data is the start of the period: the
# trailing digits of YYYYMMDDhhmmss that must be zero, and the period's name.
_PERIOD_START: Final[dict[str, tuple[int, str, str]]] = {
    "2051": (2, "minute", "分钟"),
    "2061": (4, "hour", "小时"),
    "2031": (6, "day", "日"),
}


def _check_period_start(cn: str, items: tuple[tuple[str, str], ...], check: _Checker) -> None:
    rule = _PERIOD_START.get(cn)
    if rule is None:
        return
    data_time = next((value for key, value in items if key == "DataTime"), None)
    zeros, period, period_zh = rule
    if data_time and _TIME.fullmatch(data_time) and not data_time.endswith("0" * zeros):
        check.note(
            DeviationCode.UNALIGNED_DATA_TIME,
            f"CN={cn} DataTime={data_time} is not the start of a {period}",
            f"CN={cn}的DataTime={data_time}不是{period_zh}的起始时刻",
        )
