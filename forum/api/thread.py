"""The thread read (``GET /api/posts/{id}/comments/``): its query parameters, cursors,
cached pages and the JSON it sends.

A page is rendered once with orjson and kept, as raw bytes with the version it was
rendered under, in the shared cache (``forum.thread_cache``); a request then costs
one cache round trip and the envelope around those bytes, with links made for its
own URL. Clients that accept gzip get the same page gzip-coded, from a tail
compressed once and cached with it (``forum.api.gzip_splice``; ``Vary:
Accept-Encoding``). The ``ETag`` names the version, so a client holding the current
page gets a 304 without a database query.
"""

import base64
import binascii
import re
from dataclasses import dataclass, replace
from typing import Literal

import orjson
from django.conf import settings
from django.http import HttpResponse, HttpResponseNotModified
from django.utils.cache import patch_vary_headers
from django.utils.http import parse_etags
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.utils.urls import remove_query_param, replace_query_param

from forum import errors, selectors, thread_cache, thread_page
from forum.api import gzip_splice
from forum.api.pagination import PageNumberPagination

CURSOR_PARAM = "cursor"
REPLIES_LIMIT_PARAM = "replies_limit"
SORT_PARAM = "sort"
MAX_REPLIES_LIMIT = 10_000
GZIP_MIN_BYTES = 200  # smaller pages go uncompressed, as with Django's GZipMiddleware

# The page variants kept in the cache: the first pages by number and the first
# cursor page, at the default page size, with no replies_limit or one of a few.
# Any other variant is rendered for its request and not kept, so a post holds at
# most MAX_CACHED_PAGES pages however many variants are asked for.
CACHED_PAGES = (1, 2, 3)
CACHED_REPLIES_LIMITS = (None, 0, 5)
# ... under each sort: 4 pages x 3 replies_limits x 3 sorts.
MAX_CACHED_PAGES = (
    (len(CACHED_PAGES) + 1) * len(CACHED_REPLIES_LIMITS) * len(thread_page.SORTS)
)  # 36
# after/before, the sort (none: oldest; n: newest; t<score>.: top) and a top-level path.
_CURSOR = re.compile(r"([ab])(?:(n)|t(-?[0-9]{1,10})\.)?([0-9]{6})")
_SORT_LETTER = {None: "oldest", "n": "newest"}

SORT_PARAMETER = OpenApiParameter(
    SORT_PARAM,
    str,
    enum=list(thread_page.SORTS),
    description="The order of the top-level comments: `oldest` first (the default), "
    "`newest` first, or `top` (score, then oldest first). Replies are always oldest "
    "first under their parent. Pinned comments come first on page 1 under every sort.",
)

SCHEMA_PARAMETERS = [
    OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The post's id."),
    SORT_PARAMETER,
    OpenApiParameter(
        CURSOR_PARAM,
        str,
        description="Page by cursor instead of by number: an opaque value from the "
        "`next` or `previous` link of a cursor page. An empty `cursor=` asks for the "
        "first page; the links of a cursor page are cursors again. Cursors stay valid "
        "while the thread grows. A cursor names its sort: one made under another `sort`, "
        "or a malformed one, is 404.",
    ),
    OpenApiParameter(
        REPLIES_LIMIT_PARAM,
        {"type": "integer", "minimum": 0, "maximum": MAX_REPLIES_LIMIT},
        description="Send at most this many replies under each top-level comment: the "
        "first ones in display order, at any depth (0: top-level comments only). "
        "`reply_count` still counts every visible reply, so a comment whose `replies` "
        "is shorter than its `reply_count` has more to show.",
    ),
    OpenApiParameter(
        "If-None-Match",
        str,
        OpenApiParameter.HEADER,
        description="The `ETag` of a page already held: 304 when it is still current.",
    ),
    OpenApiParameter(
        "ETag",
        str,
        OpenApiParameter.HEADER,
        response=[200, 304],
        description="Changes whenever the page's content may have changed (the gzip-coded "
        "page has its own).",
    ),
    OpenApiParameter(
        "Content-Encoding",
        str,
        OpenApiParameter.HEADER,
        response=[200],
        description="`gzip` when the request's `Accept-Encoding` admits gzip (and the page "
        "is not tiny); absent otherwise.",
    ),
    OpenApiParameter(
        "Vary",
        str,
        OpenApiParameter.HEADER,
        response=[200, 304],
        description="Includes `Accept-Encoding`.",
    ),
]


