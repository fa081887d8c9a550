"""The moderation API, used as moderators (and others) use it, over HTTP."""

import datetime
import threading
import time

import pytest
from django.db import connection, connections
from django.utils import timezone

from forum import services as forum_services
from forum.models import Comment, CommentStatus, Post, PostStatus
from moderation import comment_actions, services
from moderation.models import ModerationAction
from tests.factories import BlogFactory, PostFactory, UserFactory, make_comment
from tests.moderation.conftest import flag_down
from tests.openapi import SchemaCheckingAPIClient as APIClient
from tests.openapi import served_openapi

pytestmark = pytest.mark.django_db

QUEUE = "/api/moderation/queue/"
LOG = "/api/moderation/log/"


def comment_decision(client, comment_id, action, **data):
    return client.post(
        f"/api/moderation/comments/{comment_id}/decision/", {"action": action, **data}
    )


def post_decision(client, post_id, action, **data):
    return client.post(f"/api/moderation/posts/{post_id}/decision/", {"action": action, **data})


def held_at(post, minutes_ago, **kwargs):
    """A pending comment written ``minutes_ago``."""
    return make_comment(
        post,
        status=CommentStatus.PENDING,
        created_at=timezone.now() - datetime.timedelta(minutes=minutes_ago),
        **kwargs,
    )


def fresh_client(user) -> APIClient:
    """A client for ``user`` as a new request sees them (nothing cached on the object)."""
    client = APIClient()
    client.force_authenticate(type(user).objects.get(pk=user.pk))
    return client


def ids(response):
    return [(item["kind"], item["id"]) for item in response.json()["results"]]


# --- who may ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", QUEUE),
        ("get", LOG),
        ("post", "/api/moderation/comments/1/decision/"),
        ("post", "/api/moderation/posts/1/decision/"),
    ],
)
def test_only_moderators_may_use_the_moderation_api(api_client, user_client, method, path):
    body = {"action": "approve"}
    assert getattr(api_client, method)(path, body).status_code == 401
    assert getattr(user_client, method)(path, body).status_code == 403


def test_a_non_moderator_cannot_decide_even_on_an_existing_comment(user_client, post):
    comment = held_at(post, 1)
    response = comment_decision(user_client, comment.pk, "approve")
    assert response.status_code == 403
    comment.refresh_from_db()
    assert comment.status == CommentStatus.PENDING


# --- the queue ----------------------------------------------------------------------------


@pytest.mark.moderation_policy
def test_a_comment_held_by_the_policy_waits_in_the_queue_then_is_published(
    api_client, moderator_client, post
):
    posted = api_client.post(
        f"/api/posts/{post.pk}/comments/",
        {"body": "See https://a.example https://b.example https://c.example"},
        REMOTE_ADDR="192.0.2.5",
    ).json()
    assert posted["status"] == "pending"

    [item] = moderator_client.get(QUEUE).json()["results"]
    assert (item["kind"], item["id"], item["reasons"]) == (
        "comment",
        posted["id"],
        ["anonymous", "links"],
    )
    assert (item["display_name"], item["is_anonymous"], item["author_name"]) == (
        "Anonymous",
        True,
        None,
    )

    decided = comment_decision(moderator_client, posted["id"], "approve", reason="Fine links.")
    assert decided.status_code == 200
    assert decided.json()["status"] == "approved" and decided.json()["changed"] is True
    thread = api_client.get(f"/api/posts/{post.pk}/comments/").json()
    assert [c["id"] for c in thread["results"]] == [posted["id"]]
    assert moderator_client.get(QUEUE).json()["count"] == 0


def test_the_queue_lists_what_awaits_a_decision_oldest_first(moderator_client, post, blog):
    newest = held_at(post, 1)
    flagged = flag_down(make_comment(post, status=CommentStatus.APPROVED))
    Comment.objects.filter(pk=flagged.pk).update(
        created_at=timezone.now() - datetime.timedelta(minutes=30)
    )
    guest = forum_services.guest_post_submit(blog=blog, title="T", body="B", author_name="G")
    Post.objects.filter(pk=guest.pk).update(
        created_at=timezone.now() - datetime.timedelta(minutes=20)
    )
    oldest = held_at(post, 60)
    # Not waiting: published, rejected, withdrawn by its author, published posts.
    make_comment(post, status=CommentStatus.APPROVED)
    make_comment(post, status=CommentStatus.REJECTED)
    author = UserFactory()
    withdrawn = make_comment(post, author=author, status=CommentStatus.PENDING)
    forum_services.comment_remove_by_author(comment=withdrawn, user=author)

    response = moderator_client.get(QUEUE)
    assert response.status_code == 200
    assert ids(response) == [
        ("comment", oldest.pk),
        ("comment", flagged.pk),
        ("post", guest.pk),
        ("comment", newest.pk),
    ]


