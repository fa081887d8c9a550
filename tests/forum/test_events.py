"""forum/events.py: each service that changes what someone may want to hear about
records one event in its own transaction; imports and rolled-back changes record none."""

import pytest
from django.db import transaction

from forum import services
from forum.events import Event, record
from forum.models import CommentStatus, PostStatus
from moderation import services as moderation
from tests.factories import make_comment


def kinds() -> list[str]:
    return list(Event.objects.order_by("pk").values_list("kind", flat=True))


def test_a_published_comment_and_a_held_one(post):
    published = make_comment(post, body="Out.")
    held = make_comment(post, body="Waiting.", status=CommentStatus.PENDING)
    assert kinds() == ["comment.published", "comment.held"]
    events = Event.objects.order_by("pk")
    assert [e.comment_id for e in events] == [published.pk, held.pk]
    assert {e.post_id for e in events} == {post.pk} and {e.blog_id for e in events} == {
        post.blog_id
    }


def test_a_comment_the_policy_marks_spam_is_not_announced_as_held(post):
    make_comment(post, body="Buy now.", status=CommentStatus.SPAM)
    assert kinds() == ["comment.spam"]


def test_imported_comments_and_posts_record_nothing(blog, post):
    make_comment(post, body="Imported.", status=CommentStatus.APPROVED, import_key="seed:1")
    services.post_create(
        blog=blog, title="Old", body="Old.", status=PostStatus.PUBLISHED, import_key="seed:p1"
    )
    assert kinds() == []


def test_a_rolled_back_comment_records_nothing(post):
    with pytest.raises(RuntimeError), transaction.atomic():
        make_comment(post, body="Gone.")
        raise RuntimeError
    assert kinds() == []


def test_author_removal_and_flag_take_down(post, user, settings):
    settings.FORUM = {**settings.FORUM, "FLAG_HIDE_THRESHOLD": 1}
    mine = make_comment(post, body="Mine.", author=user)
    services.comment_remove_by_author(comment=mine, user=user)
    services.comment_remove_by_author(comment=mine, user=user)  # again: no second event
    flagged = make_comment(post, body="Flag me.")
    services.flag_create(comment=flagged, reason="spam", ip_hash="r1")
    assert kinds() == ["comment.published", "comment.removed", "comment.published", "comment.held"]


def test_guest_posts_and_published_posts(blog, moderator):
    guest = services.guest_post_submit(blog=blog, title="G", body="Guest.", author_name="Gus")
    moderation.post_publish(post_id=guest.pk, actor=moderator)
    other = services.guest_post_submit(blog=blog, title="H", body="Guest.", author_name="Hal")
    moderation.post_reject(post_id=other.pk, actor=moderator, reason="No.")
    services.post_create(blog=blog, title="Now", body="Out now.", status=PostStatus.PUBLISHED)
    assert kinds() == [
        "guest_post.submitted",
        "post.published",
        "guest_post.submitted",
        "post.rejected",
        "post.published",
    ]
    assert Event.objects.get(kind="post.rejected").data == {"reason": "No."}


def test_each_moderation_verb_records_its_event_once(post, moderator):
    comment = make_comment(post, body="Held.", status=CommentStatus.PENDING)
    moderation.comment_approve(comment_id=comment.pk, actor=moderator)
    moderation.comment_approve(comment_id=comment.pk, actor=moderator)  # no-op
    moderation.comment_remove(comment_id=comment.pk, actor=moderator, reason="Rude.")
    moderation.comment_restore(comment_id=comment.pk, actor=moderator)
    moderation.comment_spam(comment_id=comment.pk, actor=moderator)
    moderation.comment_reject(comment_id=comment.pk, actor=moderator)
    assert kinds() == [
        "comment.held",
        "comment.published",
        "comment.removed",
        "comment.restored",
        "comment.spam",
        "comment.rejected",
    ]
    assert Event.objects.get(kind="comment.removed").actor_id == moderator.pk


def test_unknown_kinds_are_refused(post):
    with pytest.raises(ValueError, match="unknown event kind"):
        record("comment.exploded", post=post)
