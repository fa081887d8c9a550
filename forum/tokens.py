"""Edit tokens for posters without an account.

A token is 256 random bits, shown to its holder once; only its SHA-256 is stored.
The token has full entropy, so a fast hash is enough: there is nothing to brute-force.
"""

import hashlib
import hmac
import secrets


def new_token() -> tuple[str, str]:
    """Return ``(token, stored_hash)``."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def token_matches(token: str | None, stored_hash: str) -> bool:
    """Constant-time check of a presented token against a stored hash."""
    if not token or not stored_hash:
        return False
    return hmac.compare_digest(token_hash(token), stored_hash)
