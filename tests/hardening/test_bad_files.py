"""The seed importer given bad files: ``manage.py import_seeds FILE`` stops with a
``CommandError`` that names the file and the line (``FILE:LINE: message``) and
leaves the database exactly as it was: every table's row count and a hash of every
row are compared before and after.

Covered: empty and blank files, binary files (an image, NUL bytes, UTF-16), wrongly
encoded text (Latin-1, Windows-1252), files cut short anywhere in the comments,
miscounted headers, and files refused half-way through the import (rows written,
then rolled back), first import or re-import. tests/fixtures/test_commands.py has
the message of a miscounted header and the files imported before a bad one.

What no importer can tell: a file cut inside the post's body, before its comments,
reads as a complete post without comments, and a file without a comment header or
Blogger's action words (variant b, e.g. seed 003) cut between two comments reads as
a thread with fewer comments. Every cut after a comment header is refused (see
``test_every_cut_after_the_comment_header_is_refused``).
"""

import hashlib
import re
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command

from fixtures.parser import SeedParseError, decode_seed, parse_seed
from fixtures.services import seed_blog_get_or_create, seed_file_import
from forum.models import Comment
from tests.factories import UserFactory
from tests.fixtures.seeds import BAD_HEADER_SEED, SMALL_SEED, seed_file

pytestmark = pytest.mark.django_db

HEADED_SEEDS = ("000", "001", "002", "004")  # seeds with an "N comments:" header
COMMAND_ERROR = re.compile(r"^(?P<path>.+?):(?P<line>\d+): (?P<message>.+)$", re.DOTALL)


def database_state() -> dict[str, tuple[int, str]]:
    """Every table: its row count and a hash of all its rows in primary-key order."""
    state = {}
    for model in apps.get_models():
        rows = list(model._base_manager.order_by("pk").values_list())
        digest = hashlib.sha256(repr(rows).encode()).hexdigest()
        state[model._meta.db_table] = (len(rows), digest)
    return state


@pytest.fixture
def existing_content(write_seed):
    """A database with content: a real seed thread, a small crafted one, an account."""
    blog = seed_blog_get_or_create()
    seed_file_import(path=seed_file("001"), blog=blog)
    seed_file_import(path=write_seed(SMALL_SEED, name="crafted.txt"), blog=blog)
    UserFactory()
    return blog


@pytest.fixture
def write_seed(tmp_path: Path):
    def write(content: str | bytes, name: str = "bad.txt") -> Path:
        path = tmp_path / name
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return path

    return write


def refused(path: Path) -> tuple[int, str]:
    """Run the command on ``path``; it must fail naming the file and a line of it.
    Returns (line, message)."""
    with pytest.raises(CommandError) as caught:
        call_command("import_seeds", str(path), stdout=StringIO())
    match = COMMAND_ERROR.match(str(caught.value))
    assert match, f"no FILE:LINE: in {caught.value!s}"
    assert match["path"] == str(path)
    line = int(match["line"])
    assert 1 <= line <= max(1, path.read_bytes().count(b"\n") + 1)
    return line, match["message"]


def assert_refused_without_a_trace(path: Path, *, line: int | None = None) -> str:
    before = database_state()
    found_line, message = refused(path)
    if line is not None:
        assert found_line == line, message
    assert database_state() == before
    return message


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


# --- empty, binary, wrongly encoded -------------------------------------------------------


@pytest.mark.parametrize("content", [b"", b"\n", b"  \n\n\t\n", b"\xef\xbb\xbf"])
def test_an_empty_file_is_refused(existing_content, write_seed, content):
    message = assert_refused_without_a_trace(write_seed(content), line=1)
    assert message == "the file is empty"


@pytest.mark.parametrize(
    ("content", "line"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10", 1),  # an image
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", 2),  # a PDF: binary on line 2
        (b"PK\x03\x04\x14\x00\x00\x00\x08\x00", 1),  # a zip archive
        (b"\x00" * 64, 1),  # NUL bytes (valid UTF-8, no date line)
        (bytes(range(256)), 2),  # every byte: 0x80 comes after the newline (0x0a)
        (SMALL_SEED.encode("utf-16"), 1),  # UTF-16 with its byte-order mark
        (SMALL_SEED.encode("utf-16-le"), 1),  # ... and without: NULs between letters
    ],
)
def test_a_binary_file_is_refused(existing_content, write_seed, content, line):
    assert_refused_without_a_trace(write_seed(content), line=line)


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_a_wrongly_encoded_file_is_refused_at_the_first_bad_line(
    existing_content, write_seed, encoding
):
    text = SMALL_SEED.replace("A reply.", "A reply to the café.")
    message = assert_refused_without_a_trace(
        write_seed(text.encode(encoding)), line=line_of(text, "café")
    )
    assert message == "not UTF-8: byte 0xe9 cannot be decoded"


def test_a_real_seed_in_windows_1252_is_refused(existing_content, write_seed):
    text = seed_file("000").read_text(encoding="utf-8")
    first = next(char for char in text if ord(char) > 127)  # a curly quote
    path = write_seed(text.encode("cp1252", errors="replace"), name="000_in_cp1252.txt")
    assert_refused_without_a_trace(path, line=line_of(text, first))


