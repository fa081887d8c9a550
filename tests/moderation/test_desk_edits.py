"""Edits awaiting review on the moderators' desk (issue 14, item 8), through the
test client as a moderator uses it: the card with the difference between the
approved text and the proposed one, and the one-click decisions on it."""

import re
import time

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.messages import get_messages

from forum import services as forum_services
from forum.models import CommentRevision, CommentStatus, RevisionStatus
from moderation import services
from moderation.diffs import diff_html
from moderation.models import BlogPolicy, ModerationAction, ModerationMode
from tests.factories import UserFactory, make_comment
from tests.moderation.conftest import held

pytestmark = [pytest.mark.django_db, pytest.mark.moderation_policy]

DESK = "/admin/moderation/desk/"
HOSTILE = 'Now with <script>alert("x")</script> and <b onclick="x()">forbidden</b> words.'


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def watched(blog):
    """The blog publishes everything but holds texts with the word "forbidden"."""
    BlogPolicy.objects.update_or_create(
        blog=blog, defaults={"mode": ModerationMode.HOLD_NONE, "watched_words": "forbidden"}
    )


@pytest.fixture
def author(db):
    return UserFactory(username="ed", display_name="Ed")


def edited(post, author, new: str, old: str = "First words, all fine.") -> int:
    """A published comment of ``author`` whose edit to ``new`` awaits review."""
    comment = make_comment(post, body=old, author=author)
    assert comment.status == CommentStatus.APPROVED
    comment = forum_services.comment_update(comment_id=comment.pk, body=new, user=author)
    assert comment.pending_edit is not None, "the policy should hold the edit"
    return comment.pk


def thread_bodies(api_client, post) -> list[str]:
    return [c["body"] for c in api_client.get(f"/api/posts/{post.pk}/comments/").json()["results"]]


def test_the_diff_marks_words_removed_and_added_and_escapes_both_texts():
    html = diff_html("Keep <this> & that.\nSecond line.", "Keep <that> & that.\nSecond line.")
    assert "<del>&lt;this&gt;</del><ins>&lt;that&gt;</ins>" in html
    assert "Keep " in html and "&amp; that." in html
    assert "<this>" not in html and "<that>" not in html
    assert diff_html("Same.", "Same.") == ""
    removed = diff_html("One.\nTwo.\nThree.", "One.\nThree.\nFour.")
    assert "<del>Two.</del>" in removed and "<ins>Four.</ins>" in removed


def test_an_edit_awaiting_review_has_a_card_with_the_diff_and_hostile_html_escaped(
    desk_client, desk_moderator, post, watched, author
):
    parent = make_comment(post, body="The comment replied to.", author=UserFactory())
    comment = make_comment(post, body="First words, all fine.", author=author, parent=parent)
    forum_services.comment_update(comment_id=comment.pk, body=HOSTILE, user=author)
    make_comment(post, body="Good morning.", author=author)  # published: not on the desk

    response = desk_client.get(DESK)
    assert response.status_code == 200
    (view,) = response.context["cards"]
    card = view["card"]
    assert (card.kind, card.id, card.revision) == ("edit", comment.pk, 2)
    html = response.content.decode()
    assert "Edit to review" in html
    assert "an edit of a published comment awaits review" in html
    assert "watched word: forbidden" in html
    assert "The comment replied to." in html  # the same context as other cards
    assert "Account <strong>ed</strong>" in html
    assert f'href="{DESK}thread/{post.pk}/#c{comment.pk}"' in html
    # The approved text struck through, the new one underlined, both escaped.
    assert "<del>First" in html and "<ins>Now" in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "<script>alert" not in html and "<b onclick" not in html
    assert f'name="revision-{comment.pk}" value="2"' in html
    assert f'value="edit:{comment.pk}:approve"' in html and 'data-key-action="a"' in html
    assert f'value="edit:{comment.pk}:reject"' in html

    # Its own kind and the reason `edit`; the policy's reasons find it too.
    for query in ("kind=edit", "reason=edit", "reason=watched_word"):
        assert [v["card"].id for v in desk_client.get(f"{DESK}?{query}").context["cards"]] == [
            comment.pk
        ], query
    for query in ("kind=comment", "kind=flag", "kind=post", "reason=flagged", "reason=links"):
        assert desk_client.get(f"{DESK}?{query}").context["cards"] == [], query
    # The post filter offers the post whose comment's edit waits.
    assert (str(post.pk), post.title) in response.context["form"].fields["post"].choices


