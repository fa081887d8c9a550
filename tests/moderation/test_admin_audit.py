"""The log is complete and the admin says names: bans, lifts, policy changes and
every admin decision are in the moderation log with actor, reason and before/after,
Django's "Recent actions" agrees, and the log's own page can undo."""

import pytest
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.messages import get_messages

from forum.identity import ip_hash
from forum.models import Comment, CommentStatus, PostStatus
from moderation import services
from moderation.models import ActionKind, Ban, ModerationAction
from moderation.services import blog_policy_get_or_create
from tests.factories import PostFactory, UserFactory, make_comment

pytestmark = pytest.mark.django_db

BANS = "/admin/moderation/ban/"
LOG = "/admin/moderation/moderationaction/"
HELD = "/admin/moderation/heldcomment/"


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_the_ban_confirmation_names_the_subject_and_the_blog(desk_client, desk_moderator, post):
    troll = UserFactory(username="troll")
    response = desk_client.post(
        f"{BANS}add/", {"blog": post.blog_id, "user": troll.pk, "reason": "Abuse"}, follow=True
    )
    (said,) = messages_of(response)
    assert "Ban of account troll from Probation Blog" in said
    assert " on 1" not in said
    ban = Ban.objects.get()
    made = ModerationAction.objects.get()
    assert (made.action, made.ban, made.actor, made.reason) == ("ban", ban, desk_moderator, "Abuse")
    recent = LogEntry.objects.get()
    assert (recent.action_flag, recent.object_repr) == (
        ADDITION,
        "Ban of account troll from Probation Blog",
    )

    response = desk_client.post(BANS, {"action": "lift", "_selected_action": [ban.pk]}, follow=True)
    lifted = ModerationAction.objects.get(action=ActionKind.LIFT)
    assert (lifted.actor, lifted.from_state, lifted.to_state) == (
        desk_moderator,
        "banned",
        "lifted",
    )
    entry = LogEntry.objects.order_by("-id").first()
    assert entry.object_repr == "Account troll on Probation Blog"
    assert entry.get_change_message() == "Lifted the ban of account troll on Probation Blog"


def test_a_policy_change_is_logged_with_the_settings_before_and_after(
    desk_client, desk_moderator, blog
):
    policy = blog_policy_get_or_create(blog_id=blog.pk)
    desk_client.post(
        f"/admin/moderation/blogpolicy/{policy.pk}/change/",
        {
            "mode": "hold_all",
            "trust_after": policy.trust_after,
            "max_links": 1,
            "blocked_words": "",
            "watched_words": "",
            "close_after_days": "",
            "flag_threshold": policy.flag_threshold,
            "flag_account_min_age_days": policy.flag_account_min_age_days,
            "flag_trusted_weight": policy.flag_trusted_weight,
        },
    )
    entry = ModerationAction.objects.get()
    assert (entry.action, entry.target_kind, entry.blog, entry.actor) == (
        "policy",
        "policy",
        blog,
        desk_moderator,
    )
    assert entry.details == {
        "before": {"mode": "hold_untrusted", "max_links": 2},
        "after": {"mode": "hold_all", "max_links": 1},
    }
    # Saving again unchanged writes nothing.
    services.blog_policy_update(blog=blog, actor=desk_moderator, mode="hold_all")
    assert ModerationAction.objects.count() == 1
    page = desk_client.get(LOG).content.decode()
    assert "the policy of Probation Blog" in page
    assert "max_links: 2 → 1" in page


def test_admin_decisions_reach_recent_actions_in_words(desk_client, post):
    comment = make_comment(post, body="Held.", author_name="Nat", status=CommentStatus.PENDING)
    desk_client.post(HELD, {"action": "comment_approve", "_selected_action": [comment.pk]})
    entry = LogEntry.objects.get()
    assert entry.object_repr == f"Nat's comment on “{post.title}”"
    assert entry.get_change_message() == f"Approved Nat's comment on “{post.title}”"
    index = desk_client.get("/admin/").content.decode()
    assert f"Nat&#x27;s comment on “{post.title}”" in index  # the Recent actions box


def test_the_log_page_undoes_decisions_with_the_inverse_verb(desk_client, desk_moderator, post):
    comment = make_comment(post, body="Spam?", ip_hash=ip_hash("192.0.2.9"))
    spam = services.comment_spam(comment_id=comment.pk, actor=desk_moderator).action
    response = desk_client.post(LOG, {"action": "undo", "_selected_action": [spam.pk]}, follow=True)
    assert messages_of(response)[0] == "1 moderation action undone."
    comment.refresh_from_db()
    assert comment.status == CommentStatus.APPROVED
    undo = ModerationAction.objects.get(undoes=spam)
    assert (undo.action, undo.actor) == ("approve", desk_moderator)
    again = desk_client.post(LOG, {"action": "undo", "_selected_action": [spam.pk]}, follow=True)
    assert messages_of(again)[-1] == "1 skipped: already undone."


def test_publishing_a_post_from_its_form_without_a_date_publishes_it_now(desk_client, blog):
    post = PostFactory(blog=blog, status=PostStatus.DRAFT, published_at=None)
    response = desk_client.post(
        f"/admin/forum/post/{post.pk}/change/",
        {
            "blog": blog.pk,
            "title": post.title,
            "slug": post.slug,
            "body": post.body,
            "status": "published",
            "published_at_0": "",
            "published_at_1": "",
            "author": "",
            "author_name": "",
            "guest_number": "",
            "submitter_email": "",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    post.refresh_from_db()
    assert post.status == PostStatus.PUBLISHED
    assert post.published_at is not None
    assert Comment.objects.count() == 0


@pytest.mark.moderation_policy
def test_the_held_comment_page_says_its_reasons_in_words_and_links_the_thread(desk_client, post):
    comment = make_comment(
        post, body="See http://a.example http://b.example http://c.example", ip_hash="h1"
    )
    assert comment.moderation_reasons == ["anonymous", "links"]
    page = desk_client.get(f"{HELD}{comment.pk}/change/").content.decode()
    assert "posted anonymously, 3 links" in page
    assert "[&quot;anonymous&quot;" not in page and '["anonymous"' not in page
    assert f"/admin/moderation/desk/thread/{post.pk}/#c{comment.pk}" in page