def test_a_queue_item_carries_what_a_moderator_needs(moderator_client, post):
    parent = make_comment(post, body="The parent says something.", status=CommentStatus.APPROVED)
    comment = make_comment(
        post, parent=parent, body="Rude reply.", author_name="Rex", status=CommentStatus.APPROVED
    )
    flag_down(comment)
    [item] = moderator_client.get(QUEUE).json()["results"]
    assert item == {
        "kind": "comment",
        "id": comment.pk,
        "reasons": ["flagged"],
        "blog": post.blog.slug,
        "post": {"id": post.pk, "title": post.title},
        "parent": parent.pk,
        "parent_excerpt": "The parent says something.",
        "author_name": "Rex",
        "display_name": "Rex",
        "is_anonymous": False,
        "has_account": False,
        "body": "Rude reply.",
        "body_excerpt": "Rude reply.",
        "flag_count": 3,
        "flag_reasons": ["abuse"],
        "created_at": item["created_at"],
        "age_seconds": item["age_seconds"],
        "pending_edit": None,
    }
    assert 0 <= item["age_seconds"] < 60


def test_a_guest_post_in_the_queue(api_client, moderator_client, blog):
    submitted = api_client.post(
        "/api/guest-posts/",
        {"blog": blog.slug, "title": "My story", "body": "It begins.", "author_name": "Gil"},
    )
    assert submitted.status_code == 201
    [item] = moderator_client.get(QUEUE).json()["results"]
    assert (item["kind"], item["id"], item["reasons"]) == (
        "post",
        submitted.json()["id"],
        ["guest_post"],
    )
    assert (item["post"]["title"], item["display_name"], item["parent"]) == (
        "My story",
        "Gil",
        None,
    )


def test_the_queue_filters_by_kind_reason_blog_and_post(moderator_client, post, blog):
    held = held_at(post, 5)
    flagged = flag_down(make_comment(post, status=CommentStatus.APPROVED))
    guest = forum_services.guest_post_submit(blog=blog, title="T", body="B", author_name="G")
    elsewhere = held_at(PostFactory(blog=BlogFactory(slug="elsewhere")), 3)

    def listed(**params):
        return {pk for _, pk in ids(moderator_client.get(QUEUE, params))}

    assert listed(kind="post") == {guest.pk}
    assert listed(kind="comment") == {held.pk, flagged.pk, elsewhere.pk}
    assert listed(reason="flagged") == {flagged.pk}
    assert listed(reason="pending") == {held.pk, guest.pk, elsewhere.pk}
    assert listed(blog="elsewhere") == {elsewhere.pk}
    assert listed(post=post.pk) == {held.pk, flagged.pk}
    assert listed(post=guest.pk, kind="post") == {guest.pk}
    assert listed(blog=blog.slug, kind="comment", reason="pending") == {held.pk}


@pytest.mark.parametrize("params", [{"kind": "blog"}, {"reason": "old"}, {"post": "x"}])
def test_bad_queue_filters_are_400(moderator_client, params):
    assert moderator_client.get(QUEUE, params).status_code == 400


def test_the_queue_is_paginated(moderator_client, post):
    made = [held_at(post, 10 - i) for i in range(5)]
    first = moderator_client.get(QUEUE, {"page_size": 2}).json()
    assert first["count"] == 5 and first["next"] and first["previous"] is None
    third = moderator_client.get(QUEUE, {"page_size": 2, "page": 3}).json()
    assert [item["id"] for item in third["results"]] == [made[4].pk]
    assert moderator_client.get(QUEUE, {"page_size": 2, "page": 4}).status_code == 404


@pytest.mark.parametrize("size", [1, 12])
def test_the_queue_costs_the_same_queries_whatever_its_size(
    moderator, post, blog, django_assert_num_queries, size
):
    parent = make_comment(post, status=CommentStatus.APPROVED)
    for i in range(size):
        held_at(post, i, parent=parent if i % 2 else None)
        flag_down(make_comment(post, status=CommentStatus.APPROVED))
        forum_services.guest_post_submit(blog=blog, title=f"G{i}", body="B", author_name="G")
    client = fresh_client(moderator)
    # The moderator check, the count, the page, its comments, their flags, their edits
    # awaiting review, its posts.
    with django_assert_num_queries(7):
        response = client.get(QUEUE, {"page_size": 200})
    assert response.json()["count"] == 3 * size


# --- comment decisions ------------------------------------------------------------------


