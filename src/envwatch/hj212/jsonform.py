"""The JSON shape of a decoded frame, the contract of ``envwatch hj212 decode``.

Every value is the frame's own text. Keys of the CP data area without a
``code-`` prefix sit at the top of ``cp``; ``code-Suffix`` keys are grouped
under ``cp.pollutants`` by code. ``packet_from_json`` reads the same shape
back (one CP group per top-level key and one per code).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from envwatch.errors import PeerError
from envwatch.hj212.decoder import DecodedFrame
from envwatch.hj212.segment import HEADER_FIELDS, CpGroup, Packet, split_factor_key

JsonObject = dict[str, Any]


def decoded_to_json(decoded: DecodedFrame) -> JsonObject:
    packet = decoded.packet
    version = packet.claimed_version
    return {
        "ok": True,
        "crc": decoded.frame.crc,
        "version": version.value if version else "unknown",
        "header": header_to_json(packet),
        "cp": cp_to_json(packet),
        "warnings": [warning.as_json() for warning in decoded.warnings],
    }


def error_to_json(error: PeerError) -> JsonObject:
    return {
        "ok": False,
        "error": {"code": error.code, "message": error.message_en, "message_zh": error.message_zh},
    }


def header_to_json(packet: Packet) -> dict[str, str | None]:
    return {
        "QN": packet.qn,
        "ST": packet.st,
        "CN": packet.cn,
        "PW": packet.pw,
        "MN": packet.mn,
        "Flag": packet.flag,
        "PNO": packet.pno,
        "PNUM": packet.pnum,
    }


def cp_to_json(packet: Packet) -> JsonObject:
    cp: JsonObject = {}
    pollutants: dict[str, dict[str, str]] = {}
    for key, value in packet.cp_items():
        code, dash, suffix = split_factor_key(key)
        if dash:
            pollutants.setdefault(code, {})[suffix] = value
        else:
            cp[key] = value
    cp["pollutants"] = pollutants
    return cp


def item_to_json(item: DecodedFrame | PeerError) -> JsonObject:
    """One item a ``Decoder`` yields, in the decode contract's shape."""
    return decoded_to_json(item) if isinstance(item, DecodedFrame) else error_to_json(item)


class JsonShapeError(PeerError):
    """A JSON object handed to the encoder does not have the decoder's shape."""

    def __init__(self, detail: str, detail_zh: str) -> None:
        super().__init__("bad_json", detail, detail_zh)


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise JsonShapeError(f"{where} must be a string", f"{where}必须是字符串")
    return value


def packet_from_json(obj: Mapping[str, Any]) -> Packet:
    """Build a packet from the decoder's JSON shape (``header`` and ``cp``)."""
    header = obj.get("header")
    if not isinstance(header, Mapping):
        raise JsonShapeError("'header' must be an object", "“header”必须是对象")
    unknown = set(header) - set(HEADER_FIELDS)
    if unknown:
        raise JsonShapeError(
            f"unknown header fields {sorted(unknown)}", f"未知包头字段{sorted(unknown)}"
        )
    values = {
        name: None if header.get(name) is None else _text(header[name], f"header.{name}")
        for name in HEADER_FIELDS
    }
    cn = values["CN"]
    if cn is None:
        raise JsonShapeError("header.CN is required", "header.CN为必填")
    cp_obj = obj.get("cp", {})
    if not isinstance(cp_obj, Mapping):
        raise JsonShapeError("'cp' must be an object", "“cp”必须是对象")
    groups: list[CpGroup] = []
    for key, value in cp_obj.items():
        if key == "pollutants":
            continue
        groups.append(((key, _text(value, f"cp.{key}")),))
    pollutants = cp_obj.get("pollutants", {})
    if not isinstance(pollutants, Mapping):
        raise JsonShapeError("'cp.pollutants' must be an object", "“cp.pollutants”必须是对象")
    for code, items in pollutants.items():
        if not isinstance(items, Mapping) or not items:
            raise JsonShapeError(
                f"cp.pollutants.{code} must be a non-empty object",
                f"cp.pollutants.{code}必须是非空对象",
            )
        groups.append(
            tuple(
                (f"{code}-{suffix}", _text(value, f"cp.pollutants.{code}.{suffix}"))
                for suffix, value in items.items()
            )
        )
    return Packet.from_groups(
        cn,
        mn=values["MN"],
        st=values["ST"],
        pw=values["PW"],
        qn=values["QN"],
        flag=values["Flag"],
        pnum=values["PNUM"],
        pno=values["PNO"],
        cp=groups,
    )
