"""The notifications app's side of ``forum.subscriptions``: addresses given with
comments, confirmed by double opt-in, with confirmation mails rate-limited per
address and per network (nobody can use the forum to mail-bomb a stranger)."""

import datetime
import hashlib
import hmac
import ipaddress

from django.conf import settings
from django.utils import timezone

from forum.errors import ServiceError
from forum.models import Comment
from forum.ratelimit import hit, limits_for
from notifications.models import MailAddress

# A second comment with the same unconfirmed address within this time sends no new
# confirmation mail (the first one is still on its way).
RESEND_AFTER = datetime.timedelta(minutes=10)


class TooManyConfirmations(ServiceError):
    status_code = 429


def normalize(email: str) -> str:
    return email.strip().lower()


def _keyed(value: str) -> str:
    key = f"notifications:{settings.SECRET_KEY}".encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:32]


def network_of(client_ip: str) -> str:
    """The /24 (IPv4) or /64 (IPv6) network of ``client_ip``."""
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:
        return "unknown"
    prefix = 24 if address.version == 4 else 64
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def confirmation_due(address: MailAddress | None) -> bool:
    """Would a comment with this address send a confirmation mail now?"""
    if address is None:
        return True
    if address.confirmed_at is not None:
        return False
    sent = address.confirmation_sent_at
    return sent is None or timezone.now() - sent >= RESEND_AFTER


class ReplySubscriptions:
    def check(self, *, email: str, client_ip: str) -> None:
        email = normalize(email)
        if not confirmation_due(MailAddress.objects.filter(email=email).first()):
            return
        identities = [
            ("confirm_mail_address", f"mail:{_keyed(email)}"),
            ("confirm_mail_network", f"net:{_keyed(network_of(client_ip))}"),
        ]
        waits = [
            wait
            for scope, ident in identities
            for limit in limits_for(scope)
            if (wait := hit(limit=limit, ident=ident)) is not None
        ]
        if waits:
            wait = int(max(waits)) + 1
            raise TooManyConfirmations(
                "Too many confirmation mails were sent to this address or from your "
                f"network. Try again in {wait} seconds, or post without an e-mail address.",
                headers={"Retry-After": str(wait)},
            )

    def subscribe(self, *, comment: Comment, email: str, client_ip: str) -> None:
        from notifications.services import reply_subscription_add

        reply_subscription_add(comment=comment, email=normalize(email))
