"""Fuzzing the API with schemathesis against the OpenAPI document it serves.

The schema is loaded from ``/api/schema/`` through the WSGI application in-process
(``config.wsgi.application``), and every operation is fuzzed as an anonymous caller,
a logged-in user and a moderator (token authentication), with valid (positive) and
invalid (negative) input. Path ids are real rows half of the time, so the fuzzer gets
past the 404s into the views. Throttles are raised for the run.

Checks: all of schemathesis's, as configured in the repository's ``schemathesis.toml``
(no 5xx; status code, content type, headers and body as documented; valid input
accepted and invalid input refused; authentication enforced where the schema asks
for it). That file is the one place where an operation may refuse valid-looking input
(with 400), each allowance named per operation and justified; every other operation,
including any added later, gets no allowance.

Bounded: ``FUZZ_EXAMPLES`` examples per operation and caller (default below;
``HARDENING_FUZZ_EXAMPLES`` overrides it, e.g. for a longer run by hand). The run is
derandomized (the same cases every time, so CI is stable); ``HARDENING_RANDOM=1``
draws new ones.
"""

import os
from pathlib import Path

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test.utils import override_settings
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.core.parameters import ParameterLocation

from config.wsgi import application
from forum import services
from forum.models import CommentStatus, PostStatus
from moderation.services import moderator_grant
from tests.factories import BlogFactory, PostFactory, UserFactory, make_comment

FUZZ_EXAMPLES = int(os.environ.get("HARDENING_FUZZ_EXAMPLES", "12"))
DERANDOMIZE = not os.environ.get("HARDENING_RANDOM")
ROLES = ("anonymous", "user", "moderator")
CONFIG_FILE = Path(__file__).resolve().parents[2] / "schemathesis.toml"
# The application object built its middleware when it was imported, with the
# settings of the environment (production's HTTPS redirect included): speak HTTPS to
# it, with the host the WSGI client sends allowed.
BASE_URL = "https://localhost"
ALLOWED_HOSTS = ["localhost"]


def _load_schema() -> schemathesis.BaseSchema:
    with override_settings(ALLOWED_HOSTS=ALLOWED_HOSTS):
        return schemathesis.openapi.from_wsgi(
            "/api/schema/",
            application,
            base_url=BASE_URL,
            config=SchemathesisConfig.from_path(CONFIG_FILE),
        )


SCHEMA = _load_schema()
OPERATIONS = sorted(result.ok().label for result in SCHEMA.get_all_operations())


def test_the_served_schema_has_every_api_operation():
    # A guard against fuzzing nothing: the document lists the whole API.
    assert len(OPERATIONS) >= 23
    assert "POST /api/posts/{id}/comments/" in OPERATIONS
    assert "POST /api/moderation/comments/{id}/decision/" in OPERATIONS


def test_every_check_is_on_and_each_allowance_names_a_served_operation():
    import tomllib

    from schemathesis.config._checks import NEGATIVE_DATA_REJECTION_EXPECTED_STATUSES

    config = SCHEMA.config
    operation = SCHEMA.find_operation_by_label("GET /api/posts/")
    checks = config.checks_config_for(operation=operation)
    names = [name for name in vars(type(checks)) if not name.startswith("_")]
    assert all(
        getattr(getattr(checks, name), "enabled", True) for name in names if hasattr(checks, name)
    )
    # Invalid input is refused everywhere: schemathesis's strict defaults, no exception.
    assert checks.negative_data_rejection.expected_statuses == (
        NEGATIVE_DATA_REJECTION_EXPECTED_STATUSES
    )
    assert "400" not in checks.positive_data_acceptance.expected_statuses
    # An allowance (400 for valid-looking input) is per operation, by its exact name,
    # and only for operations the API serves (a renamed one must not keep a dead entry).
    allowances = tomllib.loads(CONFIG_FILE.read_text())["operations"]
    for entry in allowances:
        assert set(entry) == {"include-name", "checks"}, entry
        assert entry["include-name"] in OPERATIONS, entry["include-name"]
        allowed = config.checks_config_for(
            operation=SCHEMA.find_operation_by_label(entry["include-name"])
        ).positive_data_acceptance.expected_statuses
        assert set(allowed) - set(checks.positive_data_acceptance.expected_statuses) == {"400"}


