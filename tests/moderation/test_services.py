"""Moderation decisions, bans and policies, as the services carry them out."""

import datetime

import pytest
from django.utils import timezone

from forum import services as forum_services
from forum import thread_page as forum_thread_page
from forum.errors import Conflict, InvalidInput, NotFound, NotPermitted
from forum.identity import ip_hash
from forum.models import Comment, CommentStatus, Flag, Post, PostStatus, RemovalKind
from moderation import services
from moderation.models import Ban, ModerationAction
from tests.factories import PostFactory, UserFactory, make_comment
from tests.moderation.conftest import flag_down

pytestmark = pytest.mark.django_db


# --- the comment state machine ---------------------------------------------------------


def _removed_by_author(post, moderator):
    author = UserFactory()
    comment = make_comment(post, author=author, status=CommentStatus.APPROVED)
    return forum_services.comment_remove_by_author(comment=comment, user=author)


START = {
    "pending": lambda post, mod: make_comment(post, status=CommentStatus.PENDING),
    "approved": lambda post, mod: make_comment(post, status=CommentStatus.APPROVED),
    "rejected": lambda post, mod: (
        services.comment_reject(
            comment_id=make_comment(post, status=CommentStatus.PENDING).pk, actor=mod
        ).comment
    ),
    "spam": lambda post, mod: make_comment(post, status=CommentStatus.SPAM),
    "removed": lambda post, mod: (
        services.comment_remove(
            comment_id=make_comment(post, status=CommentStatus.APPROVED).pk, actor=mod
        ).comment
    ),
    "removed_by_author": _removed_by_author,
    "flagged": lambda post, mod: flag_down(make_comment(post, status=CommentStatus.APPROVED)),
}

NOOP, CONFLICT = "no-op", "409"
# start state → verb → the state it ends in (as the log writes it), NOOP or CONFLICT.
TABLE = {
    "pending": {
        "approve": "approved",
        "reject": "rejected",
        "spam": "spam",
        "remove": CONFLICT,
        "restore": NOOP,
    },
    "approved": {
        "approve": NOOP,
        "reject": CONFLICT,
        "spam": "spam",
        "remove": "removed",
        "restore": NOOP,
    },
    "rejected": {
        "approve": "approved",
        "reject": NOOP,
        "spam": "spam",
        "remove": CONFLICT,
        "restore": NOOP,
    },
    "spam": {
        "approve": "approved",
        "reject": "rejected",
        "spam": NOOP,
        "remove": CONFLICT,
        "restore": NOOP,
    },
    "removed": {
        "approve": CONFLICT,
        "reject": CONFLICT,
        "spam": CONFLICT,
        "remove": NOOP,
        "restore": "approved",
    },
    "removed_by_author": {
        "approve": CONFLICT,
        "reject": CONFLICT,
        "spam": CONFLICT,
        "remove": NOOP,
        "restore": CONFLICT,
    },
    "flagged": {
        "approve": "approved",
        "reject": "rejected",
        "spam": "spam",
        "remove": "removed",
        "restore": NOOP,
    },
}
CASES = [(start, verb, end) for start, row in TABLE.items() for verb, end in row.items()]


def _state(comment: Comment) -> str:
    return "removed" if comment.is_removed else comment.status


@pytest.mark.parametrize(("start", "verb", "end"), CASES)
def test_comment_decisions_follow_the_state_table(post, moderator, start, verb, end):
    comment = START[start](post, moderator)
    before = (comment.status, comment.is_removed, comment.removal_kind)
    logged = ModerationAction.objects.count()

    if end == CONFLICT:
        with pytest.raises(Conflict) as refusal:
            services.comment_decide(comment_id=comment.pk, action=verb, actor=moderator)
        assert refusal.value.extra == {"status": before[0], "removed": before[1]}
        comment.refresh_from_db()
        assert (comment.status, comment.is_removed, comment.removal_kind) == before
        assert ModerationAction.objects.count() == logged
        return

    outcome = services.comment_decide(
        comment_id=comment.pk, action=verb, actor=moderator, reason="why not"
    )
    comment.refresh_from_db()
    if end == NOOP:
        assert outcome.changed is False and outcome.action is None
        assert (comment.status, comment.is_removed, comment.removal_kind) == before
        assert ModerationAction.objects.count() == logged
        return

    assert outcome.changed is True
    assert _state(comment) == end
    action = ModerationAction.objects.latest("id")
    assert ModerationAction.objects.count() == logged + 1
    assert (action.actor, action.target_kind, action.comment, action.post) == (
        moderator,
        "comment",
        comment,
        None,
    )
    expected_from = "removed" if before[1] else before[0]
    assert (action.action, action.from_state, action.to_state, action.reason) == (
        verb,
        expected_from,
        end,
        "why not",
    )
    # Doing it again changes nothing and logs nothing.
    again = services.comment_decide(comment_id=comment.pk, action=verb, actor=moderator)
    assert again.changed is False
    assert ModerationAction.objects.count() == logged + 1


