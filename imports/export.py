"""A blog's posts and public comment threads → a WordPress (WXR 1.2) or Disqus export,
so a community can leave with its data.

What is written is what the public sees: published posts, and the comments of the
public thread (approved; a removed comment only while it has public replies, written
as deleted (Disqus ``isDeleted``, WordPress ``trash``) and without its text), with
their parents, times and display names. Nothing else of anyone is in the file: no
e-mail, no IP hash, nothing held, rejected or marked as spam.

A post's address is where it came from (``Post.source_url``) or its API address under
``site_url``. A guest post carries "Guest Blog N" as its text's first line, which
``import_comments`` reads back. The file is written as it is read, post by post.
"""

from __future__ import annotations

import datetime
import email.utils
import html
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TextIO
from xml.sax.saxutils import escape, quoteattr

from forum.models import Blog, Comment, Post, PostStatus, public_comment_q

FORMATS = ("wordpress", "disqus")


@dataclass
class ExportReport:
    posts: int = 0
    comments: int = 0
    tombstones: int = 0


@dataclass(slots=True)
class _Row:
    id: int
    parent_id: int | None
    author_name: str
    body: str
    body_html: str
    removed: bool
    created_at: datetime.datetime


def _public_thread(post: Post) -> Iterator[_Row]:
    """The post's public comments in thread order, each under a shown parent (a
    hidden comment hides its subtree, as on the thread page)."""
    shown: set[int] = set()
    rows = (
        Comment.objects.filter(public_comment_q(), post=post)
        .order_by("path")
        .values_list(
            "id", "parent_id", "author_name", "body", "body_html", "removed_at", "created_at"
        )
    )
    for pk, parent_id, name, body, body_html, removed_at, created_at in rows.iterator(2000):
        if parent_id is not None and parent_id not in shown:
            continue
        shown.add(pk)
        yield _Row(pk, parent_id, name, body, body_html, removed_at is not None, created_at)


def _posts(blog: Blog) -> Iterator[Post]:
    return (
        Post.objects.filter(blog=blog, status=PostStatus.PUBLISHED)
        .order_by("published_at", "id")
        .iterator(200)
    )


def _link(post: Post, site_url: str) -> str:
    return post.source_url or f"{site_url.rstrip('/')}/api/posts/{post.pk}/"


def _post_text(post: Post) -> str:
    if post.is_guest and post.guest_number is not None:
        return f"Guest Blog {post.guest_number}\n{post.body}"
    return post.body


def _utc(moment: datetime.datetime) -> datetime.datetime:
    return moment.astimezone(datetime.UTC)


def _wp_time(moment: datetime.datetime) -> str:
    return _utc(moment).strftime("%Y-%m-%d %H:%M:%S")


def _iso(moment: datetime.datetime) -> str:
    return _utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def _x(value: object) -> str:
    return escape(str(value))


def export_blog(*, blog: Blog, out: TextIO, to: str, site_url: str) -> ExportReport:
    """Write ``blog`` to ``out`` as ``to`` ("wordpress" or "disqus")."""
    if to == "wordpress":
        return _wordpress(blog=blog, out=out, site_url=site_url)
    if to == "disqus":
        return _disqus(blog=blog, out=out, site_url=site_url)
    raise ValueError(f"unknown export format {to!r}")


