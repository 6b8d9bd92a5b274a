"""What the gateway does with each decoded item (pure: no sockets, no database).

``admit`` decides, for one frame or framing error from a connection: the
record to archive (accepted or rejected, with the error code), the
measurements it yields, and the answers to send once it is stored.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from types import MappingProxyType
from typing import Final

from envwatch.electricity.hj212 import ElectricityCodes, default_codes, reading_of
from envwatch.hj212 import (
    DecodedFrame,
    DecodeOptions,
    Packet,
    ProtocolError,
    ProtocolVersion,
    decode_frame,
    platform_replies,
)
from envwatch.hj212.errors import Deviation
from envwatch.hj212.model import (
    DATA_KIND_OF_COMMAND,
    DEVICE_INFO_COMMAND,
    NUMBER_FIELDS,
    code_2017,
)
from envwatch.hj212.segment import parse_time, split_factor_key
from envwatch.store.archive import MeasurementRow, MeterReading, ReceivedFrame, fitted
from envwatch.times import as_data_time

ACCEPTED = "accepted"
REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Device:
    """A registered monitoring point as the gateway needs it."""

    mn: str
    pw: str
    version: ProtocolVersion
    options: DecodeOptions
    st: str = "32"
    meter_id: int | None = None
    """Set when the device is an electricity meter: its uploads are also readings."""


@dataclass(frozen=True, slots=True)
class Admission:
    record: ReceivedFrame
    replies: tuple[Packet, ...] = ()
    device: Device | None = None

    @property
    def accepted(self) -> bool:
        return self.record.verdict == ACCEPTED


def _warnings_text(warnings: tuple[Deviation, ...]) -> str:
    if not warnings:
        return ""
    return json.dumps([w.as_json() for w in warnings], ensure_ascii=False)


def _rejection_text(code: str, detail: str) -> str:
    if not detail:
        return ""
    return json.dumps([{"code": code, "message": detail}], ensure_ascii=False)


def reject(
    raw: bytes,
    code: str,
    *,
    peer: str,
    received_at: datetime,
    packet: Packet | None = None,
    detail: str = "",
) -> Admission:
    return Admission(
        fitted(
            ReceivedFrame(
                received_at=received_at,
                peer=peer,
                raw=raw,
                verdict=REJECTED,
                error_code=code,
                warnings=_rejection_text(code, detail),
                mn=packet.mn if packet else None,
                cn=packet.cn if packet else None,
                qn=packet.qn if packet else None,
            )
        )
    )


GARBAGE_RUN = "garbage_run"


def coalesced(admissions: Sequence[Admission], sample_bytes: int) -> list[Admission]:
    """``admissions`` with each run of consecutive framing rejections (garbage,
    bad headers, oversized input: rejected with no command read) made one
    record: the run's first ``sample_bytes`` bytes, its byte count and its
    errors. So ``##`` repeated is one record, not one per ``#``."""
    out: list[Admission] = []
    run: list[ReceivedFrame] = []

    def flush() -> None:
        if len(run) == 1 and len(run[0].raw) <= sample_bytes:
            out.append(Admission(run[0]))
        elif run:
            out.append(Admission(_one_record(run, sample_bytes)))
        run.clear()

    for admission in admissions:
        record = admission.record
        if record.verdict == REJECTED and record.cn is None:
            run.append(record)
        else:
            flush()
            out.append(admission)
    flush()
    return out


def _one_record(run: list[ReceivedFrame], sample_bytes: int) -> ReceivedFrame:
    total = sum(len(r.raw) for r in run)
    sample = b"".join(r.raw for r in run)[:sample_bytes]
    codes = Counter(r.error_code or "garbage" for r in run)
    listed = ", ".join(f"{code} x{count}" for code, count in codes.most_common())
    summary = {
        "code": GARBAGE_RUN,
        "message": f"{total} bytes of input no frame could be cut from, in {len(run)} pieces "
        f"({listed}); the first {len(sample)} bytes kept",
        "message_zh": f"{total}字节无法成帧的输入（{len(run)}段），保留前{len(sample)}字节",
        "bytes": total,
        "pieces": len(run),
    }
    code = run[0].error_code if len(codes) == 1 else GARBAGE_RUN
    return replace(
        run[0], raw=sample, error_code=code, warnings=json.dumps([summary], ensure_ascii=False)
    )


def over_rate(admission: Admission, rate_per_s: float) -> Admission:
    """The same frame refused for exceeding its device's rate (still archived, on its chain)."""
    return Admission(
        replace(
            admission.record,
            verdict=REJECTED,
            error_code="rate_limited",
            warnings=_rejection_text("rate_limited", f"more than {rate_per_s:g} frames/s"),
            measurements=(),
        )
    )


