"""The fields API.md promises on a comment (plus body_html), shared by the tests."""

COMMENT_FIELDS = {
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