def test_approving_publishes_and_clears_the_reasons(post, moderator):
    comment = make_comment(post, status=CommentStatus.PENDING)
    Comment.objects.filter(pk=comment.pk).update(moderation_reasons=["anonymous", "links"])
    services.comment_approve(comment_id=comment.pk, actor=moderator)
    comment.refresh_from_db()
    post.refresh_from_db()
    assert (comment.status, comment.moderation_reasons, post.comment_count) == ("approved", [], 1)


def test_a_decision_resolves_the_open_flags(post, moderator):
    comment = flag_down(make_comment(post, status=CommentStatus.APPROVED))
    assert comment.moderation_reasons == ["flagged"]
    services.comment_approve(comment_id=comment.pk, actor=moderator)
    assert not Flag.objects.filter(comment=comment, resolved_at__isnull=True).exists()
    comment.refresh_from_db()
    assert (comment.status, comment.moderation_reasons) == ("approved", [])
    # Resolved flags no longer count: it takes three new reporters to take it down again.
    forum_services.flag_create(comment=comment, reason="spam", ip_hash=ip_hash("10.9.9.9"))
    comment.refresh_from_db()
    assert comment.status == CommentStatus.APPROVED


def test_rejecting_and_spamming_resolve_the_flags_too(post, moderator):
    one = flag_down(make_comment(post, status=CommentStatus.APPROVED))
    two = flag_down(make_comment(post, status=CommentStatus.APPROVED))
    services.comment_reject(comment_id=one.pk, actor=moderator)
    services.comment_spam(comment_id=two.pk, actor=moderator)
    assert not Flag.objects.filter(resolved_at__isnull=True).exists()


def test_removing_records_the_moderator_and_keeps_replies_under_a_tombstone(post, moderator):
    parent = make_comment(post, status=CommentStatus.APPROVED)
    make_comment(post, parent=parent, body="A reply.", status=CommentStatus.APPROVED)
    services.comment_remove(comment_id=parent.pk, actor=moderator, reason="Off topic.")
    parent.refresh_from_db()
    assert (parent.removal_kind, parent.removed_by, parent.removal_reason) == (
        RemovalKind.MODERATOR,
        moderator,
        "Off topic.",
    )
    thread = forum_thread_page.thread_page(post_id=post.pk, page=1, page_size=10).results
    assert thread[0]["removed"] is True and thread[0]["body"] is None
    assert [reply["body"] for reply in thread[0]["replies"]] == ["A reply."]


def test_removing_a_flagged_comment_leaves_its_replies_visible(post, moderator):
    parent = make_comment(post, status=CommentStatus.APPROVED)
    make_comment(post, parent=parent, body="A reply.", status=CommentStatus.APPROVED)
    flag_down(parent)
    assert forum_thread_page.thread_page(post_id=post.pk, page=1, page_size=10).results == []
    services.comment_remove(comment_id=parent.pk, actor=moderator)
    thread = forum_thread_page.thread_page(post_id=post.pk, page=1, page_size=10).results
    assert thread[0]["removed"] is True
    assert [reply["body"] for reply in thread[0]["replies"]] == ["A reply."]


def test_restoring_puts_the_comment_and_the_counters_back(post, moderator):
    comment = make_comment(post, status=CommentStatus.APPROVED)
    services.comment_remove(comment_id=comment.pk, actor=moderator)
    post.refresh_from_db()
    assert post.comment_count == 0
    services.comment_restore(comment_id=comment.pk, actor=moderator)
    comment.refresh_from_db()
    post.refresh_from_db()
    assert (comment.is_removed, comment.removed_by, post.comment_count) == (False, None, 1)


