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


# The word diff's work, bounded: difflib's matcher (without its "popular word"
# heuristic, which would stop spaces from matching) costs up to the cube of the words
# compared, and an edit of 20,000 characters of "a a a ..." against "a b a b ..." took
# hours. The words a rewritten line shares at its start and end are set aside first
# (an edit changes a phrase in a long paragraph, so what is compared stays small); a
# line whose changed middle is still longer than this, or once a text's lines have
# used up ``WORD_DIFF_BUDGET`` together, is shown whole: removed, then added.
WORD_DIFF_LIMIT = 40_000  # words of the old middle x words of the new one, per line
WORD_DIFF_BUDGET = 160_000  # the same, summed over a text's rewritten lines


def _opcodes(a: list[str], b: list[str], budget: list[int]) -> list[tuple] | None:
    """``SequenceMatcher(a, b).get_opcodes()`` within the budget, or None."""
    start, end = 0, 0
    shortest = min(len(a), len(b))
    while start < shortest and a[start] == b[start]:
        start += 1
    while end < shortest - start and a[-1 - end] == b[-1 - end]:
        end += 1
    middle_a, middle_b = a[start : len(a) - end], b[start : len(b) - end]
    cost = len(middle_a) * len(middle_b)
    if cost > WORD_DIFF_LIMIT or cost > budget[0]:
        return None
    budget[0] -= cost
    ops = [("equal", 0, start, 0, start)] if start else []
    matcher = difflib.SequenceMatcher(None, middle_a, middle_b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        ops.append((op, start + i1, start + i2, start + j1, start + j2))
    if end:
        ops.append(("equal", len(a) - end, len(a), len(b) - end, len(b)))
    return ops


def _words(old: str, new: str, budget: list[int]) -> str:
    """One rewritten line: the words in common as they are, the others marked. A
    space alone between two changes joins them ("<del>a b</del>", not "<del>a</del>
    <del>b</del>"), so a rewritten phrase reads as one. Past the budget: the line
    removed, then added."""
    a, b = _WORDS.split(old), _WORDS.split(new)
    ops = _opcodes(a, b, budget)
    if ops is None:
        return f"<del>{escape(old)}</del><ins>{escape(new)}</ins>"
    runs: list[list] = []  # [same?, old text, new text]
    for op, i1, i2, j1, j2 in ops:
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
    budget = [WORD_DIFF_BUDGET]

    def flush() -> None:
        pairs = min(len(removed), len(added))
        for old, new in zip(removed[:pairs], added[:pairs], strict=True):
            out.append(_line("changed", _words(old, new, budget)))
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
