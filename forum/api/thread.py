"""The thread read (``GET /api/posts/{id}/comments/``): its query parameters, cursors,
cached pages and the JSON it sends.

A page is rendered once with orjson and kept, as bytes, in the shared cache under
the post's version (``forum.thread_cache``); a request then costs two cache reads
and the envelope around those bytes, with links made for its own URL. The
``ETag`` names the version, so a client holding the current page gets a 304
without a database query.
"""

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Literal

import orjson
from django.conf import settings
from django.http import HttpResponse, HttpResponseNotModified
from django.utils.http import parse_etags
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.utils.urls import remove_query_param, replace_query_param

from forum import errors, selectors, thread_cache, thread_page
from forum.api.pagination import PageNumberPagination

CURSOR_PARAM = "cursor"
REPLIES_LIMIT_PARAM = "replies_limit"
SORT_PARAM = "sort"
MAX_REPLIES_LIMIT = 10_000

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
        description="Changes whenever the page's content may have changed.",
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


def _links(
    url: str, query: ThreadQuery, entry: tuple, paginator: PageNumberPagination
) -> tuple[str | None, str | None]:
    _count, number, has_next, has_previous, first_path, last_path, _results = entry[:7]
    first_score, last_score = entry[7:9] if len(entry) > 7 else (None, None)
    next_link = previous_link = None
    if number is None:  # by cursor
        base = remove_query_param(url, paginator.page_query_param)
        if has_next and last_path is not None:
            cursor = encode_cursor("a", last_path, query.sort, last_score)
            next_link = replace_query_param(base, CURSOR_PARAM, cursor)
        if has_previous and first_path is not None:
            cursor = encode_cursor("b", first_path, query.sort, first_score)
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


def thread_response(request: Request, post_id: int, paginator: PageNumberPagination):
    """The thread page the request asks for: 200 with the page (from the cache when
    it holds it), or 304 when the caller's ``If-None-Match`` is current."""
    query = parse_query(request, paginator)
    held = _held_etags(request)
    if "*" in held and not selectors.post_is_published(post_id=post_id):
        raise NotFound("Post not found.")  # "*" matches only a thread that exists
    version = thread_cache.current(post_id)
    created = version is None
    if created:
        version = thread_cache.create(post_id)
    url = request.build_absolute_uri()
    etag = thread_cache.etag(post_id, version, url)
    if "*" in held or etag in held:
        response = HttpResponseNotModified()
        response["ETag"] = etag
        return response

    params = query.cache_params
    key = thread_cache.page_key(post_id, version, params) if params is not None else None
    entry = thread_cache.get_page(key) if key is not None else None
    if entry is None:
        try:
            thread = thread_page.thread_page(
                post_id=post_id,
                page_size=query.page_size,
                page=query.page,
                after=query.after,
                before=query.before,
                replies_limit=query.replies_limit,
                sort=query.sort,
            )
        except errors.NotFound:
            if created:  # no key outlives a request for a post the public cannot read
                thread_cache.bump(post_id)
            raise
        entry = (
            thread.count,
            thread.page,
            thread.has_next,
            thread.has_previous,
            thread.first_path,
            thread.last_path,
            orjson.dumps(thread.results),
        )
        if query.sort == "top":
            entry += (thread.first_score, thread.last_score)
        if key is not None:
            thread_cache.set_page(key, entry)

    next_link, previous_link = _links(url, query, entry, paginator)
    body = b"".join(
        (
            b'{"count":',
            str(entry[0]).encode(),
            b',"next":',
            orjson.dumps(next_link),
            b',"previous":',
            orjson.dumps(previous_link),
            b',"results":',
            entry[6],
            b"}",
        )
    )
    response = HttpResponse(body, content_type="application/json")
    response["ETag"] = etag
    response["Cache-Control"] = "no-cache"  # may be stored, but revalidated each time
    return response