@dataclass(frozen=True)
class ThreadQuery:
    page: int | Literal["last"] | None  # None: by cursor
    after: str | None
    before: str | None
    page_size: int
    replies_limit: int | None
    sort: str = thread_page.DEFAULT_SORT

    @property
    def cache_params(self) -> str | None:
        """The page's name in the cache, or ``None`` for a variant not kept there."""
        first_cursor_page = self.page is None and self.after is None and self.before is None
        if (
            (self.page in CACHED_PAGES or first_cursor_page)
            and self.page_size == settings.REST_FRAMEWORK["PAGE_SIZE"]
            and self.replies_limit in CACHED_REPLIES_LIMITS
        ):
            params = f"{'c' if first_cursor_page else self.page}:{self.replies_limit}"
            # The default order keeps the keys it always had.
            return params if self.sort == thread_page.DEFAULT_SORT else f"{params}:{self.sort}"
        return None


def encode_cursor(direction: str, path: str, sort: str = "oldest", score: int | None = 0) -> str:
    """A cursor: direction (``a``fter, ``b``efore), the sort, the position."""
    if sort == "newest":
        text = f"{direction}n{path}"
    elif sort == "top":
        text = f"{direction}t{score}.{path}"
    else:
        text = f"{direction}{path}"
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


def decode_cursor(value: str, sort: str = "oldest") -> tuple[str | None, str | None]:
    """(after, before) from a cursor; (None, None) for the empty cursor (page one).
    A cursor of another sort is refused like a malformed one."""
    if not value:
        return None, None
    try:
        text = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise NotFound("Invalid cursor.") from None
    match = _CURSOR.fullmatch(text)
    if not match:
        raise NotFound("Invalid cursor.")
    direction, newest, score, path = match.groups()
    named = "top" if score is not None else _SORT_LETTER[newest]
    if named != sort:
        raise NotFound("Invalid cursor: it was made for another sort.")
    key = f"{int(score)}.{path}" if score is not None else path
    return (key, None) if direction == "a" else (None, key)


def parse_sort(request: Request) -> str:
    sort = request.query_params.get(SORT_PARAM) or thread_page.DEFAULT_SORT
    if sort not in thread_page.SORTS:
        raise ValidationError({SORT_PARAM: [f"One of: {', '.join(thread_page.SORTS)}."]})
    return sort


def parse_query(request: Request, paginator: PageNumberPagination) -> ThreadQuery:
    params = request.query_params
    page_size = paginator.get_page_size(request)
    raw_limit = params.get(REPLIES_LIMIT_PARAM)
    replies_limit = None
    if raw_limit is not None:
        try:
            replies_limit = int(raw_limit)
        except ValueError:
            replies_limit = -1
        if not 0 <= replies_limit <= MAX_REPLIES_LIMIT:
            raise ValidationError(
                {REPLIES_LIMIT_PARAM: [f"An integer from 0 to {MAX_REPLIES_LIMIT} is required."]}
            )
    sort = parse_sort(request)
    if CURSOR_PARAM in params:
        after, before = decode_cursor(params[CURSOR_PARAM], sort)
        return ThreadQuery(None, after, before, page_size, replies_limit, sort)
    raw_page = params.get(paginator.page_query_param) or "1"
    if raw_page in paginator.last_page_strings:
        page: int | Literal["last"] = "last"
    else:
        try:
            page = int(raw_page)
        except ValueError:
            raise NotFound("Invalid page.") from None
    return ThreadQuery(page, None, None, page_size, replies_limit, sort)


