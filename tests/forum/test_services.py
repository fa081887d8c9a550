from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from forum import services
from forum.errors import InvalidInput, NotFound, NotPermitted
from forum.models import Comment, CommentStatus, Flag, PostStatus
from tests.factories import PostFactory, make_comment

pytestmark = pytest.mark.django_db


def test_comment_create_gives_fixed_width_paths_in_creation_order(post):
    first = make_comment(post)
    second = make_comment(post)
    reply = make_comment(post, parent=first)
    assert [first.path, second.path, reply.path] == ["000001", "000002", "000001000001"]
    ordered = list(Comment.objects.filter(post=post).order_by("path"))
    assert ordered == [first, reply, second]


def test_comment_create_never_renumbers_existing_rows(post):
    first = make_comment(post)
    later = make_comment(post)
    before = dict(Comment.objects.values_list("pk", "path"))
    make_comment(post, parent=first)
    after = dict(Comment.objects.values_list("pk", "path"))
    assert {pk: after[pk] for pk in before} == before
    assert later.path == "000002"


def test_comment_create_keeps_counters(post):
    top = make_comment(post)
    make_comment(post, parent=top)
    make_comment(post, parent=top, status=CommentStatus.PENDING)
    post.refresh_from_db()
    top.refresh_from_db()
    assert post.comment_count == 2
    assert top.reply_count == 1


def test_comment_create_refuses_parent_on_another_post(post):
    other = make_comment(PostFactory(blog=post.blog))
    with pytest.raises(InvalidInput) as exc:
        make_comment(post, parent=other)
    assert exc.value.field == "parent"
    assert not Comment.objects.filter(post=post).exists()


def test_comment_create_refuses_replies_beyond_max_depth(post, settings):
    settings.FORUM = {**settings.FORUM, "MAX_COMMENT_DEPTH": 2}
    node = make_comment(post)
    node = make_comment(post, parent=node)
    node = make_comment(post, parent=node)
    with pytest.raises(InvalidInput):
        make_comment(post, parent=node)


def test_comment_create_refuses_unpublished_post(blog):
    draft = PostFactory(blog=blog, status=PostStatus.DRAFT, published_at=None)
    with pytest.raises(NotFound):
        make_comment(draft)


@pytest.mark.parametrize("body", ["", "   \n ", "a\x00b", "bell\x07"])
def test_comment_create_refuses_blank_or_control_characters(post, body):
    with pytest.raises(InvalidInput):
        make_comment(post, body=body)
    assert Comment.objects.count() == 0


def test_comment_create_stores_body_as_written(post):
    body = "  Indented\n\n  and spaced  "
    assert make_comment(post, body=body).body == body


def test_comment_create_shows_logged_in_users_display_name(post, user):
    comment = make_comment(post, author=user, author_name="Ignored")
    assert comment.author_name == user.display_name


def test_database_refuses_a_parent_on_another_post(post):
    other_post = PostFactory(blog=post.blog)
    parent = make_comment(other_post)
    with pytest.raises(IntegrityError), transaction.atomic():
        Comment.objects.create(
            post=post, parent=parent, depth=1, path=parent.path + "000001", body="x"
        )


def test_database_refuses_a_wrong_depth(post):
    parent = make_comment(post)
    with pytest.raises(IntegrityError), transaction.atomic():
        Comment.objects.create(
            post=post, parent=parent, depth=2, path=parent.path + "000009", body="x"
        )


def test_database_refuses_a_path_not_under_the_parent(post):
    parent = make_comment(post)
    with pytest.raises(IntegrityError), transaction.atomic():
        Comment.objects.create(post=post, parent=parent, depth=1, path="000009000001", body="x")


def test_database_refuses_moving_a_comment(post):
    comment = make_comment(post)
    with pytest.raises(IntegrityError), transaction.atomic():
        Comment.objects.filter(pk=comment.pk).update(path="000042")


def test_database_refuses_a_duplicate_guest_number(blog):
    PostFactory(blog=blog, is_guest=True, guest_number=7)
    with pytest.raises(IntegrityError), transaction.atomic():
        PostFactory(blog=blog, is_guest=True, guest_number=7)


def test_database_refuses_a_guest_number_on_a_non_guest_post(blog):
    with pytest.raises(IntegrityError), transaction.atomic():
        PostFactory(blog=blog, is_guest=False, guest_number=3)


