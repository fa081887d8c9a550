"""imports.html: an export's HTML → the plain text the forum stores (then renders)."""

import pytest

from imports.html import html_to_text


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>One</p><p>Two<br/>lines</p>", "One\n\nTwo\nlines"),
        ("a &amp; b &lt;tag&gt; &#233;", "a & b <tag> é"),
        ('<a href="http://x.org/p">see</a>', "see (http://x.org/p)"),
        ('<a href="https://x.org/">x.org</a>', "x.org"),
        ('<a href="javascript:alert(1)">click</a>', "click"),
        ('<a href="http://x.org/a"></a>', "http://x.org/a"),
        ("<script>alert(1)</script>ok<style>p{}</style>", "ok"),
        ('<img src="x" onerror="alert(1)" alt="a cat">', "[a cat]"),
        ("<iframe src=//evil></iframe><!-- note -->kept", "kept"),
        ("<ul><li>one</li><li>two</li></ul>", "one\ntwo"),
        ("tab\tand\nnewline", "tab and newline"),
        ("bell\x07 and nul\x00", "bell and nul"),
        ("<p>no\u00a0break</p>", "no\u00a0break"),
    ],
)
def test_html_becomes_text(html, text):
    assert html_to_text(html) == text


def test_wordpress_text_keeps_its_newlines():
    assert html_to_text("one\ntwo\n\n\n\nthree <b>b</b>", keep_newlines=True) == (
        "one\ntwo\n\nthree b"
    )
