"""What the gateway does with each decoded item (pure: no sockets, no database).

``admit`` decides, for one frame or framing error from a connection: the
record to archive (accepted or rejected, with the error code), the
measurements it yields, and the answers to send once it is stored.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from envwatch.hj212 import (
    DecodedFrame,
    DecodeOptions,
    Packet,
    ProtocolError,
    ProtocolVersion,
    decode_frame,
    interpret,
    platform_replies,
)
from envwatch.hj212.errors import Deviation
from envwatch.hj212.model import DataUpload
from envwatch.store.archive import MeasurementRow, ReceivedFrame

ACCEPTED = "accepted"
REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Device:
    """A registered monitoring point as the gateway needs it."""

    mn: str
    pw: str
    version: ProtocolVersion
    options: DecodeOptions


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
        ReceivedFrame(
            received_at=received_at,
            peer=peer,
            raw=raw,
            verdict=REJECTED,
            error_code=code,
            warnings=json.dumps([{"code": code, "message": detail}], ensure_ascii=False)
            if detail
            else "",
            mn=packet.mn if packet else None,
            cn=packet.cn if packet else None,
            qn=packet.qn if packet else None,
        )
    )


def admit(
    item: DecodedFrame | ProtocolError,
    devices: Mapping[str, Device],
    *,
    peer: str,
    received_at: datetime,
    connection_mn: str | None = None,
) -> Admission:
    """The verdict on one item a connection's decoder produced."""
    if isinstance(item, ProtocolError):
        admission = reject(
            item.raw, item.code, peer=peer, received_at=received_at, detail=item.message_en
        )
        if connection_mn is not None:
            # Attribute garbage to the device this connection already proved to be.
            admission = Admission(replace(admission.record, mn=connection_mn))
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
    if device.options != _CONNECTION_OPTIONS:
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
    return Admission(
        ReceivedFrame(
            received_at=received_at,
            peer=peer,
            raw=decoded.frame.raw,
            verdict=ACCEPTED,
            warnings=_warnings_text(decoded.warnings),
            mn=packet.mn,
            cn=packet.cn,
            qn=packet.qn,
            measurements=measurements_of(decoded.packet, device.version),
        ),
        replies=tuple(platform_replies(decoded.packet, device.version)),
        device=device,
    )


# How a connection reads frames before it knows which device it talks to.
_CONNECTION_OPTIONS = DecodeOptions(lenient=True)


def connection_options() -> DecodeOptions:
    return _CONNECTION_OPTIONS


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def measurements_of(packet: Packet, version: ProtocolVersion) -> tuple[MeasurementRow, ...]:
    """The measurement rows of a data upload; none for other commands."""
    try:
        message = interpret(packet, version)
    except ProtocolError:
        return ()  # archived as received; its content cannot be read as data
    if not isinstance(message, DataUpload):
        return ()
    mn = message.envelope.mn
    return tuple(
        MeasurementRow(
            mn=mn,
            cn=message.cn,
            data_time=message.data_time,
            pollutant=code,
            rtd=_float(values.rtd),
            avg=_float(values.avg),
            min=_float(values.min),
            max=_float(values.max),
            cou=_float(values.cou),
            zs_rtd=_float(values.zs_rtd),
            zs_avg=_float(values.zs_avg),
            flag=None if values.flag is None else str(values.flag),
            eflag=values.eflag,
        )
        for code, values in message.values.items()
    )
