"""The code tables of HJ 212: versions, Flag bits, system codes (ST), command
codes (CN), data flags, return codes and facility run states.

Every table is extensible in the standard, so lookups of unknown codes return
``None`` rather than raising: an unknown code is reported, never rejected.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import IntEnum, StrEnum
from types import MappingProxyType
from typing import Final

# HJ 212 times (QN, DataTime, ...) are China Standard Time, which has no DST.
CHINA_STANDARD_TIME: Final = timezone(timedelta(hours=8), "CST")


def now_cst() -> datetime:
    """The current China Standard Time, naive, as HJ 212 writes times."""
    return datetime.now(CHINA_STANDARD_TIME).replace(tzinfo=None)


class ProtocolVersion(StrEnum):
    """A protocol edition, as registered for a device or claimed by a frame."""

    HJT212_2005 = "2005"
    HJ212_2017 = "2017"
    HJ212_2025 = "2025"


# Flag = V5 V4 V3 V2 V1 V0 D A (MSB first).
FLAG_A: Final = 0b01  # the sender wants an answer
FLAG_D: Final = 0b10  # PNUM and PNO are present (segmented upload)

_VERSION_BITS: Final = MappingProxyType(
    {
        0b000000: ProtocolVersion.HJT212_2005,
        0b000001: ProtocolVersion.HJ212_2017,
        # Also sent by surface-water stations under their own protocol, so the
        # device's registered version, not these bits, decides how to read it.
        0b000010: ProtocolVersion.HJ212_2025,
    }
)
VERSION_BITS_OF: Final = MappingProxyType({v: k for k, v in _VERSION_BITS.items()})


def version_bits(flag: int) -> int:
    """The 6 version bits V5..V0 of a Flag value."""
    return flag >> 2


def version_from_flag(flag: int | None) -> ProtocolVersion | None:
    """The edition a Flag claims; no Flag at all is the 2005 form; None if unknown bits."""
    if flag is None:
        return ProtocolVersion.HJT212_2005
    return _VERSION_BITS.get(version_bits(flag))


def asks_for_answer(flag: int | None) -> bool:
    """Flag bit A: the sender wants an answer."""
    return flag is not None and bool(flag & FLAG_A)


def is_segmented(pnum: object | None) -> bool:
    """PNUM present, with Flag bit D or without it (some loggers send no Flag).

    Flag bit D without PNUM/PNO is rejected in strict mode; in lenient mode
    (2005-era loggers set the bit on whole uploads) the packet is whole.
    """
    return pnum is not None


def make_flag(version: ProtocolVersion, *, ack: bool = False, segmented: bool = False) -> int:
    """The Flag value for ``version`` with the A and D bits as given."""
    return VERSION_BITS_OF[version] << 2 | (FLAG_D if segmented else 0) | (FLAG_A if ack else 0)


@dataclass(frozen=True, slots=True)
class SystemCode:
    """An ST value (HJ 212-2017 Table 5)."""

    code: str
    name_zh: str
    name_en: str


_SYSTEM_CODES: tuple[tuple[str, str, str], ...] = (
    ("21", "地表水质量监测", "surface water quality"),
    ("22", "空气质量监测", "air quality"),
    ("23", "声环境质量监测", "acoustic environment quality"),
    ("24", "地下水质量监测", "groundwater quality"),
    ("25", "土壤质量监测", "soil quality"),
    ("26", "海水质量监测", "seawater quality"),
    ("27", "挥发性有机物监测", "VOC monitoring"),
    ("31", "大气环境污染源", "atmospheric (flue gas) pollution source"),
    ("32", "地表水体环境污染源", "surface-water (waste-water) pollution source"),
    ("33", "地下水体环境污染源", "groundwater pollution source"),
    ("34", "海洋环境污染源", "marine pollution source"),
    ("35", "土壤环境污染源", "soil pollution source"),
    ("36", "声环境污染源", "noise pollution source"),
    ("37", "振动环境污染源", "vibration pollution source"),
    ("38", "放射性环境污染源", "radioactive pollution source"),
    ("39", "工地扬尘污染源", "construction-site dust source"),
    ("41", "电磁环境污染源", "electromagnetic pollution source"),
    ("51", "烟气排放过程监控", "flue-gas process monitoring"),
    ("52", "污水排放过程监控", "waste-water process monitoring"),
    ("91", "系统交互", "system interaction"),
)
SYSTEM_CODES: Final = MappingProxyType({c: SystemCode(c, zh, en) for c, zh, en in _SYSTEM_CODES})
ST_REPLY: Final = "91"


class Direction(StrEnum):
    """Who sends a command: field device (up) or platform (down), or either."""

    UP = "up"
    DOWN = "down"
    BOTH = "both"


class CommandKind(StrEnum):
    """How a command takes part in a dialogue (HJ 212-2017 §6.2)."""

    UPLOAD = "upload"  # data from the field; answered by 9014 when Flag.A = 1
    REQUEST = "request"  # a platform request; answered by 9011, then 9012
    NOTIFICATION = "notification"  # answered by 9013 when Flag.A = 1
    REPLY = "reply"  # 9011..9014: never answered
    HEARTBEAT = "heartbeat"


@dataclass(frozen=True, slots=True)
class Command:
    """A CN value and how it is used."""

    code: str
    name_zh: str
    name_en: str
    kind: CommandKind
    versions: frozenset[ProtocolVersion]


_ALL = frozenset(ProtocolVersion)
_FROM_2017 = frozenset({ProtocolVersion.HJ212_2017, ProtocolVersion.HJ212_2025})
_ONLY_2025 = frozenset({ProtocolVersion.HJ212_2025})
_ONLY_2005 = frozenset({ProtocolVersion.HJT212_2005})
_U, _R, _N = CommandKind.UPLOAD, CommandKind.REQUEST, CommandKind.NOTIFICATION

# CN 2011..2061 are both a platform request and the field's upload; the CP tells
# which (see model.py). Their kind here is the upload, which is what arrives.
_COMMANDS: tuple[Command, ...] = (
    Command("1000", "设置超时时间及重发次数", "set timeout and retries", _R, _ALL),
    Command("1001", "上传数采仪硬件序列号", "upload logger hardware SN", _U, _ONLY_2025),
    Command("1002", "设置设备唯一标识", "set MN", _R, _ONLY_2025),
    Command("1011", "提取现场机时间", "get device time", _R, _ALL),
    Command("1012", "设置现场机时间", "set device time", _R, _ALL),
    Command("1013", "现场机时间校准请求", "time calibration request", _N, _FROM_2017),
    Command("1014", "密钥请求与下发", "secret key request and distribution", _R, _ONLY_2025),
    Command("1021", "提取污染物报警门限值", "get alarm limits (2005)", _R, _ONLY_2005),
    Command("1022", "设置污染物报警门限值", "set alarm limits (2005)", _R, _ONLY_2005),
    Command("1031", "提取上位机地址", "get host address (2005)", _R, _ONLY_2005),
    Command("1032", "设置上位机地址", "set host address (2005)", _R, _ONLY_2005),
    Command("1041", "提取数据上报时间", "get report time (2005)", _R, _ONLY_2005),
    Command("1042", "设置数据上报时间", "set report time (2005)", _R, _ONLY_2005),
    Command("1061", "提取实时数据间隔", "get real-time data interval", _R, _ALL),
    Command("1062", "设置实时数据间隔", "set real-time data interval", _R, _ALL),
    Command("1063", "提取分钟数据间隔", "get minute data interval", _R, _FROM_2017),
    Command("1064", "设置分钟数据间隔", "set minute data interval", _R, _FROM_2017),
    Command("1072", "设置现场机访问密码", "set access password", _R, _ALL),
    Command("2011", "实时数据", "real-time data", _U, _ALL),
    Command("2012", "停止察看实时数据", "stop real-time data", _N, _ALL),
    Command("2013", "原始监测数据", "raw monitoring data", _U, _ONLY_2025),
    Command("2021", "设备运行状态", "facility run state", _U, _ALL),
    Command("2022", "停止察看设备运行状态", "stop facility run state", _N, _ALL),
    Command("2031", "日历史数据", "daily data", _U, _ALL),
    Command("2041", "设备运行时间日历史数据", "facility daily run time", _U, _ALL),
    Command("2051", "分钟数据", "minute data", _U, _ALL),
    Command("2052", "噪声单次测量数据", "noise single measurement", _U, _ONLY_2025),
    Command("2061", "小时数据", "hourly data", _U, _ALL),
    Command("2062", "自动标样核查数据", "automatic standard-check data", _U, _ONLY_2025),
    Command("2071", "报警记录", "alarm records (2005)", _U, _ONLY_2005),
    Command("2072", "报警事件", "alarm event (2005)", _U, _ONLY_2005),
    Command("2081", "数采仪开机时间", "logger power-on time", _U, _FROM_2017),
    Command("2111", "炉膛温度5分钟均值", "furnace temperature 5-min mean", _U, _ONLY_2025),
    Command("3011", "零点校准量程校准", "zero and span calibration", _R, _FROM_2017),
    Command("3012", "即时采样", "immediate sampling", _R, _FROM_2017),
    Command("3013", "启动清洗/反吹", "start cleaning or blowback", _R, _FROM_2017),
    Command("3014", "比对采样", "comparison sampling", _R, _FROM_2017),
    Command("3015", "超标留样", "over-limit sample retention", _R, _FROM_2017),
    Command("3016", "设置采样时间周期", "set sampling period", _R, _FROM_2017),
    Command("3017", "提取采样时间周期", "get sampling period", _R, _FROM_2017),
    Command("3018", "提取出样时间", "get sample output time", _R, _FROM_2017),
    Command("3019", "提取设备唯一标识", "get instrument SN", _R, _FROM_2017),
    Command("3020", "提取现场机信息", "get field-device information", _R, _FROM_2017),
    Command("3021", "设置现场机参数", "set field-device parameter", _R, _FROM_2017),
    Command("3022", "留样任务", "sample-retention task", _R, _ONLY_2025),
    Command("3024", "启动标样核查", "start standard check", _R, _ONLY_2025),
    Command("9011", "请求应答", "request answer", CommandKind.REPLY, _ALL),
    Command("9012", "执行结果", "execution result", CommandKind.REPLY, _ALL),
    Command("9013", "通知应答", "notification answer", CommandKind.REPLY, _ALL),
    Command("9014", "数据应答", "data answer", CommandKind.REPLY, _ALL),
    Command("9015", "心跳", "heartbeat", CommandKind.HEARTBEAT, _ONLY_2025),
    Command(
        "9021", "心跳（厂商扩展）", "heartbeat (vendor extension)", CommandKind.HEARTBEAT, _ALL
    ),
)
COMMANDS: Final = MappingProxyType({c.code: c for c in _COMMANDS})

CN_REQUEST_ANSWER: Final = "9011"
CN_EXECUTION_RESULT: Final = "9012"
CN_NOTIFICATION_ANSWER: Final = "9013"
CN_DATA_ANSWER: Final = "9014"

# Commands whose uploads carry measured values per factor.
DATA_UPLOAD_COMMANDS: Final = frozenset({"2011", "2013", "2031", "2051", "2052", "2061", "2062"})


class DataFlag(StrEnum):
    """The data flag ``xxxxxx-Flag`` (HJ 212-2017 Table 8). Unknown flags stay text."""

    NORMAL = "N"
    STOPPED = "F"
    MAINTENANCE = "M"
    MANUAL = "S"
    FAULT = "D"
    CALIBRATING = "C"
    OVER_RANGE = "T"
    COMM_FAILURE = "B"


DATA_FLAG_NAMES: Final = MappingProxyType(
    {
        DataFlag.NORMAL: ("在线监控（监测）仪器仪表工作正常", "instrument working normally"),
        DataFlag.STOPPED: ("在线监控（监测）仪器仪表停运", "instrument stopped"),
        DataFlag.MAINTENANCE: ("在线监控（监测）仪器仪表处于维护期间产生的数据", "maintenance"),
        DataFlag.MANUAL: ("手工输入的设定值", "manually entered value"),
        DataFlag.FAULT: ("在线监控（监测）仪器仪表故障", "instrument fault"),
        DataFlag.CALIBRATING: ("在线监控（监测）仪器仪表处于校准状态", "calibrating"),
        DataFlag.OVER_RANGE: ("在线监控（监测）仪器仪表采样数值超过测量上限", "over range"),
        DataFlag.COMM_FAILURE: (
            "在线监控（监测）仪器仪表与数采仪通讯异常",
            "communication failure",
        ),
    }
)


def data_flag(text: str) -> DataFlag | str:
    """The flag as a known ``DataFlag``, or the text itself when it is unknown."""
    try:
        return DataFlag(text)
    except ValueError:
        return text


class QnRtn(IntEnum):
    """Request answer codes (HJ 212-2017 Table 7)."""

    READY = 1
    REFUSED = 2
    PW_ERROR = 3
    MN_ERROR = 4
    ST_ERROR = 5
    FLAG_ERROR = 6
    QN_ERROR = 7
    CN_ERROR = 8
    CRC_ERROR = 9
    UNKNOWN_ERROR = 100


class ExeRtn(IntEnum):
    """Execution result codes (HJ 212-2017 Table 6)."""

    SUCCESS = 1
    FAILED = 2
    CONDITION_ERROR = 3
    TIMEOUT = 4
    BUSY = 5
    SYSTEM_FAULT = 6
    NO_DATA = 100


class RunState(IntEnum):
    """Treatment-facility run state ``SBxxx-RS``."""

    OFF = 0
    RUNNING = 1
    CALIBRATING = 2
    MAINTENANCE = 3
    ALARM = 4
    BLOWBACK = 5
