"""What changed between two versions of a comment's text: the unified diff the
revisions API serves (``unified_diff``), and the same diff as HTML for the desk's
edit cards (``diff_html``).

``diff_html`` renders the lines of ``unified_diff`` (so both say the same thing):
context lines as they are, removed lines in ``<del>``, added ones in ``<ins>``; a
removed line followed by an added one (a line rewritten) is shown once, with the
words removed and added marked inside it, so a link slipped into a long paragraph
stands out. Both texts are escaped, and characters that show nothing or change the
direction of the text are named (``U+202E``), never left to act on the diff's marks;
the markup is the diff's own.
"""

import difflib
import re
import unicodedata

from django.utils.html import escape as escape_html
from django.utils.safestring import SafeString, mark_safe

from forum.text import is_invisible

_WORDS = re.compile(r"(\s+)")  # split on whitespace, keeping it
_NON_ASCII = re.compile("[^\x00-\x7f]+")


def _named(match: re.Match) -> str:
    out = []
    for char in match.group():
        if not is_invisible(char):
            out.append(char)
            continue
        code = f"U+{ord(char):04X}"
        name = unicodedata.name(char, "")
        out.append(f'<span class="desk-diff-invisible" title="{code} {name}">{code}</span>')
    return "".join(out)


def escape(text: str) -> str:
    """``text`` escaped, with each character that shows nothing or turns the text
    around it (bidi overrides, zero-width spaces: ``forum.text.is_invisible``) named
    instead, visibly: an edit made of them, or one turning the diff's own marks
    around, is seen for what it is."""
    escaped = str(escape_html(text))
    return escaped if escaped.isascii() else _NON_ASCII.sub(_named, escaped)


def unified_diff(before: str | None, after: str) -> str:
    """A unified diff of ``before`` → ``after`` by lines; empty when there is no
    ``before`` (a comment's first version)."""
    if before is None:
        return ""
    lines = difflib.unified_diff(
        before.splitlines(), after.splitlines(), "before", "after", lineterm=""
    )
    return "\n".join(lines)


def _line(kind: str, html: str) -> str:
    return f'<span class="desk-diff-line desk-diff-{kind}">{html}</span>'


def _words(old: str, new: str) -> str:
    """One rewritten line: the words in common as they are, the others marked. A
    space alone between two changes joins them ("<del>a b</del>", not "<del>a</del>
    <del>b</del>"), so a rewritten phrase reads as one."""
    a, b = _WORDS.split(old), _WORDS.split(new)
    runs: list[list] = []  # [same?, old text, new text]
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        same, removed, added = op == "equal", "".join(a[i1:i2]), "".join(b[j1:j2])
        if runs and not same and not runs[-1][0]:
            runs[-1][1] += removed
            runs[-1][2] += added
        elif len(runs) > 1 and not same and runs[-1][0] and not runs[-1][1].strip():
            space = runs.pop()[1]  # a space between two changes
            runs[-1][1] += space + removed
            runs[-1][2] += space + added
        else:
            runs.append([same, removed, added])
    out = []
    for same, removed, added in runs:
        if same:
            out.append(escape(removed))
            continue
        if removed:
            out.append(f"<del>{escape(removed)}</del>")
        if added:
            out.append(f"<ins>{escape(added)}</ins>")
    return "".join(out)


def diff_html(before: str, after: str) -> SafeString:
    """``unified_diff(before, after)`` as HTML (see the module doc); empty when the
    texts are the same."""
    lines = unified_diff(before, after).split("\n")[2:]  # after the two file headers
    out: list[str] = []
    removed: list[str] = []
    added: list[str] = []

    def flush() -> None:
        pairs = min(len(removed), len(added))
        for old, new in zip(removed[:pairs], added[:pairs], strict=True):
            out.append(_line("changed", _words(old, new)))
        out.extend(_line("del", f"<del>{escape(old)}</del>") for old in removed[pairs:])
        out.extend(_line("ins", f"<ins>{escape(new)}</ins>") for new in added[pairs:])
        removed.clear()
        added.clear()

    for line in lines:
        sign, text = line[:1], line[1:]
        if sign == "-":
            if added:  # a new run of changes
                flush()
            removed.append(text)
        elif sign == "+":
            added.append(text)
        else:
            flush()
            if sign == "@" and out:
                out.append(_line("gap", "…"))
            elif sign == " ":
                out.append(_line("same", escape(text)))
    flush()
    return mark_safe("".join(out))  # noqa: S308 (every text above is escaped)