def test_edits_are_queued_in_the_order_of_the_time_of_the_edit(desk_client, post, watched, author):
    first_edit = edited(post, author, "forbidden A")
    queued = held(post, "Anonymous and forbidden.")
    comment = make_comment(post, body="Written before both.", author=author)
    forum_services.comment_update(comment_id=comment.pk, body="forbidden B", user=author)
    cards = desk_client.get(DESK).context["cards"]
    assert [(v["card"].kind, v["card"].id) for v in cards] == [
        ("edit", first_edit),
        ("comment", queued.pk),
        ("edit", comment.pk),
    ]


def test_approving_an_edit_on_the_desk_publishes_the_new_text_logged_without_undo(
    desk_client, desk_moderator, api_client, post, watched, author
):
    pk = edited(post, author, HOSTILE)
    response = desk_client.post(
        DESK,
        {"decide": f"edit:{pk}:approve", f"revision-{pk}": "2", f"reason-edit-{pk}": "Fair."},
        follow=True,
    )
    assert response.status_code == 200
    assert thread_bodies(api_client, post) == [HOSTILE]
    entry = ModerationAction.objects.get()
    assert (entry.actor, entry.action, entry.reason, entry.from_state, entry.to_state) == (
        desk_moderator,
        "approve_edit",
        "Fair.",
        "edit_pending",
        "edit_approved",
    )
    said = f"Approved the edit of Ed's comment on “{post.title}”"
    assert messages_of(response) == [f"{said}."]
    assert LogEntry.objects.get().get_change_message() == f"{said}. Reason: Fair."
    # No inverse verb: neither the top of the page nor the recent list offers undo.
    assert response.context["last"] is None
    assert [e["undoable"] for e in response.context["recent"]] == [False]
    assert response.context["cards"] == []


def test_rejecting_an_edit_on_the_desk_keeps_the_approved_text(
    desk_client, api_client, post, watched, author
):
    pk = edited(post, author, "Forbidden words now.")
    response = desk_client.post(
        DESK, {"decide": f"edit:{pk}:reject", f"revision-{pk}": "2"}, follow=True
    )
    assert messages_of(response) == [f"Rejected the edit of Ed's comment on “{post.title}”."]
    assert thread_bodies(api_client, post) == ["First words, all fine."]
    assert CommentRevision.objects.get(comment_id=pk, number=2).status == RevisionStatus.REJECTED
    assert ModerationAction.objects.get().to_state == "edit_rejected"


def test_a_stale_decision_on_an_edit_says_what_happened_and_changes_nothing(
    desk_client, second_moderator, api_client, post, watched, author
):
    pk = edited(post, author, "forbidden one")
    services.comment_decide(comment_id=pk, action="reject_edit", actor=second_moderator)
    response = desk_client.post(
        DESK, {"decide": f"edit:{pk}:approve", f"revision-{pk}": "2"}, follow=True
    )
    assert messages_of(response) == [
        f"Ed's comment on “{post.title}”: This edit was rejected by mod2 already: "
        "another decision came first."
    ]
    assert thread_bodies(api_client, post) == ["First words, all fine."]
    # The same decision again: nothing changes, said so.
    response = desk_client.post(
        DESK, {"decide": f"edit:{pk}:reject", f"revision-{pk}": "2"}, follow=True
    )
    assert messages_of(response) == [
        f"Ed's comment on “{post.title}”: already decided that way; nothing changed."
    ]
    assert ModerationAction.objects.count() == 1


def test_an_edit_replaced_by_a_newer_one_is_never_approved_unseen(
    desk_client, api_client, post, watched, author
):
    pk = edited(post, author, "forbidden, as read")
    forum_services.comment_update(comment_id=pk, body="forbidden, unseen", user=author)
    response = desk_client.post(
        DESK, {"decide": f"edit:{pk}:approve", f"revision-{pk}": "2"}, follow=True
    )
    assert messages_of(response)[0].endswith(
        "Its author edited it again since: the newer edit awaits review in its place."
    )
    assert thread_bodies(api_client, post) == ["First words, all fine."]
    (view,) = response.context["cards"]
    assert view["card"].revision == 3


