"""An outside spam checker (Akismet-style) behind a small interface.

``settings.SPAM_CHECKER`` names a class with ``is_spam(submission) -> bool``; none
is configured by default. The policy asks it about every comment it would
otherwise publish or hold. The check fails closed: when the checker errors, times
out or answers nonsense, the comment is held for a moderator (reason
``spam_check_unavailable``), never published unchecked.

``HttpSpamChecker`` posts the comment as JSON to ``SPAM_CHECKER_URL`` and expects
``{"spam": true|false}`` back within ``SPAM_CHECKER_TIMEOUT`` seconds. Only what
the checker needs is sent: the text, the name shown and the post; never an IP.
"""

import json
import urllib.error
import urllib.request
from functools import cache
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from forum.policy import Submission


class SpamCheckError(Exception):
    """The checker could not give an answer."""


class SpamChecker(Protocol):
    def is_spam(self, submission: Submission) -> bool: ...


class HttpSpamChecker:
    def __init__(self) -> None:
        self.url = settings.SPAM_CHECKER_URL
        self.timeout = settings.SPAM_CHECKER_TIMEOUT

    def is_spam(self, submission: Submission) -> bool:
        payload = {
            "body": submission.body,
            "author_name": submission.author_name,
            "post": submission.post.pk,
            "blog": submission.post.blog.slug,
        }
        request = urllib.request.Request(  # noqa: S310 (an https URL set by the operator)
            self.url,
            data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                answer = json.loads(response.read(65536))
        # URLError, HTTPError and timeouts are OSErrors; RecursionError: absurdly nested JSON
        except (OSError, ValueError, RecursionError) as exc:
            raise SpamCheckError(str(exc)) from exc
        if not isinstance(answer, dict) or not isinstance(answer.get("spam"), bool):
            raise SpamCheckError(f"unexpected answer: {answer!r:.200}")
        return answer["spam"]


@cache
def _checker_class(dotted_path: str) -> type:
    return import_string(dotted_path)


def get_checker() -> SpamChecker | None:
    if not settings.SPAM_CHECKER:
        return None
    return _checker_class(settings.SPAM_CHECKER)()
