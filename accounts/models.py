from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """The forum's user. ``display_name`` is what readers see next to a comment."""

    display_name = models.CharField(max_length=80, blank=True)

    @property
    def public_name(self) -> str:
        return self.display_name or self.username
