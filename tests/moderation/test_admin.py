"""The moderators' desk in the Django admin, used by a moderator (staff, in the
Moderators group, not a superuser) through the test client."""

import datetime

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from forum.errors import NotPermitted
from forum.identity import ip_hash
from forum.models import Comment, CommentStatus, Post, PostStatus
from moderation import services
from moderation.models import Ban, BlogPolicy, ModerationAction
from moderation.services import blog_policy_get_or_create
from tests.factories import PostFactory, UserFactory, make_comment
from tests.moderation.conftest import flag_down

pytestmark = pytest.mark.django_db

HELD = "/admin/moderation/heldcomment/"
GUEST_POSTS = "/admin/moderation/pendingguestpost/"
LOG = "/admin/moderation/moderationaction/"
BANS = "/admin/moderation/ban/"
POLICIES = "/admin/moderation/blogpolicy/"


def held_at(post, minutes_ago, **kwargs):
    return make_comment(
        post,
        status=CommentStatus.PENDING,
        created_at=timezone.now() - datetime.timedelta(minutes=minutes_ago),
        **kwargs,
    )


def run_action(client, page, action, objects):
    return client.post(
        page, {"action": action, "_selected_action": [o.pk for o in objects]}, follow=True
    )


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- held comments ------------------------------------------------------------------------


def test_the_queue_page_lists_only_what_awaits_a_decision_oldest_first(desk_client, post):
    newer, older = held_at(post, 1), held_at(post, 10)
    flagged = flag_down(make_comment(post, status=CommentStatus.APPROVED))
    make_comment(post, status=CommentStatus.APPROVED)
    make_comment(post, status=CommentStatus.REJECTED)
    response = desk_client.get(HELD)
    assert response.status_code == 200
    listed = [c.pk for c in response.context["cl"].result_list]
    assert listed == [older.pk, newer.pk, flagged.pk]


def test_the_queue_page_shows_post_parent_author_reasons_and_flags(desk_client, post):
    parent = make_comment(post, body="What the parent said.", status=CommentStatus.APPROVED)
    child = make_comment(
        post, parent=parent, body="Nasty reply.", author_name="Nat", status=CommentStatus.APPROVED
    )
    flag_down(child)
    page = desk_client.get(HELD).content.decode()
    for shown in (post.title, "What the parent said.", "Nasty reply.", "Nat", "flagged"):
        assert shown in page
    assert '<td class="field-flag_count">3</td>' in page


def test_bulk_approve_approves_through_the_service_and_logs_each(desk_client, desk_moderator, post):
    comments = [held_at(post, 3), held_at(post, 2)]
    response = run_action(desk_client, HELD, "comment_approve", comments)
    assert response.status_code == 200
    assert messages_of(response) == ["2 held comments approved."]
    assert {c.status for c in Comment.objects.filter(pk__in=[c.pk for c in comments])} == {
        CommentStatus.APPROVED
    }
    entries = ModerationAction.objects.filter(actor=desk_moderator, action="approve")
    assert sorted(e.comment_id for e in entries) == sorted(c.pk for c in comments)
    post.refresh_from_db()
    assert post.comment_count == 2


def test_bulk_actions_report_what_they_refused(desk_client, post):
    policy_held = held_at(post, 2)
    flagged = flag_down(make_comment(post, status=CommentStatus.APPROVED))
    response = run_action(desk_client, HELD, "comment_remove", [policy_held, flagged])
    assert messages_of(response) == [
        "1 held comment removed.",
        f"1 refused: Anonymous comment on “{post.title}”: Cannot remove a comment that is pending.",
    ]
    flagged.refresh_from_db()
    policy_held.refresh_from_db()
    assert flagged.is_removed and not policy_held.is_removed
    assert ModerationAction.objects.count() == 1


