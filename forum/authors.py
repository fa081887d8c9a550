"""What an account's changes do to what its owner wrote: the forum's side of a
renamed or erased account. ``accounts.services`` owns the account and calls these;
the forum rows (comments, posts, flags) are written only here."""

from django.db import transaction

from forum.access import comment_lock
from forum.errors import InvalidInput
from forum.models import Comment, CommentRevision, Flag, Post, RemovalKind
from forum.permissions import AnyUser
from forum.services import comment_set_state
from forum.thread_cache import threads_changed


class DetachMode:
    """What becomes of an erased account's comments (``author_detach``)."""

    ANONYMIZE = "anonymize"  # they stay, anonymous
    REMOVE = "remove"  # they become removed-by-author tombstones (hidden when childless)
    CHOICES = (ANONYMIZE, REMOVE)


@transaction.atomic
def author_renamed(*, user: AnyUser) -> None:
    """``user``'s shown name changed: show the new one on everything they wrote."""
    Comment.objects.filter(author=user).update(author_name=user.public_name)
    Post.objects.filter(author=user).update(author_name=user.public_name)
    # The new name shows in every thread they wrote in.
    threads_changed(post_ids=Comment.objects.filter(author=user).values_list("post_id", flat=True))


@transaction.atomic
def author_detach(*, user: AnyUser, mode: str = DetachMode.ANONYMIZE) -> None:
    """Cut what ``user`` wrote and reported loose from the account before it goes.
    Comments stay in their threads, either anonymous (``anonymize``) or as
    removed-by-author tombstones (``remove``), so no reply loses its place; posts
    stay, anonymous; flags stay, without their reporter."""
    if mode not in DetachMode.CHOICES:
        raise InvalidInput(f"Choose one of {', '.join(DetachMode.CHOICES)}.", field="comments")
    own = Comment.objects.filter(author=user)
    if mode == DetachMode.REMOVE:
        for comment_id in own.filter(removed_at__isnull=True).values_list("pk", flat=True):
            comment_set_state(
                comment=comment_lock(comment_id=comment_id),
                removed=True,
                removal_kind=RemovalKind.AUTHOR,
            )
        # The earlier versions of the removed text go with it.
        CommentRevision.objects.filter(comment__in=own).delete()
    threads_changed(post_ids=own.values_list("post_id", flat=True))
    own.update(author=None, author_name="")
    Post.objects.filter(author=user).update(author=None, author_name="")
    Flag.objects.filter(reporter=user).update(reporter=None)
