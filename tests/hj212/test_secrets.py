"""Device passwords masked in frames shown to people (issue 12 item 2)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from envwatch.hj212 import frame_segment
from envwatch.hj212.secrets import masked_frame


def test_the_password_is_masked_and_nothing_else_changes() -> None:
    raw = frame_segment(b"QN=20261129100000001;ST=31;CN=2061;PW=123456;MN=010000A8900016F000169DC1;"
                        b"Flag=5;CP=&&DataTime=20261129100000;a21026-Avg=12.5&&")  # fmt: skip
    shown = masked_frame(raw)
    assert b"123456" not in shown and b"PW=******;" in shown and len(shown) == len(raw)
    assert shown.replace(b"PW=******", b"PW=123456") == raw
    odd_frames = (
        b"##0040pw = ab12cd;MN=1;CP=&&&&0000\r\n",
        b"##0030ST=32;PW=;CN=2011;CP=&&&&0000\r\n",
        b"##0040QN=1;CN=1072;CP=&&NewPW=654321&&0000\r\n",
    )
    for odd in odd_frames:
        masked = masked_frame(odd)
        assert b"ab12cd" not in masked and b"654321" not in masked and len(masked) == len(odd)


@given(st.binary(max_size=200), st.text(alphabet="0123456789abcXYZ!@", min_size=1, max_size=24))
def test_no_password_survives_whatever_surrounds_it(noise: bytes, password: str) -> None:
    raw = noise.replace(b"PW", b"") + b";PW=" + password.encode() + b";MN=1"
    shown = masked_frame(raw).split(b";PW=")[-1].split(b";")[0]
    assert shown == b"*" * len(password.encode())
