"""Readers of the four export formats: a file → an ``Export`` (posts, comments,
skipped entries), with nothing written. ``read_export`` recognises the format from
the document element (``--from auto``).

What each reader keeps of a comment: its source id (the import key), its post, its
parent, the time, the text (``imports.html``), the status mapped onto ours, the
author's display name (none for anonymous commenters), and the IP address only as
the forum's keyed hash (``forum.identity.ip_hash``, what the live API stores, so
bans and flags work across imported and new comments). E-mail addresses, profile
URLs and account ids are read past and never stored: none of them is shown, none
is verified (anyone could type anyone's address into a comment form, so they must
not link a comment to an account of ours), and data we do not use is data we must
not keep.
"""

from __future__ import annotations

import datetime
import email.utils
import hashlib
import ipaddress
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from forum.bulk import CommentRecord, PostRecord
from forum.identity import ip_hash
from forum.models import CommentStatus
from imports.html import html_to_text
from imports.xmlstream import ImportFileError, records, text

FORMATS = ("blogger", "disqus", "wordpress")

ATOM = "http://www.w3.org/2005/Atom"
THR = "http://purl.org/syndication/thread/1.0"
GD = "http://schemas.google.com/g/2005"
BLOGGER_2018 = "http://schemas.google.com/blogger/2018"
APP = "http://purl.org/atom/app#"
KIND_SCHEME = "http://schemas.google.com/g/2005#kind"
DISQUS = "http://disqus.com"
DSQ = "http://disqus.com/disqus-internals"
WP_PREFIX = "http://wordpress.org/export/"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
DC = "http://purl.org/dc/elements/1.1/"

ANONYMOUS_NAMES = frozenset({"anonymous", "anonyme", "anónimo", "anonym", "anonimo"})
EMPTY_COMMENT = "[no text]"
GUEST_BLOG = re.compile(r"^\s*Guest Blog (\d{1,6})\b")
KEY_MAX = 100


@dataclass
class Export:
    """What a file holds, ready for ``forum.bulk.import_threads``."""

    format: str
    site_key: str
    site_title: str
    site_url: str
    posts: list[PostRecord] = field(default_factory=list)
    comments: list[CommentRecord] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)


def key(*parts: str) -> str:
    """An import key from its parts; too long for the column: hashed, same prefix."""
    joined = ":".join(parts)
    if len(joined) <= KEY_MAX:
        return joined
    return f"{parts[0]}:sha256:{hashlib.sha256(joined.encode()).hexdigest()[:40]}"


def _tag(element) -> tuple[str, str]:
    """(namespace, local name) of an element."""
    tag = element.tag
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    return "", tag


def detect(path: Path) -> str:
    """The format of the file, from its document element."""
    with path.open("rb") as handle:
        return _detect(handle)


def _detect(handle) -> str:
    for kind, root in records(handle, depth=1):
        if kind != "root":
            break
        namespace, local = _tag(root)
        if namespace == ATOM and local == "feed":
            return "blogger"
        if namespace == DISQUS and local == "disqus":
            return "disqus"
        if local == "rss":
            return "wordpress"
        raise ImportFileError(
            f"not an export this command reads: the document is <{local}>"
            + (f" in {namespace}" if namespace else "")
            + " (expected a Blogger Atom feed, a Disqus export or a WordPress WXR file)",
            line=root.sourceline,
        )
    raise ImportFileError("the file holds no XML document")


class _Progress:
    """A binary file that reports how far it has been read."""

    def __init__(self, handle, report: Callable[[int], None]) -> None:
        self.handle, self.report, self.done = handle, report, 0

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.done += len(data)
        self.report(self.done)
        return data


def read_export(
    path: Path, *, fmt: str = "auto", progress: Callable[[int], None] | None = None
) -> Export:
    """Read ``path`` as ``fmt`` (or the format it is in); ``progress`` is told the
    bytes read so far as the file streams through."""
    found = detect(path)
    if fmt not in ("auto", found):
        raise ImportFileError(f"this is a {found} export, not {fmt} (see --from)")
    fmt = found
    reader: Callable[..., Export] = {
        "blogger": read_blogger,
        "disqus": read_disqus,
        "wordpress": read_wordpress,
    }[fmt]
    with path.open("rb") as handle:
        return reader(_Progress(handle, progress) if progress else handle)


