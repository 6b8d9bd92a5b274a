"""The commands a platform sends a newly connected logger (HJ 212-2017 §6.7):
set its clock (1012), its timeout and retries (1000), its real-time and minute
intervals (1062, 1064), and start real-time and run-state uploads (2011, 2021
requests). Pure: the gateway decides when, this module says what."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from itertools import count

from envwatch.hj212.codes import ProtocolVersion, make_flag
from envwatch.hj212.segment import CpGroup, Packet


@dataclass(frozen=True, slots=True)
class InitialisationPlan:
    """Which settings to send; None leaves that one as the logger has it."""

    set_time: bool = True
    over_time_s: int | None = 10
    re_count: int | None = 3
    rtd_interval_s: int | None = 30
    min_interval_min: int | None = 10
    start_realtime: bool = True
    start_run_state: bool = True


def initialisation_commands(
    *,
    mn: str,
    pw: str,
    st: str,
    version: ProtocolVersion,
    plan: InitialisationPlan,
    now: datetime,
) -> list[Packet]:
    """The requests to send, in order, each asking for an answer (Flag.A = 1).

    ``now`` is China Standard Time (naive); QNs are ``now`` in milliseconds
    plus a running number, so they differ within one connection.
    """
    numbers = count()
    stamp = now.strftime("%Y%m%d%H%M%S")
    flag = str(make_flag(version, ack=True))

    def request(cn: str, *pairs: tuple[str, str]) -> Packet:
        qn = f"{stamp}{(now.microsecond // 1000 + next(numbers)) % 1000:03d}"
        groups: tuple[CpGroup, ...] = tuple((pair,) for pair in pairs)
        return Packet.from_groups(cn, qn=qn, st=st, pw=pw, mn=mn, flag=flag, cp=groups)

    commands = []
    if plan.set_time:
        commands.append(request("1012", ("SystemTime", stamp)))
    if plan.over_time_s is not None and plan.re_count is not None:
        commands.append(
            request("1000", ("OverTime", str(plan.over_time_s)), ("ReCount", str(plan.re_count)))
        )
    if plan.rtd_interval_s is not None:
        commands.append(request("1062", ("RtdInterval", str(plan.rtd_interval_s))))
    if plan.min_interval_min is not None and version is not ProtocolVersion.HJT212_2005:
        commands.append(request("1064", ("MinInterval", str(plan.min_interval_min))))
    if plan.start_realtime:
        commands.append(request("2011"))
    if plan.start_run_state:
        commands.append(request("2021"))
    return commands
