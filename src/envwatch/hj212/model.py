"""The typed model: what a packet means, with numbers, times and codes as values.

``interpret(packet, version)`` reads a ``Packet`` (text) as one of the message
types below; ``to_packet(message)`` writes it back, so that
``interpret(to_packet(m), m.envelope.version) == m``.

* ``DataUpload``: measured values per factor (2011 real-time, 2051 minute,
  2061 hourly, 2031 daily; 2025's 2013, 2052, 2062, 2111).
* ``FacilityRunState`` (2021), ``FacilityRunTime`` (2041), ``LoggerRestart`` (2081).
* ``DeviceInfo``: field-device logs, states and parameters (3020 upload).
* ``Reply``: 9011 request answer, 9012 execution result, 9013, 9014.
* ``Heartbeat``: 9015 (2025) and the vendor 9021.
* ``Command``: every parameter, data-request and control command of Appendix C,
  its CP read against ``COMMAND_PARAMETERS``.

HJ/T 212-2005 short factor codes are mapped to 2017 codes here, at the edge;
the code the device sent is kept so the packet can be rebuilt.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from types import MappingProxyType
from typing import Final, TypeVar

from envwatch.glossary import code_2017_from_2005, medium_for_system_code
from envwatch.hj212.codes import (
    COMMANDS,
    CommandKind,
    DataFlag,
    ExeRtn,
    ProtocolVersion,
    QnRtn,
    RunState,
    asks_for_answer,
    data_flag,
    is_segmented,
)
from envwatch.hj212.errors import ErrorCode, ProtocolError
from envwatch.hj212.segment import CpGroup, Packet, parse_time


@dataclass(frozen=True, slots=True)
class Envelope:
    """The header of a message: who sent it and how it is to be answered."""

    mn: str
    version: ProtocolVersion
    st: str | None = None
    pw: str | None = None
    qn: str | None = None
    flag: int | None = None
    pnum: int | None = None
    pno: int | None = None

    @property
    def wants_answer(self) -> bool:
        return asks_for_answer(self.flag)

    @property
    def segmented(self) -> bool:
        return is_segmented(self.pnum)


class DataKind(StrEnum):
    """The period a data upload covers."""

    REALTIME = "realtime"
    MINUTE = "minute"
    HOUR = "hour"
    DAY = "day"
    RAW = "raw"  # 2025: 2013 raw monitoring data
    NOISE_SINGLE = "noise_single"  # 2025: 2052
    STANDARD_CHECK = "standard_check"  # 2025: 2062
    FURNACE_5MIN = "furnace_5min"  # 2025: 2111


DATA_KIND_OF_COMMAND: Final = MappingProxyType(
    {
        "2011": DataKind.REALTIME,
        "2051": DataKind.MINUTE,
        "2061": DataKind.HOUR,
        "2031": DataKind.DAY,
        "2013": DataKind.RAW,
        "2052": DataKind.NOISE_SINGLE,
        "2062": DataKind.STANDARD_CHECK,
        "2111": DataKind.FURNACE_5MIN,
    }
)
_COMMAND_OF_DATA_KIND: Final = {kind: cn for cn, kind in DATA_KIND_OF_COMMAND.items()}

# Suffix -> FactorValues attribute, for the number-valued suffixes.
NUMBER_FIELDS: Final = MappingProxyType(
    {
        "Rtd": "rtd",
        "Avg": "avg",
        "Min": "min",
        "Max": "max",
        "Cou": "cou",
        "ZsRtd": "zs_rtd",
        "ZsAvg": "zs_avg",
        "ZsMin": "zs_min",
        "ZsMax": "zs_max",
        "Data": "data",
        "DayData": "day_data",
        "NightData": "night_data",
    }
)


@dataclass(frozen=True, slots=True)
class FactorValues:
    """The values of one factor in a data upload.

    Concentrations are in the factor's unit (see ``envwatch.glossary``), e.g.
    [mg/m³] for flue gas, [mg/L] for water; ``cou`` is the amount over the
    period, e.g. [kg] or [m³]; ``zs_*`` are O2-corrected (折算) values.
    """

    rtd: Decimal | None = None
    avg: Decimal | None = None
    min: Decimal | None = None
    max: Decimal | None = None
    cou: Decimal | None = None
    zs_rtd: Decimal | None = None
    zs_avg: Decimal | None = None
    zs_min: Decimal | None = None
    zs_max: Decimal | None = None
    data: Decimal | None = None
    day_data: Decimal | None = None
    night_data: Decimal | None = None
    flag: DataFlag | str | None = None
    eflag: str | None = None
    sample_time: datetime | None = None
    extra: tuple[tuple[str, str], ...] = ()
    """Suffixes the standard does not define (``ZsCou``, ``ValidNum``...) or
    values that could not be read as their type, as text."""
    sent_code: str | None = None
    """The code as the device sent it, when it differs (2005 short codes)."""


@dataclass(frozen=True, slots=True)
class DataUpload:
    cn: str
    envelope: Envelope
    data_time: datetime
    values: Mapping[str, FactorValues]
    """By HJ 212-2017 factor code."""

    @property
    def kind(self) -> DataKind:
        return DATA_KIND_OF_COMMAND[self.cn]


@dataclass(frozen=True, slots=True)
class FacilityRunState:
    """2021: treatment-facility run states ``SBxxx-RS`` by facility id."""

    envelope: Envelope
    data_time: datetime
    states: Mapping[str, RunState | int]


@dataclass(frozen=True, slots=True)
class FacilityRunTime:
    """2041: facility running hours in the day ``SBxxx-RT`` [h] by facility id."""

    envelope: Envelope
    data_time: datetime
    hours: Mapping[str, Decimal]


@dataclass(frozen=True, slots=True)
class LoggerRestart:
    """2081: the data logger's power-on time."""

    envelope: Envelope
    data_time: datetime
    restart_time: datetime


