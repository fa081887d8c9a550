"""The blog's moderation policy, as readers meet it: posting through the API."""

import datetime
import itertools

import pytest
from django.utils import timezone

from forum.errors import NotPermitted
from forum.identity import ip_hash
from forum.models import CommentStatus
from forum.policy import Submission, get_policy
from moderation import services
from moderation.policy import BlogModerationPolicy
from tests.factories import BlogFactory, PostFactory, UserFactory, make_comment

pytestmark = [pytest.mark.django_db, pytest.mark.moderation_policy]

IP = "192.0.2.7"


_numbers = itertools.count(1)


def comment(client, post, body=None, *, ip=IP, **fields):
    """Post a comment over the API; each default body differs (repeats are refused)."""
    body = body or f"Hello there, for the {next(_numbers)}th time."
    return client.post(f"/api/posts/{post.pk}/comments/", {"body": body, **fields}, REMOTE_ADDR=ip)


def published(post, n, **kwargs):
    """``n`` published comments on ``post`` (written as the importer writes them)."""
    for i in range(n):
        make_comment(post, body=f"Earlier {i}", status=CommentStatus.APPROVED, **kwargs)


def test_the_default_comment_policy_is_the_blogs_own():
    assert isinstance(get_policy(), BlogModerationPolicy)


def test_anonymous_comments_are_held_with_reason_anonymous(api_client, post):
    response = comment(api_client, post)
    assert response.status_code == 201
    assert response.json()["status"] == "pending"
    assert response.json()["moderation_reasons"] == ["anonymous"]
    assert api_client.get(f"/api/posts/{post.pk}/comments/").json()["count"] == 0


def test_named_posters_are_held_until_trust_after_comments_were_published(api_client, post):
    response = comment(api_client, post, author_name="Newcomer")
    assert (response.json()["status"], response.json()["moderation_reasons"]) == (
        "pending",
        ["first_post"],
    )
    published(post, 2, author_name="Newcomer", ip_hash=ip_hash(IP))
    assert comment(api_client, post, author_name="Newcomer").json()["status"] == "pending"
    published(post, 1, author_name="Newcomer", ip_hash=ip_hash(IP))
    response = comment(api_client, post, author_name="Newcomer")
    assert (response.json()["status"], response.json()["moderation_reasons"]) == ("approved", [])


def test_posters_without_accounts_are_recognised_by_their_ip_hash(api_client, post):
    published(post, 3, author_name="Regular", ip_hash=ip_hash(IP))
    assert comment(api_client, post, author_name="Regular").json()["status"] == "approved"
    elsewhere = comment(api_client, post, author_name="Regular", ip="192.0.2.99")
    assert elsewhere.json()["moderation_reasons"] == ["first_post"]


def test_trust_counts_only_published_comments_on_the_same_blog(api_client, post, moderator):
    published(PostFactory(blog=BlogFactory()), 3, author_name="Roamer", ip_hash=ip_hash(IP))
    rejected = [
        make_comment(post, body=f"x{i}", status=CommentStatus.PENDING, ip_hash=ip_hash(IP))
        for i in range(3)
    ]
    for held in rejected:
        services.comment_reject(comment_id=held.pk, actor=moderator)
    published(post, 2, author_name="Roamer", ip_hash=ip_hash(IP))
    removed = make_comment(post, body="gone", status=CommentStatus.APPROVED, ip_hash=ip_hash(IP))
    services.comment_remove(comment_id=removed.pk, actor=moderator)
    assert comment(api_client, post, author_name="Roamer").json()["status"] == "pending"


def test_account_holders_are_recognised_by_their_account(api_client, post):
    user = UserFactory()
    published(post, 3, author=user)
    api_client.force_authenticate(user)
    response = comment(api_client, post, ip="192.0.2.200")
    assert response.json()["status"] == "approved"
    api_client.force_authenticate(UserFactory())
    assert comment(api_client, post).json()["moderation_reasons"] == ["first_post"]