def test_only_moderators_decide(post, user):
    comment = make_comment(post, status=CommentStatus.PENDING)
    for actor in (user, None):
        with pytest.raises(NotPermitted):
            services.comment_approve(comment_id=comment.pk, actor=actor)
    comment.refresh_from_db()
    assert comment.status == CommentStatus.PENDING
    assert not ModerationAction.objects.exists()


def test_an_inactive_moderator_cannot_decide(post, moderator):
    moderator.is_active = False
    moderator.save()
    comment = make_comment(post, status=CommentStatus.PENDING)
    with pytest.raises(NotPermitted):
        services.comment_approve(comment_id=comment.pk, actor=moderator)


def test_unknown_actions_and_missing_comments_are_refused(post, moderator):
    comment = make_comment(post, status=CommentStatus.PENDING)
    with pytest.raises(InvalidInput):
        services.comment_decide(comment_id=comment.pk, action="publish", actor=moderator)
    with pytest.raises(NotFound):
        services.comment_approve(comment_id=comment.pk + 1000, actor=moderator)


def test_a_reason_with_control_characters_is_refused_and_nothing_changes(post, moderator):
    comment = make_comment(post, status=CommentStatus.PENDING)
    with pytest.raises(InvalidInput):
        services.comment_approve(comment_id=comment.pk, actor=moderator, reason="bad\x00")
    comment.refresh_from_db()
    assert comment.status == CommentStatus.PENDING


# --- guest posts -------------------------------------------------------------------------


def test_publishing_a_guest_post_gives_the_blogs_next_guest_number(blog, guest_post, moderator):
    PostFactory(blog=blog, is_guest=True, guest_number=101, title="Guest Blog 101")
    PostFactory(is_guest=True, guest_number=500)  # another blog's numbers do not count
    outcome = services.post_publish(post_id=guest_post.pk, actor=moderator, reason="Good one.")
    post = Post.objects.get(pk=guest_post.pk)
    assert (post.status, post.guest_number) == (PostStatus.PUBLISHED, 102)
    assert post.published_at is not None
    assert outcome.changed is True
    action = ModerationAction.objects.get()
    assert (action.target_kind, action.post, action.action) == ("post", post, "publish")
    assert (action.from_state, action.to_state, action.reason) == (
        "pending",
        "published",
        "Good one.",
    )


def test_the_first_guest_post_of_a_blog_is_number_one(guest_post, moderator):
    services.post_publish(post_id=guest_post.pk, actor=moderator)
    assert Post.objects.get(pk=guest_post.pk).guest_number == 1


def test_guest_posts_are_numbered_in_the_order_they_are_published(blog, moderator):
    posts = [
        forum_services.guest_post_submit(blog=blog, title=f"G{i}", body="b", author_name="G")
        for i in range(3)
    ]
    for post in reversed(posts):
        services.post_publish(post_id=post.pk, actor=moderator)
    numbers = [Post.objects.get(pk=post.pk).guest_number for post in posts]
    assert numbers == [3, 2, 1]


def test_publishing_twice_changes_nothing(guest_post, moderator):
    services.post_publish(post_id=guest_post.pk, actor=moderator)
    again = services.post_publish(post_id=guest_post.pk, actor=moderator)
    assert again.changed is False and again.post.guest_number == 1
    assert ModerationAction.objects.count() == 1


def test_rejecting_a_guest_post_never_publishes_it(guest_post, moderator):
    outcome = services.post_reject(post_id=guest_post.pk, actor=moderator)
    assert outcome.post.status == PostStatus.REJECTED and outcome.post.guest_number is None
    assert services.post_reject(post_id=guest_post.pk, actor=moderator).changed is False
    with pytest.raises(Conflict) as refusal:
        services.post_publish(post_id=guest_post.pk, actor=moderator)
    assert refusal.value.extra == {"status": "rejected"}
    assert ModerationAction.objects.count() == 1


def test_published_and_draft_posts_cannot_be_rejected_or_published(post, blog, moderator):
    with pytest.raises(Conflict):
        services.post_reject(post_id=post.pk, actor=moderator)
    draft = PostFactory(blog=blog, status=PostStatus.DRAFT, published_at=None)
    with pytest.raises(Conflict):
        services.post_publish(post_id=draft.pk, actor=moderator)