def test_a_bulk_action_never_overturns_a_decision_taken_meanwhile(
    desk_client, desk_moderator, second_moderator, post
):
    decided, waiting = held_at(post, 2), held_at(post, 1)
    # The page was loaded with both; another moderator rejects one before the action.
    services.comment_reject(comment_id=decided.pk, actor=second_moderator)
    response = run_action(desk_client, HELD, "comment_approve", [decided, waiting])
    assert messages_of(response) == [
        "1 held comment approved.",
        "1 skipped: no longer awaiting a decision.",
    ]
    decided.refresh_from_db()
    assert decided.status == CommentStatus.REJECTED


@pytest.mark.parametrize(
    ("action", "status"), [("comment_reject", "rejected"), ("comment_spam", "spam")]
)
def test_bulk_reject_and_spam(desk_client, post, action, status):
    comment = held_at(post, 1)
    run_action(desk_client, HELD, action, [comment])
    comment.refresh_from_db()
    assert comment.status == status
    assert ModerationAction.objects.get().to_state == status


def test_user_text_is_escaped_on_the_queue_page(desk_client, post):
    held_at(post, 1, body='<script>alert("x")</script><b>bold</b>', author_name="<i>Eve</i>")
    page = desk_client.get(HELD).content.decode()
    assert "<script>alert" not in page and "<b>bold</b>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;" in page
    assert "&lt;i&gt;Eve&lt;/i&gt;" in page and "<i>Eve</i>" not in page


def test_the_queue_page_offers_to_ban_the_poster(desk_client, post):
    comment = held_at(post, 1, ip_hash=ip_hash("192.0.2.50"))
    page = desk_client.get(HELD).content.decode()
    link = f"/admin/moderation/ban/add/?blog={post.blog_id}&amp;ip_hash={comment.ip_hash}"
    assert link in page
    form = desk_client.get(link.replace("&amp;", "&"))
    assert form.status_code == 200
    assert form.context["adminform"].form.initial["ip_hash"] == comment.ip_hash


