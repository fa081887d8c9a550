"""Finding 9 (issue 10): nobody posts as a moderator, a staff member or "Anonymous"
(nor as a look-alike), names carry no invisible or direction-changing characters,
bodies are not blank once those are removed, and trust belongs to an identity."""

import pytest

from forum.models import CommentStatus
from moderation.models import BlogPolicy, ModerationMode
from tests.factories import make_comment

CYRILLIC_LOOKALIKE = "The M\u043ederat\u043er"  # Cyrillic o for o
IMPERSONATIONS = [
    "The Moderator",
    "the  MODERATOR",
    CYRILLIC_LOOKALIKE,
    "mod",  # the moderator's username
    "Anonymous",
    "ANONYM\u039fUS",  # Greek capital omicron
]
HIDDEN = ["Bob\u202eevil", "Bo\u200bb", "\u2066Bob\u2069", "Bob\ufeff", "\u3164"]


@pytest.mark.parametrize("name", IMPERSONATIONS)
def test_anonymous_posters_cannot_take_a_reserved_name(api_client, post, moderator, name):
    response = api_client.post(
        f"/api/posts/{post.pk}/comments/", {"body": "hi", "author_name": name}, format="json"
    )
    assert response.status_code == 400
    assert "author_name" in response.json()


@pytest.mark.parametrize("name", IMPERSONATIONS)
def test_guest_bloggers_cannot_take_a_reserved_name(api_client, blog, moderator, name):
    response = api_client.post(
        "/api/guest-posts/",
        {"blog": blog.slug, "title": "T", "body": "B", "author_name": name},
        format="json",
    )
    assert response.status_code == 400
    assert "author_name" in response.json()


@pytest.mark.parametrize("name", IMPERSONATIONS)
def test_accounts_cannot_take_a_reserved_display_name(api_client, user_client, moderator, name):
    registered = api_client.post(
        "/api/accounts/register/",
        {"username": "newcomer", "password": "a long passphrase 42", "display_name": name},
        format="json",
    )
    assert registered.status_code == 400
    assert "display_name" in registered.json()
    renamed = user_client.patch("/api/accounts/me/", {"display_name": name}, format="json")
    assert renamed.status_code == 400
    assert "display_name" in renamed.json()


def test_usernames_cannot_look_like_a_moderators(api_client, moderator):
    response = api_client.post(
        "/api/accounts/register/",
        {"username": "m\u043ed", "password": "a long passphrase 42"},
        format="json",
    )
    assert response.status_code == 400
    assert "username" in response.json()


def test_a_moderator_keeps_their_own_name(moderator_client):
    response = moderator_client.patch(
        "/api/accounts/me/", {"display_name": "the moderator"}, format="json"
    )
    assert response.status_code == 200


@pytest.mark.parametrize("name", HIDDEN)
def test_names_with_invisible_or_bidi_characters_are_refused(
    api_client, user_client, post, blog, name
):
    comment = api_client.post(
        f"/api/posts/{post.pk}/comments/", {"body": "hi", "author_name": name}, format="json"
    )
    assert comment.status_code == 400
    assert "author_name" in comment.json()
    guest = api_client.post(
        "/api/guest-posts/",
        {"blog": blog.slug, "title": "T", "body": "B", "author_name": name},
        format="json",
    )
    assert guest.status_code == 400
    renamed = user_client.patch("/api/accounts/me/", {"display_name": name}, format="json")
    assert renamed.status_code == 400


@pytest.mark.parametrize("body", ["\u200b", "\u200b \u200d\n\u2060", "\u202e\u202c", "\ufeff"])
def test_a_body_of_only_invisible_characters_is_blank(api_client, post, body):
    response = api_client.post(f"/api/posts/{post.pk}/comments/", {"body": body}, format="json")
    assert response.status_code == 400
    assert "body" in response.json()


@pytest.mark.moderation_policy
def test_trust_belongs_to_a_name_and_an_address_together(api_client, post, blog):
    BlogPolicy.objects.update_or_create(
        blog=blog, defaults={"mode": ModerationMode.HOLD_UNTRUSTED, "trust_after": 1}
    )
    make_comment(
        post,
        body="earned trust",
        author_name="Regular",
        ip_hash=_ip_hash("198.51.100.7"),
        status=CommentStatus.APPROVED,
    )

    def post_as(name, address):
        return api_client.post(
            f"/api/posts/{post.pk}/comments/",
            {"body": f"words of {name} from {address}", "author_name": name},
            format="json",
            REMOTE_ADDR=address,
        ).json()["status"]

    assert post_as("Regular", "198.51.100.7") == CommentStatus.APPROVED
    assert post_as("Someone Else", "198.51.100.7") == CommentStatus.PENDING  # same IP
    assert post_as("Regular", "203.0.113.9") == CommentStatus.PENDING  # same name


def _ip_hash(address):
    from forum.identity import ip_hash

    return ip_hash(address)


def test_the_api_says_whether_an_author_moderates_on_every_comment_shape(
    api_client, moderator_client, user_client, post, django_assert_num_queries
):
    by_moderator = moderator_client.post(
        f"/api/posts/{post.pk}/comments/", {"body": "official"}, format="json"
    ).json()
    assert by_moderator["author_is_moderator"] is True
    by_user = user_client.post(
        f"/api/posts/{post.pk}/comments/",
        {"body": "a reader", "parent": by_moderator["id"]},
        format="json",
    ).json()
    assert by_user["author_is_moderator"] is False
    anonymous = api_client.post(
        f"/api/posts/{post.pk}/comments/",
        {"body": "who knows", "author_name": "Kim"},
        format="json",
    ).json()
    expected = {by_moderator["id"]: True, by_user["id"]: False, anonymous["id"]: False}

    with django_assert_num_queries(3):
        thread = api_client.get(f"/api/posts/{post.pk}/comments/").json()["results"]
    seen = {c["id"]: c["author_is_moderator"] for c in thread}
    seen.update({r["id"]: r["author_is_moderator"] for c in thread for r in c["replies"]})
    assert seen == expected
    limited = api_client.get(f"/api/posts/{post.pk}/comments/?replies_limit=1").json()
    assert limited["results"][0]["replies"][0]["author_is_moderator"] is False
    assert limited["results"][0]["author_is_moderator"] is True
    listed = api_client.get("/api/comments/").json()["results"]
    assert {c["id"]: c["author_is_moderator"] for c in listed} == expected
    for comment_id, badge in expected.items():
        assert api_client.get(f"/api/comments/{comment_id}/").json()["author_is_moderator"] is badge