# --- cut short -------------------------------------------------------------------------------


def _cuts_after_the_header(data: bytes) -> list[int]:
    """Every line end after the comment header, and a point inside every line."""
    header_end = re.search(rb"\n\d+ comments:\n", data).end()
    ends = [m.start() for m in re.finditer(rb"\n", data) if m.start() >= header_end]
    cuts = set()
    for start, end in zip([header_end, *ends], [*ends, len(data)], strict=True):
        cuts.update({end, (start + end) // 2})
    cuts.discard(len(data))
    return sorted(cuts)


@pytest.mark.parametrize("number", HEADED_SEEDS)
def test_every_cut_after_the_comment_header_is_refused(number):
    """Parser level (no database), at the end of each line and in its middle: the
    comments no longer add up to the header, or a comment lost its end."""
    data = seed_file(number).read_bytes()
    cuts = _cuts_after_the_header(data)
    assert len(cuts) > 100
    for cut in cuts:
        with pytest.raises(SeedParseError) as caught:
            parse_seed(decode_seed(data[:cut], source="cut"), source="cut")
        assert 1 <= caught.value.line <= data[:cut].count(b"\n") + 1, cut


@pytest.mark.parametrize("fraction", [0.3, 0.5, 0.75, 0.99])
def test_a_seed_cut_short_is_refused_by_the_command(existing_content, write_seed, fraction):
    data = seed_file("000").read_bytes()
    cut = int(len(data) * fraction)
    assert_refused_without_a_trace(write_seed(data[:cut], name="000_cut.txt"))


def test_a_seed_cut_inside_a_character_is_refused_at_that_line(existing_content, write_seed):
    data = seed_file("000").read_bytes()
    start = data.index("\u2019".encode(), len(data) // 2)  # a three-byte character
    cut = data[: start + 2]
    line = cut.count(b"\n") + 1
    message = assert_refused_without_a_trace(write_seed(cut, name="000_cut.txt"), line=line)
    assert message.startswith("not UTF-8")


def test_a_cut_copy_of_an_imported_seed_changes_nothing(existing_content, tmp_path):
    # Same file name as the thread imported already: the post exists.
    data = seed_file("001").read_bytes()
    path = tmp_path / seed_file("001").name
    path.write_bytes(data[: len(data) * 2 // 3])
    assert_refused_without_a_trace(path)


# --- miscounted ------------------------------------------------------------------------------


@pytest.mark.parametrize("declared", ["0 comments:", "2 comments:", "4 comments:", "99 comments:"])
def test_a_miscounted_header_is_refused_at_the_header(existing_content, write_seed, declared):
    text = SMALL_SEED.replace("3 comments:", declared)
    message = assert_refused_without_a_trace(write_seed(text), line=line_of(text, declared))
    assert "3 were parsed" in message


def test_a_miscounted_real_seed_is_refused(existing_content, write_seed):
    text = seed_file("004").read_text(encoding="utf-8").replace("31 comments:", "30 comments:")
    assert_refused_without_a_trace(write_seed(text), line=line_of(text, "30 comments:"))


def test_misnumbered_comments_are_refused(existing_content, write_seed):
    text = SMALL_SEED.replace("  2. Second comment.", "  3. Second comment.")
    assert_refused_without_a_trace(write_seed(text))


def test_the_known_bad_header_seed_leaves_no_trace(existing_content, write_seed):
    assert_refused_without_a_trace(write_seed(BAD_HEADER_SEED), line=7)


# --- refused half-way: rows written, then rolled back ------------------------------------------

# SMALL_SEED with two more comments, the last of which the forum refuses (a control
# character): comment 3 is written before comment 4 fails.
GROWN_SEED = SMALL_SEED.replace("3 comments:", "5 comments:") + (
    "  3. A third comment.\n\n    ReplyDelete\n  4. A \x01fourth.\n\n    ReplyDelete\n"
)


def test_a_first_import_refused_half_way_leaves_no_trace(existing_content, write_seed):
    path = write_seed(GROWN_SEED, name="grown.txt")
    message = assert_refused_without_a_trace(path, line=line_of(GROWN_SEED, "  4. A"))
    assert message == "body: Must not contain control characters (found U+0001)."


def test_a_re_import_refused_half_way_leaves_no_trace(existing_content, tmp_path):
    # crafted.txt was imported (3 comments): its grown version adds 3, then fails.
    path = tmp_path / "crafted.txt"
    path.write_text(GROWN_SEED, encoding="utf-8")
    before = Comment.objects.count()
    assert_refused_without_a_trace(path, line=line_of(GROWN_SEED, "  4. A"))
    assert Comment.objects.count() == before


def test_the_importer_still_works_after_every_refusal(existing_content, write_seed):
    refused(write_seed(b"\x89PNG"))
    refused(write_seed(GROWN_SEED, name="grown.txt"))
    out = StringIO()
    call_command("import_seeds", str(write_seed(SMALL_SEED, name="fine.txt")), stdout=out)
    assert "created 1 post and 3 comments" in out.getvalue()
