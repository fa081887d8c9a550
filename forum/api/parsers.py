"""JSON request bodies, refused with 400 when nested deeper than any real request.

Python's ``json`` parser recurses once per nesting level, so a body of a few
thousand ``[`` raises ``RecursionError`` (a 500) inside the parser. ``JSONParser``
measures the nesting first, in one linear pass over the bytes (string literals
skipped, so brackets inside strings do not count), and refuses anything deeper than
``MAX_DEPTH`` before the parser sees it. Every API view parses JSON through it
(``REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]``); ``too_deep`` serves anyone else who
reads JSON from outside.
"""

import codecs
import io
import re
from itertools import accumulate

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError

# No request of the API nests more than a few levels; a generous bound.
MAX_DEPTH = 32

# A string literal, or an unterminated one up to the end: every match attempt
# succeeds, possessively, so the scan is linear whatever the input.
_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKET = re.compile(rb"[^\[\]{}]+")
_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")


def too_deep(data: bytes, max_depth: int = MAX_DEPTH) -> bool:
    """Whether the JSON text ``data`` (UTF-8) nests arrays/objects deeper than
    ``max_depth`` (an unclosed bracket counts too: the parser would recurse into it).
    Malformed text is measured as well as it can be; the parser reports the rest."""
    brackets = _NOT_BRACKET.sub(b"", _STRING.sub(b"", data))
    if brackets.count(b"[") + brackets.count(b"{") <= max_depth:
        return False  # every ordinary body: decided at C speed
    # +1 for an opening bracket, -1 (0xff as a signed byte) for a closing one: the
    # running sum is the depth, all summed in C.
    steps = memoryview(brackets.translate(_STEPS)).cast("b")
    return max(accumulate(steps)) > max_depth


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser behind the nesting bound (400 ``{"detail": ...}``)."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        data = stream.read() if stream is not None else b""
        try:
            text = codecs.decode(data, encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        if too_deep(text.encode("utf-8")):
            raise ParseError(f"JSON parse error - nested deeper than {MAX_DEPTH} levels.")
        try:
            return super().parse(io.BytesIO(data), media_type, parser_context)
        except RecursionError:  # belt and braces: never a 500
            raise ParseError("JSON parse error - nested too deeply.") from None
