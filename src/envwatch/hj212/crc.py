"""The HJ 212 CRC (HJ 212-2017 Appendix A).

The standard calls it "ANSI CRC16" but it is not CRC-16/MODBUS: per byte the
register is shifted right by 8 *before* the byte is XORed in, so the low byte
of the register is dropped each step. Written as 4 upper-case hex digits, high
byte first; received CRCs are compared case-insensitively.

``crc16_reference`` is the algorithm exactly as the standard's C code states it.
``crc16`` computes the same value much faster, and property tests hold the two
equal. The speed-up rests on two facts:

* the CRC table ``T`` of the reflected polynomial 0xA001 is linear over GF(2),
  so the per-byte step ``reg = T[(reg >> 8) ^ b]`` is linear in the bytes;
* only the high byte of the register survives a step, so the whole message
  reduces to one 8-bit value ``x`` and the result is ``T[x]``, where ``x`` is the
  last byte XOR a fixed linear image of each earlier byte (fixed by its distance
  from the end) XOR a constant that depends only on the length.

Each of the 8 bits of ``x`` is therefore the parity of (message AND mask), a few
big-integer operations done in C instead of a Python loop over every byte.
"""

from __future__ import annotations

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


# Messages longer than this fall back to the table loop; frames are at most
# 9999 bytes by their 4-digit length field.
_MAX_FAST_LENGTH = 10_000
# _HIGH applied 8 times is the identity, so every mask repeats every 8 bytes.
_PERIOD = 8


def _build_fast_tables() -> tuple[tuple[int, ...], tuple[int, ...]]:
    # pattern[out_bit][d]: which bits of a byte at distance d (mod 8) from the
    # end of the message flip bit out_bit of x. The last byte (d = 0) enters x
    # as itself; each step back applies _HIGH once more.
    image = list(range(256))
    pattern = [[0] * _PERIOD for _ in range(8)]
    for distance in range(_PERIOD):
        for in_bit in range(8):
            flipped = image[1 << in_bit]
            for out_bit in range(8):
                if flipped >> out_bit & 1:
                    pattern[out_bit][distance] |= 1 << in_bit
        image = [_HIGH[v] for v in image]
    if image != list(range(256)):  # pragma: no cover - a property of the polynomial
        raise AssertionError("HJ 212 CRC step is expected to have period 8")
    # The block's last byte is the one at distance 0.
    blocks = [bytes(reversed(row)) for row in pattern]
    repeats = -(-_MAX_FAST_LENGTH // _PERIOD)
    mask_ints = tuple(int.from_bytes(block * repeats, "big") for block in blocks)
    # constants[n]: contribution of the initial register 0xFFFF to x for a
    # message of n >= 1 bytes; its high byte 0xFF enters at the first step.
    constants = [0] * (_MAX_FAST_LENGTH + 1)
    state = 0xFF
    for length in range(1, _MAX_FAST_LENGTH + 1):
        constants[length] = state
        state = _HIGH[state]
    return mask_ints, tuple(constants)


_MASKS, _CONSTANTS = _build_fast_tables()


def crc16(data: bytes) -> int:
    """The HJ 212 CRC of ``data`` (the data segment's bytes), as an int."""
    length = len(data)
    if length == 0:
        return 0xFFFF
    if length > _MAX_FAST_LENGTH:
        reg = 0xFFFF
        for byte in data:
            reg = _TABLE[(reg >> 8) ^ byte]
        return reg
    message = int.from_bytes(data, "big")
    m0, m1, m2, m3, m4, m5, m6, m7 = _MASKS
    x = (
        ((message & m0).bit_count() & 1)
        | ((message & m1).bit_count() & 1) << 1
        | ((message & m2).bit_count() & 1) << 2
        | ((message & m3).bit_count() & 1) << 3
        | ((message & m4).bit_count() & 1) << 4
        | ((message & m5).bit_count() & 1) << 5
        | ((message & m6).bit_count() & 1) << 6
        | ((message & m7).bit_count() & 1) << 7
    )
    return _TABLE[x ^ _CONSTANTS[length]]


def crc_text(data: bytes) -> str:
    """The CRC of ``data`` as the standard writes it: 4 upper-case hex digits."""
    return f"{crc16(data):04X}"
