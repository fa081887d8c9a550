"""Bad and hostile files: ``import_comments`` stops with ``FILE:LINE: message`` and the
database is exactly as it was (every table's rows hashed before and after)."""

import re

import pytest
from django.core.management import CommandError

from forum.models import Comment
from tests.imports.conftest import database_state, run_import, sample

pytestmark = pytest.mark.django_db

COMMAND_ERROR = re.compile(r"^(?P<path>.+?):(?P<line>\d+): (?P<message>.+)$", re.DOTALL)

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
]>
<rss xmlns:wp="http://wordpress.org/export/1.2/"><channel><title>&lol2;</title></channel></rss>
"""
EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE feed [ <!ENTITY secret SYSTEM "file:///etc/passwd"> ]>
<feed xmlns="http://www.w3.org/2005/Atom"><title>&secret;</title></feed>
"""
EXTERNAL_DTD = """<?xml version="1.0"?>
<!DOCTYPE disqus SYSTEM "http://127.0.0.1:9/evil.dtd">
<disqus xmlns="http://disqus.com"></disqus>
"""


@pytest.fixture
def existing_content():
    run_import(sample("blogger-classic.xml"))


def refused(path) -> tuple[int, str]:
    with pytest.raises(CommandError) as caught:
        run_import(path)
    match = COMMAND_ERROR.match(str(caught.value))
    assert match, f"no FILE:LINE: in {caught.value!s}"
    assert match["path"] == str(path)
    return int(match["line"]), match["message"]


@pytest.mark.parametrize(
    ("content", "line", "words"),
    [
        (BILLION_LAUGHS, 2, "DTD"),
        (EXTERNAL_ENTITY, 2, "DTD"),
        (EXTERNAL_DTD, 2, "DTD"),
        ("", 1, "malformed XML"),
        ("\x89PNG\r\n\x1a\n\x00\x00binary", 1, "malformed XML"),
        ("<html><body>not an export</body></html>", 1, "not an export"),
        ('<?xml version="1.0"?>\n<feed xmlns="http://www.w3.org/2005/Atom">\n<entry>\n', 4, ""),
    ],
    ids=["billion-laughs", "external-entity", "external-dtd", "empty", "binary", "html", "cut"],
)
def test_hostile_and_broken_files_are_refused_at_their_line_writing_nothing(
    existing_content, write_file, content, line, words
):
    before = database_state()
    found_line, message = refused(write_file(content))
    assert found_line == line
    assert words in message
    assert database_state() == before


@pytest.mark.parametrize("name", ["wordpress.xml", "disqus.xml", "blogger-classic.xml"])
def test_a_file_cut_anywhere_after_its_first_record_writes_nothing(
    existing_content, write_file, name
):
    data = sample(name).read_bytes()
    before = database_state()
    for cut in range(len(data) // 3, len(data) - 12, max(1, len(data) // 7)):
        refused(write_file(data[:cut], name=f"cut-{cut}.xml"))
        assert database_state() == before


def test_a_bad_date_is_refused_at_the_comment_line(write_file):
    data = sample("disqus.xml").read_text()
    data = data.replace(
        "<createdAt>2022-01-05T12:00:00Z</createdAt>", "<createdAt>soon</createdAt>"
    )
    path = write_file(data)
    line, message = refused(path)
    assert data.splitlines()[line - 1].strip() == '<post dsq:id="8002">'
    assert message == "createdAt: not a time: 'soon'"
    assert Comment.objects.count() == 0


def test_a_comment_over_the_length_limit_names_its_line_and_writes_nothing(write_file, settings):
    settings.FORUM = {**settings.FORUM, "COMMENT_MAX_LENGTH": 12}
    path = write_file(sample("wordpress.xml").read_bytes())
    line, message = refused(path)
    assert path.read_text().splitlines()[line - 1].strip() == "<wp:comment>"
    assert message.startswith("body: Ensure this field has no more than 12 characters")
    assert Comment.objects.count() == 0


def test_the_files_before_a_bad_one_stay_imported(write_file):
    bad = write_file(BILLION_LAUGHS)
    with pytest.raises(CommandError):
        run_import(sample("disqus.xml"), bad)
    assert Comment.objects.count() == 7


def test_a_cycle_of_parents_is_cut_and_counted(write_file):
    data = sample("disqus.xml").read_text()
    data = data.replace(
        '<thread dsq:id="7001"/>\n  </post>\n  <post dsq:id="8002">',
        '<thread dsq:id="7001"/>\n    <parent dsq:id="8002"/>\n  </post>\n  <post dsq:id="8002">',
    )
    lines = run_import(write_file(data))
    assert "  replies re-parented to the top level (parent missing): 2" in lines
    from tests.hardening.integrity import tree_problems

    assert tree_problems() == []