def test_a_decision_answers_the_new_state_and_whether_it_changed(moderator_client, post):
    comment = held_at(post, 1)
    first = comment_decision(moderator_client, comment.pk, "reject", reason="Rude.")
    entry = ModerationAction.objects.get()
    assert first.status_code == 200
    assert first.json() == {
        "id": comment.pk,
        "post": post.pk,
        "parent": None,
        "status": "rejected",
        "removed": False,
        "removal_kind": None,
        "moderation_reasons": [],
        "pinned": False,
        "changed": True,
        "log_entry": entry.pk,
    }
    again = comment_decision(moderator_client, comment.pk, "reject")
    assert (again.status_code, again.json()["changed"], again.json()["log_entry"]) == (
        200,
        False,
        None,
    )
    assert ModerationAction.objects.count() == 1


def test_a_decision_that_does_not_apply_is_409_with_the_current_state(moderator_client, post):
    comment = make_comment(post, status=CommentStatus.APPROVED)
    response = comment_decision(moderator_client, comment.pk, "reject")
    assert response.status_code == 409
    assert response.json() == {
        "detail": "Cannot reject a comment that is approved.",
        "status": "approved",
        "removed": False,
    }
    comment_decision(moderator_client, comment.pk, "remove")
    response = comment_decision(moderator_client, comment.pk, "spam")
    assert (response.status_code, response.json()["removed"]) == (409, True)


def test_a_decision_on_a_state_that_no_longer_holds_is_409(moderator_client, moderator, post):
    comment = held_at(post, 1)
    services.comment_reject(comment_id=comment.pk, actor=moderator)
    response = comment_decision(moderator_client, comment.pk, "approve", expected_state="pending")
    assert response.status_code == 409
    assert response.json() == {
        "detail": "This comment is rejected now, not pending: another decision came first.",
        "status": "rejected",
        "removed": False,
    }
    # Without expected_state, rejected → approved is a decision of its own.
    assert comment_decision(moderator_client, comment.pk, "approve").json()["changed"] is True
    # Repeating what holds already is no conflict, whatever was expected.
    again = comment_decision(moderator_client, comment.pk, "approve", expected_state="pending")
    assert (again.status_code, again.json()["changed"]) == (200, False)
    bad = comment_decision(moderator_client, comment.pk, "approve", expected_state="held")
    assert bad.status_code == 400 and "expected_state" in bad.json()


def test_removal_over_the_api(moderator_client, post):
    comment = make_comment(post, status=CommentStatus.APPROVED)
    response = comment_decision(moderator_client, comment.pk, "remove", reason="Personal data.")
    assert response.json()["removed"] is True
    assert response.json()["removal_kind"] == "moderator"
    restored = comment_decision(moderator_client, comment.pk, "restore")
    assert (restored.json()["removed"], restored.json()["status"]) == (False, "approved")


@pytest.mark.parametrize("body", [{"action": "publish"}, {"action": "bless"}, {}])
def test_unknown_or_missing_actions_are_400(moderator_client, post, body):
    comment = held_at(post, 1)
    response = moderator_client.post(f"/api/moderation/comments/{comment.pk}/decision/", body)
    assert response.status_code == 400
    assert "action" in response.json()
    comment.refresh_from_db()
    assert comment.status == CommentStatus.PENDING


def test_deciding_on_a_missing_comment_is_404(moderator_client):
    assert comment_decision(moderator_client, 999999, "approve").status_code == 404


# --- post decisions ------------------------------------------------------------------------


def test_publishing_a_guest_post_over_the_api_numbers_it(moderator_client, blog, guest_post):
    PostFactory(blog=blog, is_guest=True, guest_number=101, title="Guest Blog 101")
    response = post_decision(moderator_client, guest_post.pk, "publish")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["guest_number"], body["changed"]) == ("published", 102, True)
    assert body["published_at"] is not None
    again = post_decision(moderator_client, guest_post.pk, "publish").json()
    assert (again["guest_number"], again["changed"]) == (102, False)
    # Now readers see it.
    assert moderator_client.get(f"/api/posts/{guest_post.pk}/").json()["guest_number"] == 102


def test_rejecting_a_guest_post_over_the_api(moderator_client, guest_post):
    response = post_decision(moderator_client, guest_post.pk, "reject", reason="Off topic.")
    assert (response.status_code, response.json()["status"]) == (200, "rejected")
    conflict = post_decision(moderator_client, guest_post.pk, "publish")
    assert conflict.status_code == 409
    assert conflict.json() == {
        "detail": "Cannot publish a post that is rejected.",
        "status": "rejected",
    }


