"""Writes to blogs and posts: creating, editing (the admin), the status a moderator
decides (``post_set_status``, with the blog's next guest number), deleting, and a
reader's guest post. ``forum.services`` re-exports each of them.

A change of what the public sees of a post's thread (its status, its text, its
deletion) calls ``thread_changed`` explicitly.
"""

import datetime
from collections.abc import Iterable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify

from forum import events, tokens
from forum.errors import InvalidInput, NotFound
from forum.models import Blog, Post, PostStatus, TextFormat
from forum.names import refuse_reserved_name
from forum.permissions import AnyUser
from forum.rendering import render
from forum.text import check_format, clean_name, clean_text
from forum.thread_cache import thread_changed, threads_changed


def blog_create(*, name: str, slug: str, description: str = "", owner: AnyUser = None) -> Blog:
    if Blog.objects.filter(slug=slug).exists():
        raise InvalidInput(f"A blog with slug {slug!r} exists already.", field="slug")
    return Blog.objects.create(
        name=name, slug=slug, description=description, owner=owner if owner else None
    )


def blog_get_or_create(*, slug: str, name: str, description: str = "") -> tuple[Blog, bool]:
    blog = Blog.objects.filter(slug=slug).first()
    if blog is not None:
        return blog, False
    try:
        with transaction.atomic():
            return blog_create(name=name, slug=slug, description=description), True
    except (InvalidInput, IntegrityError):
        # Another transaction created it just now (unique slug): that one is it.
        blog = Blog.objects.filter(slug=slug).first()
        if blog is None:
            raise
        return blog, False


def _unique_post_slug(*, blog: Blog, title: str) -> str:
    base = (slugify(title) or "post")[:180].strip("-") or "post"
    taken = set(
        Post.objects.filter(blog=blog, slug__startswith=base).values_list("slug", flat=True)
    )
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


@transaction.atomic
def post_create(
    *,
    blog: Blog,
    title: str,
    body: str,
    author: AnyUser = None,
    author_name: str = "",
    status: str = PostStatus.DRAFT,
    published_at: datetime.datetime | None = None,
    is_guest: bool = False,
    guest_number: int | None = None,
    import_key: str | None = None,
    body_format: str = TextFormat.PLAIN,
) -> Post:
    """Create a post. A published post without ``published_at`` is published now.
    ``body_format``: ``plain`` or ``markdown`` (``forum.rendering.render``)."""
    body_format = check_format(body_format)
    title = clean_text(title, field="title", max_length=300).strip()
    body = clean_text(body, field="body", max_length=settings.FORUM["POST_MAX_LENGTH"])
    if status not in PostStatus.values:
        raise InvalidInput(f"Unknown post status {status!r}.", field="status")
    if guest_number is not None and not is_guest:
        raise InvalidInput("Only guest posts have a guest number.", field="guest_number")
    if guest_number is not None and (
        Post.objects.filter(blog=blog, guest_number=guest_number).exists()
    ):
        raise InvalidInput(
            f"Guest Blog {guest_number} exists already on this blog.", field="guest_number"
        )
    if status == PostStatus.PUBLISHED and published_at is None:
        published_at = timezone.now()
    if author is not None and author.is_authenticated:
        author_name = author.public_name
    else:
        author = None
    post = Post.objects.create(
        blog=blog,
        title=title,
        slug=_unique_post_slug(blog=blog, title=title),
        body=body,
        body_html=render(body, body_format),
        body_format=body_format,
        author=author,
        author_name=clean_name(author_name),
        status=status,
        published_at=published_at,
        is_guest=is_guest,
        guest_number=guest_number,
        import_key=import_key,
    )
    if status == PostStatus.PUBLISHED and import_key is None:
        events.record("post.published", post=post)
    return post


@transaction.atomic
def post_update(*, post: Post, changed: Iterable[str]) -> Post:
    """Save a post whose fields an editor (the admin) has just set. The body's
    HTML is rendered at write time, so a changed body is checked and re-rendered."""
    if "body" in changed or not post.body_html:
        post.body = clean_text(
            post.body, field="body", max_length=settings.FORUM["POST_MAX_LENGTH"]
        )
        post.body_html = render(post.body, post.body_format)
    if post.status == PostStatus.PUBLISHED and post.published_at is None:
        post.published_at = timezone.now()
    post.save()
    thread_changed(post_id=post.pk)
    if "status" in changed and post.status == PostStatus.PUBLISHED:
        events.record("post.published", post=post)
    return post


def post_lock(*, post_id: int) -> Post:
    """Re-read a post under a row lock (inside a transaction), like ``comment_lock``."""
    post = Post.objects.select_for_update().filter(pk=post_id).first()
    if post is None:
        raise NotFound("No such post.")
    return post


def next_guest_number(*, blog_id: int) -> int:
    """The blog's next guest number. Call with the blog row locked (``post_set_status``)."""
    highest = Post.objects.filter(blog_id=blog_id).aggregate(n=Max("guest_number"))["n"]
    return (highest or 0) + 1


@transaction.atomic
def post_set_status(*, post: Post, status: str) -> Post:
    """Move a locked post (``post_lock``) to ``status``; the moderation services
    decide, this only applies. Publishing sets ``published_at`` to now, and a guest
    post without a number gets the blog's next ``guest_number``: the blog row is
    locked first, so concurrent publications take turns."""
    if status not in PostStatus.values:
        raise InvalidInput(f"Unknown post status {status!r}.", field="status")
    fields = ["status", "updated_at"]
    if status == PostStatus.PUBLISHED:
        fields.insert(1, "published_at")
        if post.is_guest and post.guest_number is None:
            Blog.objects.select_for_update().filter(pk=post.blog_id).values_list("pk").get()
            post.guest_number = next_guest_number(blog_id=post.blog_id)
            fields.append("guest_number")
        post.published_at = timezone.now()
    post.status = status
    post.save(update_fields=fields)
    thread_changed(post_id=post.pk)
    return post


@transaction.atomic
def posts_delete(*, posts: Iterable[Post]) -> None:
    """Delete posts (the admin), their comments and flags with them: their thread
    pages go too."""
    post_ids = [post.pk for post in posts]
    Post.objects.filter(pk__in=post_ids).delete()
    threads_changed(post_ids=post_ids)


@transaction.atomic
def guest_post_submit(
    *,
    blog: Blog,
    title: str,
    body: str,
    author_name: str,
    email: str = "",
    body_format: str = TextFormat.PLAIN,
    author: AnyUser = None,
) -> Post:
    """A reader submits a guest blog. It waits, ``pending``, for review; the
    submitter gets a token (``post.issued_edit_token``) to follow it. A logged-in
    ``author`` is recorded (their profile counts it once published); the name shown
    is the one given either way."""
    name = clean_name(author_name)
    if not name:
        raise InvalidInput("This field may not be blank.", field="author_name")
    refuse_reserved_name(name, field="author_name")
    post = post_create(
        blog=blog,
        title=title,
        body=body,
        author_name=name,
        status=PostStatus.PENDING,
        is_guest=True,
        body_format=body_format,
    )
    post.issued_edit_token, post.edit_token_hash = tokens.new_token()
    post.submitter_email = email
    post.author = author if author is not None and author.is_authenticated else None
    post.save(update_fields=["edit_token_hash", "submitter_email", "author"])
    events.record("guest_post.submitted", post=post)
    return post
