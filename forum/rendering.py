"""Text as written by users → the HTML clients show (``body_html``).

``render(text, fmt)`` picks the format: ``plain`` (``render_text``, below, the
default, unchanged) or ``markdown`` (``render_markdown``).

Users write text, never HTML: everything is escaped; blank lines make paragraphs,
single newlines line breaks, and http(s) URLs (or ``www.`` ones) become links with
``rel="nofollow ugc noopener"``. The result then goes through nh3 (Ammonia) with an
allow-list of ``p``, ``br`` and ``a[href]`` as a second line of defence, so a bug in
the first pass cannot let markup through.
"""

import html
import re
from functools import cache

import nh3
from markdown_it import MarkdownIt

LINK_REL = "nofollow ugc noopener"
_ALLOWED_TAGS = {"p", "br", "a"}
_ALLOWED_ATTRIBUTES = {"a": {"href"}}
_URL_SCHEMES = {"http", "https", "mailto"}

_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")
_URL = re.compile(r"(?i)\b(?:https?://|www\.)[^\s<>\"'`]+")
_TRAILING_PUNCTUATION = ".,;:!?'\"*"


def _split_url(candidate: str) -> tuple[str, str]:
    """Split sentence punctuation (and an unbalanced ``)``) off the end of a URL."""
    url, tail = candidate, ""
    while url:
        last = url[-1]
        if last in _TRAILING_PUNCTUATION or (last == ")" and url.count("(") < url.count(")")):
            url, tail = url[:-1], last + tail
        else:
            break
    return url, tail


def _link(url: str) -> str:
    href = url if "://" in url else f"http://{url}"
    return f'<a href="{html.escape(href)}" rel="{LINK_REL}">{html.escape(url)}</a>'


def _render_line(line: str) -> str:
    out, position = [], 0
    for match in _URL.finditer(line):
        url, tail = _split_url(match.group(0))
        if not url or url.lower() in {"http://", "https://", "www."}:
            continue
        out.append(html.escape(line[position : match.start()]))
        out.append(_link(url))
        position = match.start() + len(url)
        del tail  # left in the text, escaped with what follows
    out.append(html.escape(line[position:]))
    return "".join(out)


def render_text(text: str) -> str:
    """The HTML for a body written as plain text. Always safe to embed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        return ""
    paragraphs = []
    for paragraph in _PARAGRAPH_BREAK.split(text):
        lines = [_render_line(line) for line in paragraph.split("\n")]
        paragraphs.append("<p>" + "<br>".join(lines) + "</p>")
    return sanitize("".join(paragraphs))


def sanitize(fragment: str) -> str:
    return nh3.clean(
        fragment,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes=_URL_SCHEMES,
        link_rel=LINK_REL,
        strip_comments=True,
    )


# --- markdown -------------------------------------------------------------------------
# A small CommonMark subset (markdown-it-py): emphasis, strong, links (and <autolinks>),
# block quotes, lists, inline code and code blocks, paragraphs and line breaks. Raw
# HTML is off (written HTML shows as text), images and headings are not parsed (they
# stay text). The result goes through nh3 like plain text, with a wider allow-list.
_MARKDOWN_TAGS = _ALLOWED_TAGS | {"em", "strong", "blockquote", "ul", "ol", "li", "code", "pre"}
_MARKDOWN_ATTRIBUTES = {"a": {"href"}, "ol": {"start"}}
_MARKDOWN_OFF = ["image", "heading", "lheading", "hr", "html_block", "html_inline", "table"]


@cache
def _markdown() -> MarkdownIt:
    options = {"html": False, "linkify": False, "typographer": False, "breaks": True}
    parser = MarkdownIt("commonmark", options)
    parser.disable([rule for rule in _MARKDOWN_OFF if _has_rule(parser, rule)])
    # Same link schemes as plain text (nh3 strips any other href too).
    parser.validateLink = _valid_link
    return parser


def _has_rule(parser: MarkdownIt, name: str) -> bool:
    return name in parser.get_all_rules()["core"] + parser.get_all_rules()["block"] + (
        parser.get_all_rules()["inline"] + parser.get_all_rules()["inline2"]
    )


def _valid_link(url: str) -> bool:
    scheme = url.strip().split(":", 1)[0].lower() if ":" in url else ""
    return scheme in _URL_SCHEMES


def render_markdown(text: str) -> str:
    """The HTML for a body written in the markdown subset. Always safe to embed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        return ""
    fragment = _markdown().render(text)
    return nh3.clean(
        fragment,
        tags=_MARKDOWN_TAGS,
        attributes=_MARKDOWN_ATTRIBUTES,
        url_schemes=_URL_SCHEMES,
        link_rel=LINK_REL,
        strip_comments=True,
    ).strip()


def render(text: str, fmt: str = "plain") -> str:
    """``text`` written in format ``fmt`` (``forum.models.TextFormat``) as safe HTML."""
    if fmt == "markdown":
        return render_markdown(text)
    return render_text(text)
