"""The moderation desk (/admin/moderation/desk/) in a real browser (issue 14).

Headless Chromium through Playwright, against the live server: a moderator logs in,
approves a held comment with one click and a reason (the public thread API then
shows it), undoes it (the API no longer does), bans a poster and rejects all their
held items in one action, filters by reason, reads the diff of an edit awaiting
review (on its card, then on its comment in the thread view) and approves it with
its key (the public thread then shows the new text), and opens the thread view.
The desk and the thread view are photographed at 1400x900 and 390x844, the edit's
card and its comment in the thread view alone too (into the test's ``tmp_path``,
and into ``BROWSER_SCREENSHOT_DIR`` when set), and no page may scroll sideways at
either size.
"""

import http.client
import json
import os
import shutil
from pathlib import Path

import pytest

from forum import services as forum_services
from forum.identity import ip_hash
from forum.models import Comment, CommentStatus
from moderation import services
from moderation.models import ActionKind, Ban, ModerationAction
from tests.browser.test_admin_queue import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PASSWORD,
    TIMEOUT_MS,
    sync_api,
    thread_ids,
)
from tests.factories import BlogFactory, PostFactory, UserFactory, make_comment

pytestmark = pytest.mark.browser

DESK = "/admin/moderation/desk/"
SIZES = {"wide": (1400, 900), "phone": (390, 844)}


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    settings.RATE_LIMITS = {scope: [] for scope in settings.RATE_LIMITS}


@pytest.fixture
def desk_moderator(transactional_db):
    user = UserFactory(username="deskbrowser", display_name="Desk Browser")
    user.set_password(PASSWORD)
    user.save()
    return services.moderator_grant(user=user)


def held(post, body: str, network: str, **kwargs) -> Comment:
    comment = make_comment(post, body=body, ip_hash=ip_hash(network), **kwargs)
    assert comment.status == CommentStatus.PENDING, comment.moderation_reasons
    return comment


def no_sideways_scroll(page) -> bool:
    return page.evaluate(
        "() => document.documentElement.scrollWidth <= window.innerWidth"
        " && document.body.scrollWidth <= window.innerWidth"
    )


def photograph(page, shots: Path, name: str, seen: dict) -> None:
    """The page at both sizes, full length; and whether it fits sideways."""
    for size, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(100)
        seen[f"{name}-{size}-fits"] = no_sideways_scroll(page)
        page.screenshot(path=str(shots / f"{name}-{size}.png"), full_page=True)
        page.screenshot(path=str(shots / f"{name}-{size}-screen.png"))
    page.set_viewport_size({"width": 1400, "height": 900})


def public_body(live_server, post_id: int, comment_id: int) -> str | None:
    """The text the public thread API shows for ``comment_id``, read over HTTP."""
    connection = http.client.HTTPConnection(
        live_server.thread.host, live_server.thread.port, timeout=10
    )
    try:
        connection.request("GET", f"/api/posts/{post_id}/comments/")
        response = connection.getresponse()
        assert response.status == 200, response.read()
        comments = list(json.load(response)["results"])
    finally:
        connection.close()
    while comments:
        comment = comments.pop()
        if comment["id"] == comment_id:
            return comment["body"]
        comments.extend(comment.get("replies") or [])
    return None


def card(page, comment_id: int):
    return page.locator(f"#card-comment-{comment_id}")