def admit(
    item: DecodedFrame | ProtocolError,
    devices: Mapping[str, Device],
    *,
    peer: str,
    received_at: datetime,
    connection_mn: str | None = None,
    decoded_with: DecodeOptions | None = None,
    electricity_codes: ElectricityCodes | None = None,
) -> Admission:
    """The verdict on one item a connection's decoder produced.

    ``decoded_with``: the options the item was decoded with (the connection's
    default until it knows its device); a frame is decoded again when its
    device is registered to be read otherwise. ``electricity_codes``: the
    factor codes of meters (envwatch's defaults when not given).
    """
    if isinstance(item, ProtocolError):
        admission = reject(
            item.raw, item.code, peer=peer, received_at=received_at, detail=item.message_en
        )
        if connection_mn is not None:
            # Attribute garbage to the device this connection already proved to be.
            admission = Admission(fitted(replace(admission.record, mn=connection_mn)))
        return admission
    packet = item.packet
    device = devices.get(packet.mn or "")
    if device is None:
        return reject(
            item.frame.raw,
            "unknown_mn",
            peer=peer,
            received_at=received_at,
            packet=packet,
            detail=f"MN={packet.mn} is not registered",
        )
    if packet.pw != device.pw:
        return reject(
            item.frame.raw,
            "wrong_password",
            peer=peer,
            received_at=received_at,
            packet=packet,
            detail=f"wrong PW for MN={packet.mn}",
        )
    decoded = item
    if device.options != (decoded_with or _CONNECTION_OPTIONS):
        # Read the frame the way this device is registered to be read.
        try:
            decoded = decode_frame(item.frame.raw, device.options)
        except ProtocolError as error:
            return reject(
                item.frame.raw,
                error.code,
                peer=peer,
                received_at=received_at,
                packet=packet,
                detail=error.message_en,
            )
    measurements = measurements_of(decoded.packet, device.version)
    electricity: tuple[MeterReading, ...] = ()
    if device.meter_id is not None and measurements:
        reading = reading_of(
            device.meter_id, packet.cn or "", measurements, electricity_codes or default_codes()
        )
        electricity = () if reading is None else (reading,)
    return Admission(
        fitted(
            ReceivedFrame(
                received_at=received_at,
                peer=peer,
                raw=decoded.frame.raw,
                verdict=ACCEPTED,
                warnings=_warnings_text(decoded.warnings),
                mn=packet.mn,
                cn=packet.cn,
                qn=packet.qn,
                measurements=measurements,
                electricity=electricity,
                data_time=device_info_time(decoded.packet, received_at),
            )
        ),
        replies=tuple(platform_replies(decoded.packet, device.version)),
        device=device,
    )


def device_info_time(packet: Packet, received_at: datetime) -> datetime | None:
    """A 3020 upload's DataTime (or, when the logger left it out, the time it
    arrived, China Standard Time), by which the rules read its device
    information in order with the data; None for other commands."""
    if packet.cn != DEVICE_INFO_COMMAND:
        return None
    for key, value in packet.items:
        if key == "DataTime" and (moment := parse_time(value, with_millis=True)) is not None:
            return moment
    return as_data_time(received_at)


# How a connection reads frames before it knows which device it talks to.
_CONNECTION_OPTIONS = DecodeOptions(lenient=True)


def connection_options() -> DecodeOptions:
    return _CONNECTION_OPTIONS


# Suffix -> position in a MeasurementRow, of the model's suffixes the store keeps.
_NUMBER_SLOTS: Final = MappingProxyType(
    {
        suffix: MeasurementRow._fields.index(name)
        for suffix, name in NUMBER_FIELDS.items()
        if name in MeasurementRow._fields
    }
)
_TEXT_SLOTS: Final = MappingProxyType(
    {"Flag": MeasurementRow._fields.index("flag"), "EFlag": MeasurementRow._fields.index("eflag")}
)
_FIRST_VALUE_SLOT: Final = MeasurementRow._fields.index("pollutant") + 1


def _float(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None  # kept as text in the archive; lenient mode let it through
    return value if math.isfinite(value) else None


def measurements_of(packet: Packet, version: ProtocolVersion) -> tuple[MeasurementRow, ...]:
    """The measurement rows of a data upload; none for other commands.

    Reads the packet's text in one pass (floats, not the typed model's
    decimals): this runs for every stored frame. As in ``Packet.factors``, a
    repeated key's last value counts.
    """
    if packet.cn not in DATA_KIND_OF_COMMAND or packet.mn is None:
        return ()
    data_time_text: str | None = None
    values_of: dict[str, list[float | str | None]] = {}
    for key, value in packet.items:
        code, dash, suffix = split_factor_key(key)
        if not dash:
            if key == "DataTime":
                data_time_text = value
            elif key == "BeginTime":
                return ()  # a history request's answer range, not an upload
            continue
        values = values_of.get(code)
        if values is None:
            values = values_of[code] = [None] * (len(MeasurementRow._fields) - _FIRST_VALUE_SLOT)
        slot = _NUMBER_SLOTS.get(suffix)
        if slot is not None:
            values[slot - _FIRST_VALUE_SLOT] = _float(value)
        elif (slot := _TEXT_SLOTS.get(suffix)) is not None:
            values[slot - _FIRST_VALUE_SLOT] = value
    if data_time_text is None:
        return ()
    data_time = parse_time(data_time_text, with_millis=True)
    if data_time is None:
        return ()
    mn, cn, st = packet.mn, packet.cn, packet.st
    return tuple(
        MeasurementRow._make((mn, cn, data_time, code_2017(code, st, version), *values))
        for code, values in values_of.items()
    )