DEVICE_INFO_COMMAND = "3020"
"""The command of field-device information uploads (logs, states, parameters)."""


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """3020 upload: field-device information ``i…-Info`` (logs, states, parameters)."""

    envelope: Envelope
    data_time: datetime | None
    pol_id: str | None
    info: Mapping[str, str]
    """By information code, the value as sent (logs keep their ``//...//``)."""

    def text(self, code: str) -> str | None:
        """An information value with the log delimiters ``//...//`` removed."""
        value = self.info.get(code)
        if (
            value is not None
            and len(value) >= 4
            and value.startswith("//")
            and value.endswith("//")
        ):
            return value[2:-2]
        return value


@dataclass(frozen=True, slots=True)
class Reply:
    """9011, 9012, 9013 or 9014. In the 2005 form the answered QN (and, for 9014,
    the answered CN) travel inside CP instead of the header."""

    cn: str
    envelope: Envelope
    qn_rtn: QnRtn | int | None = None
    exe_rtn: ExeRtn | int | None = None
    answered_qn: str | None = None
    answered_cn: str | None = None


@dataclass(frozen=True, slots=True)
class Heartbeat:
    cn: str
    envelope: Envelope
    data: str | None = None


ParamValue = int | str | datetime


@dataclass(frozen=True, slots=True)
class Command:
    """A parameter, data-request, control or notification command, or a device's
    answer carrying parameters (e.g. the 1061 upload of ``RtdInterval``).

    ``params`` holds the CP keys of ``COMMAND_PARAMETERS`` as values; factor
    items (``w01018-SN``, ``i13004-Info``) stay text in ``factor_params``.
    """

    cn: str
    envelope: Envelope
    params: Mapping[str, ParamValue] = field(default_factory=dict)
    factor_params: Mapping[str, str] = field(default_factory=dict)

    @property
    def kind(self) -> CommandKind | None:
        command = COMMANDS.get(self.cn)
        return command.kind if command else None


Message = (
    DataUpload
    | FacilityRunState
    | FacilityRunTime
    | LoggerRestart
    | DeviceInfo
    | Reply
    | Heartbeat
    | Command
)


class ParamType(StrEnum):
    INT = "int"
    TIME = "time"  # YYYYMMDDhhmmss
    CLOCK = "clock"  # hhmmss
    TEXT = "text"


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """A CP parameter of HJ 212-2017 Table 4, with its type and allowed range."""

    key: str
    type: ParamType
    low: int | None = None
    high: int | None = None
    choices: frozenset[int] | None = None