def test_a_named_poster_without_an_ip_hash_is_never_trusted(post, set_policy):
    set_policy(trust_after=1)
    published(post, 3, author_name="Nobody", ip_hash="")
    assert make_comment(post, author_name="Nobody").moderation_reasons == ["first_post"]


def test_trust_after_zero_trusts_named_posters_but_still_holds_anonymous_ones(
    api_client, post, set_policy
):
    set_policy(trust_after=0)
    assert comment(api_client, post, author_name="New").json()["status"] == "approved"
    assert comment(api_client, post).json()["moderation_reasons"] == ["anonymous"]


def test_hold_all_holds_even_trusted_posters(api_client, post, set_policy):
    set_policy(mode="hold_all")
    published(post, 3, author_name="Regular", ip_hash=ip_hash(IP))
    response = comment(api_client, post, author_name="Regular")
    assert (response.json()["status"], response.json()["moderation_reasons"]) == (
        "pending",
        ["hold_all"],
    )


def test_hold_none_publishes_anonymous_comments_but_still_holds_links(api_client, post, set_policy):
    set_policy(mode="hold_none")
    assert comment(api_client, post).json()["status"] == "approved"
    links = "See https://a.example, https://b.example and www.c.example"
    response = comment(api_client, post, links)
    assert (response.json()["status"], response.json()["moderation_reasons"]) == (
        "pending",
        ["links"],
    )


@pytest.mark.parametrize(
    ("body", "held"),
    [
        ("Two links: https://a.example and http://b.example/x?y=1.", False),
        ("Three: https://a.example https://b.example www.c.example", True),
        ("Not links: example.com and https:// alone", False),
    ],
)
def test_more_links_than_max_links_hold_a_comment(api_client, post, set_policy, body, held):
    set_policy(trust_after=0)
    response = comment(api_client, post, body, author_name="Linker")
    assert ("links" in response.json()["moderation_reasons"]) is held
    assert response.json()["status"] == ("pending" if held else "approved")


@pytest.mark.parametrize(
    ("body", "reasons"),
    [
        ("Win big at the CASINO tonight", ["watched_word:casino"]),
        ("Casino-style games", ["watched_word:casino"]),
        ("Two casinos opened", []),
        ("occasional remarks", []),
        ("Please BUY\n  now!", ["watched_word:buy now"]),
        ("buy nowhere", []),
    ],
)
def test_watched_words_hold_whole_words_in_any_case(api_client, post, set_policy, body, reasons):
    set_policy(trust_after=0, watched_words="casino\nBuy Now\n")
    response = comment(api_client, post, body, author_name="Reader")
    assert response.json()["moderation_reasons"] == reasons
    assert response.json()["status"] == ("pending" if reasons else "approved")


def test_blocked_words_mark_spam_and_every_reason_is_given(api_client, post, set_policy):
    set_policy(blocked_words="pills\ncheap loans", watched_words="offer")
    body = "Cheap  loans and PILLS, great offer: https://a.example https://b.example https://c.x"
    response = comment(api_client, post, body)
    assert response.json()["status"] == "spam"
    assert response.json()["moderation_reasons"] == [
        "blocked_word:pills",
        "blocked_word:cheap loans",
        "anonymous",
        "links",
        "watched_word:offer",
    ]


def test_comments_are_closed_on_posts_older_than_close_after_days(
    api_client, post, old_post, set_policy
):
    set_policy(close_after_days=7)
    response = comment(api_client, old_post)
    assert response.status_code == 403
    assert response.json() == {"detail": "Comments are closed on this post."}
    assert comment(api_client, post).status_code == 201
    set_policy(close_after_days=31)
    assert comment(api_client, old_post, ip="192.0.2.8").status_code == 201


def test_a_banned_account_is_told_until_when(api_client, post, moderator):
    user = UserFactory()
    until = datetime.datetime(2099, 3, 5, 14, 0, tzinfo=datetime.UTC)
    services.ban_create(blog=post.blog, actor=moderator, user=user, expires_at=until)
    api_client.force_authenticate(user)
    response = comment(api_client, post)
    assert response.status_code == 403
    assert response.json() == {
        "detail": "You are banned from commenting on this blog until 5 March 2099, 14:00 GMT.",
        "banned_until": "2099-03-05T14:00:00+00:00",
    }


