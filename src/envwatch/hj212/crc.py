"""The HJ 212 CRC (HJ 212-2017 Appendix A).

The standard calls it "ANSI CRC16" but it is not CRC-16/MODBUS: per byte the
register is shifted right by 8 *before* the byte is XORed in, so the low byte
of the register is dropped each step. Written as 4 upper-case hex digits, high
byte first; received CRCs are compared case-insensitively.

``crc16_reference`` is the algorithm exactly as the standard's C code states it.
``crc16`` computes the same value much faster, and property tests hold the two
equal. The speed-up rests on three facts:

* the CRC table ``T`` of the reflected polynomial 0xA001 is linear over GF(2),
  so the per-byte step ``reg = T[(reg >> 8) ^ b]`` is linear in the bytes;
* only the high byte of the register survives a step, so the whole message
  reduces to one 8-bit value ``x`` and the result is ``T[x]``, where ``x`` is
  the XOR of ``H^d(b)`` over the bytes ``b`` at distance ``d`` from the end
  (``H``: the high byte of ``T``) and a constant that depends on the length;
* ``H`` applied 8 times is the identity, so bytes 8 apart contribute through
  the same map: XOR-folding the message down to its last 8 bytes (big-integer
  operations done in C) loses nothing, and 8 table look-ups finish the job.
"""

from __future__ import annotations

from functools import lru_cache

_POLY = 0xA001


def _build_table() -> tuple[int, ...]:
    table = []
    for value in range(256):
        reg = value
        for _ in range(8):
            reg = (reg >> 1) ^ _POLY if reg & 1 else reg >> 1
        table.append(reg)
    return tuple(table)


_TABLE = _build_table()
# The register's high byte after a step, as a function of the byte fed in.
_HIGH = tuple(entry >> 8 for entry in _TABLE)


def crc16_reference(data: bytes) -> int:
    """The CRC exactly as HJ 212-2017 Appendix A computes it, bit by bit."""
    reg = 0xFFFF
    for byte in data:
        reg = (reg >> 8) ^ byte
        for _ in range(8):
            lsb = reg & 1
            reg >>= 1
            if lsb:
                reg ^= _POLY
    return reg


# _HIGH applied 8 times is the identity (checked at import).
_PERIOD = 8


def _build_fast_tables() -> tuple[tuple[tuple[int, ...], ...], tuple[int, ...]]:
    # by_distance[d][b] = _HIGH applied d times to b.
    by_distance = []
    image = tuple(range(256))
    for _ in range(_PERIOD):
        by_distance.append(image)
        image = tuple(_HIGH[v] for v in image)
    if image != tuple(range(256)):  # pragma: no cover - a property of the polynomial
        raise AssertionError("HJ 212 CRC step is expected to have period 8")
    # constants[n mod 8]: contribution of the initial register 0xFFFF to x for
    # a message of n >= 1 bytes; its high byte 0xFF enters at the first step.
    constants = tuple(by_distance[(n - 1) % _PERIOD][0xFF] for n in range(_PERIOD))
    return tuple(by_distance), constants


_BY_DISTANCE, _CONSTANTS = _build_fast_tables()
_H1, _H2, _H3, _H4, _H5, _H6, _H7 = _BY_DISTANCE[1:]


@lru_cache(maxsize=256)
def _low_bits(count: int) -> int:
    return (1 << count) - 1


def crc16(data: bytes) -> int:
    """The HJ 212 CRC of ``data`` (the data segment's bytes), as an int."""
    length = len(data)
    if length == 0:
        return 0xFFFF
    message = int.from_bytes(data, "big")
    bits = length * 8
    while bits > 64:
        # Fold the upper part onto the lower one, keeping 64-bit alignment so
        # every byte keeps its distance from the end modulo 8.
        half = ((bits // 2 + 63) // 64) * 64
        message = (message >> half) ^ (message & _low_bits(half))
        bits = half
    b0, b1, b2, b3, b4, b5, b6, b7 = message.to_bytes(8, "big")
    x = _H7[b0] ^ _H6[b1] ^ _H5[b2] ^ _H4[b3] ^ _H3[b4] ^ _H2[b5] ^ _H1[b6] ^ b7
    return _TABLE[x ^ _CONSTANTS[length % _PERIOD]]


def crc_text(data: bytes) -> str:
    """The CRC of ``data`` as the standard writes it: 4 upper-case hex digits."""
    return f"{crc16(data):04X}"
