"""Real parts for the notification tests: an SMTP server (aiosmtpd) and an HTTP
receiver on loopback, and the worker run as ``manage.py run_worker --once``."""

import email
import email.policy
import http.server
import json
import re
import socket
import threading
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller
from django.core.cache import cache
from django.core.management import call_command

SITE_URL = "http://testserver"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Inbox:
    """What the SMTP server received, as parsed messages."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.lock = threading.Lock()
        self.delay = 0.0  # seconds each message takes to accept (slow server)

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            import asyncio

            await asyncio.sleep(self.delay)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)
        return "250 OK"

    def to(self, address: str) -> list:
        with self.lock:
            return [m for m in self.messages if m["To"] == address]

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()


@pytest.fixture
def smtp(settings):
    """An SMTP server on loopback; Django's mail goes there."""
    inbox = _Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    inbox.port = port
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 5
    yield inbox
    controller.stop()


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    # Status codes to answer, in turn; then 200 for ever.
    answers: list[int] = field(default_factory=list)
    headers_to_send: dict = field(default_factory=dict)


def start_receiver(*, tls_context=None, host: str = "127.0.0.1"):
    """An HTTP(S) server on loopback recording every request: ``(state, stop)``."""
    port = free_port()
    scheme = "https" if tls_context else "http"
    state = Receiver(url=f"{scheme}://{host}:{port}/hook")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            state.requests.append(Received(path=self.path, headers=headers, body=body))
            code = state.answers.pop(0) if state.answers else 200
            self.send_response(code)
            for name, value in state.headers_to_send.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    if tls_context is not None:
        server.socket = tls_context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop():
        server.shutdown()
        server.server_close()

    return state, stop


@pytest.fixture
def receiver():
    """An HTTP server on loopback recording every request."""
    state, stop = start_receiver()
    yield state
    stop()


@pytest.fixture(autouse=True)
def _notification_settings(settings):
    settings.SITE_URL = SITE_URL
    settings.NOTIFICATIONS = {
        **settings.NOTIFICATIONS,
        "RETRY_BASE_SECONDS": 0.2,
        "RETRY_MAX_SECONDS": 1,
        "LEASE_SECONDS": 1,
        "POLL_SECONDS": 0.1,
        "WEBHOOK_TIMEOUT_SECONDS": 3,
        "WEBHOOK_ALLOW_PRIVATE": True,
    }
    settings.RATE_LIMITS = {scope: ["10000/min"] for scope in settings.RATE_LIMITS}
    cache.clear()


def run_worker() -> None:
    call_command("run_worker", "--once")


_URL = re.compile(r"https?://[^\s<>\"]+")


def text_part(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html_part(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def link(message, fragment: str) -> str:
    """The path of the first link in the plain part whose URL contains ``fragment``."""
    for url in _URL.findall(text_part(message)):
        if fragment in url:
            assert url.startswith(SITE_URL)
            return urlsplit(url).path
    raise AssertionError(f"no {fragment} link in:\n{text_part(message)}")


def follow(client, path: str):
    """Open a mail's link as a person does: the page (GET), then its button (POST)."""
    page = client.get(path)
    assert page.status_code == 200, page.content
    assert b'<form method="post">' in page.content
    return page, client.post(path)


def json_body(received: Received) -> dict:
    return json.loads(received.body)


# Every event a webhook endpoint can ask for.
ALL_EVENTS = [
    "comment.published",
    "comment.held",
    "comment.removed",
    "post.published",
    "guest_post.submitted",
]


@pytest.fixture
def endpoint(blog, receiver):
    """A webhook endpoint of ``blog`` for every event, delivering to ``receiver``."""
    from notifications import webhooks
    from notifications.models import WebhookEndpoint

    return WebhookEndpoint.objects.create(
        blog=blog, url=receiver.url, events=ALL_EVENTS, secret=webhooks.new_secret()
    )
