"""Votes (forum.votes through POST /api/comments/{id}/vote/ and
GET /api/posts/{id}/my-votes/): one per reader, counters on the row, never on one's
own comment, the blog's down-vote switch, their own rate limit, no moderation."""

import pytest
from django.db import IntegrityError, transaction

from forum.models import Comment, CommentStatus, Vote
from moderation.models import BlogPolicy
from tests.factories import UserFactory, make_comment
from tests.openapi import SchemaCheckingAPIClient as APIClient

pytestmark = pytest.mark.django_db


def vote(client, comment, value, **extra):
    return client.post(
        f"/api/comments/{comment.pk}/vote/", {"value": value}, format="json", **extra
    )


def counters(comment):
    comment.refresh_from_db()
    return comment.score, comment.votes_up, comment.votes_down


@pytest.fixture
def comment(post):
    return make_comment(post, body="Vote on me.", ip_hash="someone-else")


def test_up_down_and_back_keep_the_counters_on_the_row(user_client, comment):
    up = vote(user_client, comment, 1)
    assert up.status_code == 200
    assert up.json() == {
        "comment": comment.pk,
        "score": 1,
        "votes_up": 1,
        "votes_down": 0,
        "my_vote": 1,
    }
    assert counters(comment) == (1, 1, 0)
    down = vote(user_client, comment, -1)
    assert down.json()["my_vote"] == -1
    assert counters(comment) == (-1, 0, 1)
    again = vote(user_client, comment, -1)
    assert again.status_code == 200 and counters(comment) == (-1, 0, 1)
    back = vote(user_client, comment, 0)
    assert back.json()["my_vote"] == 0
    assert counters(comment) == (0, 0, 0)
    assert not Vote.objects.exists()


def test_one_vote_per_account_and_per_anonymous_network(post, comment):
    clients = []
    for _ in range(3):
        client = APIClient()
        client.force_authenticate(UserFactory())
        clients.append(client)
    for client in clients:
        assert vote(client, comment, 1).status_code == 200
    anonymous = APIClient()
    assert vote(anonymous, comment, -1, REMOTE_ADDR="203.0.113.9").json()["my_vote"] == -1
    # The same network again is the same reader: a change, not a second vote.
    assert vote(APIClient(), comment, 1, REMOTE_ADDR="203.0.113.9").json()["score"] == 4
    assert counters(comment) == (4, 4, 0)
    assert Vote.objects.count() == 4


def test_the_thread_shows_the_counters(api_client, user_client, comment):
    vote(user_client, comment, 1)
    node = api_client.get(f"/api/posts/{comment.post_id}/comments/").json()["results"][0]
    assert (node["score"], node["votes_up"], node["votes_down"]) == (1, 1, 0)
    flat = api_client.get(f"/api/comments/{comment.pk}/").json()
    assert (flat["score"], flat["votes_up"]) == (1, 1)


def test_never_on_ones_own_comment(post, user, user_client):
    mine = make_comment(post, body="Mine.", author=user)
    refused = vote(user_client, mine, 1)
    assert refused.status_code == 403
    anonymous = APIClient()
    created = anonymous.post(
        f"/api/posts/{post.pk}/comments/",
        {"body": "Anon."},
        format="json",
        REMOTE_ADDR="198.51.100.7",
    ).json()
    own = Comment.objects.get(pk=created["id"])
    assert vote(anonymous, own, 1, REMOTE_ADDR="198.51.100.7").status_code == 403
    assert vote(anonymous, own, 1, REMOTE_ADDR="198.51.100.8").status_code == 200
    assert counters(mine) == (0, 0, 0)


@pytest.mark.parametrize("value", [2, -2, "1", True, None, 1.0])
def test_a_vote_is_1_minus_1_or_0(user_client, comment, value):
    response = vote(user_client, comment, value)
    assert response.status_code == 400
    assert "value" in response.json()
    assert counters(comment) == (0, 0, 0)