def test_post_decisions_refuse_unknown_actions_and_missing_posts(moderator_client, guest_post):
    assert post_decision(moderator_client, guest_post.pk, "approve").status_code == 400
    assert post_decision(moderator_client, 999999, "publish").status_code == 404
    assert Post.objects.get(pk=guest_post.pk).status == PostStatus.PENDING


# --- the log ----------------------------------------------------------------------------------


def test_the_log_says_who_did_what_when_why_and_from_which_state(moderator_client, moderator, post):
    comment = held_at(post, 1)
    comment_decision(moderator_client, comment.pk, "approve", reason="Harmless.")
    comment_decision(moderator_client, comment.pk, "remove", reason="Second thoughts.")
    response = moderator_client.get(LOG)
    assert response.status_code == 200
    newest, oldest = response.json()["results"]
    assert oldest["actor"] == {
        "id": moderator.pk,
        "username": moderator.username,
        "display_name": moderator.display_name,
    }
    assert (oldest["action"], oldest["target_kind"], oldest["comment"], oldest["post"]) == (
        "approve",
        "comment",
        comment.pk,
        None,
    )
    assert (oldest["from_state"], oldest["to_state"], oldest["reason"]) == (
        "pending",
        "approved",
        "Harmless.",
    )
    assert (newest["action"], newest["from_state"], newest["to_state"]) == (
        "remove",
        "approved",
        "removed",
    )
    assert newest["created_at"] >= oldest["created_at"]


def test_the_log_filters_by_actor_and_target(moderator, second_moderator, post, guest_post):
    one, two = held_at(post, 2), held_at(post, 1)
    services.comment_approve(comment_id=one.pk, actor=moderator)
    services.comment_reject(comment_id=two.pk, actor=second_moderator)
    services.post_publish(post_id=guest_post.pk, actor=moderator)
    other_post_comment = held_at(PostFactory(blog=post.blog), 1)
    services.comment_spam(comment_id=other_post_comment.pk, actor=moderator)

    client = fresh_client(moderator)

    def logged(**params):
        return sorted(
            (e["action"], e["comment"] or e["post"])
            for e in client.get(LOG, params).json()["results"]
        )

    assert logged(actor=second_moderator.pk) == [("reject", two.pk)]
    assert logged(actor_username=second_moderator.username) == [("reject", two.pk)]
    assert logged(comment=one.pk) == [("approve", one.pk)]
    assert logged(kind="post") == [("publish", guest_post.pk)]
    assert logged(action="spam") == [("spam", other_post_comment.pk)]
    assert logged(post=post.pk) == [("approve", one.pk), ("reject", two.pk)]
    assert client.get(LOG, {"kind": "blog"}).status_code == 400


@pytest.mark.parametrize("size", [1, 15])
def test_the_log_costs_the_same_queries_whatever_its_size(
    moderator, second_moderator, post, django_assert_num_queries, size
):
    for i in range(size):
        actor = moderator if i % 2 else second_moderator
        services.comment_approve(comment_id=held_at(post, i).pk, actor=actor)
    client = fresh_client(moderator)
    # The moderator check, the count, the page with its actors.
    with django_assert_num_queries(3):
        response = client.get(LOG)
    assert response.json()["count"] == size


