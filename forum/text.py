"""Rules for text people write: what the services accept as a body, a title, a note
or a name (``clean_text``), and how a shown name is normalized (``clean_name``)."""

import re
import unicodedata

from forum.errors import InvalidInput

# Control characters (Unicode category Cc: U+0000-U+001F, U+007F-U+009F) other than
# tab, newline and carriage return are refused.
_CONTROL_CLASS = "\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f"
_REFUSED_CONTROL = re.compile(f"[{_CONTROL_CLASS}]")
# The same rule as a JSON Schema ``pattern`` (ECMA-262 and Python read it alike): the
# OpenAPI document states it on every field checked by ``clean_text``.
TEXT_PATTERN = f"^[^{_CONTROL_CLASS}]*$"

# Characters that show nothing or change the direction of the text around them:
# Unicode's format characters (Cf: bidi controls and overrides, zero-width spaces and
# joiners, the BOM, soft hyphens ...) and the blank letters and fillers that render
# as nothing.
_BLANK_LETTERS = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u2800\u3164\uffa0")


def is_invisible(char: str) -> bool:
    return char in _BLANK_LETTERS or unicodedata.category(char) == "Cf"


_NON_ASCII = re.compile("[^\x00-\x7f]+")


def _visible_part(match: re.Match) -> str:
    return "".join(char for char in match.group() if not is_invisible(char))


def without_invisible(value: str) -> str:
    """``value`` without invisible and direction-changing characters (none of which
    is ASCII: only the runs of other characters are looked at, one by one)."""
    if value.isascii():
        return value
    return _NON_ASCII.sub(_visible_part, value)


NAME_MAX_LENGTH = 80
REASON_MAX_LENGTH = 2000


def clean_text(value: str, *, field: str, max_length: int, min_length: int = 1) -> str:
    """Validate user text; return it as written (only the length check trims).

    Refuses NUL and other control characters, and text whose trimmed length is
    outside ``min_length``..``max_length``.
    """
    if not isinstance(value, str):
        raise InvalidInput("Must be a string.", field=field)
    refused = _REFUSED_CONTROL.search(value)
    if refused is not None:
        raise InvalidInput(
            f"Must not contain control characters (found U+{ord(refused.group()):04X}).",
            field=field,
        )
    length = len(value.strip())
    if length < min_length or (min_length and not without_invisible(value).strip()):
        # Blank, or nothing but characters that show nothing.
        raise InvalidInput("This field may not be blank.", field=field)
    if length > max_length:
        raise InvalidInput(
            f"Ensure this field has no more than {max_length} characters (it has {length}).",
            field=field,
        )
    return value


def clean_reason(value: str) -> str:
    """Why a moderator decided (or lifted a ban): optional, at most
    ``REASON_MAX_LENGTH`` characters, trimmed."""
    if not value:
        return ""
    return clean_text(value, field="reason", max_length=REASON_MAX_LENGTH, min_length=0).strip()


def clean_name(value: str | None, *, field: str = "author_name") -> str:
    """A name as shown (an author's chosen name, an account's display name): checked
    like any text, at most ``NAME_MAX_LENGTH`` characters, no invisible or
    direction-changing characters (bidi overrides, zero-width ones), runs of white
    space made one space. ``None`` and blank give ``""``. Reserved names:
    ``forum.names``."""
    if value is None:
        return ""
    value = clean_text(value, field=field, max_length=NAME_MAX_LENGTH, min_length=0)
    hidden = next((char for char in value if is_invisible(char)), None)
    if hidden is not None:
        raise InvalidInput(
            "Names may not contain invisible or direction-changing characters "
            f"(found U+{ord(hidden):04X}).",
            field=field,
        )
    return " ".join(value.split())


def check_format(body_format: str) -> str:
    """A body's format (``forum.models.TextFormat``), or a 400 on ``format``."""
    from forum.models import TextFormat

    if body_format not in TextFormat.values:
        raise InvalidInput(f"{body_format!r} is not a valid choice.", field="format")
    return body_format