def test_bulk_decisions_skip_edits_and_say_how_many(desk_client, post, watched, author):
    pk = edited(post, author, "forbidden edit")
    comment = held(post, "Held: forbidden.")
    response = desk_client.post(
        DESK, {"bulk": "approve", "all_matching": "1", "query": ""}, follow=True
    )
    assert messages_of(response) == [
        "1 edit skipped: decide edits on their cards.",
        "1 item approved; 0 conflicts.",
    ]
    comment.refresh_from_db()
    assert comment.status == CommentStatus.APPROVED
    assert CommentRevision.objects.get(comment_id=pk, number=2).status == RevisionStatus.PENDING
    response = desk_client.post(DESK, {"bulk": "reject", "selected": [f"edit:{pk}"]}, follow=True)
    assert messages_of(response) == ["1 edit skipped: decide edits on their cards."]
    assert CommentRevision.objects.get(comment_id=pk, number=2).status == RevisionStatus.PENDING


@pytest.mark.parametrize(
    "data",
    [
        {"decide": "edit:1:spam"},
        {"decide": "edit:1:approve"},  # which version?
        {"decide": "edit:1:approve", "revision-1": "two"},
        {"ban": "edit:1"},
        {"note": "edit:1:comment"},
    ],
)
def test_bad_edit_posts_are_a_400(desk_client, data):
    assert desk_client.post(DESK, data).status_code == 400


# U+00B2 (superscript two) is a digit to str.isdigit but not to int(); U+0661
# (ARABIC-INDIC DIGIT ONE) is read as 1.
@pytest.mark.parametrize(
    "data",
    [
        {"decide": "edit:\u00b2:approve"},
        {"decide": "edit:\u0661:approve", "revision-1": "2"},
        {"decide": "edit:1:approve", "revision-1": "\u00b2"},
        {"decide": "edit:1:approve", "revision-1": "\u0662"},
        {"note": "comment:\u00b2:comment"},
        {"undo": "\u00b2"},
        {"undo": "1,\u0661"},
    ],
)
@pytest.mark.parametrize("where", ["desk", "thread"])
def test_ids_and_versions_of_other_digits_are_a_400_not_a_500(desk_client, post, where, data):
    url = DESK if where == "desk" else f"{DESK}thread/{post.pk}/"
    response = desk_client.post(url, data)
    assert response.status_code == 400
    assert not ModerationAction.objects.exists()


def test_a_post_filter_of_other_digits_is_refused_not_a_500(desk_client):
    assert desk_client.get(DESK, {"post": "\u00b2"}).status_code == 400


def test_a_non_moderator_cannot_see_or_decide_edits(client, post, watched, author, api_client):
    pk = edited(post, author, "forbidden words")
    staff = UserFactory(username="staffer", is_staff=True)
    client.force_login(staff)
    assert client.get(f"{DESK}?kind=edit").status_code == 403
    data = {"decide": f"edit:{pk}:approve", f"revision-{pk}": "2"}
    assert client.post(DESK, data).status_code == 403
    client.force_login(author)  # the author, not staff: the admin's login page
    assert client.post(DESK, data).status_code == 302
    assert thread_bodies(api_client, post) == ["First words, all fine."]
    assert not ModerationAction.objects.exists()


# --- the thread view: a comment's edit awaiting review ----------------------------------


def thread_url(post) -> str:
    return f"{DESK}thread/{post.pk}/"