_MIN_INTERVALS: Final = frozenset({1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30})
PARAMETERS: Final = MappingProxyType(
    {
        spec.key: spec
        for spec in (
            ParamSpec("SystemTime", ParamType.TIME),
            ParamSpec("RestartTime", ParamType.TIME),
            ParamSpec("DataTime", ParamType.TIME),
            ParamSpec("BeginTime", ParamType.TIME),
            ParamSpec("EndTime", ParamType.TIME),
            ParamSpec("SKCreateTime", ParamType.TIME),
            ParamSpec("QnRtn", ParamType.INT, 0, 999),
            ParamSpec("ExeRtn", ParamType.INT, 0, 999),
            ParamSpec("RtdInterval", ParamType.INT, 30, 3600),
            ParamSpec("MinInterval", ParamType.INT, choices=_MIN_INTERVALS),
            ParamSpec("OverTime", ParamType.INT, 1, 99),
            ParamSpec("ReCount", ParamType.INT, 1, 99),
            ParamSpec("VaseNo", ParamType.INT, 0, 99),
            ParamSpec("CstartTime", ParamType.CLOCK),
            ParamSpec("Ctime", ParamType.INT, 1, 24),
            ParamSpec("Stime", ParamType.INT, 1, 120),
            ParamSpec("PolId", ParamType.TEXT),
            ParamSpec("InfoId", ParamType.TEXT),
            ParamSpec("NewPW", ParamType.TEXT),
            ParamSpec("NewSK", ParamType.TEXT),
            ParamSpec("QN", ParamType.TEXT),
            ParamSpec("CN", ParamType.TEXT),
            ParamSpec("Data", ParamType.TEXT),
        )
    }
)


@dataclass(frozen=True, slots=True)
class CommandParameters:
    """The CP parameters a command takes (HJ 212-2017 Appendix C)."""

    required: frozenset[str] = frozenset()
    optional: frozenset[str] = frozenset()

    @property
    def allowed(self) -> frozenset[str]:
        return self.required | self.optional


def _takes(required: str = "", optional: str = "") -> CommandParameters:
    return CommandParameters(frozenset(required.split()), frozenset(optional.split()))


# Where one CN serves both directions (a platform's request and the device's
# answer, e.g. 1061 without and with RtdInterval), parameters of either are
# optional. Commands missing here (vendor or not yet known) take any parameter
# of PARAMETERS. 2005 answers carry the answered QN (and CN) inside CP.
COMMAND_PARAMETERS: Final = MappingProxyType(
    {
        "1000": _takes("OverTime ReCount"),
        "1011": _takes(optional="PolId SystemTime"),
        "1012": _takes("SystemTime", "PolId"),
        "1013": _takes(optional="PolId"),
        "1014": _takes(optional="SKCreateTime NewSK"),
        "1061": _takes(optional="RtdInterval"),
        "1062": _takes("RtdInterval"),
        "1063": _takes(optional="MinInterval"),
        "1064": _takes("MinInterval"),
        "1072": _takes("NewPW"),
        "2011": _takes(),
        "2012": _takes(),
        "2021": _takes(),
        "2022": _takes(),
        "2031": _takes("BeginTime EndTime"),
        "2041": _takes("BeginTime EndTime"),
        "2051": _takes("BeginTime EndTime"),
        "2061": _takes("BeginTime EndTime"),
        "3011": _takes("PolId"),
        "3012": _takes("PolId"),
        "3013": _takes("PolId"),
        "3014": _takes("PolId"),
        "3015": _takes(optional="PolId DataTime VaseNo"),
        "3016": _takes("CstartTime Ctime", "PolId"),
        "3017": _takes(optional="PolId CstartTime Ctime"),
        "3018": _takes(optional="PolId Stime"),
        "3019": _takes(optional="PolId"),
        "3020": _takes(optional="PolId InfoId BeginTime EndTime DataTime"),
        "3021": _takes(optional="PolId"),
        "9011": _takes("QnRtn", "QN"),
        "9012": _takes("ExeRtn", "QN"),
        "9013": _takes(optional="QN"),
        "9014": _takes(optional="QN CN"),
        "9015": _takes(optional="Data"),
        "9021": _takes(optional="Data"),
    }
)
# Tables C.31/C.32 print "CTime" where Table 4 says "Ctime"; both are read.
_PARAM_ALIASES: Final = MappingProxyType({"CTime": "Ctime"})
_CLOCK = re.compile(r"([01][0-9]|2[0-3])[0-5][0-9][0-5][0-9]")


