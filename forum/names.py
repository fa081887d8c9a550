"""Names nobody may take: "Anonymous", and the names of staff and moderators,
whatever look-alike characters or case they are written with.

Two names are the same here when their skeletons are equal (``name_skeleton``, after
Unicode TR39's: compatibility-normalized, case-folded, white space and invisible
characters dropped, and each character replaced by one representative of its
confusable class from the Unicode confusables table, via ``confusable-homoglyphs``),
so "Demo Moderator" written with Cyrillic e and o (U+0435, U+043E), "DEMO  MODERATOR"
and "Demo Moderator" are one name.
"""

import unicodedata
from functools import cache

from confusable_homoglyphs import confusables
from django.contrib.auth import get_user_model
from django.db.models import Q

from forum.display import ANONYMOUS_NAME
from forum.errors import InvalidInput
from forum.permissions import MODERATORS_GROUP, AnyUser
from forum.text import without_invisible


@cache
def _representative(char: str) -> str:
    """The lowest code point among ``char`` and its single-character homoglyphs."""
    found = confusables.confusables_data.get(char) or []
    candidates = [char] + [entry["c"] for entry in found if len(entry["c"]) == 1]
    return min(candidates)


def name_skeleton(name: str) -> str:
    text = unicodedata.normalize("NFKC", without_invisible(name)).casefold()
    text = "".join(text.split())
    skeleton = "".join(_representative(char) for char in text)
    return unicodedata.normalize("NFKC", skeleton).casefold()


def reserved_skeletons(*, except_user: AnyUser = None) -> set[str]:
    """Skeletons of "Anonymous" and of every staff member's and moderator's username
    and display name (one query), but ``except_user``'s own."""
    users = get_user_model().objects.filter(
        Q(is_staff=True) | Q(is_superuser=True) | Q(groups__name=MODERATORS_GROUP)
    )
    if except_user is not None and except_user.pk is not None:
        users = users.exclude(pk=except_user.pk)
    skeletons = {name_skeleton(ANONYMOUS_NAME)}
    for username, display_name in users.values_list("username", "display_name").distinct():
        skeletons.update(name_skeleton(n) for n in (username, display_name) if n)
    return skeletons


def refuse_reserved_name(name: str, *, field: str, user: AnyUser = None) -> None:
    """``InvalidInput`` (400) when ``name`` is, or looks like, a reserved name;
    ``user`` may keep their own."""
    if name and name_skeleton(name) in reserved_skeletons(except_user=user):
        raise InvalidInput(
            "This name is reserved (it is, or looks like, a moderator's or 'Anonymous').",
            field=field,
        )