# --- shared pieces -----------------------------------------------------------


def parse_time(value: str, *, line: int, what: str) -> datetime.datetime:
    """An ISO 8601 time (a zone, or UTC), an RFC 822 one, or WordPress's
    ``YYYY-MM-DD HH:MM:SS`` (UTC)."""
    value = value.strip()
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            raise ImportFileError(f"{what}: not a time: {value[:40]!r}", line=line) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment


def hashed_ip(value: str) -> str:
    """The keyed hash of an address, as the live API stores it; "" when there is none."""
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return ""
    return ip_hash(str(address))


def author_name(name: str) -> str:
    """The display name; none for anonymous commenters (also where a platform writes
    "Anonymous" for them)."""
    name = " ".join(name.split())
    return "" if name.lower() in ANONYMOUS_NAMES else name[:80]


def post_fields(title: str, body: str, *, url: str) -> tuple[str, str, int | None]:
    """Title, body text and guest number of a post. "Guest Blog N" as the title's start
    or as the body's first line makes it guest post N (that line leaves the body, as
    with the seeds)."""
    number = None
    first, _, rest = body.partition("\n")
    match = GUEST_BLOG.match(first)
    if match and not first[match.end() :].strip():
        number, body = int(match.group(1)), rest.strip()
    match = GUEST_BLOG.match(title)
    if match:
        number = int(match.group(1))
    title = " ".join(title.split())[:300]
    if not title:
        words = " ".join(body.split())
        title = (words[:77] + "...") if len(words) > 80 else (words or "Untitled post")
    if not body:
        body = url or title
    return title, body, number


def comment_body(value: str, *, keep_newlines: bool = False) -> str:
    return html_to_text(value, keep_newlines=keep_newlines) or EMPTY_COMMENT


def _site_name(url: str) -> str:
    return urlsplit(url).netloc or url


# --- Blogger (classic Atom export and Takeout feed.atom) ----------------------

_BLOGGER_ID = re.compile(r"(?:blog-(\d+))?(?:\.(?:post|page)-)?(\d+)\s*$")


def _blogger_id(value: str) -> tuple[str, str]:
    """(blog id or "", item id) of ``tag:blogger.com,1999:blog-B.post-P`` or ``P``."""
    match = _BLOGGER_ID.search(value.strip())
    if not match:
        return "", ""
    return match.group(1) or "", match.group(2)


@dataclass(slots=True)
class _BloggerItem:
    kind: str
    item_id: str
    line: int
    title: str = ""
    html: str = ""
    published: str = ""
    url: str = ""
    author: str = ""
    post_id: str = ""
    parent_id: str = ""
    status: str = CommentStatus.APPROVED
    removed: bool = False
    removed_at: str = ""


def _link(element, rel: str) -> str:
    for link in element.iterfind(f"{{{ATOM}}}link"):
        if link.get("rel") == rel and (rel != "alternate" or "html" in link.get("type", "html")):
            return link.get("href", "")
    return ""


def read_blogger(path) -> Export:
    """A Blogger export: the classic one (``blog-MM-DD-YYYY.xml``: kinds in
    ``category``, replies in ``link rel=related``) or Takeout's ``feed.atom``
    (``blogger:type``, ``blogger:parent``, ``blogger:inReplyTo``)."""
    export = Export(format="blogger", site_key="", site_title="", site_url="")
    items: list[_BloggerItem] = []
    blog_id = ""
    takeout = False
    for kind, element in records(path, depth=1):
        if kind == "root":
            continue
        namespace, local = _tag(element)
        if namespace != ATOM:
            continue
        if local == "id":
            blog_id = blog_id or _blogger_id(element.text or "")[0]
        elif local == "title":
            export.site_title = " ".join((element.text or "").split())
        elif local == "link" and element.get("rel") == "alternate":
            export.site_url = element.get("href", "")
        elif local == "entry":
            if element.find(f"{{{BLOGGER_2018}}}type") is not None:
                takeout = True
                item = _takeout_item(element)
            else:
                item = _classic_item(element)
            entry_blog, _ = _blogger_id(text(element, f"{{{ATOM}}}id"))
            blog_id = blog_id or entry_blog
            if item.kind in ("post", "comment"):
                items.append(item)
            else:
                export.skipped[item.kind] += 1
    if takeout:
        export.format = "blogger-takeout"
    if not blog_id:
        blog_id = "sha-" + hashlib.sha256(export.site_title.encode()).hexdigest()[:16]
    export.site_key = key("blogger", blog_id)
    export.site_title = export.site_title or f"Blogger blog {blog_id}"
    _blogger_records(export, items, blog_id=blog_id)
    return export