def test_post_create_refuses_a_taken_guest_number(blog):
    services.post_create(
        blog=blog, title="G", body="b", is_guest=True, guest_number=5, status="published"
    )
    with pytest.raises(InvalidInput):
        services.post_create(
            blog=blog, title="G2", body="b", is_guest=True, guest_number=5, status="published"
        )


def test_post_create_makes_slugs_unique_per_blog(blog):
    a = services.post_create(blog=blog, title="Same Title", body="b")
    b = services.post_create(blog=blog, title="Same Title", body="b")
    assert (a.slug, b.slug) == ("same-title", "same-title-2")


# --- edits, removals, flags, guest posts -------------------------------------


def anonymous_comment(post, **kwargs):
    return services.comment_create(post=post, body="Mine.", issue_edit_token=True, **kwargs)


def test_comment_create_issues_an_edit_token_stored_only_as_a_hash(post):
    comment = anonymous_comment(post)
    token = comment.issued_edit_token
    assert len(token) >= 43  # 32 random bytes, url-safe base64
    stored = Comment.objects.get(pk=comment.pk)
    assert stored.edit_token_hash and token not in stored.edit_token_hash


def test_comment_create_gives_no_token_to_account_holders(post, user):
    comment = services.comment_create(post=post, body="x", author=user, issue_edit_token=True)
    assert not hasattr(comment, "issued_edit_token")
    assert comment.edit_token_hash == ""


def test_comment_update_with_the_token_rewrites_and_rerenders(post):
    comment = anonymous_comment(post)
    updated = services.comment_update(
        comment=comment, body="Now with http://x.org", edit_token=comment.issued_edit_token
    )
    assert updated.body == "Now with http://x.org"
    assert 'href="http://x.org"' in updated.body_html
    assert updated.edited_at is not None


def test_comment_update_refuses_a_wrong_token_and_changes_nothing(post):
    comment = anonymous_comment(post)
    with pytest.raises(NotPermitted):
        services.comment_update(comment=comment, body="Hijack", edit_token="guess")
    comment.refresh_from_db()
    assert comment.body == "Mine." and comment.edited_at is None


def test_comment_update_refuses_after_the_window(post, settings):
    comment = anonymous_comment(post)
    settings.FORUM = {**settings.FORUM, "EDIT_WINDOW_SECONDS": 60}
    Comment.objects.filter(pk=comment.pk).update(created_at=timezone.now() - timedelta(minutes=2))
    with pytest.raises(NotPermitted, match="passed"):
        services.comment_update(comment=comment, body="Late", edit_token=comment.issued_edit_token)


def test_moderators_edit_any_comment_at_any_time(post, moderator):
    comment = anonymous_comment(post)
    Comment.objects.filter(pk=comment.pk).update(created_at=timezone.now() - timedelta(days=9))
    assert services.comment_update(comment=comment, body="Fixed", user=moderator).body == "Fixed"


def test_comment_update_goes_back_through_the_policy_and_waits_keeping_the_old_text(post, settings):
    settings.FORUM = {**settings.FORUM, "COMMENT_POLICY": "tests.forum.policies.HoldAll"}
    comment = services.comment_create(
        post=post, body="First", status=CommentStatus.APPROVED, issue_edit_token=True
    )
    updated = services.comment_update(
        comment=comment, body="Changed", edit_token=comment.issued_edit_token
    )
    assert updated.status == CommentStatus.APPROVED
    assert updated.body == "First"
    assert updated.pending_edit.body == "Changed"
    post.refresh_from_db()
    assert post.comment_count == 1


def test_author_removal_leaves_a_tombstone_while_replies_are_visible(post):
    comment = anonymous_comment(post)
    make_comment(post, parent=comment)
    services.comment_remove_by_author(comment=comment, edit_token=comment.issued_edit_token)
    comment.refresh_from_db()
    post.refresh_from_db()
    assert comment.is_removed and comment.is_public  # shown as a tombstone
    assert post.comment_count == 1


def test_author_removal_hides_a_comment_without_replies_and_is_idempotent(post):
    comment = anonymous_comment(post)
    for _ in range(2):
        services.comment_remove_by_author(comment=comment, edit_token=comment.issued_edit_token)
    comment.refresh_from_db()
    post.refresh_from_db()
    assert comment.is_removed and not comment.is_public
    assert post.comment_count == 0


def test_removing_the_last_reply_hides_a_tombstoned_parent(post, user):
    parent = services.comment_create(post=post, body="P", author=user)
    reply = services.comment_create(post=post, body="R", author=user, parent=parent)
    services.comment_remove_by_author(comment=parent, user=user)
    services.comment_remove_by_author(comment=reply, user=user)
    parent.refresh_from_db()
    assert parent.reply_count == 0 and not parent.is_public


