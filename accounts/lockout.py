"""Failed passwords: counted per account and per client network, then a lockout.

Every place a password is checked goes through here: sign-in (the admin login and
``POST /api/auth/token/``, both through ``accounts.backends.LockoutModelBackend``),
the admin's password change (the old password) and ``DELETE /api/accounts/me/``.

Failures are counted in the shared store of ``forum.ratelimit`` (Redis, or the
database when Redis is not configured or not answering), under two sliding limits
(``settings.RATE_LIMITS``):

- ``login_failures_account``: failures for one account name, from anywhere
  (default 5 in 15 minutes; names are compared case-insensitively, unknown names
  are counted alike so that a lockout tells nothing about which accounts exist);
- ``login_failures_network``: failures from one client network, an IPv4 /24 or an
  IPv6 /64, for any account (default 20 in 15 minutes).

When either is full the attempt is refused before the password is looked at, so
even the right password is refused until the oldest counted failure is older than
the span; the refusal says when to come back (429 with ``Retry-After``). The
failure that starts a lockout and every refused attempt are logged (logger
``accounts.lockout``, WARNING) with the account name and the network's hash.
"""

import hashlib
import logging
import math

from django.http import HttpRequest

from forum.errors import InvalidInput, ServiceError
from forum.identity import request_network_hash
from forum.ratelimit import Check, limits_for, pending, record

logger = logging.getLogger(__name__)

ACCOUNT_SCOPE = "login_failures_account"
NETWORK_SCOPE = "login_failures_network"
_REQUEST_ATTRIBUTE = "login_lockout_wait"


class LockedOut(ServiceError):
    status_code = 429

    def __init__(self, wait: float) -> None:
        super().__init__(message(wait), headers={"Retry-After": str(math.ceil(wait))})
        self.wait = wait


def message(wait: float) -> str:
    minutes = max(1, math.ceil(wait / 60))
    return (
        "Too many failed sign-ins for this account or from your network. "
        f"Try again in {minutes} minute{'s' if minutes != 1 else ''}."
    )


def network_of(request: HttpRequest | None) -> str:
    """The identity of the request's client network (a keyed hash)."""
    return request_network_hash(request) if request is not None else "unknown"


def _checks(*, username: str, network: str) -> list[Check]:
    account = hashlib.sha256(username.strip().casefold().encode()).hexdigest()[:32]
    return [(limit, f"account:{account}") for limit in limits_for(ACCOUNT_SCOPE)] + [
        (limit, f"network:{network}") for limit in limits_for(NETWORK_SCOPE)
    ]


def locked_for(*, username: str, network: str) -> float | None:
    """Seconds the account or the network stays locked; ``None`` when it is not."""
    wait = pending(_checks(username=username, network=network))
    if wait is not None:
        logger.warning(
            "sign-in refused while locked: account=%r network=%s for %ds",
            username[:150],
            network[:12],
            math.ceil(wait),
        )
    return wait


def failed(*, username: str, network: str) -> float | None:
    """Count one failed password; the lockout's length when this one starts it."""
    wait = record(_checks(username=username, network=network))
    if wait is not None:
        logger.warning(
            "sign-in locked after repeated failures: account=%r network=%s for %ds",
            username[:150],
            network[:12],
            math.ceil(wait),
        )
    return wait


def verify_password(*, user, password: str, network: str) -> None:
    """Confirm ``user``'s password for a sensitive action: ``LockedOut`` (429) while
    locked, ``InvalidInput`` (400, counted as a failure) when it is wrong."""
    wait = locked_for(username=user.get_username(), network=network)
    if wait is not None:
        raise LockedOut(wait)
    if not user.check_password(password):
        wait = failed(username=user.get_username(), network=network)
        if wait is not None:  # this failure started a lockout
            raise LockedOut(wait)
        raise InvalidInput("The password is not correct.", field="password")


def remember(request: HttpRequest | None, wait: float) -> None:
    """Note on the request that its sign-in was refused by a lockout (for the view)."""
    for target in (request, getattr(request, "_request", None)):
        if target is not None:
            setattr(target, _REQUEST_ATTRIBUTE, wait)


def wait_of(request: HttpRequest) -> float | None:
    """The lockout that refused this request's sign-in, if one did."""
    return getattr(request, _REQUEST_ATTRIBUTE, None) or getattr(
        getattr(request, "_request", None), _REQUEST_ATTRIBUTE, None
    )
