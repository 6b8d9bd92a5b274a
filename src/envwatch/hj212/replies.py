"""What to answer, and when (HJ 212-2017 §6 and Appendix C).

Pure functions from a received packet to the packets to send back. The
platform answers uploads and notifications; a field device (our simulator)
answers the platform's requests. One answer per received frame, so each
segment of a segmented upload gets its own 9014 with its own QN.

Answers follow the standard's form: the QN echoed, ST=91, the same PW and MN,
Flag with the version bits only (no A: nobody answers an answer, no D) and
``CP=&&&&``. Devices registered as HJ/T 212-2005 get the 2005 form, which
carries the answered QN (and, for 9014, the answered CN) inside CP and has no
QN field in the header.
"""

from __future__ import annotations

from envwatch.hj212.codes import (
    CN_DATA_ANSWER,
    CN_EXECUTION_RESULT,
    CN_NOTIFICATION_ANSWER,
    CN_REQUEST_ANSWER,
    COMMANDS,
    ST_REPLY,
    CommandKind,
    ExeRtn,
    ProtocolVersion,
    QnRtn,
    make_flag,
    version_bits,
)
from envwatch.hj212.segment import CpGroup, Packet

# Uploads answered with 9014 when they ask for it (Flag.A = 1), beyond the
# commands whose kind is UPLOAD: a device's answers to history and parameter
# requests are data too (Tables C.6, C.22, C.37, C.39, C.40).
_ANSWERED_WITH_DATA_REPLY = frozenset(
    {code for code, command in COMMANDS.items() if command.kind is CommandKind.UPLOAD}
    | {"1011", "1061", "1063", "3015", "3017", "3018", "3019", "3020"}
)
_NOTIFICATIONS = frozenset(
    code for code, command in COMMANDS.items() if command.kind is CommandKind.NOTIFICATION
)
_REQUESTS = frozenset(
    code for code, command in COMMANDS.items() if command.kind is CommandKind.REQUEST
) | {"2011", "2021", "2031", "2041", "2051", "2061"}


def _reply_flag(packet: Packet, version: ProtocolVersion) -> str:
    if version is ProtocolVersion.HJT212_2005:
        return "0"
    flag = packet.flag_value
    if flag is None:
        return str(make_flag(version))
    # Keep the version bits the device used (unknown ones too): it reads our
    # answer with the same parser that wrote them.
    return str(version_bits(flag) << 2)


def _answer(
    packet: Packet, cn: str, version: ProtocolVersion, cp: tuple[CpGroup, ...] = ()
) -> Packet:
    if version is ProtocolVersion.HJT212_2005:
        inner: tuple[CpGroup, ...] = ()
        if packet.qn is not None:
            inner += ((("QN", packet.qn),),)
        if cn == CN_DATA_ANSWER:
            inner += ((("CN", packet.cn),),)
        return Packet.from_groups(
            cn, st=ST_REPLY, pw=packet.pw, mn=packet.mn, flag="0", cp=inner + cp
        )
    return Packet.from_groups(
        cn,
        qn=packet.qn,
        st=ST_REPLY,
        pw=packet.pw,
        mn=packet.mn,
        flag=_reply_flag(packet, version),
        cp=cp,
    )


def _version(packet: Packet, version: ProtocolVersion | None) -> ProtocolVersion:
    return version or packet.claimed_version or ProtocolVersion.HJ212_2017


def platform_replies(packet: Packet, version: ProtocolVersion | None = None) -> list[Packet]:
    """What the platform sends back for a frame received from a field device.

    ``version`` is the device's registered edition (None: what the frame claims).
    """
    if not packet.wants_answer:
        return []
    edition = _version(packet, version)
    if packet.cn in _NOTIFICATIONS:
        return [_answer(packet, CN_NOTIFICATION_ANSWER, edition)]
    is_history_request = packet.cp_value("BeginTime") is not None
    if packet.cn in _ANSWERED_WITH_DATA_REPLY and not is_history_request:
        return [_answer(packet, CN_DATA_ANSWER, edition)]
    return []


def device_replies(
    packet: Packet,
    version: ProtocolVersion | None = None,
    *,
    qn_rtn: QnRtn = QnRtn.READY,
) -> list[Packet]:
    """What a field device answers at once to a frame from the platform.

    Requests get a 9011 request answer (``QnRtn``); the 9012 execution result
    follows after execution (see ``execution_result``). Notifications get 9013.
    """
    if not packet.wants_answer:
        return []
    edition = _version(packet, version)
    if packet.cn in _NOTIFICATIONS:
        return [_answer(packet, CN_NOTIFICATION_ANSWER, edition)]
    is_upload = packet.cp_value("DataTime") is not None
    if packet.cn in _REQUESTS and not is_upload:
        return [_answer(packet, CN_REQUEST_ANSWER, edition, ((("QnRtn", str(int(qn_rtn))),),))]
    return []


def execution_result(
    request: Packet, result: ExeRtn, version: ProtocolVersion | None = None
) -> Packet:
    """The 9012 a field device sends when it has executed ``request``."""
    edition = _version(request, version)
    return _answer(request, CN_EXECUTION_RESULT, edition, ((("ExeRtn", str(int(result))),),))