def _classic_item(entry) -> _BloggerItem:
    line = entry.sourceline
    kind = "entry"
    for category in entry.iterfind(f"{{{ATOM}}}category"):
        if category.get("scheme") == KIND_SCHEME:
            kind = category.get("term", "").rpartition("#")[2] or "entry"
    _, item_id = _blogger_id(text(entry, f"{{{ATOM}}}id"))
    item = _BloggerItem(kind=kind, item_id=item_id, line=line)
    if kind not in ("post", "comment"):
        return item
    if not item_id:
        raise ImportFileError("entry without a Blogger id", line=line)
    item.title = text(entry, f"{{{ATOM}}}title")
    item.html = text(entry, f"{{{ATOM}}}content")
    item.published = text(entry, f"{{{ATOM}}}published")
    item.url = _link(entry, "alternate")
    item.author = text(entry, f"{{{ATOM}}}author/{{{ATOM}}}name")
    if kind == "post":
        if text(entry, f"{{{APP}}}control/{{{APP}}}draft").strip() == "yes":
            item.kind = "draft post"
        return item
    reply_to = entry.find(f"{{{THR}}}in-reply-to")
    if reply_to is None:
        raise ImportFileError("comment without thr:in-reply-to (its post)", line=line)
    item.post_id = _blogger_id(reply_to.get("ref", ""))[1]
    related = _link(entry, "related")
    if related:
        item.parent_id = related.rstrip("/").rpartition("/")[2]
    for prop in entry.iterfind(f"{{{GD}}}extendedProperty"):
        if prop.get("name") == "blogger.contentRemoved" and prop.get("value") == "true":
            item.removed = True
    return item


_TAKEOUT_KINDS = {"POST": "post", "COMMENT": "comment", "PAGE": "page"}
_TAKEOUT_STATUS = {
    "LIVE": CommentStatus.APPROVED,
    "SPAM_COMMENT": CommentStatus.SPAM,
    "DRAFT": CommentStatus.PENDING,
}


def _takeout_item(entry) -> _BloggerItem:
    line = entry.sourceline
    raw_kind = text(entry, f"{{{BLOGGER_2018}}}type").strip().upper()
    kind = _TAKEOUT_KINDS.get(raw_kind, raw_kind.lower() or "entry")
    _, item_id = _blogger_id(text(entry, f"{{{ATOM}}}id"))
    item = _BloggerItem(kind=kind, item_id=item_id, line=line)
    if kind not in ("post", "comment"):
        return item
    if not item_id:
        raise ImportFileError("entry without a Blogger id", line=line)
    status = text(entry, f"{{{BLOGGER_2018}}}status").strip().upper()
    trashed = text(entry, f"{{{BLOGGER_2018}}}trashed").strip()
    item.title = text(entry, f"{{{ATOM}}}title")
    item.html = text(entry, f"{{{ATOM}}}content")
    item.published = text(entry, f"{{{ATOM}}}published") or text(
        entry, f"{{{BLOGGER_2018}}}created"
    )
    author = entry.find(f"{{{ATOM}}}author")
    anonymous = author is not None and (
        text(author, f"{{{BLOGGER_2018}}}type").strip().upper() == "ANONYMOUS"
    )
    item.author = "" if anonymous or author is None else text(author, f"{{{ATOM}}}name")
    if kind == "post":
        item.url = _link(entry, "alternate") or text(entry, f"{{{BLOGGER_2018}}}filename").strip()
        if trashed:
            item.kind = "trashed post"
        elif status != "LIVE":
            item.kind = f"{status.lower() or 'unpublished'} post"
        return item
    item.post_id = _blogger_id(text(entry, f"{{{BLOGGER_2018}}}parent"))[1]
    if not item.post_id:
        raise ImportFileError("comment without blogger:parent (its post)", line=line)
    item.parent_id = _blogger_id(text(entry, f"{{{BLOGGER_2018}}}inReplyTo"))[1]
    item.status = _TAKEOUT_STATUS.get(status, CommentStatus.PENDING)
    if trashed:
        item.removed, item.removed_at = True, trashed
    return item