def _queries_for_a_page(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(HELD).status_code == 200
    return len(queries)


def test_the_queue_page_costs_the_same_queries_whatever_its_length(desk_client, post):
    parent = make_comment(post, status=CommentStatus.APPROVED)
    held_at(post, 1)
    few = _queries_for_a_page(desk_client)
    for i in range(20):
        held_at(post, i + 2, parent=parent if i % 2 else None)
        flag_down(make_comment(post, status=CommentStatus.APPROVED))
    assert _queries_for_a_page(desk_client) == few


def test_a_moderator_cannot_edit_add_or_delete_held_comments(desk_client, post):
    comment = held_at(post, 1)
    assert desk_client.get(f"{HELD}{comment.pk}/change/").status_code == 200  # read-only view
    assert desk_client.post(f"{HELD}{comment.pk}/change/", {"body": "x"}).status_code == 403
    assert desk_client.get(f"{HELD}add/").status_code == 403
    assert desk_client.get(f"{HELD}{comment.pk}/delete/").status_code == 403


def test_staff_who_are_not_moderators_cannot_act(post):
    staff = UserFactory(is_staff=True, is_superuser=False)
    client = Client()
    client.force_login(staff)
    assert client.get(HELD).status_code == 403
    comment = held_at(post, 1)
    run_action(client, HELD, "comment_approve", [comment])
    comment.refresh_from_db()
    assert comment.status == CommentStatus.PENDING


# --- guest posts ---------------------------------------------------------------------------


def test_publishing_from_the_guest_post_page_numbers_the_post(desk_client, blog, guest_post):
    PostFactory(blog=blog, is_guest=True, guest_number=101)
    response = desk_client.get(GUEST_POSTS)
    assert [p.pk for p in response.context["cl"].result_list] == [guest_post.pk]
    response = run_action(desk_client, GUEST_POSTS, "post_publish", [guest_post])
    assert messages_of(response) == ["1 pending guest post published."]
    post = Post.objects.get(pk=guest_post.pk)
    assert (post.status, post.guest_number) == (PostStatus.PUBLISHED, 102)
    assert ModerationAction.objects.get().action == "publish"
    assert desk_client.get(GUEST_POSTS).context["cl"].result_count == 0


def test_rejecting_from_the_guest_post_page(desk_client, guest_post):
    run_action(desk_client, GUEST_POSTS, "post_reject", [guest_post])
    assert Post.objects.get(pk=guest_post.pk).status == PostStatus.REJECTED


# --- the log ----------------------------------------------------------------------------------


@pytest.fixture
def logged_action(post, moderator):
    comment = held_at(post, 1)
    return services.comment_approve(comment_id=comment.pk, actor=moderator).action


@pytest.mark.parametrize("who", ["moderator", "superuser"])
def test_the_log_is_read_only_for_everybody(desk_client, logged_action, admin_client, who):
    client = desk_client if who == "moderator" else admin_client
    response = client.get(LOG)
    assert response.status_code == 200
    assert response.context["cl"].result_count == 1
    assert "delete_selected" not in response.content.decode()
    assert client.get(f"{LOG}add/").status_code == 403
    assert client.get(f"{LOG}{logged_action.pk}/change/").status_code == 200
    assert client.post(f"{LOG}{logged_action.pk}/change/", {"reason": "x"}).status_code == 403
    assert client.post(f"{LOG}{logged_action.pk}/delete/", {"post": "yes"}).status_code == 403
    assert ModerationAction.objects.filter(pk=logged_action.pk, reason="").exists()


# --- bans -------------------------------------------------------------------------------------


@pytest.mark.moderation_policy
def test_a_ban_added_in_the_admin_is_made_by_the_service_and_holds(
    desk_client, desk_moderator, post
):
    response = desk_client.post(
        f"{BANS}add/",
        {"blog": post.blog_id, "ip_hash": ip_hash("192.0.2.60"), "reason": "Spam run."},
        follow=True,
    )
    assert response.status_code == 200
    ban = Ban.objects.get()
    assert (ban.created_by, ban.reason, ban.expires_at) == (desk_moderator, "Spam run.", None)
    with pytest.raises(NotPermitted):
        make_comment(post, ip_hash=ip_hash("192.0.2.60"))

    run_action(desk_client, BANS, "lift", [ban])
    ban.refresh_from_db()
    assert (ban.lifted_by, ban.is_active()) == (desk_moderator, False)


@pytest.mark.parametrize(
    "data",
    [{}, {"ip_hash": "abc", "user": "user"}, {"ip_hash": "abc", "expires_at_0": "2000-01-01"}],
)
def test_the_ban_form_refuses_impossible_bans(desk_client, post, user, data):
    data = {**data, "blog": post.blog_id}
    if data.get("user") == "user":
        data["user"] = user.pk
    if "expires_at_0" in data:
        data["expires_at_1"] = "12:00"
    response = desk_client.post(f"{BANS}add/", data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert not Ban.objects.exists()


def test_the_ban_form_refuses_a_second_ban_in_force(desk_client, post):
    desk_client.post(f"{BANS}add/", {"blog": post.blog_id, "ip_hash": "abc"})
    response = desk_client.post(f"{BANS}add/", {"blog": post.blog_id, "ip_hash": "abc"})
    assert "Already banned from this blog" in str(response.context["adminform"].form.errors)
    assert Ban.objects.count() == 1


# --- blog policies ---------------------------------------------------------------------------


def test_a_moderator_changes_a_blogs_policy_in_the_admin(desk_client, blog):
    policy = blog_policy_get_or_create(blog_id=blog.pk)
    response = desk_client.post(
        f"{POLICIES}{policy.pk}/change/",
        {
            "mode": "hold_all",
            "trust_after": 5,
            "max_links": 1,
            "blocked_words": "pills",
            "watched_words": "",
            "close_after_days": "",
            "flag_threshold": 2,
            "flag_account_min_age_days": 7,
            "flag_trusted_weight": 1,
        },
    )
    assert response.status_code == 302
    policy = BlogPolicy.objects.get(blog=blog)
    assert (policy.mode, policy.trust_after, policy.max_links, policy.flag_threshold) == (
        "hold_all",
        5,
        1,
        2,
    )
