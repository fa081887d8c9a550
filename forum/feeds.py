"""Atom feeds of public content (django.contrib.syndication).

- ``/feeds/blogs/{slug}/posts.atom``: the blog's latest published posts;
- ``/feeds/blogs/{slug}/comments.atom``: the latest public comments on its published posts;
- ``/feeds/posts/{id}/comments.atom``: the latest public comments of one published post.

Public means what the thread shows with a body: approved, not removed, under no
hidden comment (``forum.models.visible_comment_q``), on a published post (tombstones,
held, rejected or spam comments and the replies under them never appear).
Each feed costs two queries whatever its size (the blog or post, then the items).
Responses carry ``Last-Modified`` (the newest entry) and an ``ETag`` (of the body);
``If-None-Match`` / ``If-Modified-Since`` get 304.
"""

import hashlib

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path
from django.utils.cache import get_conditional_response
from django.utils.feedgenerator import Atom1Feed
from django.utils.http import parse_http_date_safe

from forum.models import Blog, Comment, CommentStatus, Post, PostStatus, visible_comment_q

FEED_SIZE = 50


def _absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def _public_comments():
    return Comment.objects.filter(
        visible_comment_q(),
        status=CommentStatus.APPROVED,
        removed_at__isnull=True,
        post__status=PostStatus.PUBLISHED,
    ).select_related("post")


class _ConditionalAtomFeed(Feed):
    feed_type = Atom1Feed

    def __call__(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = super().__call__(request, *args, **kwargs)
        response["ETag"] = '"' + hashlib.sha256(response.content).hexdigest()[:32] + '"'
        response["Cache-Control"] = "public, max-age=60"
        last_modified = parse_http_date_safe(response.get("Last-Modified", ""))
        conditional = get_conditional_response(
            request, etag=response["ETag"], last_modified=last_modified, response=response
        )
        return conditional

    # Comments ---------------------------------------------------------------------
    def item_title(self, item) -> str:
        if isinstance(item, Comment):
            return f"{item.author_name or 'Anonymous'} on “{item.post.title}”"
        return item.title

    def item_description(self, item) -> str:
        return item.body_html

    def item_link(self, item) -> str:
        if isinstance(item, Comment):
            return _absolute(f"/api/posts/{item.post_id}/comments/#comment-{item.pk}")
        return _absolute(f"/api/posts/{item.pk}/")

    def item_guid(self, item) -> str:
        kind = "comment" if isinstance(item, Comment) else "post"
        return f"tag:{settings.SITE_URL.split('://', 1)[-1]},2024:{kind}:{item.pk}"

    item_guid_is_permalink = False

    def item_author_name(self, item) -> str:
        return item.author_name or "Anonymous"

    def item_pubdate(self, item):
        return item.created_at if isinstance(item, Comment) else item.published_at

    def item_updateddate(self, item):
        if isinstance(item, Comment):
            return item.edited_at or item.created_at
        return item.published_at


class BlogPostsFeed(_ConditionalAtomFeed):
    def get_object(self, request: HttpRequest, slug: str) -> Blog:
        blog = Blog.objects.filter(slug=slug).first()
        if blog is None:
            raise Http404("No such blog.")
        return blog

    def title(self, blog: Blog) -> str:
        return blog.name

    def subtitle(self, blog: Blog) -> str:
        return blog.description

    def link(self, blog: Blog) -> str:
        return _absolute(f"/api/blogs/{blog.slug}/")

    def feed_url(self, blog: Blog) -> str:
        return _absolute(f"/feeds/blogs/{blog.slug}/posts.atom")

    def items(self, blog: Blog):
        return (
            Post.objects.published().filter(blog=blog).order_by("-published_at", "-id")[:FEED_SIZE]
        )


class BlogCommentsFeed(BlogPostsFeed):
    def title(self, blog: Blog) -> str:
        return f"Comments on {blog.name}"

    def feed_url(self, blog: Blog) -> str:
        return _absolute(f"/feeds/blogs/{blog.slug}/comments.atom")

    def items(self, blog: Blog):
        return _public_comments().filter(post__blog=blog).order_by("-created_at", "-id")[:FEED_SIZE]


class PostCommentsFeed(_ConditionalAtomFeed):
    def get_object(self, request: HttpRequest, pk: int) -> Post:
        post = Post.objects.published().filter(pk=pk).first()
        if post is None:
            raise Http404("No such post.")
        return post

    def title(self, post: Post) -> str:
        return f"Comments on “{post.title}”"

    def link(self, post: Post) -> str:
        return _absolute(f"/api/posts/{post.pk}/")

    def feed_url(self, post: Post) -> str:
        return _absolute(f"/feeds/posts/{post.pk}/comments.atom")

    def items(self, post: Post):
        return _public_comments().filter(post=post).order_by("-created_at", "-id")[:FEED_SIZE]


urlpatterns = [
    path("blogs/<slug:slug>/posts.atom", BlogPostsFeed(), name="feed-blog-posts"),
    path("blogs/<slug:slug>/comments.atom", BlogCommentsFeed(), name="feed-blog-comments"),
    path("posts/<int:pk>/comments.atom", PostCommentsFeed(), name="feed-post-comments"),
]
