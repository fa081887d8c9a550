"""Throttles for writes. Counters live in the default cache (Redis in production)."""

from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle


class _RateFromSettings(AnonRateThrottle):
    # DRF copies the rates into a class attribute at import; read them per request
    # so that a changed setting (tests, a reloaded configuration) applies.
    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class AnonymousCommentThrottle(_RateFromSettings):
    """Comments from callers without an account, per IP address (API.md: 429)."""

    scope = "comments_anon"


class AnonymousWriteThrottle(_RateFromSettings):
    """Other writes from callers without an account (flags, guest posts)."""

    scope = "writes_anon"
