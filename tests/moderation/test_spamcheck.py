"""The outside spam checker: asked over HTTP, and failing closed."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from forum.models import CommentStatus
from tests.factories import make_comment

pytestmark = [pytest.mark.django_db, pytest.mark.moderation_policy]


class _Checker(BaseHTTPRequestHandler):
    answer: bytes = b'{"spam": false}'
    status = 200
    delay = 0.0
    received: list = []

    def do_POST(self):
        length = int(self.headers["Content-Length"])
        type(self).received.append(json.loads(self.rfile.read(length)))
        time.sleep(type(self).delay)
        self.send_response(type(self).status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(type(self).answer)

    def log_message(self, *args):
        pass


@pytest.fixture
def checker(settings, set_policy):
    set_policy(mode="hold_none")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Checker)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.SPAM_CHECKER = "moderation.spamcheck.HttpSpamChecker"
    settings.SPAM_CHECKER_URL = f"http://127.0.0.1:{server.server_port}/check"
    settings.SPAM_CHECKER_TIMEOUT = 0.5
    _Checker.answer, _Checker.status, _Checker.delay, _Checker.received = (
        b'{"spam": false}',
        200,
        0.0,
        [],
    )
    yield _Checker
    server.shutdown()
    server.server_close()


def test_ham_is_published_and_no_ip_is_sent(post, checker):
    comment = make_comment(post, body="A fair point.", author_name="Ann", ip_hash="h" * 64)
    assert comment.status == CommentStatus.APPROVED
    [sent] = checker.received
    assert sent["body"] == "A fair point." and sent["author_name"] == "Ann"
    assert "h" * 64 not in json.dumps(sent)


def test_spam_is_marked_spam_with_the_reason(post, checker):
    checker.answer = b'{"spam": true}'
    comment = make_comment(post, body="Cheap pills", author_name="Bot")
    assert comment.status == CommentStatus.SPAM
    assert "spam_check" in comment.moderation_reasons


@pytest.mark.parametrize(
    ("status", "answer", "delay"),
    [(500, b"{}", 0.0), (200, b"not json", 0.0), (200, b'{"spam": "maybe"}', 0.0), (200, b"{}", 2)],
)
def test_a_failing_checker_holds_the_comment(post, checker, status, answer, delay):
    checker.status, checker.answer, checker.delay = status, answer, delay
    comment = make_comment(post, body="Hello", author_name="Ann")
    assert comment.status == CommentStatus.PENDING
    assert "spam_check_unavailable" in comment.moderation_reasons


def test_an_unreachable_checker_holds_the_comment(post, settings, set_policy):
    set_policy(mode="hold_none")
    settings.SPAM_CHECKER = "moderation.spamcheck.HttpSpamChecker"
    settings.SPAM_CHECKER_URL = "http://127.0.0.1:9/nothing-listens-here"
    comment = make_comment(post, body="Hello", author_name="Ann")
    assert comment.status == CommentStatus.PENDING
    assert comment.moderation_reasons == ["spam_check_unavailable"]


def test_no_checker_configured_means_no_call(post, settings, set_policy):
    set_policy(mode="hold_none")
    settings.SPAM_CHECKER = ""
    assert make_comment(post, body="Hello", author_name="Ann").status == CommentStatus.APPROVED
