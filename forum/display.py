"""How the forum shows who wrote something and a long text on one line: one
definition each, for the API, the thread, the moderation queue and the admin."""

ANONYMOUS_NAME = "Anonymous"
EXCERPT_LENGTH = 120


def author_display(name: str) -> tuple[str | None, str, bool]:
    """The shown-name triple of a comment or post whose ``author_name`` is ``name``
    (API.md): ``(author_name, display_name, is_anonymous)``; no name is anonymous."""
    return (name or None, name or ANONYMOUS_NAME, not name)


def excerpt(text: str, length: int = EXCERPT_LENGTH) -> str:
    """``text`` on one line, cut at ``length`` characters (with an ellipsis). Plain
    text: whoever shows it escapes it."""
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[: length - 1].rstrip() + "…"