def _wordpress(*, blog: Blog, out: TextIO, site_url: str) -> ExportReport:
    report = ExportReport()
    site = blog.source_url or site_url
    out.write(
        '<?xml version="1.0" encoding="UTF-8" ?>\n'
        '<rss version="2.0"\n'
        '\txmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"\n'
        '\txmlns:content="http://purl.org/rss/1.0/modules/content/"\n'
        '\txmlns:wfw="http://wellformedweb.org/CommentAPI/"\n'
        '\txmlns:dc="http://purl.org/dc/elements/1.1/"\n'
        '\txmlns:wp="http://wordpress.org/export/1.2/">\n<channel>\n'
        f"\t<title>{_x(blog.name)}</title>\n\t<link>{_x(site)}</link>\n"
        f"\t<description>{_x(blog.description)}</description>\n"
        "\t<wp:wxr_version>1.2</wp:wxr_version>\n"
        f"\t<wp:base_site_url>{_x(site)}</wp:base_site_url>\n"
        f"\t<wp:base_blog_url>{_x(site)}</wp:base_blog_url>\n"
    )
    for post in _posts(blog):
        report.posts += 1
        link = _link(post, site_url)
        out.write(
            f"\t<item>\n\t\t<title>{_x(post.title)}</title>\n\t\t<link>{_x(link)}</link>\n"
            f"\t\t<pubDate>{email.utils.format_datetime(_utc(post.published_at))}</pubDate>\n"
            f"\t\t<dc:creator>{_x(post.author_name)}</dc:creator>\n"
            f'\t\t<guid isPermaLink="false">{_x(link)}</guid>\n'
            f"\t\t<content:encoded>{_x(html.escape(_post_text(post), quote=False))}"
            "</content:encoded>\n"
            f"\t\t<wp:post_id>{post.pk}</wp:post_id>\n"
            f"\t\t<wp:post_date>{_wp_time(post.published_at)}</wp:post_date>\n"
            f"\t\t<wp:post_date_gmt>{_wp_time(post.published_at)}</wp:post_date_gmt>\n"
            f"\t\t<wp:post_name>{_x(post.slug)}</wp:post_name>\n"
            "\t\t<wp:status>publish</wp:status>\n\t\t<wp:post_type>post</wp:post_type>\n"
        )
        for row in _public_thread(post):
            report.comments += 1
            report.tombstones += row.removed
            text = "" if row.removed else html.escape(row.body, quote=False)
            out.write(
                "\t\t<wp:comment>\n"
                f"\t\t\t<wp:comment_id>{row.id}</wp:comment_id>\n"
                f"\t\t\t<wp:comment_author>{_x(row.author_name)}</wp:comment_author>\n"
                "\t\t\t<wp:comment_author_email></wp:comment_author_email>\n"
                "\t\t\t<wp:comment_author_IP></wp:comment_author_IP>\n"
                f"\t\t\t<wp:comment_date>{_wp_time(row.created_at)}</wp:comment_date>\n"
                f"\t\t\t<wp:comment_date_gmt>{_wp_time(row.created_at)}</wp:comment_date_gmt>\n"
                f"\t\t\t<wp:comment_content>{_x(text)}</wp:comment_content>\n"
                "\t\t\t<wp:comment_approved>"
                + ("trash" if row.removed else "1")
                + "</wp:comment_approved>\n"
                "\t\t\t<wp:comment_type>comment</wp:comment_type>\n"
                f"\t\t\t<wp:comment_parent>{row.parent_id or 0}</wp:comment_parent>\n"
                "\t\t\t<wp:comment_user_id>0</wp:comment_user_id>\n"
                "\t\t</wp:comment>\n"
            )
        out.write("\t</item>\n")
    out.write("</channel>\n</rss>\n")
    return report


def _disqus(*, blog: Blog, out: TextIO, site_url: str) -> ExportReport:
    """Disqus's layout: every thread first, then every post (comment)."""
    report = ExportReport()
    forum = _x(blog.slug)
    out.write(
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<disqus xmlns="http://disqus.com" '
        'xmlns:dsq="http://disqus.com/disqus-internals">\n'
        f'  <category dsq:id="1"><forum>{forum}</forum><title>General</title>'
        "<isDefault>true</isDefault></category>\n"
    )
    post_ids = []
    for post in _posts(blog):
        report.posts += 1
        post_ids.append(post.pk)
        out.write(
            f'  <thread dsq:id="{post.pk}">\n    <id>{_x(post.slug)}</id>\n'
            f"    <forum>{forum}</forum>\n"
            '    <category dsq:id="1"/>\n'
            f"    <link>{_x(_link(post, site_url))}</link>\n"
            f"    <title>{_x(post.title)}</title>\n"
            f"    <message>{_x(_post_html(post))}</message>\n"
            f"    <createdAt>{_iso(post.published_at)}</createdAt>\n"
            f"    <author><name>{_x(post.author_name)}</name>"
            f"<isAnonymous>{'false' if post.author_name else 'true'}</isAnonymous></author>\n"
            "    <isClosed>false</isClosed>\n    <isDeleted>false</isDeleted>\n  </thread>\n"
        )
    for post_id in post_ids:
        for row in _public_thread(Post(pk=post_id)):
            report.comments += 1
            report.tombstones += row.removed
            parent = f'    <parent dsq:id="{row.parent_id}"/>\n' if row.parent_id else ""
            out.write(
                f'  <post dsq:id="{row.id}">\n    <id/>\n'
                f"    <message>{_x('' if row.removed else row.body_html)}</message>\n"
                f"    <createdAt>{_iso(row.created_at)}</createdAt>\n"
                f"    <isDeleted>{'true' if row.removed else 'false'}</isDeleted>\n"
                "    <isSpam>false</isSpam>\n"
                f"    <author><name>{_x(row.author_name)}</name>"
                f"<isAnonymous>{'false' if row.author_name else 'true'}</isAnonymous></author>\n"
                f"    <thread dsq:id={quoteattr(str(post_id))}/>\n{parent}  </post>\n"
            )
    out.write("</disqus>\n")
    return report


def _post_html(post: Post) -> str:
    if post.is_guest and post.guest_number is not None:
        return f"<p>Guest Blog {post.guest_number}</p>{post.body_html}"
    return post.body_html