def test_no_vote_on_what_the_public_cannot_see(user_client, post, moderator_client):
    held = make_comment(post, body="Held.", status=CommentStatus.PENDING)
    assert vote(user_client, held, 1).status_code == 404
    shown = make_comment(post, body="Soon removed.")
    moderator_client.post(
        f"/api/moderation/comments/{shown.pk}/decision/", {"action": "remove"}, format="json"
    )
    assert vote(user_client, shown, 1).status_code == 404
    response = user_client.post("/api/comments/999999/vote/", {"value": 1}, format="json")
    assert response.status_code == 404
    assert not Vote.objects.exists()


@pytest.mark.moderation_policy
def test_a_blog_can_switch_down_votes_off(user_client, post, blog, moderator):
    comment = make_comment(post, body="Vote on me.", author=moderator)
    BlogPolicy.objects.update_or_create(blog=blog, defaults={"allow_downvotes": False})
    assert vote(user_client, comment, -1).status_code == 403
    assert vote(user_client, comment, 1).status_code == 200
    assert vote(user_client, comment, 0).status_code == 200
    BlogPolicy.objects.filter(blog=blog).update(allow_downvotes=True)
    assert vote(user_client, comment, -1).status_code == 200


@pytest.mark.moderation_policy
def test_votes_never_moderate(post, moderator):
    comment = make_comment(post, body="Unpopular.", author=moderator)
    for number in range(12):
        client = APIClient()
        client.force_authenticate(UserFactory())
        assert vote(client, comment, -1).status_code == 200, number
    comment.refresh_from_db()
    assert comment.status == CommentStatus.APPROVED and comment.removed_at is None
    assert comment.score == -12


def test_votes_have_their_own_rate_limit(settings, post, comment):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "vote_anon": ["2/min"], "write_anon": []}
    client = APIClient()
    others = [make_comment(post, body=f"Other {i}.") for i in range(3)]
    assert vote(client, others[0], 1, REMOTE_ADDR="192.0.2.50").status_code == 200
    assert vote(client, others[1], 1, REMOTE_ADDR="192.0.2.50").status_code == 200
    third = vote(client, others[2], 1, REMOTE_ADDR="192.0.2.50")
    assert third.status_code == 429 and "Retry-After" in third
    # Comments and flags are counted apart.
    flagged = client.post(
        f"/api/comments/{comment.pk}/flag/",
        {"reason": "spam"},
        format="json",
        REMOTE_ADDR="192.0.2.50",
    )
    assert flagged.status_code == 201


def test_my_votes_on_a_post_in_one_query(user_client, post, django_assert_num_queries, user):
    comments = [make_comment(post, body=f"c{i}.") for i in range(4)]
    vote(user_client, comments[0], 1)
    vote(user_client, comments[2], -1)
    other = APIClient()
    other.force_authenticate(UserFactory())
    vote(other, comments[1], 1)
    user_client.force_authenticate(user)  # a fresh request user: no cached lookups
    with django_assert_num_queries(2):  # the published post, the caller's votes
        response = user_client.get(f"/api/posts/{post.pk}/my-votes/")
    assert response.json() == {"votes": {str(comments[0].pk): 1, str(comments[2].pk): -1}}


def test_the_database_holds_one_vote_per_voter_and_the_score(comment):
    Vote.objects.create(comment=comment, voter_key="ip:x", value=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Vote.objects.create(comment=comment, voter_key="ip:x", value=-1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Vote.objects.create(comment=comment, voter_key="ip:y", value=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        Comment.objects.filter(pk=comment.pk).update(score=3)


def test_an_account_export_holds_its_votes(user_client, comment):
    vote(user_client, comment, 1)
    exported = user_client.get("/api/accounts/me/export/").json()
    assert [(v["comment"], v["value"]) for v in exported["votes"]] == [(comment.pk, 1)]


@pytest.mark.moderation_policy
def test_a_reader_banned_from_the_blog_does_not_vote_there(
    user, user_client, blog, post, moderator
):
    from moderation import services as moderation_services

    comment = make_comment(post, body="Vote on me.", author=moderator)
    moderation_services.ban_create(blog=blog, actor=moderator, user=user, reason="troll")
    refused = vote(user_client, comment, 1)
    assert refused.status_code == 403
    assert counters(comment) == (0, 0, 0)
