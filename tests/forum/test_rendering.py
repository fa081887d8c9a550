import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forum.rendering import LINK_REL, render_text, sanitize


def test_paragraphs_and_line_breaks():
    assert render_text("one\ntwo\n\n\nthree") == "<p>one<br>two</p><p>three</p>"


def test_urls_become_nofollow_links_without_trailing_punctuation():
    html = render_text("See https://example.org/a?b=1&c=2. Or www.bbc.co.uk/news!")
    assert (
        '<a href="https://example.org/a?b=1&amp;c=2" rel="nofollow ugc noopener">'
        "https://example.org/a?b=1&amp;c=2</a>." in html
    )
    assert '<a href="http://www.bbc.co.uk/news" rel="nofollow ugc noopener">' in html


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "javascript:alert(1)",
        '"><svg onload=alert(1)>',
        "https://x.org/\"onmouseover='alert(1)'",
        "<a href='javascript:alert(1)'>x</a>",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    ],
)
def test_markup_is_escaped_never_executed(payload):
    html = render_text(payload)
    assert set(re.findall(r"<\s*/?\s*([a-zA-Z0-9]+)", html)) <= {"p", "br", "a"}
    assert not re.search(r"<a [^>]*href=\"(?!https?://)", html)
    assert not re.search(r"<[^>]* on[a-z]+=", html)


def test_sanitize_keeps_only_safe_links():
    assert sanitize('<a href="javascript:alert(1)">x</a>') == f'<a rel="{LINK_REL}">x</a>'


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_rendering_any_text_gives_safe_idempotently_sanitised_html(text):
    html = render_text(text)
    assert sanitize(html) == html
    for tag in re.findall(r"<\s*([a-zA-Z0-9]+)", html):
        assert tag in {"p", "br", "a"}
    for anchor in re.findall(r"<a [^>]*>", html):
        assert f'rel="{LINK_REL}"' in anchor
        href = re.search(r'href="([^"]*)"', anchor)
        assert href is None or href.group(1).startswith(("http://", "https://", "mailto:"))


# --- markdown ----------------------------------------------------------------------------


def test_markdown_renders_the_small_subset():
    from forum.rendering import render_markdown

    html = render_markdown(
        "*em* **strong** `code` [a link](https://example.org/x)\n\n> quoted\n\n- one\n- two"
    )
    assert "<em>em</em>" in html and "<strong>strong</strong>" in html
    assert "<code>code</code>" in html
    assert f'<a href="https://example.org/x" rel="{LINK_REL}">a link</a>' in html
    assert "<blockquote>\n<p>quoted</p>\n</blockquote>" in html
    assert "<ul>\n<li>one</li>\n<li>two</li>\n</ul>" in html


def test_markdown_keeps_raw_html_images_and_headings_as_text():
    from forum.rendering import render_markdown

    html = render_markdown("<b>bold?</b> ![pic](https://example.org/p.png)\n\n# Title")
    assert "&lt;b&gt;bold?&lt;/b&gt;" in html
    assert "<img" not in html and "<h1" not in html and "# Title" in html


def test_markdown_single_newlines_are_line_breaks_as_in_plain_text():
    from forum.rendering import render_markdown

    assert render_markdown("one\ntwo") == "<p>one<br>\ntwo</p>"


def test_plain_is_the_default_format_and_renders_as_before():
    from forum.rendering import render

    text = "*not emphasis* <b>\nhttps://example.org"
    assert render(text) == render(text, "plain") == render_text(text)