def _blogger_records(export: Export, items: list[_BloggerItem], *, blog_id: str) -> None:
    post_keys: dict[str, str] = {}
    for item in items:
        if item.kind != "post":
            continue
        title, body, number = post_fields(
            item.title, html_to_text(item.html), url=_absolute(export.site_url, item.url)
        )
        record = PostRecord(
            key=key("blogger", blog_id, item.item_id),
            title=title,
            body=body,
            published_at=parse_time(item.published, line=item.line, what="published"),
            line=item.line,
            source_url=_absolute(export.site_url, item.url),
            guest_number=number,
        )
        post_keys[item.item_id] = record.key
        export.posts.append(record)
    for item in items:
        if item.kind != "comment":
            continue
        post_key = post_keys.get(item.post_id)
        if post_key is None:
            export.skipped["comment on a post not imported"] += 1
            continue
        removed_at = None
        if item.removed_at:
            try:
                removed_at = parse_time(item.removed_at, line=item.line, what="trashed")
            except ImportFileError:
                removed_at = None
        export.comments.append(
            CommentRecord(
                key=key("blogger", blog_id, item.item_id),
                post_key=post_key,
                parent_key=key("blogger", blog_id, item.parent_id) if item.parent_id else None,
                body=comment_body(item.html),
                created_at=parse_time(item.published, line=item.line, what="published"),
                author_name=author_name(item.author),
                status=item.status,
                removed=item.removed,
                removed_at=removed_at,
                line=item.line,
            )
        )


def _absolute(site_url: str, url: str) -> str:
    if not url or "://" in url or not site_url:
        return url
    return site_url.rstrip("/") + "/" + url.lstrip("/")


# --- Disqus --------------------------------------------------------------------


def _dsq_id(element) -> str:
    return (element.get(f"{{{DSQ}}}id") or "").strip() if element is not None else ""


def _true(value: str) -> bool:
    return value.strip().lower() in ("true", "1", "yes")


def read_disqus(path) -> Export:
    """A Disqus export: ``thread`` elements (the pages), then ``post`` elements
    (the comments) naming their thread and parent by ``dsq:id``."""
    export = Export(format="disqus", site_key="", site_title="", site_url="")
    threads: dict[str, dict] = {}
    thread_of: dict[int, str] = {}
    forum = ""
    d = f"{{{DISQUS}}}"
    for kind, element in records(path, depth=1):
        if kind == "root":
            continue
        _namespace, local = _tag(element)
        line = element.sourceline
        if local == "thread":
            thread_id = _dsq_id(element)
            if not thread_id:
                raise ImportFileError("thread without dsq:id", line=line)
            forum = forum or text(element, f"{d}forum").strip()
            threads[thread_id] = {
                "line": line,
                "link": text(element, f"{d}link").strip(),
                "title": text(element, f"{d}title"),
                "message": text(element, f"{d}message"),
                "created": text(element, f"{d}createdAt"),
                "deleted": _true(text(element, f"{d}isDeleted")),
                "comments": 0,
            }
        elif local == "post":
            _disqus_comment(export, element, thread_of)
        else:
            export.skipped[local] += 1
    kept = []
    for record in export.comments:
        thread = threads.get(thread_of[id(record)])
        if thread is None or thread["deleted"]:
            export.skipped["comment on a thread not imported"] += 1
        else:
            kept.append(record)
    export.comments = kept
    export.site_key = key("disqus", forum or "unknown")
    first_link = next((t["link"] for t in threads.values() if t["link"]), "")
    parts = urlsplit(first_link)
    export.site_url = f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""
    export.site_title = forum or _site_name(export.site_url) or "Disqus comments"
    wanted = {c.post_key for c in export.comments}
    for thread_id, thread in threads.items():
        post_key = key("disqus", "thread", thread_id)
        if post_key not in wanted:
            export.skipped["thread without comments" if not thread["deleted"] else "thread"] += 1
            continue
        title, body, number = post_fields(
            thread["title"], html_to_text(thread["message"]), url=thread["link"]
        )
        export.posts.append(
            PostRecord(
                key=post_key,
                title=title,
                body=body,
                published_at=parse_time(thread["created"], line=thread["line"], what="createdAt"),
                line=thread["line"],
                source_url=thread["link"],
                guest_number=number,
            )
        )
    return export


