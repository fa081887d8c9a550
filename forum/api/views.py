"""The forum's endpoints (API.md, "Reading" and "Writing"): blogs, posts, comments
and their threads, editing and withdrawing a comment, flags, guest posts.

Views validate input (``forum.api.inputs``), call one selector or service with ids
and plain values, and serialize: the querysets come from ``forum.selectors``, the
thread read from ``forum.api.thread``, every write from ``forum.services``, which
checks access itself (``forum.access.comment_access``)."""

from django.http import HttpResponseBase
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from forum import selectors, services, subscriptions
from forum.api import inputs, thread
from forum.api.filters import CommentFilter, PostFilter
from forum.api.openapi import (
    CONFLICT,
    EDIT_TOKEN_HEADER,
    FORBIDDEN,
    NOT_FOUND,
    THROTTLED,
)
from forum.api.pagination import PageNumberPagination
from forum.api.serializers import (
    BlogSerializer,
    CommentContextSerializer,
    CommentSerializer,
    CreatedCommentSerializer,
    FlagSerializer,
    GuestPostSerializer,
    MyVotesSerializer,
    OwnCommentSerializer,
    PostSerializer,
    ThreadCommentSerializer,
    VoteResultSerializer,
)
from forum.api.throttles import CommentThrottle, VoteThrottle, WriteThrottle
from forum.comment_context import comment_context
from forum.identity import client_ip, request_ip_hash, request_network_hash
from forum.permissions import is_comment_author, is_moderator

EDIT_TOKEN = "X-Edit-Token"  # noqa: S105 (a header name)


@extend_schema_view(get=extend_schema(operation_id="list_blogs"))
class BlogListView(generics.ListAPIView):
    """Blogs by name, with their number of published posts."""

    serializer_class = BlogSerializer

    def get_queryset(self):
        return selectors.blog_list()


@extend_schema_view(get=extend_schema(operation_id="get_blog"))
class BlogDetailView(generics.RetrieveAPIView):
    serializer_class = BlogSerializer
    lookup_field = "slug"

    def get_queryset(self):
        return selectors.blog_list()


@extend_schema_view(get=extend_schema(operation_id="list_posts"))
class PostListView(generics.ListAPIView):
    """Published posts, newest first unless ``ordering`` says otherwise."""

    serializer_class = PostSerializer
    filterset_class = PostFilter

    def get_queryset(self):
        return selectors.post_list()


@extend_schema_view(get=extend_schema(operation_id="get_post"))
class PostDetailView(generics.RetrieveAPIView):
    """A published post (404 for any other)."""

    serializer_class = PostSerializer

    def get_queryset(self):
        return selectors.post_list()


@extend_schema_view(get=extend_schema(operation_id="list_comments"))
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


