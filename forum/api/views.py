"""Read endpoints (API.md, "Reading"). Views validate input, call one selector and
serialize; the querysets and the thread come from ``forum.selectors``."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from forum import selectors
from forum.api.filters import CommentFilter, PostFilter
from forum.api.pagination import PageNumberPagination
from forum.api.serializers import (
    BlogSerializer,
    CommentSerializer,
    PostSerializer,
    ThreadCommentSerializer,
)
from forum.permissions import is_moderator


class BlogListView(generics.ListAPIView):
    """Blogs by name, with their number of published posts."""

    serializer_class = BlogSerializer

    def get_queryset(self):
        return selectors.blog_list()


class BlogDetailView(generics.RetrieveAPIView):
    serializer_class = BlogSerializer
    lookup_field = "slug"

    def get_queryset(self):
        return selectors.blog_list()


class PostListView(generics.ListAPIView):
    """Published posts, newest first unless ``ordering`` says otherwise."""

    serializer_class = PostSerializer
    filterset_class = PostFilter

    def get_queryset(self):
        return selectors.post_list()


class PostDetailView(generics.RetrieveAPIView):
    """A published post (404 for any other)."""

    serializer_class = PostSerializer

    def get_queryset(self):
        return selectors.post_list()


class CommentListView(generics.ListAPIView):
    """Comments by post, in thread order (``ordering=created_at`` or ``-created_at``
    sorts by time instead). The public sees approved comments on published posts
    (removed ones only as tombstones, while they have visible replies); moderators
    see every comment and may filter by ``status``, which for anyone else may only
    be ``approved`` (400 otherwise)."""

    serializer_class = CommentSerializer
    filterset_class = CommentFilter

    def get_queryset(self):
        return selectors.comment_list(include_hidden=is_moderator(self.request.user))


class CommentDetailView(generics.RetrieveAPIView):
    """A comment the caller can see (moderators: any)."""

    serializer_class = CommentSerializer

    def get_queryset(self):
        return selectors.comment_list(include_hidden=is_moderator(self.request.user))


class PostThreadView(generics.GenericAPIView):
    """The public thread of a published post.

    Top-level comments oldest first, ``page_size`` per page; each carries its
    visible replies under ``replies``, nested to any depth, oldest first. A removed
    comment with visible replies appears as a tombstone (``removed: true``,
    ``body: null``).
    """

    serializer_class = ThreadCommentSerializer
    pagination_class = PageNumberPagination
    filter_backends: list = []

    @extend_schema(
        parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        responses=ThreadCommentSerializer(many=True),
    )
    def get(self, request: Request, pk: int) -> Response:
        paginator = self.paginator
        page_size = paginator.get_page_size(request)
        raw_page = request.query_params.get(paginator.page_query_param) or "1"
        if raw_page in paginator.last_page_strings:
            page = "last"
        else:
            try:
                page = int(raw_page)
            except ValueError:
                raise NotFound("Invalid page.") from None
        thread = selectors.thread_page(post_id=pk, page=page, page_size=page_size)

        url = request.build_absolute_uri()
        next_link = previous_link = None
        if thread.has_next:
            next_link = replace_query_param(url, paginator.page_query_param, thread.page + 1)
        if thread.has_previous:
            previous_link = (
                remove_query_param(url, paginator.page_query_param)
                if thread.page == 2
                else replace_query_param(url, paginator.page_query_param, thread.page - 1)
            )
        return Response(
            {
                "count": thread.count,
                "next": next_link,
                "previous": previous_link,
                "results": thread.results,
            }
        )
