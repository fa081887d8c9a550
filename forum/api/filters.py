"""Query-string filters of the list endpoints (django-filter).

Every filter validates its value: a bad one is a 400 naming the parameter, never a
500 and never silently ignored.

Dates: ``*_after`` is inclusive, ``*_before`` exclusive (a half-open range), and both
take an ISO 8601 date or date-time; a value without an offset is read in the
server's time zone.
"""

import datetime

from django import forms
from django.db.models import Q, QuerySet
from django_filters import rest_framework as filters
from django_filters.fields import IsoDateTimeField
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import PermissionDenied, ValidationError

from forum.models import Comment, CommentStatus, Post
from forum.permissions import is_moderator

# Largest value of a BigAutoField: ids beyond it are refused rather than overflowing.
MAX_ID = 2**63 - 1


class StrictFilterBackend(filters.DjangoFilterBackend):
    """django-filter's backend (``DEFAULT_FILTER_BACKENDS``), strict as the schema: a
    filter given a blank value (``?action=``, ``?post=``) is refused with 400 naming it,
    not ignored, since the schema admits "" only for free text (``CharFilter``): an
    enum, an id, a boolean or a date-time has no blank value. Every filter set of every
    list, present and future, goes through here."""

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is None:
            return None
        blank = [
            name
            for name, item in filterset.filters.items()
            if not isinstance(item, filters.CharFilter) and "" in request.query_params.getlist(name)
        ]
        if blank:
            raise ValidationError({name: ["May not be blank."] for name in blank})
        return filterset


class StrictBooleanField(forms.Field):
    """``true``/``false`` (or ``1``/``0``); anything else is an error, not ignored."""

    default_error_messages = {"invalid": "Must be true or false."}

    def to_python(self, value):
        if value in (None, ""):
            return None
        text = str(value).strip().lower()
        if text in {"true", "1"}:
            return True
        if text in {"false", "0"}:
            return False
        raise forms.ValidationError(self.error_messages["invalid"], code="invalid")


class StrictBooleanFilter(filters.BooleanFilter):
    field_class = StrictBooleanField

    def __init__(self, *args, **kwargs):
        # django-filter's BooleanWidget turns unknown values into "no filter".
        kwargs.setdefault("widget", forms.TextInput)
        super().__init__(*args, **kwargs)


class SafeIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time the database can store (no overflow on conversion), in
    UTC: PostgreSQL refuses offsets beyond ±15:59, which Python (and ISO) allow."""

    default_error_messages = {"overflow": "Date-time out of range."}

    def to_python(self, value):
        result = super().to_python(value)
        if result is not None:
            try:
                result = result.astimezone(datetime.UTC)
            except OverflowError as exc:
                raise forms.ValidationError(
                    self.error_messages["overflow"], code="overflow"
                ) from exc
        return result


class SafeIsoDateTimeFilter(filters.IsoDateTimeFilter):
    field_class = SafeIsoDateTimeField


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(filters.NumberFilter):
    """A row id: a positive integer that fits the column."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class StableOrderingFilter(filters.OrderingFilter):
    """``OrderingFilter`` with the id as last key, so that pages never overlap.

    Strict as the schema (an array of the named fields): a blank item (``?ordering=``,
    ``?ordering=,`` or a trailing comma) names no field and is refused with 400."""

    def filter(self, qs, value):
        if self.field_name in self.parent.data and (not value or not all(param for param in value)):
            raise ValidationError({self.field_name: ["Name a field to order by."]})
        if not value:
            return qs
        ordering = [self.get_ordering_value(param) for param in value]
        tie_breaker = "-id" if ordering[-1].startswith("-") else "id"
        return qs.order_by(*ordering, tie_breaker)


class PostFilter(filters.FilterSet):
    blog = filters.CharFilter(field_name="blog__slug", help_text="The blog's slug.")
    is_guest = StrictBooleanFilter(help_text="true: guest posts only; false: no guest posts.")
    published_after = SafeIsoDateTimeFilter(
        field_name="published_at",
        lookup_expr="gte",
        help_text="Published at or after this ISO 8601 date or date-time.",
    )
    published_before = SafeIsoDateTimeFilter(
        field_name="published_at",
        lookup_expr="lt",
        help_text="Published before this ISO 8601 date or date-time.",
    )
    search = filters.CharFilter(
        method="filter_search", help_text="Text in the title or the body (case-insensitive)."
    )
    ordering = StableOrderingFilter(
        fields=(("published_at", "published_at"),),
        help_text="published_at (oldest first) or -published_at (newest first, the default).",
    )

    class Meta:
        model = Post
        fields: list[str] = []

    def filter_search(self, queryset: QuerySet[Post], name: str, value: str) -> QuerySet[Post]:
        return queryset.filter(Q(title__icontains=value) | Q(body__icontains=value))


class CommentFilter(filters.FilterSet):
    post = IdFilter(field_name="post_id", help_text="The post's id.")
    parent = IdFilter(field_name="parent_id", help_text="The parent comment's id.")
    author_name = filters.CharFilter(
        lookup_expr="iexact", help_text="The name shown (case-insensitive, exact)."
    )
    created_after = SafeIsoDateTimeFilter(
        field_name="created_at",
        lookup_expr="gte",
        help_text="Created at or after this ISO 8601 date or date-time.",
    )
    created_before = SafeIsoDateTimeFilter(
        field_name="created_at",
        lookup_expr="lt",
        help_text="Created before this ISO 8601 date or date-time.",
    )
    search = filters.CharFilter(
        method="filter_search",
        help_text="Text in the body (case-insensitive); only text the caller can read "
        "(never a removed comment's).",
    )
    status = filters.ChoiceFilter(
        choices=CommentStatus.choices,
        method="filter_status",
        help_text="Moderators only; others may ask for approved comments alone (else 403).",
    )
    ordering = StableOrderingFilter(
        fields=(("created_at", "created_at"),),
        help_text="created_at or -created_at; by default comments come by post, in thread order.",
    )

    class Meta:
        model = Comment
        fields: list[str] = []

    def filter_search(
        self, queryset: QuerySet[Comment], name: str, value: str
    ) -> QuerySet[Comment]:
        # Only what the caller can read may be searched: a tombstone's body is kept
        # for the moderators (restore) but is not shown, so it is not matched either
        # (else it could be read back one character at a time). The rest of the
        # public's rows are readable already (forum.selectors.comment_list).
        if not is_moderator(getattr(self.request, "user", None)):
            queryset = queryset.filter(removed_at__isnull=True)
        return queryset.filter(body__icontains=value)

    def filter_status(
        self, queryset: QuerySet[Comment], name: str, value: str
    ) -> QuerySet[Comment]:
        user = getattr(self.request, "user", None)
        if value != CommentStatus.APPROVED and not is_moderator(user):
            # A well-formed request the caller may not make: 403, not 400 (the schema
            # cannot say which callers may use which value).
            raise PermissionDenied("Only moderators may filter comments by this status.")
        return queryset.filter(status=value)
