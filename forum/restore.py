"""Forum rows restored exactly as they were exported (ids, states, counters, paths):
the forum's half of ``moderation.transfer.blog_import``, which owns the rest."""

from django.core.serializers.base import DeserializedObject
from django.db import transaction

from forum.models import Blog, Comment, Flag, Post, Vote

RESTORED_MODELS = (Blog, Post, Comment, Flag, Vote)


@transaction.atomic
def rows_restore(*, objects: list[DeserializedObject]) -> None:
    """Save deserialized forum rows as they are, in the order given (parents
    first: the tree triggers insist). Nothing of theirs is cached yet (the caller
    refuses rows that exist), so no thread changes."""
    for item in objects:
        if not isinstance(item.object, RESTORED_MODELS):
            raise TypeError(f"not a forum row: {type(item.object).__name__}")
        item.save()
