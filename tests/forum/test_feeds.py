"""Atom feeds: valid Atom (parsed with feedparser), public content only, conditional
GETs, a constant number of queries."""

import datetime

import feedparser
import pytest
from django.utils import timezone

from forum.models import CommentStatus, PostStatus
from forum.services import comment_lock, comment_set_state
from tests.factories import BlogFactory, PostFactory, make_comment


def parse(response):
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.content)
    assert feed.bozo == 0, feed.bozo_exception
    assert feed.version == "atom10"
    return feed


@pytest.fixture
def hidden_posts(blog):
    return [
        PostFactory(blog=blog, title=f"Hidden {status}", status=status, published_at=None)
        for status in (PostStatus.DRAFT, PostStatus.PENDING, PostStatus.REJECTED)
    ]


def test_the_posts_feed_lists_published_posts_only(client, blog, post, hidden_posts, settings):
    PostFactory(blog=BlogFactory(), title="Another blog's post")
    feed = parse(client.get(f"/feeds/blogs/{blog.slug}/posts.atom"))
    assert [entry.title for entry in feed.entries] == [post.title]
    assert feed.feed.title == blog.name
    [entry] = feed.entries
    assert entry.link == f"{settings.SITE_URL}/api/posts/{post.pk}/"
    assert entry.id.startswith("tag:") and entry.updated


def make_hidden_comments(post):
    """One comment of each kind the public must not see, and one tombstone."""
    make_comment(post, body="Held one.", status=CommentStatus.PENDING)
    make_comment(post, body="Rejected one.", status=CommentStatus.REJECTED)
    make_comment(post, body="Spam one.", status=CommentStatus.SPAM)
    removed = make_comment(post, body="Removed one.")
    make_comment(post, body="Reply under the removed one.", parent=removed)
    comment_set_state(comment=comment_lock(comment_id=removed.pk), removed=True)


def test_comment_feeds_show_public_comments_only(client, blog, post, hidden_posts):
    make_comment(post, body="Visible <em>words</em> & more.", author_name="Ann")
    make_hidden_comments(post)
    blog_feed = parse(client.get(f"/feeds/blogs/{blog.slug}/comments.atom"))
    post_feed = parse(client.get(f"/feeds/posts/{post.pk}/comments.atom"))
    for feed in (blog_feed, post_feed):
        texts = " ".join(entry.summary for entry in feed.entries)
        assert "Visible" in texts and "Reply under the removed one." in texts
        for hidden in ("Held", "Rejected", "Spam", "Removed one."):
            assert hidden not in texts
        assert len(feed.entries) == 2
    ann = next(e for e in post_feed.entries if "Visible" in e.summary)
    assert ann.author == "Ann" and ann.title == f"Ann on “{post.title}”"


def test_comments_of_a_post_that_is_no_longer_public_leave_the_blog_feed(client, blog, post):
    make_comment(post, body="Was public.")
    post.status = PostStatus.DRAFT
    post.save()
    feed = parse(client.get(f"/feeds/blogs/{blog.slug}/comments.atom"))
    assert feed.entries == []
    assert client.get(f"/feeds/posts/{post.pk}/comments.atom").status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/feeds/blogs/nope/posts.atom",
        "/feeds/blogs/nope/comments.atom",
        "/feeds/posts/999999/comments.atom",
    ],
)
def test_unknown_blogs_and_posts_are_404(client, db, url):
    assert client.get(url).status_code == 404


def test_hostile_text_stays_text_in_the_feed(client, blog):
    post = PostFactory(blog=blog, title='<script>alert("t")</script> & ]]>')
    make_comment(post, body="<script>alert(1)</script> ]]> &amp;", author_name="<b>x</b>")
    posts = parse(client.get(f"/feeds/blogs/{blog.slug}/posts.atom"))
    assert posts.entries[0].title == post.title
    comments = parse(client.get(f"/feeds/posts/{post.pk}/comments.atom"))
    assert "<script>" not in comments.entries[0].summary
    assert comments.entries[0].author == "<b>x</b>"


def test_feeds_answer_304_to_a_current_etag_or_date(client, blog, post):
    make_comment(post, body="First.")
    for url in (
        f"/feeds/blogs/{blog.slug}/posts.atom",
        f"/feeds/blogs/{blog.slug}/comments.atom",
        f"/feeds/posts/{post.pk}/comments.atom",
    ):
        first = client.get(url)
        assert first.status_code == 200 and first["ETag"] and first["Last-Modified"]
        assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
        assert client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 304
    before = client.get(f"/feeds/posts/{post.pk}/comments.atom")
    make_comment(post, body="Second.", created_at=timezone.now() + datetime.timedelta(seconds=2))
    after = client.get(f"/feeds/posts/{post.pk}/comments.atom", HTTP_IF_NONE_MATCH=before["ETag"])
    assert after.status_code == 200 and after["ETag"] != before["ETag"]


@pytest.mark.parametrize("count", [1, 30])
def test_each_feed_costs_the_same_queries_whatever_its_size(
    client, blog, django_assert_num_queries, count
):
    post = PostFactory(blog=blog)
    for number in range(count):
        PostFactory(blog=blog)
        make_comment(post, body=f"Comment {number}.", author_name=f"N{number}")
    for url in (
        f"/feeds/blogs/{blog.slug}/posts.atom",
        f"/feeds/blogs/{blog.slug}/comments.atom",
        f"/feeds/posts/{post.pk}/comments.atom",
    ):
        with django_assert_num_queries(2):
            assert client.get(url).status_code == 200