def test_the_thread_view_shows_an_edit_awaiting_review_on_its_comment_with_the_diff(
    desk_client, post, watched, author
):
    top = make_comment(post, body="A plain top-level comment.", author=UserFactory())
    pk = edited(post, author, HOSTILE)
    forum_services.comment_update(comment_id=top.pk, body="Rewritten, fine.", user=top.author)

    response = desk_client.get(thread_url(post))
    assert response.status_code == 200
    edits = {item["row"].comment.pk: item["row"].edit for item in response.context["rows"]}
    assert edits[top.pk] is None  # its edit was published at once
    assert edits[pk]["revision"] == 2
    html = response.content.decode()
    assert html.count("edit awaiting review") == 1
    card = html[html.index(f'id="c{pk}"') :]
    assert card.index("edit awaiting review") < card.index("First words, all fine.")
    # The approved text, then the diff against it: struck through and underlined,
    # both texts escaped (the same diff as the desk's edit card).
    assert diff_html("First words, all fine.", HOSTILE) in card
    assert "<del>First" in card and "<ins>Now" in card
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "<script>alert" not in html and "<b onclick" not in html
    assert "watched word: forbidden" in card  # why the edit waits
    # The desk edit card's decision: its buttons, version and reason fields.
    assert f'name="revision-{pk}" value="2"' in card
    assert f'name="reason-edit-{pk}"' in card
    assert f'name="decide" value="edit:{pk}:approve"' in card
    assert f'name="decide" value="edit:{pk}:reject"' in card


def test_approving_an_edit_in_the_thread_view_publishes_it_and_comes_back_to_the_comment(
    desk_client, desk_moderator, api_client, post, watched, author
):
    pk = edited(post, author, HOSTILE)
    response = desk_client.post(
        thread_url(post),
        {"decide": f"edit:{pk}:approve", f"revision-{pk}": "2", f"reason-edit-{pk}": "Fair."},
    )
    assert response.status_code == 302 and response["Location"] == f"{thread_url(post)}#c{pk}"
    assert thread_bodies(api_client, post) == [HOSTILE]
    entry = ModerationAction.objects.get()
    assert (entry.actor, entry.action, entry.reason) == (desk_moderator, "approve_edit", "Fair.")
    page = desk_client.get(thread_url(post))
    said = f"Approved the edit of Ed's comment on “{post.title}”"
    assert messages_of(page) == [f"{said}."]
    assert LogEntry.objects.get().get_change_message() == f"{said}. Reason: Fair."
    assert "edit awaiting review" not in page.content.decode()
    assert [item["row"].edit for item in page.context["rows"]] == [None]
    assert page.context["last"] is None  # no inverse verb: no undo offered


def test_rejecting_an_edit_in_the_thread_view_and_a_stale_decision_there(
    desk_client, second_moderator, api_client, post, watched, author
):
    pk = edited(post, author, "Forbidden words now.")
    response = desk_client.post(
        thread_url(post), {"decide": f"edit:{pk}:reject", f"revision-{pk}": "2"}, follow=True
    )
    assert messages_of(response) == [f"Rejected the edit of Ed's comment on “{post.title}”."]
    assert thread_bodies(api_client, post) == ["First words, all fine."]
    assert CommentRevision.objects.get(comment_id=pk, number=2).status == RevisionStatus.REJECTED

    other = edited(post, author, "forbidden one", old="Second comment.")
    services.comment_decide(comment_id=other, action="reject_edit", actor=second_moderator)
    response = desk_client.post(
        thread_url(post),
        {"decide": f"edit:{other}:approve", f"revision-{other}": "2"},
        follow=True,
    )
    assert messages_of(response) == [
        f"Ed's comment on “{post.title}”: This edit was rejected by mod2 already: "
        "another decision came first."
    ]
    # The thread decides comments with its own buttons ("act"); "decide" is for edits.
    refused = desk_client.post(
        thread_url(post), {"decide": f"comment:{pk}:approve", "reason-comment-1": ""}
    )
    assert refused.status_code == 400


# --- the comment admin: each version with its diff --------------------------------------


def comment_page(pk: int) -> str:
    return f"/admin/forum/comment/{pk}/change/"


