"""The fields API.md promises on a comment (plus body_html), shared by the tests."""

# API v1 (API.md): never dropped or renamed.
V1_COMMENT_FIELDS = {
    "id",
    "post",
    "parent",
    "depth",
    "author_name",
    "display_name",
    "is_anonymous",
    "body",
    "body_html",
    "status",
    "removed",
    "created_at",
    "edited_at",
    "reply_count",
    "author_is_moderator",
}

# Added by issue 16 (votes, pins, formats): new fields only.
READER_FIELDS = {"format", "score", "votes_up", "votes_down", "pinned"}

COMMENT_FIELDS = V1_COMMENT_FIELDS | READER_FIELDS
