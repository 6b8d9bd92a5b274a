"""Password hashing with scrypt (memory-hard; Python's standard library), in
a self-describing form so the parameters can rise later without breaking
stored hashes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

# scrypt cost: N = 2^14, r = 8, p = 1 (16 MiB per hash) [I].
SCRYPT_N, SCRYPT_R, SCRYPT_P = 1 << 14, 8, 1
SCHEME = "scrypt"
MAX_MEMORY = 64 << 20
MIN_LENGTH = 8


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str) -> str:
    """``scrypt$N$r$p$salt$hash``, with a fresh 16-byte salt."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P,
                            maxmem=MAX_MEMORY)  # fmt: skip
    return f"{SCHEME}${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str | None) -> bool:
    """Whether ``password`` matches ``stored`` (compared in constant time)."""
    if not stored:
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != SCHEME:
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=MAX_MEMORY,
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)
