"""Bans over the API (/api/moderation/bans/), over HTTP, every answer checked
against the served OpenAPI document."""

import datetime

import pytest
from django.utils import timezone

from forum.identity import ip_hash
from moderation.models import ActionKind, Ban, ModerationAction
from tests.factories import BlogFactory, UserFactory, make_comment

pytestmark = pytest.mark.django_db

BANS = "/api/moderation/bans/"


def lift_url(ban_id: int) -> str:
    return f"{BANS}{ban_id}/lift/"


@pytest.mark.parametrize(
    ("method", "path"), [("get", BANS), ("post", BANS), ("post", "/api/moderation/bans/1/lift/")]
)
def test_only_moderators_may_use_the_bans_api(api_client, user_client, method, path):
    assert getattr(api_client, method)(path, {}, format="json").status_code == 401
    assert getattr(user_client, method)(path, {}, format="json").status_code == 403


def test_a_moderator_bans_an_account_until_a_date_with_a_reason_and_it_is_logged(
    moderator_client, moderator, blog
):
    troll = UserFactory(username="troll")
    until = timezone.now() + datetime.timedelta(days=7)
    response = moderator_client.post(
        BANS,
        {"blog": blog.slug, "account": "troll", "expires_at": until.isoformat(), "reason": "Abuse"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["subject"] == "account"
    assert (body["account"], body["network"], body["blog"]) == ("troll", None, blog.slug)
    assert (body["reason"], body["created_by"], body["active"], body["changed"]) == (
        "Abuse",
        "mod",
        True,
        True,
    )
    ban = Ban.objects.get()
    assert (ban.user, ban.expires_at) == (troll, until)
    entry = ModerationAction.objects.get()
    assert (entry.action, entry.ban, entry.blog, entry.actor, entry.reason) == (
        ActionKind.BAN,
        ban,
        blog,
        moderator,
        "Abuse",
    )
    assert (entry.from_state, entry.to_state) == ("none", "banned")

    again = moderator_client.post(
        BANS,
        {"blog": blog.slug, "account": "troll", "expires_at": until.isoformat(), "reason": "Abuse"},
        format="json",
    )
    assert again.status_code == 200
    assert again.json()["changed"] is False
    assert ModerationAction.objects.count() == 1

    other_end = moderator_client.post(BANS, {"blog": blog.slug, "account": "troll"}, format="json")
    assert other_end.status_code == 409
    assert other_end.json()["ban"] == ban.pk


def test_a_comment_names_the_network_to_ban_and_no_address_is_ever_shown(moderator_client, post):
    comment = make_comment(post, body="From somewhere.", ip_hash=ip_hash("203.0.113.9"))
    response = moderator_client.post(BANS, {"comment": comment.pk}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["subject"] == "network"
    assert body["account"] is None
    assert body["network"] == comment.ip_hash[:12]
    assert "203.0.113.9" not in response.content.decode()
    assert comment.ip_hash not in response.content.decode()  # only its start
    assert Ban.objects.get().ip_hash == comment.ip_hash


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"account": "troll"}, "blog"),
        ({"blog": "probation"}, "non_field_errors"),
        ({"blog": "probation", "account": "troll", "comment": 1}, "non_field_errors"),
        ({"blog": "probation", "account": "nobody"}, "account"),
        ({"blog": "nowhere", "account": "troll"}, "blog"),
        ({"comment": 999999}, "comment"),
        (
            {"blog": "probation", "account": "troll", "expires_at": "2001-01-01T00:00:00Z"},
            "expires_at",
        ),
        ({"blog": "probation", "account": "troll", "reason": "x" * 2001}, "reason"),
    ],
)
def test_a_ban_that_cannot_be_made_is_a_400_and_changes_nothing(
    moderator_client, blog, payload, field
):
    UserFactory(username="troll")
    response = moderator_client.post(BANS, payload, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert not Ban.objects.exists()
    assert not ModerationAction.objects.exists()


def test_moderators_cannot_be_banned(moderator_client, moderator, blog):
    response = moderator_client.post(
        BANS, {"blog": blog.slug, "account": moderator.username}, format="json"
    )
    assert response.status_code == 400
    assert not Ban.objects.exists()


def test_a_comment_without_a_network_cannot_ban_one(moderator_client, post):
    comment = make_comment(post, body="No address known.")
    response = moderator_client.post(BANS, {"comment": comment.pk}, format="json")
    assert response.status_code == 400
    assert "comment" in response.json()


def test_lifting_a_ban_ends_it_is_logged_and_a_repeat_changes_nothing(
    moderator_client, moderator, blog
):
    UserFactory(username="troll")
    made = moderator_client.post(BANS, {"blog": blog.slug, "account": "troll"}, format="json")
    ban_id = made.json()["id"]
    response = moderator_client.post(lift_url(ban_id), {"reason": "Apologised"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert (body["active"], body["changed"], body["lifted_by"], body["lift_reason"]) == (
        False,
        True,
        "mod",
        "Apologised",
    )
    entry = ModerationAction.objects.filter(action=ActionKind.LIFT).get()
    assert (entry.ban_id, entry.reason, entry.from_state, entry.to_state) == (
        ban_id,
        "Apologised",
        "banned",
        "lifted",
    )
    again = moderator_client.post(lift_url(ban_id), {}, format="json")
    assert (again.status_code, again.json()["changed"]) == (200, False)
    assert ModerationAction.objects.filter(action=ActionKind.LIFT).count() == 1
    assert moderator_client.post(lift_url(ban_id + 1000), {}, format="json").status_code == 404
    assert moderator_client.post(lift_url(2**63), {}, format="json").status_code == 404


def test_the_ban_list_filters_by_blog_account_and_being_in_force(moderator_client, blog):
    other_blog = BlogFactory(slug="other")
    for name in ("ann", "bob"):
        UserFactory(username=name)
    moderator_client.post(BANS, {"blog": blog.slug, "account": "ann"}, format="json")
    bob = moderator_client.post(BANS, {"blog": other_blog.slug, "account": "bob"}, format="json")
    moderator_client.post(lift_url(bob.json()["id"]), {}, format="json")

    def accounts(query: str) -> list[str]:
        response = moderator_client.get(f"{BANS}?{query}")
        assert response.status_code == 200
        return [ban["account"] for ban in response.json()["results"]]

    assert accounts("") == ["bob", "ann"]  # newest first
    assert accounts("blog=other") == ["bob"]
    assert accounts("account=ann") == ["ann"]
    assert accounts("active=true") == ["ann"]
    assert accounts("active=false") == ["bob"]


def test_the_ban_list_costs_the_same_queries_whatever_its_length(
    moderator_client, moderator, blog, django_assert_num_queries
):
    from moderation import services

    def ban_some(n: int) -> None:
        for _ in range(n):
            services.ban_create(blog=blog, actor=moderator, user=UserFactory())

    ban_some(2)
    # session auth off (token-like force_authenticate): the count, the page.
    with django_assert_num_queries(2):
        assert moderator_client.get(BANS).status_code == 200
    ban_some(20)
    with django_assert_num_queries(2):
        assert len(moderator_client.get(BANS).json()["results"]) == 22


def test_the_log_api_lists_bans_lifts_and_undos(moderator_client, moderator, post):
    from moderation import casework, services

    comment = make_comment(post, body="Undo me.", ip_hash=ip_hash("192.0.2.3"))
    spam = services.comment_spam(comment_id=comment.pk, actor=moderator).action
    casework.action_undo(action_id=spam.pk, actor=moderator)
    made = moderator_client.post(BANS, {"comment": comment.pk, "reason": "Spam"}, format="json")
    moderator_client.post(lift_url(made.json()["id"]), {}, format="json")
    response = moderator_client.get("/api/moderation/log/")
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [(r["action"], r["target_kind"]) for r in rows] == [
        ("lift", "ban"),
        ("ban", "ban"),
        ("approve", "comment"),
        ("spam", "comment"),
    ]
    assert rows[0]["ban"] == rows[1]["ban"] == made.json()["id"]
    assert rows[1]["blog"] == post.blog_id
    assert rows[2]["undoes"] == spam.pk
    assert rows[3]["details"] == {"reasons": []}
    kinds = moderator_client.get("/api/moderation/log/?kind=ban").json()["results"]
    assert [r["action"] for r in kinds] == ["lift", "ban"]
