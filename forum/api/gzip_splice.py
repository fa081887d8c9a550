"""A gzip body made of a small per-request prefix and a tail compressed once.

A cached thread page is the same bytes for every request except the first few
hundred (``{"count":..,"next":..,"previous":..,"results":`` carries links made for
the request's own URL). The tail (``results`` and the closing brace) is compressed
once, when the page is rendered, into raw deflate blocks that start from an empty
window and end the stream (``compress_tail``). A request then sends (``gzip_parts``):

    gzip header | the prefix as stored (uncompressed) deflate blocks | the cached tail
    | CRC-32 and size of the whole

which is one ordinary gzip member: the tail's back-references never reach before
its own start, so what precedes it does not matter to the decoder. The CRC-32 of
the whole is combined from the prefix's and the tail's without reading the tail
again: appending ``n`` bytes maps a CRC linearly (over GF(2)), so the map for the
tail's length is worked out once, when the tail is compressed, as 32 numbers
(``_shift_operator``), and applying it costs 32 steps per request.
"""

import struct
import zlib
from dataclasses import dataclass
from functools import cache

GZIP_LEVEL = 6
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # deflate, no name, no mtime, OS unknown
_STORED_MAX = 0xFFFF
_CRC_POLY = 0xEDB88320


@dataclass(frozen=True, slots=True)
class Tail:
    """``data`` compressed into final raw deflate blocks, with what ``gzip_parts`` needs."""

    deflated: bytes
    size: int  # len(data)
    crc: int  # zlib.crc32(data)
    shift: tuple[int, ...]  # the CRC map of appending ``size`` bytes (32 columns)


def _times(matrix: tuple[int, ...], vector: int) -> int:
    total = 0
    column = 0
    while vector:
        if vector & 1:
            total ^= matrix[column]
        vector >>= 1
        column += 1
    return total


def _compose(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    """The map ``a`` after ``b``."""
    return tuple(_times(a, column) for column in b)


@cache
def _byte_powers() -> tuple[tuple[int, ...], ...]:
    """The CRC maps of appending 2**k zero bytes, k = 0..47 (once per process)."""
    one_bit = (_CRC_POLY, *(1 << n for n in range(31)))
    operator = one_bit
    for _ in range(3):  # 1 bit -> 2 -> 4 -> 8 bits: one byte
        operator = _compose(operator, operator)
    powers = [operator]
    for _ in range(47):
        operator = _compose(operator, operator)
        powers.append(operator)
    return tuple(powers)


def _shift_operator(size: int) -> tuple[int, ...]:
    """The map taking ``crc32(a)`` to the part of ``crc32(a + b)`` that depends on
    ``a``, for any ``b`` of ``size`` bytes: ``crc32(a + b) == M(crc32(a)) ^ crc32(b)``
    (zlib's ``crc32_combine``, with the map kept)."""
    operator = tuple(1 << n for n in range(32))  # identity
    for power in _byte_powers():
        if not size:
            break
        if size & 1:
            operator = _compose(power, operator)
        size >>= 1
    return operator


def compress_tail(*parts: bytes, level: int = GZIP_LEVEL) -> Tail:
    """The parts, one after the other, compressed into final raw deflate blocks."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
    deflated = [compressor.compress(part) for part in parts]
    deflated.append(compressor.flush())
    crc = 0
    for part in parts:
        crc = zlib.crc32(part, crc)
    size = sum(len(part) for part in parts)
    return Tail(b"".join(deflated), size, crc, _shift_operator(size))


def _stored(prefix: bytes) -> bytes:
    """``prefix`` as non-final stored deflate blocks (byte-aligned by construction)."""
    parts = []
    for start in range(0, len(prefix), _STORED_MAX):
        chunk = prefix[start : start + _STORED_MAX]
        parts.append(b"\x00" + struct.pack("<HH", len(chunk), len(chunk) ^ 0xFFFF) + chunk)
    return b"".join(parts)


def gzip_parts(prefix: bytes, tail: Tail) -> tuple[bytes, ...]:
    """One gzip member whose content is ``prefix`` followed by the tail's data, as
    the parts to send one after another (the tail's bytes as they are kept)."""
    crc = _times(tail.shift, zlib.crc32(prefix)) ^ tail.crc
    trailer = struct.pack("<II", crc, (len(prefix) + tail.size) & 0xFFFFFFFF)
    return (_GZIP_HEADER + _stored(prefix), tail.deflated, trailer)


def gzip_body(prefix: bytes, tail: Tail) -> bytes:
    """``gzip_parts`` joined: the whole member."""
    return b"".join(gzip_parts(prefix, tail))


def accepts_gzip(header: str | None) -> bool:
    """Whether an ``Accept-Encoding`` header admits gzip (RFC 9110 12.5.3): listed
    (or ``x-gzip``, or ``*``) with a non-zero quality, and not refused by name."""
    if not header:
        return False
    star = named = None
    for item in header.split(","):
        coding, _, params = item.partition(";")
        coding = coding.strip().lower()
        if coding not in ("gzip", "x-gzip", "*"):
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = 0.0
        if coding == "*":
            star = quality > 0
        else:
            named = quality > 0 if named is None else named or quality > 0
    return named if named is not None else bool(star)