def _disqus_comment(export: Export, element, thread_of: dict[int, str]) -> None:
    """A Disqus post; its thread is checked once every thread is read (an export may
    list them in any order)."""
    d = f"{{{DISQUS}}}"
    line = element.sourceline
    comment_id = _dsq_id(element)
    if not comment_id:
        raise ImportFileError("post without dsq:id", line=line)
    children = {child.tag: child for child in reversed(element)}
    fields = {tag: child.text or "" for tag, child in children.items()}

    def field(name: str) -> str:
        return fields.get(d + name, "")

    thread_id = _dsq_id(children.get(f"{d}thread"))
    status = CommentStatus.APPROVED
    if _true(field("isSpam")):
        status = CommentStatus.SPAM
    elif field("isApproved").strip().lower() == "false":
        status = CommentStatus.PENDING
    parent_id = _dsq_id(children.get(f"{d}parent"))
    author = children.get(f"{d}author")
    record = CommentRecord(
        key=key("disqus", "post", comment_id),
        post_key=key("disqus", "thread", thread_id),
        parent_key=key("disqus", "post", parent_id) if parent_id else None,
        body=comment_body(field("message")),
        created_at=parse_time(field("createdAt"), line=line, what="createdAt"),
        author_name=author_name(text(author, f"{d}name") if author is not None else ""),
        status=status,
        removed=_true(field("isDeleted")),
        ip_hash=hashed_ip(field("ipAddress")),
        line=line,
    )
    thread_of[id(record)] = thread_id
    export.comments.append(record)


# --- WordPress WXR -------------------------------------------------------------

_WP_STATUS = {
    "1": (CommentStatus.APPROVED, False),
    "approve": (CommentStatus.APPROVED, False),
    "0": (CommentStatus.PENDING, False),
    "hold": (CommentStatus.PENDING, False),
    "spam": (CommentStatus.SPAM, False),
    "trash": (CommentStatus.APPROVED, True),
    "post-trashed": (CommentStatus.APPROVED, True),
}
_NO_DATE = "0000-00-00 00:00:00"


def read_wordpress(path) -> Export:
    """A WordPress export (WXR 1.0-1.2): the channel's ``item``s of type ``post`` with
    their ``wp:comment``s."""
    export = Export(format="wordpress", site_key="", site_title="", site_url="")
    wp = WP_PREFIX + "1.2/"
    base_url = ""
    # A post's comments come (inside its item) before the item is complete: they are
    # read one by one as they end, kept aside, and kept or skipped with their post.
    waiting: list[CommentRecord] = []
    inner = frozenset(f"{{{WP_PREFIX}{v}/}}comment" for v in ("1.0", "1.1", "1.2"))
    for kind, element in records(path, depth=2, inner=inner):
        if kind == "root":
            continue
        namespace, local = _tag(element)
        if kind == "inner":
            wp = namespace
            _wordpress_comment(export, element, waiting, w=f"{{{wp}}}")
        elif not namespace and local == "title" and not export.site_title:
            export.site_title = " ".join((element.text or "").split())
        elif not namespace and local == "link" and not export.site_url:
            export.site_url = (element.text or "").strip()
        elif namespace.startswith(WP_PREFIX) and local in ("base_blog_url", "base_site_url"):
            base_url = base_url or (element.text or "").strip()
        elif not namespace and local == "item":
            wp = _wp_namespace_of(element, wp)
            _wordpress_item(export, element, waiting, wp=wp)
            waiting = []
    site = export.site_url or base_url
    parts = urlsplit(site)
    export.site_key = key("wordpress", (parts.netloc + parts.path).rstrip("/").lower() or "site")
    export.site_url = site
    export.site_title = export.site_title or _site_name(site) or "WordPress blog"
    # Keys were made before the site's address was certain: make them now.
    prefix = export.site_key
    for post in export.posts:
        post.key = key(prefix, post.key)
    for comment in export.comments:
        comment.key = key(prefix, comment.key)
        comment.post_key = key(prefix, comment.post_key)
        if comment.parent_key:
            comment.parent_key = key(prefix, comment.parent_key)
    return export


