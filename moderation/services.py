"""Moderation writes."""

from django.contrib.auth.models import Group, Permission
from django.db import transaction

from accounts.models import User
from forum.permissions import MODERATORS_GROUP

# What a moderator may do in the Django admin (the moderators' desk).
MODERATOR_ADMIN_PERMISSIONS = [
    ("forum", "view_blog"),
    ("forum", "view_post"),
    ("forum", "change_post"),
    ("forum", "view_comment"),
    ("forum", "change_comment"),
]


def moderators_group() -> Group:
    group, _ = Group.objects.get_or_create(name=MODERATORS_GROUP)
    return group


@transaction.atomic
def moderator_grant(*, user: User) -> User:
    """Make ``user`` a moderator: member of the Moderators group, allowed into the admin."""
    group = moderators_group()
    permissions = [
        Permission.objects.get(content_type__app_label=app, codename=codename)
        for app, codename in MODERATOR_ADMIN_PERMISSIONS
    ]
    group.permissions.add(*permissions)
    user.groups.add(group)
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    return user
