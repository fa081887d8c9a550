"""Fixtures of the forum tests: threads with known shapes."""

import datetime
from types import SimpleNamespace

import pytest

from forum import services
from forum.models import Comment, PostStatus, RemovalKind
from tests.factories import BlogFactory, PostFactory, make_comment

T0 = datetime.datetime(2025, 3, 1, 12, 0, tzinfo=datetime.UTC)


def at(minutes: int) -> datetime.datetime:
    return T0 + datetime.timedelta(minutes=minutes)


def remove_as_author(comment: Comment) -> Comment:
    """Remove ``comment`` the way its author does, through the service."""
    locked = services.comment_lock(comment_id=comment.pk)
    return services.comment_set_state(comment=locked, removed=True, removal_kind=RemovalKind.AUTHOR)


@pytest.fixture
def remove():
    return remove_as_author


@pytest.fixture
def tree(post):
    """A three-level thread, created out of display order:

    a (t=0)
      a1 (t=3)
        a1x (t=5)
        a1y (t=6)
      a2 (t=4)
    b (t=1)
    c (t=2)
      c1 (t=7)
    """
    a = make_comment(post, body="a", created_at=at(0), author_name="Alice")
    b = make_comment(post, body="b", created_at=at(1))
    c = make_comment(post, body="c", created_at=at(2), author_name="Carol")
    a1 = make_comment(post, body="a1", parent=a, created_at=at(3))
    a2 = make_comment(post, body="a2", parent=a, created_at=at(4))
    a1x = make_comment(post, body="a1x", parent=a1, created_at=at(5))
    a1y = make_comment(post, body="a1y", parent=a1, created_at=at(6))
    c1 = make_comment(post, body="c1", parent=c, created_at=at(7))
    return SimpleNamespace(post=post, a=a, b=b, c=c, a1=a1, a2=a2, a1x=a1x, a1y=a1y, c1=c1)


@pytest.fixture
def draft_post(blog):
    return PostFactory(blog=blog, status=PostStatus.DRAFT, published_at=None)


@pytest.fixture
def other_blog(db):
    return BlogFactory(slug="other", name="Other Blog")


@pytest.fixture
def posts_for_filters(blog, other_blog):
    """Published posts on two blogs (one a guest post), plus posts nobody may list."""
    return SimpleNamespace(
        old=PostFactory(
            blog=blog, title="Gardening notes", body="Tomatoes.", published_at=at(-60 * 24 * 30)
        ),
        middle=PostFactory(
            blog=blog,
            title="Guest Blog 1",
            body="About compost heaps.",
            is_guest=True,
            guest_number=1,
            published_at=at(0),
        ),
        new=PostFactory(
            blog=other_blog, title="Other news", body="Nothing here.", published_at=at(60 * 24)
        ),
        draft=PostFactory(
            blog=blog, title="Draft compost", status=PostStatus.DRAFT, published_at=None
        ),
        pending=PostFactory(
            blog=blog, title="Pending compost", status=PostStatus.PENDING, published_at=None
        ),
    )