def test_the_comment_admin_shows_each_version_with_the_diff_from_the_approved_text(
    desk_client, second_moderator, post, watched, author
):
    comment = make_comment(post, body="First words, all fine.", author=author)
    forum_services.comment_update(comment_id=comment.pk, body="Second words, fine.", user=author)
    forum_services.comment_update(comment_id=comment.pk, body="Forbidden words.", user=author)
    services.comment_decide(comment_id=comment.pk, action="reject_edit", actor=second_moderator)
    forum_services.comment_update(comment_id=comment.pk, body=HOSTILE, user=author)
    statuses = list(
        CommentRevision.objects.filter(comment=comment)
        .order_by("number")
        .values_list("status", flat=True)
    )
    assert statuses == ["applied", "applied", "rejected", "pending"]

    response = desk_client.get(comment_page(comment.pk))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Changes from the approved text" in html
    rows = [html.index(f'id="revisions-{n}"') for n in range(4)]
    original, applied, rejected, pending = (
        html[start:end] for start, end in zip(rows, [*rows[1:], len(html)], strict=True)
    )
    assert "—" in original and "<del>" not in original  # nothing before the original
    assert diff_html("First words, all fine.", "Second words, fine.") in applied
    assert diff_html("Second words, fine.", "Forbidden words.") in rejected
    # The edit awaiting review, against the comment's approved text, escaped.
    assert diff_html("Second words, fine.", HOSTILE) in pending
    assert "<del>Second" in pending and "<ins>Now" in pending
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in pending
    assert "<script>alert" not in html and "<b onclick" not in html
    # Read-only: nothing to change or add.
    assert "<textarea" not in html and 'name="revisions-0-body"' not in html
    assert "moderation_desk/desk.css" in html  # the diff's style


def test_the_comment_admin_costs_the_same_queries_whatever_the_number_of_versions(
    desk_client, post, author, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    comment = make_comment(post, body="Version 0.", author=author)
    forum_services.comment_update(comment_id=comment.pk, body="Version 1.", user=author)
    desk_client.get(comment_page(comment.pk))  # warm the session
    with CaptureQueriesContext(connection) as few:
        assert desk_client.get(comment_page(comment.pk)).status_code == 200
    for n in range(2, 30):
        forum_services.comment_update(comment_id=comment.pk, body=f"Version {n}.", user=author)
    with django_assert_num_queries(len(few.captured_queries)):
        response = desk_client.get(comment_page(comment.pk))
    assert response.content.decode().count("desk-diff-line") >= 29


def _diffs(html: str) -> list[str]:
    return re.findall(r'<div class="desk-diff-text">(.*?)</div>', html, flags=re.S)


def test_characters_that_show_nothing_or_turn_the_text_are_named_in_the_diff(
    desk_client, post, watched, author
):
    """An edit adding a right-to-left override (which turns the rest of the line
    around, the diff's marks with it) or a zero-width space (an edit that shows as
    nothing) names them on the card and on the thread view, never acts through them."""
    pk = edited(
        post,
        author,
        "Some \u202eevil</del>\u202c forbidden words and a l\u200bink.",
        old="Some words and a link.",
    )
    for url in (DESK, thread_url(post)):
        response = desk_client.get(url)
        assert response.status_code == 200
        (diff,) = _diffs(response.content.decode())
        assert "\u202e" not in diff and "\u202c" not in diff and "\u200b" not in diff
        assert 'title="U+202E RIGHT-TO-LEFT OVERRIDE">U+202E</span>' in diff
        assert 'title="U+200B ZERO WIDTH SPACE">U+200B</span>' in diff
        assert "evil&lt;/del&gt;" in diff
    assert CommentRevision.objects.get(comment_id=pk, number=2).status == RevisionStatus.PENDING


def test_an_edit_built_to_make_the_word_diff_slow_is_shown_whole_and_fast(
    desk_client, post, watched, author
):
    """The word diff's matcher costs up to the cube of the words compared: "a a a ..."
    against "a b a b ..." (9,000 words) took hours to render its card (1,000 words:
    25 s). Past the bound the line is shown removed, then added; an ordinary edit of
    a long paragraph (a link slipped in) is still marked word by word."""
    paragraph = " ".join(f"word{i}" for i in range(1500))
    slipped = paragraph.replace("word700 ", "word700 https://spam.example/ forbidden ")
    edited(post, author, slipped, old=paragraph)
    slow = " ".join("a" for _ in range(9000))
    edited(post, author, "forbidden " + " ".join("ab"[i % 2] for i in range(9000)), old=slow)
    for url in (DESK, thread_url(post)):
        started = time.monotonic()
        response = desk_client.get(url)
        assert response.status_code == 200
        assert time.monotonic() - started < 5
        by_size = sorted(_diffs(response.content.decode()), key=len)
        assert "word700 <ins>https://spam.example/ forbidden </ins>word701" in by_size[0]
        assert f"<del>{slow}</del><ins>forbidden a b a b" in by_size[1]