class World:
    """Rows for the fuzzer to aim at, and what the callers authenticate with."""

    def __init__(self) -> None:
        self.user = UserFactory(username="fuzz-user", display_name="Fuzz User")
        self.moderator = moderator_grant(
            user=UserFactory(username="fuzz-mod", display_name="Fuzz Mod")
        )
        self.tokens = {
            "user": Token.objects.create(user=self.user).key,
            "moderator": Token.objects.create(user=self.moderator).key,
        }
        blog = BlogFactory(slug="fuzz-blog")
        other_blog = BlogFactory(slug="other-blog")
        post = PostFactory(blog=blog)
        draft = PostFactory(blog=blog, status=PostStatus.DRAFT, published_at=None)
        top = make_comment(post, body="Top.", author=self.user)
        reply = make_comment(post, body="Reply.", parent=top, author_name="Guest")
        deep = make_comment(post, body="Deeper.", parent=reply)
        tombstone = make_comment(post, body="Gone.")
        make_comment(post, body="Under the gone one.", parent=tombstone)
        services.comment_set_state(
            comment=services.comment_lock(comment_id=tombstone.pk), removed=True
        )
        held = make_comment(post, body="Held.", status=CommentStatus.PENDING)
        spam = make_comment(post, body="Spam.", status=CommentStatus.SPAM)
        anonymous = make_comment(post, body="With a token.", issue_edit_token=True)
        guest = services.guest_post_submit(
            blog=other_blog, title="A guest post", body="Guest body.", author_name="Visitor"
        )
        self.edit_tokens = [anonymous.issued_edit_token, guest.issued_edit_token]
        self.ids = {
            "posts": [post.pk, draft.pk, guest.pk],
            "comments": [c.pk for c in (top, reply, deep, tombstone, held, spam, anonymous)],
            "guest-posts": [guest.pk],
        }
        self.slugs = [blog.slug, other_blog.slug]

    def headers(self, role: str) -> dict[str, str]:
        if role == "anonymous":
            return {}
        return {"Authorization": f"Token {self.tokens[role]}"}

    def aim(self, case, data: st.DataObject) -> None:
        """Point half of the cases at real rows (ids, slugs, parents, edit tokens).

        A part generated invalid (negative) is left as it is: aiming it would make it
        valid while the case still counts as invalid input."""
        negative = case.meta.is_negative_at
        params = {} if negative(ParameterLocation.PATH) else case.path_parameters or {}
        if "id" in params and data.draw(st.booleans(), label="real id"):
            kind = "comments" if "/comments/{id}" in case.path else "posts"
            if case.path.startswith("/api/guest-posts/"):
                kind = "guest-posts"
            params["id"] = data.draw(st.sampled_from(self.ids[kind]), label="id")
        if "slug" in params and data.draw(st.booleans(), label="real slug"):
            params["slug"] = data.draw(st.sampled_from(self.slugs), label="slug")
        if (
            not negative(ParameterLocation.BODY)
            and isinstance(case.body, dict)
            and "parent" in case.body
            and data.draw(st.booleans())
        ):
            case.body["parent"] = data.draw(st.sampled_from(self.ids["comments"]))
        if (
            case.headers is not None
            and not negative(ParameterLocation.HEADER)
            and "X-Edit-Token" in case.headers
            and data.draw(st.booleans(), label="real edit token")
        ):
            case.headers["X-Edit-Token"] = data.draw(st.sampled_from(self.edit_tokens))


@pytest.fixture
def in_process_app(settings):
    """Serve requests to ``config.wsgi.application`` inside the test's transaction:
    like Django's test client, keep the request signals from closing the test's
    connection, and raise the throttles out of the way."""
    settings.ALLOWED_HOSTS = ALLOWED_HOSTS
    settings.RATE_LIMITS = {scope: ["1000000/min"] for scope in settings.RATE_LIMITS}
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield application
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _strategy(operation):
    return st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("label", OPERATIONS)
def test_fuzz_operation(label, role, in_process_app):
    world = World()
    operation = SCHEMA.find_operation_by_label(label)
    headers = world.headers(role)

    @hypothesis_settings(
        max_examples=FUZZ_EXAMPLES,
        deadline=None,
        derandomize=DERANDOMIZE,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=_strategy(operation), data=st.data())
    def fuzz(case, data):
        world.aim(case, data)
        response = case.call(base_url=BASE_URL, headers=headers)
        # Every check enabled in schemathesis.toml; the headers tell the
        # authentication checks which credentials this caller sent.
        case.validate_response(response, headers=headers)

    fuzz()