class CommentDetailView(generics.GenericAPIView):
    """One comment. Its author (logged in, or holding its ``X-Edit-Token``) also
    sees it while it is held, with ``moderation_reasons``, and may edit or delete it
    within the edit window; moderators may at any time."""

    serializer_class = CommentSerializer

    def _comment(self, request: Request, pk: int):
        return selectors.comment_get_for_viewer(
            comment_id=pk, user=request.user, edit_token=request.headers.get(EDIT_TOKEN)
        )

    def _own_view(self, request: Request, comment) -> bool:
        return is_moderator(request.user) or is_comment_author(
            request.user, comment, request.headers.get(EDIT_TOKEN)
        )

    @extend_schema(
        operation_id="get_comment",
        parameters=[EDIT_TOKEN_HEADER],
        responses={200: OwnCommentSerializer, 404: NOT_FOUND},
        description="The public shape; authors and moderators also get moderation_reasons.",
    )
    def get(self, request: Request, pk: int) -> Response:
        comment = self._comment(request, pk)
        serializer = OwnCommentSerializer if self._own_view(request, comment) else CommentSerializer
        return Response(serializer(comment).data)

    @extend_schema(
        operation_id="update_comment",
        parameters=[EDIT_TOKEN_HEADER],
        request=inputs.CommentUpdateInput,
        responses={
            200: OwnCommentSerializer,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: CONFLICT,
        },
    )
    def patch(self, request: Request, pk: int) -> Response:
        data = inputs.validated(inputs.CommentUpdateInput, request.data)
        comment = services.comment_update(
            comment_id=pk,
            body=data["body"],
            body_format=data.get("format"),
            user=request.user,
            edit_token=request.headers.get(EDIT_TOKEN),
        )
        return Response(OwnCommentSerializer(comment).data)

    @extend_schema(
        operation_id="delete_comment",
        parameters=[EDIT_TOKEN_HEADER],
        responses={204: None, 403: FORBIDDEN, 404: NOT_FOUND},
        description="Leaves a tombstone 'removed by its author' while the comment has "
        "visible replies; hides it otherwise.",
    )
    def delete(self, request: Request, pk: int) -> Response:
        services.comment_remove_by_author(
            comment_id=pk,
            user=request.user,
            edit_token=request.headers.get(EDIT_TOKEN),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class CommentFlagView(generics.GenericAPIView):
    """Report a comment. One flag per reporter: a repeat answers 200 and changes nothing."""

    serializer_class = FlagSerializer

    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="flag_comment",
        request=inputs.FlagInput,
        responses={
            201: FlagSerializer,
            200: OpenApiResponse(FlagSerializer, description="Already flagged by you."),
            404: NOT_FOUND,
            429: THROTTLED,
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        data = inputs.validated(inputs.FlagInput, request.data)
        flag, created = services.flag_create(
            comment=self._public_comment(pk),
            reason=data["reason"],
            note=data["note"],
            user=request.user,
            ip_hash=request_ip_hash(request),
            network_hash=request_network_hash(request),
        )
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(FlagSerializer(flag).data, status=code)

    @staticmethod
    def _public_comment(pk: int):
        return selectors.comment_get_for_viewer(comment_id=pk, user=None, edit_token=None)


class GuestPostCreateView(generics.GenericAPIView):
    """Submit a guest blog for review. It is ``pending`` until a moderator decides."""

    serializer_class = GuestPostSerializer

    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="submit_guest_post",
        request=inputs.GuestPostInput,
        responses={201: GuestPostSerializer, 429: THROTTLED},
    )
    def post(self, request: Request) -> Response:
        data = inputs.validated(inputs.GuestPostInput, request.data)
        blog = selectors.blog_get(slug=data.pop("blog"))
        if blog is None:
            raise ValidationError({"blog": ["No such blog."]})
        post = services.guest_post_submit(
            blog=blog,
            title=data["title"],
            body=data["body"],
            author_name=data["author_name"],
            email=data.get("email", ""),
            body_format=data["format"],
            author=request.user,
        )
        return Response(GuestPostSerializer(post).data, status=status.HTTP_201_CREATED)


class GuestPostDetailView(generics.GenericAPIView):
    """A guest submission's state, for the submitter holding its ``X-Edit-Token``."""

    serializer_class = GuestPostSerializer

    @extend_schema(
        operation_id="get_guest_post",
        parameters=[EDIT_TOKEN_HEADER],
        responses={200: GuestPostSerializer, 404: NOT_FOUND},
    )
    def get(self, request: Request, pk: int) -> Response:
        post = selectors.guest_post_get_for_submitter(
            post_id=pk, edit_token=request.headers.get(EDIT_TOKEN)
        )
        return Response(GuestPostSerializer(post).data)


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

    throttle_classes = [CommentThrottle]

    @extend_schema(
        operation_id="create_comment",
        request=inputs.CommentCreateInput,
        responses={
            201: CreatedCommentSerializer,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: CONFLICT,
            429: THROTTLED,
        },
        description="Post a comment, or a reply with `parent`. Anonymous without "
        "`author_name`; under that name without an account; as the caller when logged "
        "in. `status` says whether it is published or held for moderation. `email` "
        "(posters without an account): mail me when someone replies; never shown, used "
        "only once confirmed through the link in a confirmation mail.",
    )
    def post(self, request: Request, pk: int) -> Response:
        data = inputs.validated(inputs.CommentCreateInput, request.data)
        post = selectors.post_for_new_comment(post_id=pk)
        parent = None
        if data.get("parent") is not None:
            parent = selectors.comment_for_reply(comment_id=data["parent"])
            if parent is None:
                raise ValidationError({"parent": ["No such comment."]})
        comment = subscriptions.comment_create_subscribed(
            email=data.get("email") or "",
            client_ip=client_ip(request),
            post=post,
            body=data["body"],
            parent=parent,
            author=request.user,
            author_name=data.get("author_name"),
            ip_hash=request_ip_hash(request),
            issue_edit_token=True,
            body_format=data["format"],
        )
        return Response(CreatedCommentSerializer(comment).data, status=status.HTTP_201_CREATED)

    def perform_authentication(self, request: Request) -> None:
        # A thread reads the same for everyone: a read does not look the caller up
        # (no session or token queries); posting authenticates as usual.
        if request.method not in ("GET", "HEAD"):
            super().perform_authentication(request)

    def perform_content_negotiation(self, request: Request, force: bool = False):
        # A read answers JSON bytes made by forum.api.thread (errors too): nothing
        # to negotiate.
        if request.method in ("GET", "HEAD"):
            return JSONRenderer(), JSONRenderer.media_type
        return super().perform_content_negotiation(request, force)

    @extend_schema(
        operation_id="get_thread",
        parameters=thread.SCHEMA_PARAMETERS,
        responses={
            200: ThreadCommentSerializer(many=True),
            304: OpenApiResponse(description="Not modified: the `If-None-Match` is current."),
            404: NOT_FOUND,
        },
        description="Pages by number (`page`, `page_size`) or by `cursor`. Rendered "
        "pages are cached until the thread changes; send the `ETag` back in "
        "`If-None-Match` to get 304 while the page is current.",
    )
    def get(self, request: Request, pk: int) -> HttpResponseBase:
        return thread.thread_response(request, pk, self.paginator)


class CommentVoteView(generics.GenericAPIView):
    """Vote on a public comment: ``1`` up, ``-1`` down, ``0`` takes the vote back.

    One vote per reader per comment (an account, or without one the keyed hash of
    the network, as for flags); changing it is allowed. Never on one's own comment
    (403); down-votes are refused (403) where the blog's policy has them off.
    Votes order the thread (``sort=top``) and never moderate."""

    serializer_class = VoteResultSerializer
    throttle_classes = [VoteThrottle]

    @extend_schema(
        request=inputs.VoteInput,
        responses={200: VoteResultSerializer, 403: FORBIDDEN, 404: NOT_FOUND, 429: THROTTLED},
    )
    def post(self, request: Request, pk: int) -> Response:
        data = inputs.validated(inputs.VoteInput, request.data)
        outcome = services.vote_cast(
            comment_id=pk, value=data["value"], user=request.user, ip_hash=request_ip_hash(request)
        )
        comment = outcome.comment
        return Response(
            VoteResultSerializer(
                {
                    "comment": comment.pk,
                    "score": comment.score,
                    "votes_up": comment.votes_up,
                    "votes_down": comment.votes_down,
                    "my_vote": outcome.my_vote,
                }
            ).data
        )


class PostMyVotesView(generics.GenericAPIView):
    """The caller's own votes on a post's comments (``my_vote`` for a whole thread):
    one indexed query, beside the thread pages, which are the same for everyone and
    cached."""

    serializer_class = MyVotesSerializer

    @extend_schema(responses={200: MyVotesSerializer, 404: NOT_FOUND})
    def get(self, request: Request, pk: int) -> Response:
        selectors.published_post_get(post_id=pk)
        votes = services.my_votes(post_id=pk, user=request.user, ip_hash=request_ip_hash(request))
        return Response({"votes": {str(key): value for key, value in votes.items()}})


class CommentContextView(generics.GenericAPIView):
    """Where a public comment is in its thread: the page (number and cursor) holding
    its top-level ancestor under ``sort`` and ``page_size``, so a client can open a
    long thread at it. 404 for what the public cannot see."""

    serializer_class = CommentContextSerializer
    pagination_class = PageNumberPagination

    @extend_schema(
        parameters=[thread.SORT_PARAMETER],
        responses={200: CommentContextSerializer, 404: NOT_FOUND},
    )
    def get(self, request: Request, pk: int) -> Response:
        sort = thread.parse_sort(request)
        page_size = self.paginator.get_page_size(request)
        context = comment_context(comment_id=pk, sort=sort, page_size=page_size)
        cursor = (
            ""
            if context.after is None
            else thread.encode_cursor("a", context.after[1], sort, context.after[0])
        )
        base = request.build_absolute_uri(reverse("post-thread", args=[context.comment.post_id]))
        if sort != "oldest":
            base = replace_query_param(base, thread.SORT_PARAM, sort)
        if page_size != self.paginator.page_size:
            base = replace_query_param(base, self.paginator.page_size_query_param, page_size)
        page_url = (
            base
            if context.page == 1
            else replace_query_param(base, self.paginator.page_query_param, context.page)
        )
        data = {
            "comment": context.comment.pk,
            "post": context.comment.post_id,
            "top_level": context.top_level.pk,
            "sort": sort,
            "page_size": page_size,
            "page": context.page,
            "cursor": cursor,
            "pinned": context.top_level.is_pinned,
            "url": page_url,
            "cursor_url": replace_query_param(base, thread.CURSOR_PARAM, cursor),
        }
        return Response(CommentContextSerializer(data).data)
