"""The moderators' desk in a real browser (issue 4, item 7).

Headless Chromium (Debian's ``chromium`` package, driven by Playwright's Python API)
talks to the live server over HTTP, with the suite's production-like settings
(DEBUG off): a moderator logs in at /admin/, opens the queue of held comments,
ticks one and runs the "Approve" bulk action; the comment then shows in the public
thread API, and the decision is in the moderation log.

Skipped, with the reason, when /usr/bin/chromium or the ``playwright`` package is
missing (``.ci/run`` installs the browser; ``make test`` says when it is skipped).
Playwright never downloads a browser here: it launches the system's.

Set ``BROWSER_SCREENSHOT_DIR`` to keep a screenshot of the queue page (queue.png).
"""

import http.client
import json
import os
from pathlib import Path

import pytest

from forum.identity import ip_hash
from forum.models import Comment, CommentStatus
from moderation import services
from moderation.models import ModerationAction
from tests.factories import BlogFactory, PostFactory, UserFactory, make_comment

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
QUEUE = "/admin/moderation/heldcomment/"
PASSWORD = "browser desk pass phrase"
TIMEOUT_MS = 10_000

pytestmark = pytest.mark.browser

if not os.access(CHROMIUM, os.X_OK):
    pytest.skip(
        f"no browser: {CHROMIUM} is not installed (apt-get install chromium)",
        allow_module_level=True,
    )
sync_api = pytest.importorskip(
    "playwright.sync_api",
    reason="no playwright: the 'playwright' package is not installed (pip install -e '.[dev]')",
)


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    # The thread API is read twice from one address; paces are not under test here.
    settings.RATE_LIMITS = {scope: [] for scope in settings.RATE_LIMITS}


@pytest.fixture
def desk_moderator(transactional_db):
    user = UserFactory(username="browsermod", display_name="Browser Moderator")
    user.set_password(PASSWORD)
    user.save()
    return services.moderator_grant(user=user)


@pytest.fixture
def post(transactional_db):
    return PostFactory(blog=BlogFactory(), title="A post under moderation")


def held(post, body: str, **kwargs) -> Comment:
    """A comment the blog's default policy holds (first post / anonymous)."""
    comment = make_comment(post, body=body, ip_hash=ip_hash("192.0.2.77"), **kwargs)
    assert comment.status == CommentStatus.PENDING, comment.moderation_reasons
    return comment


def thread_ids(live_server, post) -> set[int]:
    """Ids of every comment in the public thread of ``post``, read over HTTP."""
    connection = http.client.HTTPConnection(
        live_server.thread.host, live_server.thread.port, timeout=10
    )
    try:
        connection.request(
            "GET", f"/api/posts/{post.pk}/comments/", headers={"Accept": "application/json"}
        )
        response = connection.getresponse()
        assert response.status == 200, response.read()
        page = json.load(response)
    finally:
        connection.close()

    def walk(comments):
        for comment in comments:
            yield comment["id"]
            yield from walk(comment.get("replies", []))

    return set(walk(page["results"]))


def approve_in_the_admin(base_url: str, username: str, comment_id: int) -> dict:
    """Log in, open the queue, approve ``comment_id`` with the bulk action. No ORM in
    here: Playwright's sync API runs an event loop, where Django refuses queries."""
    seen = {}
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 800})
            page.set_default_timeout(TIMEOUT_MS)
            page.route("**/favicon.ico", lambda route: route.fulfill(status=204))
            page.goto(f"{base_url}/admin/login/?next={QUEUE}")
            page.fill("#id_username", username)
            page.fill("#id_password", PASSWORD)
            page.click("input[type=submit], button[type=submit]")
            page.wait_for_url(f"{base_url}{QUEUE}")

            # The page is styled and scripted: the admin's CSS and JS came from the
            # live server (its static files handler), not just the HTML.
            seen["header_background"] = page.eval_on_selector(
                "#header", "el => getComputedStyle(el).backgroundColor"
            )
            seen["heading"] = page.inner_text("#content h1")
            seen["posts"] = page.locator("td.field-post_title").all_inner_texts()
            seen["comments"] = page.locator(".field-body_excerpt").all_inner_texts()
            seen["authors"] = page.locator("td.field-author_display").all_inner_texts()
            seen["reasons"] = page.locator("td.field-reasons").all_inner_texts()

            page.check(f"input[name=_selected_action][value='{comment_id}']")
            # actions.js counts the selection: proof that the admin's JS runs.
            sync_api.expect(page.locator(".action-counter")).to_contain_text("1 of 2 selected")
            if directory := os.environ.get("BROWSER_SCREENSHOT_DIR"):
                page.screenshot(path=str(Path(directory) / "queue.png"), full_page=True)

            page.select_option("select[name=action]", "comment_approve")
            with page.expect_navigation():  # the action posts, then redirects to the page
                page.click("button[name=index]")
            seen["messages"] = page.locator("ul.messagelist li").all_inner_texts()
            seen["comments_after"] = page.locator(".field-body_excerpt").all_inner_texts()
        finally:
            browser.close()
    return seen


@pytest.mark.moderation_policy
@pytest.mark.django_db(transaction=True)
def test_a_moderator_approves_a_held_comment_in_the_admin(live_server, desk_moderator, post):
    chosen = held(post, "Please approve me.")
    other = held(post, "Still waiting.", author_name="Nat")
    assert thread_ids(live_server, post) == set()  # held comments are not public

    seen = approve_in_the_admin(live_server.url, desk_moderator.username, chosen.pk)

    assert seen["heading"] == "Select held comment to view"
    assert seen["header_background"] not in ("", "rgba(0, 0, 0, 0)")  # base.css applied
    # Oldest first, each with its post, its author and the reasons it is held.
    assert seen["comments"] == ["Please approve me.", "Still waiting."]
    assert seen["posts"] == ["A post under moderation"] * 2
    assert seen["authors"] == ["Anonymous", "Nat"]
    # In words (issue 14), not codes.
    assert seen["reasons"] == ["posted anonymously", "first comments from this poster"]
    assert seen["messages"] == ["1 held comment approved."]
    assert seen["comments_after"] == ["Still waiting."]

    assert thread_ids(live_server, post) == {chosen.pk}  # public now; the other still held
    chosen.refresh_from_db()
    other.refresh_from_db()
    assert (chosen.status, other.status) == (CommentStatus.APPROVED, CommentStatus.PENDING)
    action = ModerationAction.objects.get()
    assert (action.actor, action.action, action.comment_id) == (
        desk_moderator,
        "approve",
        chosen.pk,
    )
    assert (action.from_state, action.to_state) == ("pending", "approved")