def _read_param(key: str, text: str) -> ParamValue:
    spec = PARAMETERS[_PARAM_ALIASES.get(key, key)]
    if spec.type is ParamType.TEXT:
        return text
    if spec.type is ParamType.TIME:
        moment = parse_time(text)
        if moment is None:
            raise ProtocolError(
                ErrorCode.BAD_CP, f"{key}={text!r} is not a time", f"{key}={text}不是时间"
            )
        return moment
    if spec.type is ParamType.CLOCK:
        if not _CLOCK.fullmatch(text):
            raise ProtocolError(
                ErrorCode.BAD_CP, f"{key}={text!r} is not hhmmss", f"{key}={text}不是hhmmss"
            )
        return text
    if not text.isascii() or not text.isdecimal():
        raise ProtocolError(
            ErrorCode.BAD_CP, f"{key}={text!r} is not an integer", f"{key}={text}不是整数"
        )
    number = int(text)
    out_of_range = (spec.low is not None and number < spec.low) or (
        spec.high is not None and number > spec.high
    )
    if out_of_range or (spec.choices is not None and number not in spec.choices):
        allowed = (
            ", ".join(map(str, sorted(spec.choices)))
            if spec.choices is not None
            else f"{spec.low}..{spec.high}"
        )
        raise ProtocolError(
            ErrorCode.BAD_CP,
            f"{key}={number} is outside {allowed}",
            f"{key}={number}超出范围{allowed}",
        )
    return number


def _write_param(value: ParamValue) -> str:
    if isinstance(value, datetime):
        text = value.strftime("%Y%m%d%H%M%S")
        return text + f"{value.microsecond // 1000:03d}" if value.microsecond else text
    return str(value)


def _write_number(value: Decimal) -> str:
    """A number as the standard writes it: positional, never ``1E-7``."""
    return format(value, "f")


def _number(text: str) -> Decimal | None:
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _envelope(packet: Packet, version: ProtocolVersion) -> Envelope:
    if packet.mn is None:
        raise ProtocolError(ErrorCode.MISSING_FIELD, "header field MN is missing", "缺少包头字段MN")
    return Envelope(
        mn=packet.mn,
        version=version,
        st=packet.st,
        pw=packet.pw,
        qn=packet.qn,
        flag=packet.flag_value,
        pnum=None if packet.pnum is None else int(packet.pnum),
        pno=None if packet.pno is None else int(packet.pno),
    )


def _data_time(packet: Packet, *, required: bool = True) -> datetime | None:
    text = packet.cp_value("DataTime")
    if text is None:
        if required:
            raise ProtocolError(
                ErrorCode.MISSING_FIELD,
                f"CN={packet.cn} without DataTime",
                f"CN={packet.cn}缺少DataTime",
            )
        return None
    moment = parse_time(text, with_millis=True)
    if moment is None:
        raise ProtocolError(
            ErrorCode.BAD_CP, f"DataTime={text!r} is not a time", f"DataTime={text}不是时间"
        )
    return moment


def _factor_values(items: Mapping[str, str], sent_code: str | None) -> FactorValues:
    numbers: dict[str, Decimal | None] = {}
    extra: list[tuple[str, str]] = []
    flag: DataFlag | str | None = None
    eflag = None
    sample_time = None
    for suffix, text in items.items():
        attribute = NUMBER_FIELDS.get(suffix)
        if attribute is not None and (value := _number(text)) is not None:
            numbers[attribute] = value
        elif suffix == "Flag":
            flag = data_flag(text)
        elif suffix == "EFlag":
            eflag = text
        elif suffix == "SampleTime" and (moment := parse_time(text)) is not None:
            sample_time = moment
        else:
            extra.append((suffix, text))
    return FactorValues(
        **numbers,
        flag=flag,
        eflag=eflag,
        sample_time=sample_time,
        extra=tuple(extra),
        sent_code=sent_code,
    )


def code_2017(code: str, st: str | None, version: ProtocolVersion) -> str:
    """The HJ 212-2017 code of a factor code sent by a device of ``version`` under ``st``."""
    if version is not ProtocolVersion.HJT212_2005:
        return code
    medium = medium_for_system_code(st) if st else None
    return code_2017_from_2005(code, medium) or code