def test_only_moderators_publish(guest_post, user):
    with pytest.raises(NotPermitted):
        services.post_publish(post_id=guest_post.pk, actor=user)
    assert Post.objects.get(pk=guest_post.pk).status == PostStatus.PENDING


# --- bans -----------------------------------------------------------------------------------


def test_a_ban_records_who_why_and_until_when(blog, user, moderator):
    until = timezone.now() + datetime.timedelta(days=7)
    ban, created = services.ban_create(
        blog=blog, actor=moderator, user=user, reason="Abuse.", expires_at=until
    )
    assert created is True
    assert (ban.created_by, ban.reason, ban.expires_at, ban.is_active()) == (
        moderator,
        "Abuse.",
        until,
        True,
    )


def test_banning_again_until_the_same_time_changes_nothing(blog, user, moderator):
    first, _ = services.ban_create(blog=blog, actor=moderator, user=user)
    again, created = services.ban_create(blog=blog, actor=moderator, user=user)
    assert (again, created) == (first, False)
    with pytest.raises(Conflict):
        services.ban_create(
            blog=blog,
            actor=moderator,
            user=user,
            expires_at=timezone.now() + datetime.timedelta(days=1),
        )
    assert Ban.objects.count() == 1


def test_an_expired_ban_is_closed_when_a_new_one_is_made(blog, user, moderator):
    old = Ban.objects.create(
        blog=blog,
        user=user,
        created_by=moderator,
        created_at=timezone.now() - datetime.timedelta(days=2),
        expires_at=timezone.now() - datetime.timedelta(days=1),
    )
    ban, created = services.ban_create(blog=blog, actor=moderator, user=user)
    old.refresh_from_db()
    assert created and ban != old
    assert (old.lifted_at, old.lifted_by) == (old.expires_at, None)


@pytest.mark.parametrize(
    "subject",
    [{}, {"user": "user", "ip_hash": "abc"}, {"user": "moderator"}, {"expires_at": "past"}],
)
def test_impossible_bans_are_refused(blog, user, moderator, subject):
    values = {"user": user, "moderator": moderator, "past": timezone.now(), "abc": "abc"}
    kwargs = {key: values[value] for key, value in subject.items()}
    if "expires_at" in kwargs:
        kwargs["ip_hash"] = "abc"
    with pytest.raises(InvalidInput):
        services.ban_create(blog=blog, actor=moderator, **kwargs)
    assert not Ban.objects.exists()


def test_only_moderators_ban_and_lift(blog, user, moderator):
    with pytest.raises(NotPermitted):
        services.ban_create(blog=blog, actor=user, ip_hash="abc")
    ban, _ = services.ban_create(blog=blog, actor=moderator, ip_hash="abc")
    with pytest.raises(NotPermitted):
        services.ban_lift(ban_id=ban.pk, actor=user)


def test_lifting_records_who_and_why_and_is_idempotent(blog, moderator, second_moderator):
    ban, _ = services.ban_create(blog=blog, actor=moderator, ip_hash="abc")
    lifted, changed = services.ban_lift(ban_id=ban.pk, actor=second_moderator, reason="Appeal.")
    assert changed and (lifted.lifted_by, lifted.lift_reason) == (second_moderator, "Appeal.")
    assert not lifted.is_active()
    again, changed = services.ban_lift(ban_id=ban.pk, actor=moderator)
    assert not changed and again.lifted_by == second_moderator
    with pytest.raises(NotFound):
        services.ban_lift(ban_id=ban.pk + 100, actor=moderator)


# --- blog policies --------------------------------------------------------------------------


def test_policy_updates_are_validated(blog, moderator, user):
    with pytest.raises(InvalidInput):
        services.blog_policy_update(blog=blog, actor=moderator, flag_threshold=0)
    with pytest.raises(InvalidInput):
        services.blog_policy_update(blog=blog, actor=moderator, mode="hold_some")
    with pytest.raises(InvalidInput):
        services.blog_policy_update(blog=blog, actor=moderator, colour="red")
    with pytest.raises(NotPermitted):
        services.blog_policy_update(blog=blog, actor=user, max_links=5)
    policy = services.blog_policy_update(blog=blog, actor=moderator, max_links=5)
    assert (policy.max_links, policy.flag_threshold) == (5, 3)
