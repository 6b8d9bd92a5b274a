"""The §6.7 initialisation sequence, and the device answering it."""

from __future__ import annotations

from datetime import datetime

from envwatch.hj212 import ProtocolVersion, decode_frame, device_replies, encode_packet, interpret
from envwatch.hj212.initialisation import InitialisationPlan, initialisation_commands
from envwatch.hj212.model import Command

NOW = datetime(2026, 11, 29, 12, 0, 5, 250000)


def test_the_sequence_in_order_with_distinct_qns() -> None:
    commands = initialisation_commands(
        mn="010000A8900016F000169DC0",
        pw="123456",
        st="31",
        version=ProtocolVersion.HJ212_2017,
        plan=InitialisationPlan(),
        now=NOW,
    )
    assert [c.cn for c in commands] == ["1012", "1000", "1062", "1064", "2011", "2021"]
    assert len({c.qn for c in commands}) == len(commands)
    assert all(c.flag == "5" and c.st == "31" for c in commands)
    typed = [interpret(decode_frame(encode_packet(c)).packet) for c in commands]
    assert all(isinstance(m, Command) for m in typed)
    set_time, timeout, rtd, minute = typed[:4]
    assert isinstance(set_time, Command) and set_time.params == {
        "SystemTime": datetime(2026, 11, 29, 12, 0, 5)
    }
    assert isinstance(timeout, Command) and timeout.params == {"OverTime": 10, "ReCount": 3}
    assert isinstance(rtd, Command) and rtd.params == {"RtdInterval": 30}
    assert isinstance(minute, Command) and minute.params == {"MinInterval": 10}
    # A device answers each with a 9011 echoing its QN.
    for command in commands:
        (answer,) = device_replies(command)
        assert (answer.cn, answer.qn) == ("9011", command.qn)


def test_a_plan_can_leave_settings_alone() -> None:
    commands = initialisation_commands(
        mn="88888880000001",
        pw="123456",
        st="32",
        version=ProtocolVersion.HJT212_2005,
        plan=InitialisationPlan(over_time_s=None, start_run_state=False),
        now=NOW,
    )
    # 2005 has no minute-interval command.
    assert [c.cn for c in commands] == ["1012", "1062", "2011"]
    assert all(c.flag == "1" for c in commands)
