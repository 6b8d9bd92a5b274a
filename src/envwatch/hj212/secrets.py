"""Device passwords out of sight: a frame as shown to people, its PW (and a
password change's NewPW) masked. The archive keeps the frame intact for its
hash chain; only what is shown changes."""

from __future__ import annotations

import re
from typing import Final

MASK: Final = b"*"
# PW=... or NewPW=... at a field start (after the header, a ';', ',' or '&&'),
# any case and blanks as lenient readers take them; up to the next separator.
_PASSWORD = re.compile(rb"(?i)((?:^|[;,&]|##\d{4})\s*(?:new)?pw\s*=\s*)([^;,&\r\n]*)")


def masked_frame(raw: bytes) -> bytes:
    """``raw`` with every password value replaced by as many ``*``."""
    return _PASSWORD.sub(lambda m: m.group(1) + MASK * len(m.group(2)), raw)


# In words about a frame: PW=..., NewPW=..., quoted or not.
_PASSWORD_TEXT = re.compile(r"(?i)((?<![a-z])(?:new)?pw\s*=\s*['\"]?)((?:(?![;,&'\"=])[!-~])*)")


def masked_text(text: str) -> str:
    """``text`` (an error or deviation message) with every password value masked."""
    return _PASSWORD_TEXT.sub(lambda m: m.group(1) + "*" * len(m.group(2)), text)
