"""Finding 2 (issue 10): a take-down needs flags from several distinct people
(forum.flags): anonymous readers and new accounts count by network (IPv4 /24, IPv6
/64), an established account and its network's flags count once, trusted accounts
may weigh more; the take-down is reversible and logged."""

import datetime
import logging

import pytest
from django.utils import timezone

from forum.models import CommentStatus
from moderation.models import BlogPolicy
from tests.factories import UserFactory, make_comment
from tests.openapi import SchemaCheckingAPIClient


def _flag(comment, address, user=None):
    client = SchemaCheckingAPIClient()
    if user is not None:
        client.force_authenticate(user)
    response = client.post(
        f"/api/comments/{comment.pk}/flag/", {"reason": "abuse"}, format="json", REMOTE_ADDR=address
    )
    assert response.status_code == 201, response.content
    return response


def _status(comment):
    comment.refresh_from_db()
    return comment.status


def _established(post, **kwargs):
    """An account older than the policy age, with an approved comment."""
    user = UserFactory(date_joined=timezone.now() - datetime.timedelta(days=30), **kwargs)
    make_comment(
        post, body=f"approved words of {user.username}", author=user, status=CommentStatus.APPROVED
    )
    return user


@pytest.fixture
def target(post):
    return make_comment(post, body="an unpopular opinion")


def test_anonymous_flag_and_new_accounts_from_one_ip_are_one_person(target):
    _flag(target, "203.0.113.7")
    _flag(target, "203.0.113.7", user=UserFactory())
    _flag(target, "203.0.113.7", user=UserFactory())
    assert _status(target) == CommentStatus.APPROVED


@pytest.mark.parametrize(
    "addresses",
    [
        ["2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff::3"],  # one /64
        ["198.51.100.1", "198.51.100.2", "198.51.100.250"],  # one /24
        ["198.51.100.1", "::ffff:198.51.100.2", "198.51.100.3"],  # the same, mapped
    ],
)
def test_addresses_of_one_network_are_one_person(target, addresses):
    for address in addresses:
        _flag(target, address)
    assert _status(target) == CommentStatus.APPROVED


def test_new_accounts_on_distinct_networks_still_count_once_each(target):
    for n in range(3):
        _flag(target, f"198.51.{n}.9", user=UserFactory())
    assert _status(target) == CommentStatus.PENDING


def test_three_networks_take_a_comment_down_and_a_moderator_can_undo_it(
    target, api_client, moderator_client, caplog
):
    with caplog.at_level(logging.INFO, logger="forum.flags"):
        for address in ("198.51.100.1", "203.0.113.1", "2001:db8:9::1"):
            _flag(target, address)
    assert _status(target) == CommentStatus.PENDING
    assert "flagged" in target.moderation_reasons
    assert f"comment {target.pk} taken down by flags: 3 people" in caplog.text
    assert api_client.get(f"/api/comments/{target.pk}/").status_code == 404
    # Reversible: the moderator's approve puts it back, on the record.
    decided = moderator_client.post(
        f"/api/moderation/comments/{target.pk}/decision/", {"action": "approve"}, format="json"
    )
    assert decided.status_code == 200
    assert decided.json()["log_entry"] is not None
    assert api_client.get(f"/api/comments/{target.pk}/").status_code == 200


def test_an_established_account_and_its_networks_flags_count_once(post, target):
    established = _established(post)
    _flag(target, "198.51.100.10", user=established)
    _flag(target, "198.51.100.11")  # anonymous, same /24
    _flag(target, "198.51.100.12", user=UserFactory())  # new account, same /24
    _flag(target, "203.0.113.5")  # a second person
    assert _status(target) == CommentStatus.APPROVED
    _flag(target, "2001:db8:5::1")  # a third
    assert _status(target) == CommentStatus.PENDING


def test_established_accounts_are_people_of_their_own(post, target):
    for n in range(3):
        _flag(target, f"198.51.100.{n + 1}", user=_established(post))
    assert _status(target) == CommentStatus.PENDING


def test_an_old_account_without_approved_comments_counts_with_its_network(target):
    old = UserFactory(date_joined=timezone.now() - datetime.timedelta(days=300))
    _flag(target, "198.51.100.1", user=old)
    _flag(target, "198.51.100.2")
    _flag(target, "203.0.113.2")
    assert _status(target) == CommentStatus.APPROVED


@pytest.mark.moderation_policy
def test_the_policy_can_weight_trusted_accounts_higher(post, blog):
    BlogPolicy.objects.update_or_create(
        blog=blog, defaults={"trust_after": 1, "flag_trusted_weight": 3, "flag_threshold": 3}
    )
    target = make_comment(post, body="spam spam", status=CommentStatus.APPROVED)
    trusted = _established(post)
    assert _status(target) == CommentStatus.APPROVED
    _flag(target, "198.51.100.1", user=trusted)
    assert _status(target) == CommentStatus.PENDING
