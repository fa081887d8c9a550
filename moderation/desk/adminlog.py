"""Entries in Django's own admin log ("Recent actions") for moderation decisions
taken in the admin, so that it agrees with the moderation log. Called in the
transaction of the decision; the entries name things, never ids."""

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType

from forum.models import Comment
from moderation.desk import words
from moderation.models import ModerationAction


def comment_label(comment: Comment) -> str:
    who = f"{comment.author_name}'s comment" if comment.author_name else "Anonymous comment"
    return f"{who} on “{words.excerpt(comment.post.title)}”"


def log_decision(action: ModerationAction | None, user) -> None:
    """The admin log's entry for the moderation log's entry ``action`` (if any)."""
    if action is None:
        return
    obj = action.comment or action.post or action.ban
    if obj is None:
        return
    label = words.target(action)
    message = words.decision(action) + (f". Reason: {action.reason}" if action.reason else "")
    LogEntry.objects.create(
        user_id=user.pk,
        content_type_id=ContentType.objects.get_for_model(obj, for_concrete_model=True).id,
        object_id=str(obj.pk),
        object_repr=(label[0].upper() + label[1:])[:200],
        action_flag=CHANGE,
        change_message=message,
    )
