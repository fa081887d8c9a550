import pytest
from django.db import IntegrityError, transaction

from forum import services
from forum.errors import InvalidInput, NotFound
from forum.models import Comment, CommentStatus, PostStatus
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
