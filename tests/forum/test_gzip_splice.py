"""forum/api/gzip_splice.py: a gzip member spliced from a per-request prefix and a
tail compressed once, checked by real decoders (zlib, gzip) byte for byte."""

import gzip
import os
import random
import zlib

import pytest

from forum.api import gzip_splice


def _text(size: int, seed: int) -> bytes:
    rng = random.Random(seed)
    return bytes(rng.choice(b'abc def"{}[],:0123\\n') for _ in range(size))


@pytest.mark.parametrize("size", [0, 1, 199, 4096, 70_000, 300_001])
@pytest.mark.parametrize("prefix_size", [0, 1, 180, 65_535, 65_536, 140_000])
def test_the_spliced_body_is_one_gzip_member_of_prefix_and_tail(size, prefix_size):
    tail_data = _text(size, seed=size)
    prefix = os.urandom(prefix_size)
    tail = gzip_splice.compress_tail(tail_data[: size // 2], tail_data[size // 2 :])
    body = gzip_splice.gzip_body(prefix, tail)
    decoder = zlib.decompressobj(wbits=31)  # gzip: checks the CRC-32 and the size
    assert decoder.decompress(body) == prefix + tail_data
    assert decoder.eof and decoder.unused_data == b""
    assert gzip.decompress(body) == prefix + tail_data


def test_the_tail_is_compressed():
    data = b'{"body":"the same words again and again"},' * 5000
    tail = gzip_splice.compress_tail(data)
    assert len(tail.deflated) < len(data) // 20
    assert tail.size == len(data) and tail.crc == zlib.crc32(data)


@pytest.mark.parametrize(
    ("header", "accepted"),
    [
        (None, False),
        ("", False),
        ("identity", False),
        ("gzip", True),
        ("gzip, deflate, br, zstd", True),
        ("GZip;q=0.5", True),
        ("x-gzip", True),
        ("gzip;q=0", False),
        ("gzip; q=0.000", False),
        ("*", True),
        ("*;q=0", False),
        ("*, gzip;q=0", False),
        ("br;q=1, *;q=0.1", True),
        ("deflate, br", False),
        ("gzip;q=nonsense", False),
    ],
)
def test_accept_encoding_admits_gzip_as_rfc_9110_says(header, accepted):
    assert gzip_splice.accepts_gzip(header) is accepted