@dataclass(frozen=True, slots=True)
class CachedPage:
    """A rendered page as the cache keeps it: one bytes value, laid out as

        header (JSON array, one line) \n results (JSON) gzip tail (optional)

    The header names the version the page was rendered under, what the links and
    ``count`` need, the sizes of the two parts and the gzip tail's CRC data
    (``forum.api.gzip_splice``). The results are sent as they are, never parsed."""

    version: str
    count: int
    page: int | None
    has_next: bool
    has_previous: bool
    first_path: str | None
    last_path: str | None
    results: bytes
    gzip_tail: gzip_splice.Tail | None = None
    first_score: int | None = None  # where the page starts and ends under sort=top
    last_score: int | None = None

    def to_bytes(self) -> bytes:
        tail = self.gzip_tail
        header = orjson.dumps(
            [
                self.version,
                self.count,
                self.page,
                self.has_next,
                self.has_previous,
                self.first_path,
                self.last_path,
                len(self.results),
                None if tail is None else [len(tail.deflated), tail.size, tail.crc, tail.shift],
                self.first_score,
                self.last_score,
            ]
        )
        parts = [header, b"\n", self.results]
        if tail is not None:
            parts.append(tail.deflated)
        return b"".join(parts)

    @classmethod
    def from_bytes(cls, raw: bytes) -> "CachedPage | None":
        """The page, or None for anything else (a value of another layout). Its parts
        are bytes of their own (copied once here: a process keeps the decoded page,
        ``thread_cache.local_pages``, and sends them as they are on every request)."""
        try:
            end = raw.index(b"\n")
            header = orjson.loads(raw[:end])
            (version, count, page, has_next, has_previous, first, last, size, gz, *scores) = header
        except (ValueError, TypeError, orjson.JSONDecodeError):
            return None
        start = end + 1
        # Every field of the layout it was written in, or not a page: bytes of any
        # other making (another release's layout, a damaged value) are never sent.
        if not (
            isinstance(version, str)
            and _is_int(count)
            and _is_int(size)
            and (page is None or _is_int(page))
            and all(score is None or _is_int(score, signed=True) for score in scores)
            and isinstance(has_next, bool)
            and isinstance(has_previous, bool)
            and all(path is None or isinstance(path, str) for path in (first, last))
            and len(scores) in (0, 2)
            and (gz is not None or start + size == len(raw))
        ):
            return None
        view = memoryview(raw)
        tail = None
        if gz is not None:
            if not (
                isinstance(gz, list)
                and len(gz) == 4
                and all(_is_int(value) for value in gz[:3])
                and start + size + gz[0] == len(raw)
                and gz[1] == size + 1  # the results and the closing brace
                and isinstance(gz[3], list)
                and len(gz[3]) == 32
                and all(_is_int(value) for value in gz[3])
            ):
                return None
            deflated = bytes(view[start + size :])
            tail = gzip_splice.Tail(deflated, gz[1], gz[2], tuple(gz[3]))
        return cls(
            version,
            count,
            page,
            has_next,
            has_previous,
            first,
            last,
            bytes(view[start : start + size]),
            tail,
            *(scores or (None, None)),
        )


def _is_int(value: object, *, signed: bool = False) -> bool:
    """An int (not a bool), not negative unless ``signed``."""
    return type(value) is int and (signed or value >= 0)


def _render(post_id: int, query: ThreadQuery, version: str) -> CachedPage:
    thread = thread_page.thread_page(
        post_id=post_id,
        page_size=query.page_size,
        page=query.page,
        after=query.after,
        before=query.before,
        replies_limit=query.replies_limit,
        sort=query.sort,
    )
    top = query.sort == "top"
    return CachedPage(
        version,
        thread.count,
        thread.page,
        thread.has_next,
        thread.has_previous,
        thread.first_path,
        thread.last_path,
        orjson.dumps(thread.results),
        first_score=thread.first_score if top else None,
        last_score=thread.last_score if top else None,
    )


def _links(
    url: str, query: ThreadQuery, page: CachedPage, paginator: PageNumberPagination
) -> tuple[str | None, str | None]:
    number, has_next, has_previous = page.page, page.has_next, page.has_previous
    first_path, last_path = page.first_path, page.last_path
    next_link = previous_link = None
    if number is None:  # by cursor
        base = remove_query_param(url, paginator.page_query_param)
        if has_next and last_path is not None:
            cursor = encode_cursor("a", last_path, query.sort, page.last_score)
            next_link = replace_query_param(base, CURSOR_PARAM, cursor)
        if has_previous and first_path is not None:
            cursor = encode_cursor("b", first_path, query.sort, page.first_score)
            previous_link = replace_query_param(base, CURSOR_PARAM, cursor)
        return next_link, previous_link
    page_param = paginator.page_query_param
    if has_next:
        next_link = replace_query_param(url, page_param, number + 1)
    if has_previous:
        previous_link = (
            remove_query_param(url, page_param)
            if number == 2
            else replace_query_param(url, page_param, number - 1)
        )
    return next_link, previous_link


