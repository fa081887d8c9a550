"""Races found by test_concurrency.py (PostgreSQL), replayed deterministically on
any database: the other transaction's write is made to land at the worst moment."""

import pytest

from fixtures.services import SEED_BLOG_SLUG, seed_blog_get_or_create
from forum.models import Blog

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("misses", "then"),
    [(1, "blog_create's duplicate check refuses"), (2, "the unique index refuses")],
)
def test_blog_get_or_create_returns_a_blog_created_meanwhile(monkeypatch, misses, then):
    """Two ``import_seeds`` at once both found no seed blog; the second one's insert
    then failed (IntegrityError, or blog_create's own duplicate check) instead of
    taking the blog the first had just created. Here the other transaction's blog
    exists, and the first ``misses`` lookups ran before it committed."""
    other = Blog.objects.create(name="Made meanwhile", slug=SEED_BLOG_SLUG)
    filter_ = Blog.objects.filter
    missed = []

    def read_before_the_commit(*args, **kwargs):
        if len(missed) < misses:
            missed.append(kwargs)
            return Blog.objects.none()
        return filter_(*args, **kwargs)

    monkeypatch.setattr(Blog.objects, "filter", read_before_the_commit)

    blog = seed_blog_get_or_create()

    assert len(missed) == misses, then
    assert blog == other
    assert list(Blog.objects.values_list("slug", flat=True)) == [SEED_BLOG_SLUG]