# --- two moderators at once ----------------------------------------------------------------


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks")
@pytest.mark.django_db(transaction=True)
def test_two_moderators_deciding_at_once_one_wins_the_other_gets_409(
    post, moderator, second_moderator, monkeypatch
):
    comment = make_comment(post, status=CommentStatus.PENDING)
    # Hold each decision inside its transaction a while, so that without the row lock
    # both would read "pending" and both would win. Both moderators saw it pending in
    # the queue (expected_state); whichever comes second learns it was decided.
    apply = comment_actions.comment_set_state

    def slow_apply(**kwargs):
        time.sleep(0.3)
        return apply(**kwargs)

    monkeypatch.setattr(comment_actions, "comment_set_state", slow_apply)
    served_openapi()  # build the schema the client checks answers against, once, up front
    barrier = threading.Barrier(2)
    answers: dict[str, int] = {}

    def decide(actor, action):
        try:
            client = APIClient()
            client.force_authenticate(actor)
            barrier.wait(timeout=10)
            response = comment_decision(client, comment.pk, action, expected_state="pending")
            answers[action] = response.status_code
        finally:
            connections.close_all()  # this thread's own connection

    threads = [
        threading.Thread(target=decide, args=(moderator, "approve")),
        threading.Thread(target=decide, args=(second_moderator, "reject")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(answers.values()) == [200, 409]
    winner = next(action for action, code in answers.items() if code == 200)
    comment.refresh_from_db()
    assert comment.status == {"approve": "approved", "reject": "rejected"}[winner]
    [entry] = ModerationAction.objects.all()
    assert entry.action == winner


def test_the_queue_of_a_kind_that_never_waits_is_empty(moderator_client, post):
    held_at(post, 1)
    for kind in ("ban", "policy"):
        response = moderator_client.get(QUEUE, {"kind": kind})
        assert response.status_code == 200
        assert response.json()["results"] == []


# --- pins ------------------------------------------------------------------------------------


def test_pin_and_unpin_are_audited_and_idempotent(moderator_client, moderator, post):
    comment = make_comment(post, body="Worth reading first.")
    pinned = comment_decision(moderator_client, comment.pk, "pin", reason="Best answer.")
    assert pinned.status_code == 200
    assert (pinned.json()["pinned"], pinned.json()["changed"]) == (True, True)
    entry = ModerationAction.objects.get()
    assert (entry.action, entry.from_state, entry.to_state, entry.reason, entry.actor) == (
        "pin",
        "unpinned",
        "pinned",
        "Best answer.",
        moderator,
    )
    again = comment_decision(moderator_client, comment.pk, "pin")
    assert (again.json()["changed"], again.json()["log_entry"]) == (False, None)
    unpinned = comment_decision(moderator_client, comment.pk, "unpin")
    assert (unpinned.json()["pinned"], unpinned.json()["changed"]) == (False, True)
    assert comment_decision(moderator_client, comment.pk, "unpin").json()["changed"] is False
    actions = ModerationAction.objects.order_by("pk").values_list("action", flat=True)
    assert list(actions) == ["pin", "unpin"]
    events = list(
        forum_services.events.Event.objects.filter(comment_id=comment.pk)
        .order_by("pk")
        .values_list("kind", flat=True)
    )
    assert events[-2:] == ["comment.pinned", "comment.unpinned"]
    assert Post.objects.get(pk=post.pk).pinned_count == 0


def test_at_most_three_pins_per_post(moderator_client, post):
    comments = [make_comment(post, body=f"c{i}") for i in range(4)]
    for comment in comments[:3]:
        assert comment_decision(moderator_client, comment.pk, "pin").status_code == 200
    fourth = comment_decision(moderator_client, comments[3].pk, "pin")
    assert fourth.status_code == 409
    assert "3 pinned" in fourth.json()["detail"]
    assert Comment.objects.filter(post=post, pinned_at__isnull=False).count() == 3
    comment_decision(moderator_client, comments[0].pk, "unpin")
    assert comment_decision(moderator_client, comments[3].pk, "pin").status_code == 200


def test_only_published_top_level_comments_are_pinned(moderator_client, post):
    top = make_comment(post, body="top")
    reply = make_comment(post, body="reply", parent=top)
    held = make_comment(post, body="held", status=CommentStatus.PENDING)
    assert comment_decision(moderator_client, reply.pk, "pin").status_code == 409
    assert comment_decision(moderator_client, held.pk, "pin").status_code == 409
    assert not ModerationAction.objects.exists()


def test_pinning_is_for_moderators(user_client, api_client, post):
    comment = make_comment(post, body="top")
    assert comment_decision(user_client, comment.pk, "pin").status_code == 403
    assert comment_decision(api_client, comment.pk, "pin").status_code in (401, 403)
    comment.refresh_from_db()
    assert comment.pinned_at is None


def test_the_database_caps_pins_at_three(post):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Post.objects.filter(pk=post.pk).update(pinned_count=4)
    reply_parent = make_comment(post, body="top")
    reply = make_comment(post, body="reply", parent=reply_parent)
    with pytest.raises(IntegrityError), transaction.atomic():
        Comment.objects.filter(pk=reply.pk).update(pinned_at=timezone.now())


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks")
@pytest.mark.django_db(transaction=True)
def test_pins_at_once_never_exceed_three(post, moderator, second_moderator):
    comments = [make_comment(post, body=f"c{i}") for i in range(6)]
    served_openapi()
    barrier = threading.Barrier(6)
    answers: list[int] = []

    def decide(actor, comment):
        try:
            client = APIClient()
            client.force_authenticate(actor)
            barrier.wait(timeout=10)
            answers.append(comment_decision(client, comment.pk, "pin").status_code)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=decide, args=(moderator if i % 2 else second_moderator, c))
        for i, c in enumerate(comments)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(answers) == [200, 200, 200, 409, 409, 409]
    assert Comment.objects.filter(post=post, pinned_at__isnull=False).count() == 3
    assert Post.objects.get(pk=post.pk).pinned_count == 3