def test_an_ip_ban_refuses_every_poster_from_that_address(api_client, post, moderator):
    services.ban_create(blog=post.blog, actor=moderator, ip_hash=ip_hash(IP))
    assert comment(api_client, post).status_code == 403
    assert comment(api_client, post, author_name="Named").status_code == 403
    api_client.force_authenticate(UserFactory())
    assert comment(api_client, post).status_code == 403
    assert comment(api_client, post, ip="192.0.2.8").status_code == 201


def test_the_ban_service_error_says_the_ban_has_no_end(post, moderator):
    services.ban_create(blog=post.blog, actor=moderator, ip_hash=ip_hash(IP))
    with pytest.raises(NotPermitted) as refusal:
        make_comment(post, ip_hash=ip_hash(IP))
    assert refusal.value.message == (
        "You are banned from commenting on this blog until further notice."
    )
    assert refusal.value.extra == {"banned_until": None}


def test_lifted_expired_and_other_blogs_bans_do_not_refuse(api_client, post, moderator):
    hour = datetime.timedelta(hours=1)
    other = BlogFactory()
    services.ban_create(blog=other, actor=moderator, ip_hash=ip_hash(IP))
    ban, _ = services.ban_create(
        blog=post.blog, actor=moderator, ip_hash=ip_hash(IP), expires_at=timezone.now() + hour
    )
    assert comment(api_client, post).status_code == 403
    services.ban_lift(ban_id=ban.pk, actor=moderator)
    assert comment(api_client, post).status_code == 201

    user = UserFactory()
    services.ban_create(
        blog=post.blog, actor=moderator, user=user, expires_at=timezone.now() + hour
    )
    api_client.force_authenticate(user)
    assert comment(api_client, post, ip="192.0.2.8").status_code == 403
    later = timezone.now() + 2 * hour
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(timezone, "now", lambda: later)
        assert comment(api_client, post, ip="192.0.2.9").status_code == 201


def test_moderators_comment_whatever_the_policy(moderator_client, old_post, set_policy):
    set_policy(mode="hold_all", close_after_days=1, blocked_words="pills")
    response = comment(moderator_client, old_post, "pills")
    assert (response.status_code, response.json()["status"]) == (201, "approved")


def test_the_flag_threshold_is_the_blogs(api_client, post, set_policy):
    set_policy(flag_threshold=2)
    target = make_comment(post, body="Rude.", status=CommentStatus.APPROVED)
    flag_url = f"/api/comments/{target.pk}/flag/"
    assert api_client.post(flag_url, {"reason": "abuse"}, REMOTE_ADDR="10.0.0.1").status_code == 201
    target.refresh_from_db()
    assert target.status == CommentStatus.APPROVED
    assert api_client.post(flag_url, {"reason": "spam"}, REMOTE_ADDR="10.0.1.2").status_code == 201
    target.refresh_from_db()
    assert (target.status, target.moderation_reasons) == (CommentStatus.PENDING, ["flagged"])


@pytest.mark.parametrize(
    ("name", "has_account", "decide_queries"),
    [("", False, 1), ("Named", False, 2), ("", True, 2)],
)
def test_a_decision_costs_a_constant_number_of_queries(
    post, django_assert_num_queries, name, has_account, decide_queries
):
    author = UserFactory() if has_account else None
    published(post, 5, author=author, author_name=name, ip_hash=ip_hash(IP))
    services.blog_policy_get_or_create(blog_id=post.blog_id)
    submission = Submission(
        post=post,
        author=author,
        author_name=name,
        body="Hello",
        parent_id=None,
        ip_hash=ip_hash(IP),
    )
    policy = BlogModerationPolicy()
    with django_assert_num_queries(2):  # the policy, the ban lookup
        policy.check_can_post(submission)
    with django_assert_num_queries(decide_queries):  # the policy (, the trust count)
        policy.decide(submission)