def use_the_desk(live_server, ids: dict, post_id: int, shots: Path) -> dict:
    """Everything the moderator does, in the browser. No ORM in here: Playwright's
    sync API runs an event loop, where Django refuses queries."""
    base = live_server.url
    seen: dict = {}
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.set_default_timeout(TIMEOUT_MS)
            page.route("**/favicon.ico", lambda route: route.fulfill(status=204))
            page.goto(f"{base}/admin/login/?next=/admin/")
            page.fill("#id_username", "deskbrowser")
            page.fill("#id_password", PASSWORD)
            page.click("input[type=submit], button[type=submit]")
            page.wait_for_url(f"{base}/admin/")
            page.locator(f".desk-index-link a[href='{DESK}']").first.click()  # first on the index
            page.wait_for_url(f"{base}{DESK}")
            seen["heading"] = page.inner_text("#content h1")
            seen["cards"] = page.locator("article.desk-card").count()
            reasons = card(page, ids["chosen"]).locator(".desk-reasons li")
            seen["reasons"] = reasons.all_inner_texts()
            photograph(page, shots, "desk", seen)

            # One click, with a reason.
            card(page, ids["chosen"]).locator("input[name^=reason-]").fill("Friendly and on topic")
            with page.expect_navigation():
                card(page, ids["chosen"]).locator("button.desk-approve").click()
            seen["approved_message"] = page.locator("ul.messagelist li").all_inner_texts()
            seen["thread_after_approve"] = thread_ids(live_server, _Post(post_id))

            with page.expect_navigation():
                page.click(".desk-last button[name=undo]")
            seen["undo_message"] = page.locator("ul.messagelist li").all_inner_texts()
            seen["thread_after_undo"] = thread_ids(live_server, _Post(post_id))

            # Ban the spammer and reject everything they have waiting, in one action.
            spam_card = card(page, ids["spam"][0])
            spam_card.locator("input[name^=reason-]").fill("Link spam run")
            with page.expect_navigation():
                spam_card.locator("button.desk-ban-button").click()
            seen["ban_message"] = page.locator("ul.messagelist li").all_inner_texts()
            seen["cards_after_ban"] = page.locator("article.desk-card").count()

            # Filter by reason.
            page.select_option("select[name=reason]", "first_post")
            with page.expect_navigation():
                page.click(".desk-filters button[type=submit]")
            seen["filtered_url"] = page.url
            seen["filtered"] = page.locator("article.desk-card .desk-body").all_inner_texts()

            # Keyboard: j selects the first card, r rejects it.
            page.keyboard.press("j")
            seen["current"] = page.locator("article.desk-card.is-current").count()
            with page.expect_navigation():
                page.keyboard.press("r")
            seen["key_message"] = page.locator("ul.messagelist li").all_inner_texts()

            # An edit awaiting review: its card shows what changes; "a" approves it.
            page.goto(f"{base}{DESK}?kind=edit")
            edit = card(page, ids["edited"])
            seen["edit_kind"] = edit.locator(".desk-kind").inner_text()
            seen["edit_removed"] = edit.locator(".desk-diff-text del").all_inner_texts()
            seen["edit_added"] = edit.locator(".desk-diff-text ins").all_inner_texts()
            seen["edit_markup"] = edit.locator(".desk-diff-text b, .desk-diff-text a").count()
            style = "e => getComputedStyle(e).textDecorationLine"
            seen["edit_styles"] = (
                edit.locator(".desk-diff-text del").first.evaluate(style),
                edit.locator(".desk-diff-text ins").first.evaluate(style),
            )
            for size, (width, height) in SIZES.items():
                page.set_viewport_size({"width": width, "height": height})
                page.wait_for_timeout(100)
                seen[f"edit-{size}-fits"] = no_sideways_scroll(page)
                edit.screenshot(path=str(shots / f"desk-edit-card-{size}.png"))
            page.set_viewport_size({"width": 1400, "height": 900})

            # The same edit on its comment in the thread view: marker, diff, buttons.
            page.goto(f"{base}{DESK}thread/{post_id}/#c{ids['edited']}")
            on_thread = page.locator(f"#c{ids['edited']}")
            seen["thread_edit_marker"] = on_thread.locator(".desk-edit-marker").inner_text()
            seen["thread_edit_added"] = on_thread.locator(".desk-diff-text ins").all_inner_texts()
            seen["thread_edit_buttons"] = on_thread.locator(
                ".desk-edit button[name=decide]"
            ).all_inner_texts()
            for size, (width, height) in SIZES.items():
                page.set_viewport_size({"width": width, "height": height})
                page.wait_for_timeout(100)
                seen[f"thread-edit-{size}-fits"] = no_sideways_scroll(page)
                on_thread.screenshot(path=str(shots / f"thread-edit-{size}.png"))
            page.set_viewport_size({"width": 1400, "height": 900})
            page.goto(f"{base}{DESK}?kind=edit")

            seen["public_before_edit"] = public_body(live_server, post_id, ids["edited"])
            page.keyboard.press("j")
            with page.expect_navigation():
                page.keyboard.press("a")
            seen["edit_message"] = page.locator("ul.messagelist li").all_inner_texts()
            seen["public_after_edit"] = public_body(live_server, post_id, ids["edited"])

            # The thread view, from a card.
            page.goto(f"{base}{DESK}")
            with page.expect_navigation():
                card(page, ids["chosen"]).locator(".desk-where a").click()
            seen["thread_url"] = page.url
            seen["thread_heading"] = page.inner_text("#content h1")
            seen["thread_states"] = page.locator(".desk-thread .desk-state").all_inner_texts()
            photograph(page, shots, "thread", seen)
        finally:
            browser.close()
    return seen


class _Post:
    def __init__(self, pk: int) -> None:
        self.pk = pk