def _held_etags(request: Request) -> list[str]:
    header = request.headers.get("If-None-Match")
    return [tag.removeprefix("W/") for tag in parse_etags(header)] if header else []


def _gzip_etag(etag: str) -> str:
    """The strong ETag of the gzip-coded page: another representation, another tag."""
    return etag[:-1] + '-gzip"'


def _not_modified(etag: str) -> HttpResponseNotModified:
    response = HttpResponseNotModified()
    response["ETag"] = etag
    patch_vary_headers(response, ["Accept-Encoding"])
    return response


class _PartsResponse(HttpResponse):
    """A JSON response sent as the parts it is made of, one after another, never
    joined: a cached page's results (hundreds of kilobytes) go out as the bytes the
    process keeps, with no copy of them per request. Its length is known up front;
    reading ``content`` (tests, middleware) joins them as for any response."""

    def __init__(self, parts: tuple[bytes, ...]) -> None:
        super().__init__(content_type="application/json")
        # HttpResponse sends and joins what its container holds, as given.
        self._container = list(parts)
        self["Content-Length"] = str(sum(len(part) for part in parts))


def thread_response(request: Request, post_id: int, paginator: PageNumberPagination):
    """The thread page the request asks for: 200 with the page (from the cache when
    it holds it, gzip-coded when the client accepts it), or 304 when the caller's
    ``If-None-Match`` is current.

    A request costs one cache round trip when the page is cached (the version and
    the page in one ``MGET``, or the version alone when this process holds the
    page); a conditional request reads the version alone first, so that a 304 does
    not fetch the page. The gzip body is compressed once per page and version (the
    first time a client accepts it) and cached with the page; pages that are not
    cached (caching off, or a variant not kept) are sent uncompressed.
    """
    query = parse_query(request, paginator)
    held = _held_etags(request)
    if "*" in held and not selectors.post_is_published(post_id=post_id):
        raise NotFound("Post not found.")  # "*" matches only a thread that exists
    url = request.build_absolute_uri()
    params = query.cache_params
    use_gzip = (
        params is not None
        and thread_cache.enabled()
        and gzip_splice.accepts_gzip(request.headers.get("Accept-Encoding"))
    )
    page = None
    if held or params is None:
        version = thread_cache.current(post_id)
    else:
        version, page = thread_cache.version_and_page(post_id, params, decode=CachedPage.from_bytes)
    created = version is None
    if created:
        version = thread_cache.create(post_id)
    etag = thread_cache.etag(post_id, version, url)
    if held:
        if "*" in held or etag in held or _gzip_etag(etag) in held:
            return _not_modified(_gzip_etag(etag) if use_gzip else etag)
        if params is not None and not created:
            raw = thread_cache.shared_page(post_id, params)
            page = None if raw is None else CachedPage.from_bytes(raw)

    if page is None or page.version != version:
        try:
            page = _render(post_id, query, version)
        except errors.NotFound:
            if created:  # no key outlives a request for a post the public cannot read
                thread_cache.bump(post_id)
            raise
        if use_gzip and len(page.results) >= GZIP_MIN_BYTES:
            page = replace(page, gzip_tail=gzip_splice.compress_tail(page.results, b"}"))
        if params is not None:
            thread_cache.store_page(post_id, params, page.to_bytes(), page)
    elif use_gzip and page.gzip_tail is None and len(page.results) >= GZIP_MIN_BYTES:
        page = replace(page, gzip_tail=gzip_splice.compress_tail(page.results, b"}"))
        thread_cache.store_page(post_id, params, page.to_bytes(), page)

    next_link, previous_link = _links(url, query, page, paginator)
    prefix = b"".join(
        (
            b'{"count":',
            str(page.count).encode(),
            b',"next":',
            orjson.dumps(next_link),
            b',"previous":',
            orjson.dumps(previous_link),
            b',"results":',
        )
    )
    if use_gzip and page.gzip_tail is not None:
        response = _PartsResponse(gzip_splice.gzip_parts(prefix, page.gzip_tail))
        response["Content-Encoding"] = "gzip"
        response["ETag"] = _gzip_etag(etag)
    else:
        response = _PartsResponse((prefix, page.results, b"}"))
        response["ETag"] = etag
    patch_vary_headers(response, ["Accept-Encoding"])
    response["Cache-Control"] = "no-cache"  # may be stored, but revalidated each time
    return response