def interpret(packet: Packet, version: ProtocolVersion | None = None) -> Message:
    """Read ``packet`` as a typed message.

    ``version`` is the device's registered edition; without it the frame's
    own claim is used (unknown version bits are read as 2017).
    """
    version = version or packet.claimed_version or ProtocolVersion.HJ212_2017
    envelope = _envelope(packet, version)
    cn = packet.cn
    fields = packet.cp_fields()
    if cn in ("9011", "9012", "9013", "9014"):
        _check_parameters(cn, fields)
        return Reply(
            cn=cn,
            envelope=envelope,
            qn_rtn=_return_code(QnRtn, fields.get("QnRtn")),
            exe_rtn=_return_code(ExeRtn, fields.get("ExeRtn")),
            answered_qn=fields.get("QN"),
            answered_cn=fields.get("CN"),
        )
    if cn in ("9015", "9021"):
        _check_parameters(cn, fields)
        return Heartbeat(cn=cn, envelope=envelope, data=fields.get("Data"))
    is_history_request = "BeginTime" in fields and "DataTime" not in fields
    if cn in DATA_KIND_OF_COMMAND and not is_history_request and "DataTime" in fields:
        values: dict[str, FactorValues] = {}
        for code, items in packet.factors().items():
            code_new = code_2017(code, packet.st, version)
            values[code_new] = _factor_values(items, code if code_new != code else None)
        data_time = _data_time(packet)
        assert data_time is not None
        return DataUpload(cn=cn, envelope=envelope, data_time=data_time, values=values)
    if cn == "2021" and "DataTime" in fields:
        states = {
            code: _run_state(code, items["RS"])
            for code, items in packet.factors().items()
            if "RS" in items
        }
        return FacilityRunState(envelope, _required_time(packet), states)
    if cn == "2041" and "DataTime" in fields:
        hours = {}
        for code, items in packet.factors().items():
            if "RT" in items and (value := _number(items["RT"])) is not None:
                hours[code] = value
        return FacilityRunTime(envelope, _required_time(packet), hours)
    if cn == "2081" and "RestartTime" in fields:
        restart = _read_param("RestartTime", fields["RestartTime"])
        assert isinstance(restart, datetime)
        return LoggerRestart(envelope, _required_time(packet), restart)
    if (
        cn == "3020"
        and any(code.startswith("i") for code in packet.factors())
        and ("InfoId" not in fields)
    ):
        info = {code: items["Info"] for code, items in packet.factors().items() if "Info" in items}
        return DeviceInfo(envelope, _data_time(packet, required=False), fields.get("PolId"), info)
    _check_parameters(cn, fields)
    params = {key: _read_param(key, text) for key, text in fields.items()}
    factor_params = {key: value for key, value in packet.cp_items() if "-" in key}
    return Command(cn=cn, envelope=envelope, params=params, factor_params=factor_params)


def _check_parameters(cn: str, fields: Mapping[str, str]) -> None:
    """Raise unless ``fields`` are the parameters command ``cn`` takes."""
    keys = {_PARAM_ALIASES.get(key, key) for key in fields}
    takes = COMMAND_PARAMETERS.get(cn)
    allowed = takes.allowed if takes is not None else PARAMETERS.keys()
    unexpected = sorted(keys - allowed)
    if unexpected:
        raise ProtocolError(
            ErrorCode.BAD_CP,
            f"CN={cn} does not take parameter {', '.join(unexpected)}",
            f"CN={cn}不支持参数{'、'.join(unexpected)}",
        )
    missing = sorted(takes.required - keys) if takes is not None else []
    if missing:
        raise ProtocolError(
            ErrorCode.MISSING_FIELD,
            f"CN={cn} needs parameter {', '.join(missing)}",
            f"CN={cn}缺少参数{'、'.join(missing)}",
        )


def _required_time(packet: Packet) -> datetime:
    moment = _data_time(packet)
    assert moment is not None
    return moment


_ReturnCode = TypeVar("_ReturnCode", QnRtn, ExeRtn)


def _return_code(enum: type[_ReturnCode], text: str | None) -> _ReturnCode | int | None:
    if text is None:
        return None
    value = _read_param(enum.__name__, text)
    assert isinstance(value, int)
    try:
        return enum(value)
    except ValueError:
        return value


