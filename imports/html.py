"""HTML of an export → the plain text our comments and posts are written in.

The forum stores what people wrote as text and renders it itself
(``forum.rendering.render_text``: escaped, paragraphs, line breaks, links with
``rel="nofollow ugc noopener"``, then nh3). An export's HTML is therefore turned back
into that text, never kept: paragraphs and blocks become blank lines, ``<br>`` a line
break, a link its text followed by its address in brackets when the two differ (the
address is then linked again by the renderer, with our ``rel``), an image its ``alt``
text. Scripts, styles, frames, forms and HTML comments disappear with their content;
every other tag disappears and keeps its text; entities are decoded. Control
characters are dropped.

``keep_newlines``: WordPress stores comments and posts as typed (its display turns
newlines into ``<br>`` and paragraphs), so a newline there is a line break; in
Blogger's and Disqus's HTML a newline is only whitespace.
"""

import re
from html.parser import HTMLParser

_DROPPED = frozenset(
    {
        "script",
        "style",
        "iframe",
        "object",
        "embed",
        "template",
        "head",
        "title",
        "noscript",
        "svg",
        "math",
        "textarea",
        "select",
        "button",
        "form",
        "frameset",
        "frame",
        "applet",
        "audio",
        "video",
        "canvas",
    }
)
_VOID_DROPPED = frozenset({"input", "link", "meta", "base", "source", "track", "param"})
_BLOCKS = frozenset(
    {
        "p",
        "div",
        "blockquote",
        "ul",
        "ol",
        "dl",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "pre",
        "table",
        "section",
        "article",
        "header",
        "footer",
        "aside",
        "figure",
        "hr",
        "address",
        "center",
    }
)
_LINES = frozenset({"li", "tr", "dt", "dd", "figcaption", "caption"})
_LINK_SCHEMES = ("http://", "https://", "mailto:")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_HTML_SPACE = re.compile(r"[\t\r\n\f]+")
_BLANK_LINES = re.compile(r"\n{3,}")
_MARKUP = re.compile(r"[<&]")


class _Text(HTMLParser):
    def __init__(self, *, keep_newlines: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.keep_newlines = keep_newlines
        self.out: list[str] = []
        self.dropping = 0
        self.links: list[tuple[str, int]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROPPED:
            self.dropping += 1
            return
        if self.dropping or tag in _VOID_DROPPED:
            return
        if tag == "br":
            self.out.append("\n")
        elif tag in _BLOCKS:
            self.out.append("\n\n")
        elif tag in _LINES:
            self.out.append("\n")
        elif tag == "a":
            href = (dict(attrs).get("href") or "").strip()
            self.links.append((href, len(self.out)))
        elif tag == "img":
            alt = (dict(attrs).get("alt") or "").strip()
            if alt:
                self.out.append(f"[{alt}]")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROPPED:
            return
        self.handle_starttag(tag, attrs)
        if tag == "a":
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROPPED:
            self.dropping = max(0, self.dropping - 1)
            return
        if self.dropping:
            return
        if tag in _BLOCKS:
            self.out.append("\n\n")
        elif tag == "a" and self.links:
            href, start = self.links.pop()
            text = "".join(self.out[start:]).strip()
            if not href.lower().startswith(_LINK_SCHEMES):
                return
            bare = href.split("://", 1)[-1].removeprefix("mailto:")
            if text and text not in (href, bare, bare.rstrip("/")):
                self.out.append(f" ({href})")
            elif not text:
                self.out.append(href)

    def handle_data(self, data: str) -> None:
        if self.dropping:
            return
        if not self.keep_newlines:
            data = _HTML_SPACE.sub(" ", data)
        self.out.append(data)


def html_to_text(fragment: str, *, keep_newlines: bool = False) -> str:
    """The text of an HTML fragment (see the module's docstring)."""
    fragment = fragment.replace("\r\n", "\n").replace("\r", "\n")
    if _MARKUP.search(fragment) is None:
        text = fragment if keep_newlines else _HTML_SPACE.sub(" ", fragment)
    else:
        parser = _Text(keep_newlines=keep_newlines)
        parser.feed(fragment)
        parser.close()
        text = "".join(parser.out)
    text = _CONTROL.sub("", text)
    if keep_newlines:
        lines = [line.rstrip() for line in text.split("\n")]
    else:
        lines = [line.strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