@pytest.mark.moderation_policy
@pytest.mark.django_db(transaction=True)
def test_a_moderator_works_the_desk_in_a_browser(live_server, desk_moderator, tmp_path):
    blog = BlogFactory(name="Probation", slug="probation")
    post = PostFactory(blog=blog, title="A post under moderation")
    public = make_comment(post, body="Already public.", status=CommentStatus.APPROVED)
    chosen = held(post, "Please approve me, I mean well.", "192.0.2.10", parent=public)
    spam = [
        held(post, f"Cheap pills at http://spam{n}.example now", "192.0.2.66") for n in range(3)
    ]
    named = held(post, "A first comment under my name.", "192.0.2.20", author_name="Nat")
    edited = make_comment(
        post,
        body="I was wrong, sorry.",
        ip_hash=ip_hash("192.0.2.30"),
        status=CommentStatus.APPROVED,
        issue_edit_token=True,
    )
    new_text = "I was right: buy <b>pills</b> at http://pills.example"
    edited = forum_services.comment_update(
        comment_id=edited.pk, body=new_text, edit_token=edited.issued_edit_token
    )
    assert edited.pending_edit is not None
    shots = tmp_path / "shots"
    shots.mkdir()

    seen = use_the_desk(
        live_server,
        {"chosen": chosen.pk, "spam": [c.pk for c in spam], "edited": edited.pk},
        post.pk,
        shots,
    )
    if directory := os.environ.get("BROWSER_SCREENSHOT_DIR"):
        Path(directory).mkdir(parents=True, exist_ok=True)
        for shot in shots.iterdir():
            shutil.copy(shot, Path(directory) / shot.name)

    assert seen["heading"] == "Moderation desk"
    assert seen["cards"] == 6
    assert "posted anonymously" in seen["reasons"]
    for name in ("desk", "thread"):
        for size in SIZES:
            assert seen[f"{name}-{size}-fits"], f"{name} scrolls sideways at {size}"
            assert (shots / f"{name}-{size}.png").stat().st_size > 10_000

    assert seen["approved_message"] == [
        "Approved an anonymous comment on “A post under moderation”."
    ]
    assert chosen.pk in seen["thread_after_approve"]
    assert seen["undo_message"][0].startswith("Undone: Returned an anonymous comment on")
    assert chosen.pk not in seen["thread_after_undo"]
    approval = ModerationAction.objects.get(comment=chosen, action=ActionKind.APPROVE)
    assert (approval.actor, approval.reason) == (desk_moderator, "Friendly and on topic")
    assert ModerationAction.objects.get(undoes=approval).action == ActionKind.HOLD

    assert seen["ban_message"] == [
        f"Banned network {spam[0].ip_hash[:12]}… on Probation and rejected 3 held comments."
    ]
    assert seen["cards_after_ban"] == 3
    ban = Ban.objects.get()
    assert (ban.ip_hash, ban.reason, ban.created_by) == (
        spam[0].ip_hash,
        "Link spam run",
        desk_moderator,
    )
    assert {c.status for c in Comment.objects.filter(pk__in=[c.pk for c in spam])} == {
        CommentStatus.REJECTED
    }

    assert "reason=first_post" in seen["filtered_url"]
    assert seen["filtered"] == ["A first comment under my name."]
    assert seen["current"] == 1
    assert seen["key_message"] == ["Rejected Nat's comment on “A post under moderation”."]
    named.refresh_from_db()
    assert named.status == CommentStatus.REJECTED

    assert seen["edit_kind"].lower() == "edit to review"
    assert seen["edit_removed"] == ["wrong, sorry."]
    assert seen["edit_added"] == ["right: buy <b>pills</b> at http://pills.example"]
    assert seen["edit_markup"] == 0  # the edit's HTML is shown as text, never rendered
    assert seen["edit_styles"] == ("line-through", "underline")
    for size in SIZES:
        assert seen[f"edit-{size}-fits"], f"the edit card scrolls sideways at {size}"
        assert (shots / f"desk-edit-card-{size}.png").stat().st_size > 5_000
    assert seen["thread_edit_marker"] == "edit awaiting review"
    assert seen["thread_edit_added"] == seen["edit_added"]
    assert seen["thread_edit_buttons"] == ["Approve edit", "Reject edit"]
    for size in SIZES:
        assert seen[f"thread-edit-{size}-fits"], f"the thread's edit scrolls sideways at {size}"
        assert (shots / f"thread-edit-{size}.png").stat().st_size > 5_000
    assert seen["public_before_edit"] == "I was wrong, sorry."
    assert seen["edit_message"] == [
        "Approved the edit of an anonymous comment on “A post under moderation”."
    ]
    assert seen["public_after_edit"] == new_text

    assert seen["thread_url"].endswith(f"{DESK}thread/{post.pk}/#c{chosen.pk}")
    assert seen["thread_heading"] == "Thread: A post under moderation"
    assert seen["thread_states"] == ["approved", "held"] + ["rejected"] * 4 + ["approved"]