def _run_state(code: str, text: str) -> RunState | int:
    if not text.isascii() or not text.isdecimal():
        raise ProtocolError(
            ErrorCode.BAD_CP,
            f"{code}-RS={text!r} is not a run state",
            f"{code}-RS={text}不是运行状态",
        )
    try:
        return RunState(int(text))
    except ValueError:
        return int(text)


# -- writing --------------------------------------------------------------


def _header(cn: str, envelope: Envelope, cp: tuple[CpGroup, ...]) -> Packet:
    return Packet.from_groups(
        cn,
        mn=envelope.mn,
        st=envelope.st,
        pw=envelope.pw,
        qn=envelope.qn,
        flag=None if envelope.flag is None else str(envelope.flag),
        pnum=None if envelope.pnum is None else str(envelope.pnum),
        pno=None if envelope.pno is None else str(envelope.pno),
        cp=cp,
    )


def _time_group(data_time: datetime | None) -> tuple[CpGroup, ...]:
    return () if data_time is None else ((("DataTime", _write_param(data_time)),),)


def _factor_group(code: str, values: FactorValues) -> CpGroup:
    sent = values.sent_code or code
    pairs: list[tuple[str, str]] = []
    if values.sample_time is not None:
        pairs.append((f"{sent}-SampleTime", _write_param(values.sample_time)))
    for suffix, attribute in NUMBER_FIELDS.items():
        number = getattr(values, attribute)
        if number is not None:
            pairs.append((f"{sent}-{suffix}", _write_number(number)))
    if values.flag is not None:
        pairs.append((f"{sent}-Flag", str(values.flag)))
    if values.eflag is not None:
        pairs.append((f"{sent}-EFlag", values.eflag))
    pairs.extend((f"{sent}-{suffix}", text) for suffix, text in values.extra)
    return tuple(pairs)


def to_packet(message: Message) -> Packet:
    """The packet that carries ``message``."""
    envelope = message.envelope
    match message:
        case DataUpload():
            factor_groups = (_factor_group(code, v) for code, v in message.values.items())
            groups = _time_group(message.data_time) + tuple(g for g in factor_groups if g)
            return _header(message.cn, envelope, groups)
        case FacilityRunState():
            groups = _time_group(message.data_time) + tuple(
                ((f"{code}-RS", str(int(state))),) for code, state in message.states.items()
            )
            return _header("2021", envelope, groups)
        case FacilityRunTime():
            groups = _time_group(message.data_time) + tuple(
                ((f"{code}-RT", _write_number(hours)),) for code, hours in message.hours.items()
            )
            return _header("2041", envelope, groups)
        case LoggerRestart():
            restart = (("RestartTime", _write_param(message.restart_time)),)
            groups = (*_time_group(message.data_time), restart)
            return _header("2081", envelope, groups)
        case DeviceInfo():
            groups = _time_group(message.data_time)
            if message.pol_id is not None:
                groups += ((("PolId", message.pol_id),),)
            groups += tuple(((f"{code}-Info", text),) for code, text in message.info.items())
            return _header("3020", envelope, groups)
        case Reply():
            pairs = []
            if message.answered_qn is not None:
                pairs.append(("QN", message.answered_qn))
            if message.answered_cn is not None:
                pairs.append(("CN", message.answered_cn))
            if message.qn_rtn is not None:
                pairs.append(("QnRtn", str(int(message.qn_rtn))))
            if message.exe_rtn is not None:
                pairs.append(("ExeRtn", str(int(message.exe_rtn))))
            return _header(message.cn, envelope, tuple((pair,) for pair in pairs))
        case Heartbeat():
            data = () if message.data is None else ((("Data", message.data),),)
            return _header(message.cn, envelope, data)
        case Command():
            groups = tuple(((key, _write_param(value)),) for key, value in message.params.items())
            groups += tuple(((key, text),) for key, text in message.factor_params.items())
            return _header(message.cn, envelope, groups)
    raise AssertionError(f"unhandled message {message!r}")  # pragma: no cover


def data_upload_command(kind: DataKind) -> str:
    """The CN of a data upload of ``kind``."""
    return _COMMAND_OF_DATA_KIND[kind]