def _wp_namespace_of(item, default: str) -> str:
    """WXR's namespace carries its version (``.../export/1.2/``): the items' own."""
    for child in item:
        namespace, _ = _tag(child)
        if namespace.startswith(WP_PREFIX):
            return namespace
    return default


def _wordpress_item(export: Export, item, comments: list[CommentRecord], *, wp: str) -> None:
    """A complete item; ``comments``: its comments, read already."""
    w = f"{{{wp}}}"
    line = item.sourceline
    fields = _children(item)
    post_type = fields.get(f"{w}post_type", "").strip() or "post"
    status = fields.get(f"{w}status", "").strip()
    if post_type != "post":
        export.skipped[post_type] += 1
        if comments:
            export.skipped[f"comment on a {post_type}"] += len(comments)
        return
    if status != "publish":
        export.skipped[f"{status or 'unpublished'} post"] += 1
        if comments:
            export.skipped["comment on a post not imported"] += len(comments)
        return
    post_id = fields.get(f"{w}post_id", "").strip()
    if not post_id:
        raise ImportFileError("item without wp:post_id", line=line)
    link = fields.get("link", "").strip()
    when = fields.get(f"{w}post_date_gmt", "").strip()
    if not when or when == _NO_DATE:
        when = fields.get(f"{w}post_date", "").strip() or fields.get("pubDate", "").strip()
    title, body, number = post_fields(
        fields.get("title", ""),
        html_to_text(fields.get(f"{{{CONTENT}}}encoded", ""), keep_newlines=True),
        url=link,
    )
    post_key = f"p{post_id}"
    export.posts.append(
        PostRecord(
            key=post_key,
            title=title,
            body=body,
            published_at=parse_time(when, line=line, what="wp:post_date_gmt"),
            line=line,
            source_url=link,
            author_name=author_name(fields.get(f"{{{DC}}}creator", "")),
            guest_number=number,
        )
    )
    for comment in comments:
        comment.post_key = post_key
    export.comments.extend(comments)


def _children(element) -> dict[str, str]:
    """The texts of an element's children by tag (the first of each): one pass,
    instead of a path search per field."""
    found: dict[str, str] = {}
    for child in element:
        found.setdefault(child.tag, child.text or "")
    return found


def _wordpress_comment(export: Export, comment, waiting: list[CommentRecord], *, w: str) -> None:
    line = getattr(comment, "sourceline", 1)
    fields = _children(comment)

    def field(name: str) -> str:
        return fields.get(w + name, "")

    comment_type = field("comment_type").strip() or "comment"
    if comment_type != "comment":
        export.skipped[comment_type] += 1
        return
    comment_id = field("comment_id").strip()
    if not comment_id:
        raise ImportFileError("wp:comment without wp:comment_id", line=line)
    approved = field("comment_approved").strip().lower()
    if approved not in _WP_STATUS:
        export.skipped[f"comment with status {approved[:20] or 'none'}"] += 1
        return
    status, removed = _WP_STATUS[approved]
    parent = field("comment_parent").strip()
    when = field("comment_date_gmt").strip()
    if not when or when == _NO_DATE:
        when = field("comment_date").strip()
    waiting.append(
        CommentRecord(
            key=f"c{comment_id}",
            post_key="",
            parent_key=f"c{parent}" if parent not in ("", "0") else None,
            body=comment_body(field("comment_content"), keep_newlines=True),
            created_at=parse_time(when, line=line, what="wp:comment_date_gmt"),
            author_name=author_name(field("comment_author")),
            status=status,
            removed=removed,
            ip_hash=hashed_ip(field("comment_author_IP")),
            line=line,
        )
    )
