from django.contrib.auth.models import AbstractUser
from django.db import models


class ModeratorMail(models.TextChoices):
    """How a moderator hears of items entering the queue (notifications/)."""

    IMMEDIATE = "immediate", "Immediately"
    HOURLY = "hourly", "Hourly digest"
    NONE = "none", "None"


class User(AbstractUser):
    """The forum's user. ``display_name`` is what readers see next to a comment."""

    display_name = models.CharField(max_length=80, blank=True)
    # Mail at the account's address when someone replies to one of its comments.
    notify_replies = models.BooleanField(default=False)
    # Moderators: a mail per item entering the queue, one digest an hour, or none.
    moderator_mail = models.CharField(
        max_length=16,
        choices=ModeratorMail.choices,
        default=ModeratorMail.IMMEDIATE,
    )

    # Hide the public profile (GET /api/users/{username}/ and its comments: 404).
    profile_hidden = models.BooleanField(default=False)

    class Meta(AbstractUser.Meta):
        constraints = [
            models.CheckConstraint(
                condition=models.Q(moderator_mail__in=ModeratorMail.values),
                name="user_moderator_mail_valid",
            )
        ]

    @property
    def public_name(self) -> str:
        return self.display_name or self.username