def test_flag_create_once_per_reporter(post, user):
    comment = make_comment(post)
    first, created = services.flag_create(comment=comment, reason="spam", user=user)
    again, created_again = services.flag_create(comment=comment, reason="abuse", user=user)
    assert created and not created_again and first.pk == again.pk
    assert Flag.objects.count() == 1


def test_flag_create_tells_anonymous_reporters_apart_by_ip_hash(post):
    comment = make_comment(post)
    services.flag_create(comment=comment, reason="spam", ip_hash="a" * 64)
    services.flag_create(comment=comment, reason="spam", ip_hash="b" * 64)
    services.flag_create(comment=comment, reason="spam", ip_hash="a" * 64)
    assert sorted(Flag.objects.values_list("reporter_key", flat=True)) == [
        "ip:" + "a" * 64,
        "ip:" + "b" * 64,
    ]


def test_flag_create_refuses_an_unknown_reason(post):
    with pytest.raises(InvalidInput):
        services.flag_create(comment=make_comment(post), reason="boring")


def test_guest_post_submit_is_pending_with_a_token(blog):
    submitted = services.guest_post_submit(
        blog=blog, title="My story", body="It began...", author_name="Jo", email="jo@x.org"
    )
    assert submitted.status == PostStatus.PENDING and submitted.is_guest
    assert submitted.guest_number is None and submitted.published_at is None
    assert len(submitted.issued_edit_token) >= 43


def test_guest_post_submit_needs_a_name(blog):
    with pytest.raises(InvalidInput) as exc:
        services.guest_post_submit(blog=blog, title="T", body="B", author_name="  ")
    assert exc.value.field == "author_name"


def test_flags_from_enough_distinct_reporters_take_a_comment_down(post, settings):
    settings.FORUM = {**settings.FORUM, "FLAG_HIDE_THRESHOLD": 3}
    comment = make_comment(post)
    for reporter in ("a", "b", "b"):
        services.flag_create(comment=comment, reason="abuse", ip_hash=reporter * 64)
    comment.refresh_from_db()
    assert comment.status == CommentStatus.APPROVED
    services.flag_create(comment=comment, reason="abuse", ip_hash="c" * 64)
    comment.refresh_from_db()
    post.refresh_from_db()
    assert comment.status == CommentStatus.PENDING
    assert comment.moderation_reasons == ["flagged"]
    assert post.comment_count == 0


def test_comment_set_state_restores_counters_on_the_way_back(post):
    comment = make_comment(post)
    make_comment(post, parent=comment)
    locked = services.comment_lock(comment_id=comment.pk)
    services.comment_set_state(comment=locked, removed=True)
    services.comment_set_state(comment=locked, removed=False)
    post.refresh_from_db()
    locked.refresh_from_db()
    assert post.comment_count == 2 and locked.reply_count == 1 and not locked.is_removed


def test_banned_posters_cannot_comment(post, settings):
    settings.FORUM = {**settings.FORUM, "COMMENT_POLICY": "tests.forum.policies.BanEveryone"}
    with pytest.raises(NotPermitted):
        services.comment_create(post=post, body="Hello")
    assert not Comment.objects.exists()


def test_moderators_are_never_held_or_banned(post, moderator, settings):
    settings.FORUM = {**settings.FORUM, "COMMENT_POLICY": "tests.forum.policies.BanEveryone"}
    assert services.comment_create(post=post, body="Hi", author=moderator).status == "approved"
    settings.FORUM = {**settings.FORUM, "COMMENT_POLICY": "tests.forum.policies.HoldAll"}
    assert services.comment_create(post=post, body="Hi!", author=moderator).status == "approved"


def test_the_post_author_is_never_held(post, user, settings):
    post.author = user
    post.save()
    settings.FORUM = {**settings.FORUM, "COMMENT_POLICY": "tests.forum.policies.HoldAll"}
    assert services.comment_create(post=post, body="Hi", author=user).status == "approved"


def test_held_comments_record_the_policy_reasons(post, settings):
    settings.FORUM = {**settings.FORUM, "COMMENT_POLICY": "tests.forum.policies.HoldAll"}
    comment = services.comment_create(post=post, body="Hi")
    assert comment.status == "pending" and comment.moderation_reasons == ["test"]
