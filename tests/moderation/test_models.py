"""The database keeps the moderation invariants even when code does not."""

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from forum.identity import ip_hash
from moderation.models import Ban, BlogPolicy, ModerationAction, word_list
from moderation.services import blog_policy_get_or_create
from tests.factories import BlogFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def refused(**fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        return fields.pop("model").objects.create(**fields)


def test_an_audit_row_targets_exactly_one_comment_or_post(moderator, pending_comment, post):
    common = {"model": ModerationAction, "actor": moderator, "action": "approve"}
    states = {"from_state": "pending", "to_state": "approved"}
    refused(**common, **states, target_kind="comment")
    refused(**common, **states, target_kind="comment", comment=pending_comment, post=post)
    refused(**common, **states, target_kind="post", comment=pending_comment)
    ModerationAction.objects.create(
        **{k: v for k, v in common.items() if k != "model"},
        **states,
        target_kind="comment",
        comment=pending_comment,
    )


def test_an_audit_row_records_a_change_of_state(moderator, pending_comment):
    refused(
        model=ModerationAction,
        actor=moderator,
        action="approve",
        target_kind="comment",
        comment=pending_comment,
        from_state="approved",
        to_state="approved",
    )


def test_an_audit_row_has_a_known_action(moderator, pending_comment):
    refused(
        model=ModerationAction,
        actor=moderator,
        action="bless",
        target_kind="comment",
        comment=pending_comment,
        from_state="pending",
        to_state="approved",
    )


def test_a_ban_names_exactly_one_subject(blog, user, moderator):
    refused(model=Ban, blog=blog, created_by=moderator)
    refused(model=Ban, blog=blog, created_by=moderator, user=user, ip_hash=ip_hash("192.0.2.1"))
    Ban.objects.create(blog=blog, created_by=moderator, user=user)
    Ban.objects.create(blog=blog, created_by=moderator, ip_hash=ip_hash("192.0.2.1"))


def test_only_one_open_ban_per_subject_and_blog(blog, user, moderator):
    first = Ban.objects.create(blog=blog, created_by=moderator, user=user)
    refused(model=Ban, blog=blog, created_by=moderator, user=user)
    Ban.objects.create(blog=BlogFactory(), created_by=moderator, user=user)  # another blog
    Ban.objects.filter(pk=first.pk).update(lifted_at=NOW)
    Ban.objects.create(blog=blog, created_by=moderator, user=user)  # the first is lifted

    Ban.objects.create(blog=blog, created_by=moderator, ip_hash="h")
    refused(model=Ban, blog=blog, created_by=moderator, ip_hash="h")


def test_a_ban_ends_after_it_starts(blog, user, moderator):
    refused(
        model=Ban,
        blog=blog,
        created_by=moderator,
        user=user,
        created_at=NOW,
        expires_at=NOW - datetime.timedelta(seconds=1),
    )


def test_active_bans_are_neither_lifted_nor_expired(blog, moderator):
    hour = datetime.timedelta(hours=1)
    in_force = Ban.objects.create(blog=blog, created_by=moderator, ip_hash="a")
    until_later = Ban.objects.create(
        blog=blog, created_by=moderator, ip_hash="b", expires_at=NOW + hour
    )
    Ban.objects.create(
        blog=blog,
        created_by=moderator,
        ip_hash="c",
        created_at=NOW - 2 * hour,
        expires_at=NOW - hour,
    )
    Ban.objects.create(blog=blog, created_by=moderator, ip_hash="d", lifted_at=NOW)
    assert set(Ban.objects.active()) == {in_force, until_later}
    assert not until_later.is_active(NOW + 2 * hour)


def test_blog_policy_refuses_a_zero_flag_threshold_and_unknown_modes(blog):
    refused(model=BlogPolicy, blog=blog, flag_threshold=0)
    refused(model=BlogPolicy, blog=blog, mode="hold_some")
    refused(model=BlogPolicy, blog=blog, close_after_days=0)


def test_a_blog_gets_the_default_policy_once_on_demand(blog):
    policy = blog_policy_get_or_create(blog_id=blog.pk)
    assert (policy.mode, policy.trust_after, policy.max_links) == ("hold_untrusted", 3, 2)
    assert (policy.close_after_days, policy.flag_threshold) == (None, 3)
    assert blog_policy_get_or_create(blog_id=blog.pk) == policy
    assert BlogPolicy.objects.count() == 1


def test_word_lists_are_one_per_line_trimmed_lowercased_without_repeats():
    assert word_list("  Casino \n\nbuy   NOW\ncasino\n") == ["casino", "buy now"]


def test_new_policies_start_from_the_site_wide_flag_threshold(blog, settings):
    settings.FORUM = {**settings.FORUM, "FLAG_HIDE_THRESHOLD": 5}
    assert blog_policy_get_or_create(blog_id=blog.pk).flag_threshold == 5
