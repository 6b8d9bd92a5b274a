"""Device passwords masked in frames shown to people (issue 12 item 2)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from envwatch.hj212 import DecodeOptions, ProtocolError, decode_frame, frame_segment
from envwatch.hj212.secrets import masked_frame, masked_text


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


PASSWORDS = st.text(alphabet="0123456789abcdefXYZ!@#$%^*", min_size=7, max_size=16)


@given(PASSWORDS)
def test_no_decoding_error_or_deviation_quotes_a_password(password: str) -> None:
    """Errors and deviations are archived with the frame and shown to people:
    a password of the wrong length, or written after the CP area, or with
    blanks around it, is named but never quoted."""
    segments = (
        f"QN=20261129100000001;ST=31;CN=2061;PW={password};MN=010000A8900016F000169DC1;"
        "Flag=5;CP=&&DataTime=20261129100000;a21026-Avg=12.5&&",
        "QN=20261129100000001;ST=31;CN=2061;MN=010000A8900016F000169DC1;Flag=5;"
        f"CP=&&DataTime=20261129100000;a21026-Avg=12.5&&;PW={password}",
        f"QN=20261129100000001;ST=31;CN=2061; PW = {password} ;MN=010000A8900016F000169DC1;"
        "Flag=5;CP=&&DataTime=20261129100000;a21026-Avg=12.5&&",
    )
    for segment in segments:
        raw = frame_segment(segment.encode())
        for lenient in (True, False):
            try:
                decoded = decode_frame(raw, DecodeOptions(lenient=lenient))
            except ProtocolError as error:
                said = [error.message_en, error.message_zh]
            else:
                said = [text for d in decoded.warnings for text in (d.message_en, d.message_zh)]
            assert not [text for text in said if password in text], (segment, said)


def test_messages_name_a_password_without_quoting_it() -> None:
    assert masked_text("PW='Zq7pW2x9' is not 6 characters") == "PW='********' is not 6 characters"
    assert masked_text("PW=Zq7pW2x9不是6位字符") == "PW=********不是6位字符"
    assert masked_text("NewPW=abc123;CPW=1") == "NewPW=******;CPW=1"
