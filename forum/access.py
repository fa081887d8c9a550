"""Who may see or change one comment: the single access check on the paths that read
or change a comment by its id (in the style of Zulip's ``access_message``).

Views pass the id they were given; the services (and ``forum.selectors``) call
``comment_access`` once, which reads the comment (under a row lock when asked),
and refuses it the same way for every caller.
"""

from django.utils import timezone

from forum.errors import NotFound, NotPermitted
from forum.models import Comment, PostStatus, path_prefixes, public_comment_q
from forum.permissions import AnyUser, is_comment_author, is_moderator, within_edit_window


def has_hidden_ancestor(comment: Comment) -> bool:
    """Whether an ancestor of ``comment`` is hidden (not public by its own state):
    then the comment is not public either, whatever its own state (the thread's
    rule). One query on the ``(post, path)`` index for a reply; none at top level."""
    if comment.depth == 0:
        return False
    return (
        Comment.objects.filter(post_id=comment.post_id, path__in=path_prefixes(comment.path))
        .exclude(public_comment_q())
        .exists()
    )


def comment_visible(comment: Comment) -> bool:
    """What the public may read: a public comment of a published post with no
    hidden ancestor (``forum.models.visible_comment_q`` for one instance)."""
    return (
        comment.is_public
        and comment.post.status == PostStatus.PUBLISHED
        and not has_hidden_ancestor(comment)
    )


def comment_lock(*, comment_id: int) -> Comment:
    """Re-read a comment under a row lock (inside a transaction): decisions are
    taken on its latest state, and a concurrent decision waits for this one."""
    # of=("self",): lock the comment only, not its post (decisions on other comments
    # of the same post, and replies, must not queue behind this one).
    comment = (
        Comment.objects.select_for_update(of=("self",)).select_related("post").filter(pk=comment_id)
    )
    found = comment.first()
    if found is None:
        raise NotFound("No such comment.")
    return found


def comment_access(
    *,
    comment_id: int,
    user: AnyUser,
    edit_token: str | None,
    for_change: bool = False,
    lock: bool = False,
) -> Comment:
    """The comment ``comment_id`` (with its post) as ``user`` may reach it.

    Seeing it: the public sees public comments of published posts whose ancestors
    are all public (``comment_visible``); moderators see
    every comment; the author (account, or ``edit_token`` for a comment without
    one) sees their own in any state, e.g. while it waits for moderation. Anything
    else is ``NotFound``, exactly as a comment that does not exist.

    ``for_change``: changing it (editing, withdrawing) is for its author within the
    edit window, and for moderators at any time (``NotPermitted`` otherwise).
    ``lock``: read it under a row lock (``comment_lock``; inside a transaction), so
    the change is decided on its latest state.
    """
    if lock:
        comment = comment_lock(comment_id=comment_id)
    else:
        comment = Comment.objects.select_related("post").filter(pk=comment_id).first()
        if comment is None:
            raise NotFound("No such comment.")
    moderator = is_moderator(user)
    author = not moderator and is_comment_author(user, comment, edit_token)
    if not (moderator or author):
        if not comment_visible(comment):
            raise NotFound("No such comment.")
        if for_change:
            raise NotPermitted("You can only change your own comments.")
    if for_change and author and not within_edit_window(comment, timezone.now()):
        raise NotPermitted("The time for changing this comment has passed.")
    return comment
