"""export_blog / import_blog: a blog survives the round trip exactly."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from forum import services as forum_services
from forum.models import Blog, Comment, Flag, Post, Vote
from moderation import casework, services
from moderation.models import Ban, BlogPolicy, ModerationAction, ModeratorNote
from tests.factories import PostFactory, UserFactory, make_comment
from tests.moderation.conftest import flag_down

pytestmark = pytest.mark.django_db


@pytest.fixture
def busy_blog(blog, post, moderator):
    """A blog with something in every state: published, held, rejected, spam,
    removed (a tombstone and a hidden one), flagged, a guest post published and
    one pending, a ban, a policy and the audit log those decisions left."""
    writer = UserFactory(username="writer", display_name="Wri Ter")
    top = make_comment(post, body="Top, with a link http://example.org", author=writer)
    reply = make_comment(post, body="A reply", parent=top, author_name="Getafix")
    make_comment(post, body="A reply to the reply", parent=reply)
    tombstone = make_comment(post, body="Will be removed", author_name="Ann")
    make_comment(post, body="Keeps the tombstone", parent=tombstone)
    hidden = make_comment(post, body="Removed, nothing under it")
    for comment, verb in [(tombstone, "remove"), (hidden, "remove")]:
        services.comment_decide(comment_id=comment.pk, action=verb, actor=moderator, reason="r")
    for status in ("pending", "pending", "pending"):
        make_comment(post, body=f"Held {status} {Comment.objects.count()}", status=status)
    held = list(Comment.objects.filter(status="pending").order_by("pk"))
    services.comment_decide(comment_id=held[0].pk, action="reject", actor=moderator)
    services.comment_decide(comment_id=held[1].pk, action="spam", actor=moderator)
    flag_down(make_comment(post, body="Flag me"))
    guest = forum_services.guest_post_submit(
        blog=blog, title="Guest", body="Guest body", author_name="Gus"
    )
    services.post_publish(post_id=guest.pk, actor=moderator, reason="good")
    forum_services.guest_post_submit(blog=blog, title="Later", body="Waits", author_name="Gus")
    services.ban_create(blog=blog, actor=moderator, user=UserFactory(username="troll"), reason="x")
    services.blog_policy_update(blog=blog, actor=moderator, max_links=5, watched_words="tr")
    casework.note_add(comment_id=top.pk, about="comment", body="Fine.", actor=moderator)
    casework.note_add(comment_id=top.pk, about="poster", body="Regular.", actor=moderator)
    spam_undone = services.comment_spam(comment_id=reply.pk, actor=moderator).action
    casework.action_undo(action_id=spam_undone.pk, actor=moderator)
    PostFactory(blog=blog, title="Second post")
    forum_services.vote_cast(comment_id=top.pk, value=1, user=moderator, ip_hash="")
    forum_services.vote_cast(comment_id=reply.pk, value=-1, user=None, ip_hash="net-hash")
    services.comment_decide(comment_id=top.pk, action="pin", actor=moderator)
    return blog


def public_and_moderation_state(api_client, moderator_client) -> dict:
    state = {
        "blogs": api_client.get("/api/blogs/").json(),
        "posts": api_client.get("/api/posts/").json(),
        "comments": api_client.get("/api/comments/", {"page_size": 200}).json(),
        "moderator_comments": moderator_client.get("/api/comments/", {"page_size": 200}).json(),
        "queue": moderator_client.get("/api/moderation/queue/").json(),
        "log": moderator_client.get("/api/moderation/log/").json(),
        "bans": list(Ban.objects.values("user__username", "reason", "created_by__username")),
        "policy": list(BlogPolicy.objects.values("mode", "max_links", "watched_words")),
        "flags": list(Flag.objects.values("comment_id", "reporter_key", "reason", "resolved_at")),
        "votes": list(
            Vote.objects.values("comment_id", "voter__username", "voter_key", "value").order_by(
                "pk"
            )
        ),
        "top": api_client.get(
            f"/api/posts/{Post.objects.order_by('pk').first().pk}/comments/", {"sort": "top"}
        ).json(),
        "notes": list(
            ModeratorNote.objects.values(
                "blog__slug", "comment_id", "user__username", "ip_hash", "body", "created_by_id"
            ).order_by("pk")
        ),
    }
    for post in Post.objects.all():
        state[f"thread {post.pk}"] = api_client.get(f"/api/posts/{post.pk}/comments/").json()
        state[f"post {post.pk}"] = api_client.get(f"/api/posts/{post.pk}/").json()
    for item in state["queue"]["results"]:
        item.pop("age_seconds", None)  # grows while the test runs
    return state


def wipe_blog_data(keep: User) -> None:
    ModerationAction.objects.filter(undoes__isnull=False).delete()  # undos first (PROTECT)
    ModerationAction.objects.all().delete()
    Flag.objects.all().delete()
    Vote.objects.all().delete()
    Ban.objects.all().delete()
    BlogPolicy.objects.all().delete()
    for depth in sorted(set(Comment.objects.values_list("depth", flat=True)), reverse=True):
        Comment.objects.filter(depth=depth).delete()
    Post.objects.all().delete()
    Blog.objects.all().delete()
    User.objects.exclude(pk=keep.pk).delete()


def test_a_blog_round_trips_through_export_and_import(
    busy_blog, api_client, moderator_client, moderator, tmp_path
):
    before = public_and_moderation_state(api_client, moderator_client)
    assert before["log"]["count"] >= 5 and before["queue"]["count"] >= 2
    assert len(before["notes"]) == 2
    assert len(before["votes"]) == 2
    target = tmp_path / "blog.json"
    out = io.StringIO()
    call_command("export_blog", busy_blog.slug, str(target), stdout=out)
    assert "comments" in out.getvalue()

    wipe_blog_data(keep=moderator)
    call_command("import_blog", str(target), stdout=io.StringIO())

    assert public_and_moderation_state(api_client, moderator_client) == before
    restored = User.objects.get(username="writer")
    assert restored.display_name == "Wri Ter" and not restored.has_usable_password()


def test_the_export_holds_no_password_hash_or_token(busy_blog, tmp_path):
    target = tmp_path / "blog.json"
    call_command("export_blog", busy_blog.slug, str(target), stdout=io.StringIO())
    text = target.read_text()
    assert "pbkdf2" not in text and "md5$" not in text and '"password"' not in text
    assert json.loads(text)["format"] == "forum-blog-export"


def test_new_rows_after_a_restore_get_fresh_ids(busy_blog, moderator, tmp_path, post):
    target = tmp_path / "blog.json"
    call_command("export_blog", busy_blog.slug, str(target), stdout=io.StringIO())
    highest = Comment.objects.order_by("-pk").first().pk
    wipe_blog_data(keep=moderator)
    call_command("import_blog", str(target), stdout=io.StringIO())
    fresh = forum_services.comment_create(post=Post.objects.get(pk=post.pk), body="New")
    assert fresh.pk > highest


def test_import_refuses_a_database_that_holds_the_blog_and_writes_nothing(busy_blog, tmp_path):
    target = tmp_path / "blog.json"
    call_command("export_blog", busy_blog.slug, str(target), stdout=io.StringIO())
    count = Comment.objects.count()
    with pytest.raises(CommandError, match="exists already"):
        call_command("import_blog", str(target), stdout=io.StringIO())
    assert Comment.objects.count() == count


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "blog.json:1: not a JSON export"),
        ('{"format": "something-else"}', "Not a blog export"),
        ('{"format": "forum-blog-export", "version": 99}', "Unsupported export version"),
    ],
)
def test_import_refuses_bad_files_with_the_file_named(tmp_path, content, message):
    target = tmp_path / "blog.json"
    target.write_text(content)
    with pytest.raises(CommandError, match=message):
        call_command("import_blog", str(target), stdout=io.StringIO())
    assert not Blog.objects.exists()


def test_export_of_a_missing_blog_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="No blog with slug 'nope'"):
        call_command("export_blog", "nope", str(tmp_path / "x.json"))
