"""The authentication backend: Django's, behind the failed-password lockout."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from accounts import lockout


class LockoutModelBackend(ModelBackend):
    """``ModelBackend`` that refuses every attempt, right password or not, while the
    account or the client's network is locked, and counts each wrong one
    (``accounts.lockout``). Every sign-in (admin, API token) calls ``authenticate``."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username is None or password is None:
            return None
        network = lockout.network_of(request)
        wait = lockout.locked_for(username=str(username), network=network)
        if wait is not None:
            lockout.remember(request, wait)
            raise PermissionDenied  # stops authenticate(): no other backend is asked
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            wait = lockout.failed(username=str(username), network=network)
            if wait is not None:
                lockout.remember(request, wait)
        return user
