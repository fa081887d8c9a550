"""The moderators' desk (/admin/moderation/desk/) through the test client, as a
moderator (staff, in the Moderators group, not a superuser) uses it."""

import datetime
from collections import Counter

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.messages import get_messages
from django.utils import timezone

from forum import services as forum_services
from forum.events import Event
from forum.identity import ip_hash
from forum.models import (
    Comment,
    CommentRevision,
    CommentStatus,
    FlagReason,
    PostStatus,
    RevisionStatus,
)
from moderation import casework, services
from moderation.models import ActionKind, Ban, ModerationAction, ModeratorNote
from tests.factories import PostFactory, UserFactory, make_comment
from tests.moderation.conftest import flag_down, held

pytestmark = [pytest.mark.django_db, pytest.mark.moderation_policy]

DESK = "/admin/moderation/desk/"


def thread_url(post) -> str:
    return f"{DESK}thread/{post.pk}/"


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def card_keys(response) -> list[str]:
    return [view["card"].key for view in response.context["cards"]]


def test_the_desk_shows_one_card_per_item_with_its_context_in_words(
    desk_client, desk_moderator, post, blog
):
    parent = make_comment(
        post, body="The parent comment, already public.", status=CommentStatus.APPROVED
    )
    services.blog_policy_update(blog=blog, actor=desk_moderator, watched_words="guaranteed")
    comment = held(
        post,
        "Guaranteed returns! http://a.example http://b.example http://c.example",
        parent=parent,
    )
    response = desk_client.get(DESK)
    assert response.status_code == 200
    html = response.content.decode()
    assert card_keys(response) == [f"comment:{comment.pk}"]
    assert "posted anonymously" in html
    assert "3 links" in html
    assert "watched word: guaranteed" in html
    assert "The parent comment, already public." in html
    assert f'href="{thread_url(post)}#c{comment.pk}"' in html
    assert post.title in html


def test_the_desk_is_for_moderators_only(client, user, desk_moderator):
    assert client.get(DESK).status_code == 302  # to the admin's login
    user.is_staff = True
    user.save()
    client.force_login(user)
    assert client.get(DESK).status_code == 403
    assert client.post(DESK, {"decide": "comment:1:approve"}).status_code == 403


def test_the_admin_index_links_the_desk_first_for_moderators(desk_client):
    html = desk_client.get("/admin/").content.decode()
    assert html.index(f'href="{DESK}"') < html.index("/admin/moderation/heldcomment/")


def test_flags_and_poster_record_show_on_the_card(desk_client, desk_moderator, post, blog):
    poster = UserFactory(username="nat", display_name="Nat")
    for n in range(2):
        make_comment(post, body=f"Fine {n}.", author=poster, status=CommentStatus.APPROVED)
    make_comment(post, body="Bad one.", author=poster, status=CommentStatus.REJECTED)
    flagged = make_comment(post, body="Flag me.", author=poster, status=CommentStatus.APPROVED)
    forum_services.flag_create(
        comment=flagged, reason=FlagReason.SPAM, ip_hash=ip_hash("198.51.100.99"), note="Buy now"
    )
    flagged = flag_down(flagged, reporters=2)
    assert flagged.status == CommentStatus.PENDING
    services.ban_create(blog=blog, actor=desk_moderator, user=poster, reason="Trolling")
    casework.note_add(
        comment_id=flagged.pk, about="poster", body="Known troll.", actor=desk_moderator
    )
    casework.note_add(
        comment_id=flagged.pk, about="comment", body="Check the links.", actor=desk_moderator
    )
    response = desk_client.get(DESK)
    html = response.content.decode()
    (view,) = response.context["cards"]
    assert view["card"].kind == "flag"
    assert "flagged 3 times: abuse, spam" in html
    assert "Buy now" in html
    assert "Account <strong>nat</strong>" in html
    assert "2 approved · 1 rejected · 0 spam · 1 held" in html
    assert "Banned from Probation Blog until lifted: Trolling" in html
    assert "Known troll." in html and "Check the links." in html
    assert "Fine 1." in html  # the poster's last comments, with links


def test_approving_in_one_click_with_a_reason_is_logged_in_both_logs_with_names(
    desk_client, desk_moderator, post
):
    comment = held(post, "Approve me.", author_name="Nat")
    response = desk_client.post(
        DESK,
        {"decide": f"comment:{comment.pk}:approve", f"reason-comment-{comment.pk}": "Fine."},
        follow=True,
    )
    assert response.status_code == 200
    comment.refresh_from_db()
    assert comment.status == CommentStatus.APPROVED
    entry = ModerationAction.objects.get()
    assert (entry.actor, entry.action, entry.reason, entry.from_state, entry.to_state) == (
        desk_moderator,
        "approve",
        "Fine.",
        "pending",
        "approved",
    )
    assert entry.details == {"reasons": ["first_post"]}
    assert messages_of(response) == [f"Approved Nat's comment on “{post.title}”."]
    admin_entry = LogEntry.objects.get()
    assert admin_entry.object_repr == f"Nat's comment on “{post.title}”"
    assert admin_entry.get_change_message() == (
        f"Approved Nat's comment on “{post.title}”. Reason: Fine."
    )
    assert "Undo" in response.content.decode()


def test_a_stale_decision_says_the_current_state_in_words_and_changes_nothing(
    desk_client, second_moderator, post
):
    comment = held(post, "Contested.", author_name="Nat")
    services.comment_reject(comment_id=comment.pk, actor=second_moderator)
    response = desk_client.post(DESK, {"decide": f"comment:{comment.pk}:approve"}, follow=True)
    comment.refresh_from_db()
    assert comment.status == CommentStatus.REJECTED
    assert messages_of(response) == [
        f"Nat's comment on “{post.title}”: This comment is rejected now, not pending: "
        "another decision came first."
    ]


def test_undo_calls_the_inverse_verb_restores_the_reasons_and_is_logged(
    desk_client, desk_moderator, post
):
    comment = held(post, "Approve, then undo.")
    reasons = list(comment.moderation_reasons)
    desk_client.post(DESK, {"decide": f"comment:{comment.pk}:approve"})
    approval = ModerationAction.objects.get()
    assert desk_client.session["desk_last"]["ids"] == str(approval.pk)

    response = desk_client.post(DESK, {"undo": str(approval.pk)}, follow=True)
    comment.refresh_from_db()
    assert (comment.status, comment.moderation_reasons) == (CommentStatus.PENDING, reasons)
    undo = ModerationAction.objects.exclude(pk=approval.pk).get()
    assert (undo.action, undo.undoes, undo.from_state, undo.to_state) == (
        ActionKind.HOLD,
        approval,
        "approved",
        "pending",
    )
    assert messages_of(response)[-1].startswith("Undone: Returned an anonymous comment on")
    # The comment is back in the queue: the event log says so, as for any held comment.
    kinds = list(Event.objects.filter(comment_id=comment.pk).values_list("kind", flat=True))
    assert kinds[-2:] == ["comment.published", "comment.held"]
    # Undone once: a second undo changes nothing.
    desk_client.post(DESK, {"undo": str(approval.pk)})
    assert ModerationAction.objects.count() == 2


@pytest.mark.parametrize(
    ("verb", "then", "expected"),
    [
        ("reject", "hold", CommentStatus.PENDING),
        ("spam", "hold", CommentStatus.PENDING),
    ],
)
def test_every_desk_decision_can_be_undone(desk_moderator, post, verb, then, expected):
    comment = held(post, "Decide me.")
    outcome = casework.item_decide(
        kind="comment", item_id=comment.pk, decision=verb, actor=desk_moderator
    )
    assert casework.undo_verb(outcome.action) == then
    casework.action_undo(action_id=outcome.action.pk, actor=desk_moderator)
    comment.refresh_from_db()
    assert comment.status == expected


def test_undo_is_refused_when_someone_decided_since(desk_moderator, second_moderator, post):
    comment = held(post, "Approve, then reject, then undo the approval.")
    approval = services.comment_approve(comment_id=comment.pk, actor=desk_moderator).action
    services.comment_spam(comment_id=comment.pk, actor=second_moderator)
    with pytest.raises(casework.Conflict):
        casework.action_undo(action_id=approval.pk, actor=desk_moderator)
    comment.refresh_from_db()
    assert comment.status == CommentStatus.SPAM


def test_ban_and_reject_all_held_items_of_the_poster_in_one_click_and_undo_it(
    desk_client, desk_moderator, post, blog
):
    network = ip_hash("192.0.2.50")
    mine = [held(post, f"Spammy {n}.", ip_hash=network) for n in range(3)]
    other = held(post, "Someone else.", ip_hash=ip_hash("192.0.2.51"))
    response = desk_client.post(
        DESK,
        {
            "ban": f"comment:{mine[0].pk}",
            f"reason-comment-{mine[0].pk}": "Spam run",
            f"ban_days-comment-{mine[0].pk}": "7",
        },
        follow=True,
    )
    ban = Ban.objects.get()
    assert (ban.ip_hash, ban.user, ban.reason, ban.blog) == (network, None, "Spam run", blog)
    assert ban.expires_at > timezone.now() + datetime.timedelta(days=6)
    statuses = set(Comment.objects.filter(pk__in=[c.pk for c in mine]).values_list("status"))
    assert statuses == {(CommentStatus.REJECTED,)}
    other.refresh_from_db()
    assert other.status == CommentStatus.PENDING
    assert messages_of(response) == [
        f"Banned network {network[:12]}… on Probation Blog and rejected 3 held comments."
    ]
    assert ModerationAction.objects.filter(action="reject", reason="Spam run").count() == 3
    assert ModerationAction.objects.filter(action="ban").count() == 1
    assert LogEntry.objects.count() == 4

    desk_client.post(DESK, {"undo": desk_client.session["desk_last"]["ids"]})
    ban.refresh_from_db()
    assert ban.lifted_at is not None
    statuses = set(Comment.objects.filter(pk__in=[c.pk for c in mine]).values_list("status"))
    assert statuses == {(CommentStatus.PENDING,)}


def test_filters_by_kind_reason_blog_and_post(desk_client, desk_moderator, post, blog, guest_post):
    other_post = PostFactory(blog=blog)
    anonymous = held(post, "Anonymous one.")
    named = held(other_post, "Named one.", author_name="Nat")
    flagged = flag_down(make_comment(post, body="Flagged.", status=CommentStatus.APPROVED))
    services.blog_policy_update(blog=blog, actor=desk_moderator, watched_words="casino")
    watched = held(post, "Casino night.", author_name="Nat")

    def keys(query: str) -> set[str]:
        response = desk_client.get(f"{DESK}?{query}")
        assert response.status_code == 200, response.content
        return set(card_keys(response))

    everything = keys("")
    assert everything == {
        f"comment:{anonymous.pk}",
        f"comment:{named.pk}",
        f"comment:{flagged.pk}",
        f"comment:{watched.pk}",
        f"post:{guest_post.pk}",
    }
    assert keys("reason=anonymous") == {f"comment:{anonymous.pk}"}
    assert keys("reason=watched_word") == {f"comment:{watched.pk}"}
    assert keys("reason=first_post") == {f"comment:{named.pk}", f"comment:{watched.pk}"}
    assert keys("reason=flagged") == {f"comment:{flagged.pk}"}
    assert keys("kind=flag") == {f"comment:{flagged.pk}"}
    assert keys("kind=post") == {f"post:{guest_post.pk}"}
    assert keys("reason=guest_post") == {f"post:{guest_post.pk}"}
    assert keys(f"post={other_post.pk}") == {f"comment:{named.pk}"}
    assert keys(f"blog={blog.slug}") == everything
    order = card_keys(desk_client.get(f"{DESK}?order=priority"))
    assert order[0] == f"comment:{flagged.pk}"


@pytest.mark.parametrize(
    "query", ["kind=nope", "reason=%00", "blog=missing", "post=abc", "page=0", "page=1e300"]
)
def test_bad_filters_are_a_400_not_a_500(desk_client, query):
    assert desk_client.get(f"{DESK}?{query}").status_code == 400


@pytest.mark.parametrize(
    "data",
    [
        {"decide": "comment:1"},
        {"decide": "comment:x:approve"},
        {"decide": "comment:99999999999999999999999:approve"},
        {"decide": "user:1:approve"},
        {"decide": "comment:1:delete"},
        {"bulk": "delete"},
        {"undo": "1,x"},
        {"note": "comment:1:other"},
        {"ban": "comment:1", "ban_days-comment-1": "9999"},
        {"decide": "comment:1:approve", "reason-comment-1": "x" * 2001},
        {},
    ],
)
def test_bad_posts_are_a_400_and_change_nothing(desk_client, post, data):
    held(post)
    response = desk_client.post(DESK, data)
    assert response.status_code == 400
    assert not ModerationAction.objects.exists()


def test_bulk_decides_the_selected_each_on_its_own_and_reports_conflicts(
    desk_client, desk_moderator, second_moderator, post, guest_post
):
    comments = [held(post, f"Bulk {n}.") for n in range(3)]
    services.comment_spam(comment_id=comments[2].pk, actor=second_moderator)
    response = desk_client.post(
        DESK,
        {
            "bulk": "reject",
            "bulk_reason": "Off topic",
            "selected": [f"comment:{c.pk}" for c in comments] + [f"post:{guest_post.pk}"],
        },
        follow=True,
    )
    said = messages_of(response)
    assert said[0] == "3 items rejected; 1 conflict."
    assert "This comment is spam now, not pending" in said[1]
    assert ModerationAction.objects.filter(actor=desk_moderator, reason="Off topic").count() == 3
    guest_post.refresh_from_db()
    assert guest_post.status == PostStatus.REJECTED


def test_bulk_all_matching_decides_everything_the_filters_match(desk_client, post, blog):
    anonymous = [held(post, f"Anon {n}.") for n in range(3)]
    named = held(post, "Named.", author_name="Nat")
    response = desk_client.post(
        DESK, {"bulk": "spam", "all_matching": "1", "query": "reason=anonymous"}, follow=True
    )
    assert messages_of(response)[0] == "3 items marked as spam; 0 conflicts."
    assert {c.status for c in Comment.objects.filter(pk__in=[c.pk for c in anonymous])} == {
        CommentStatus.SPAM
    }
    named.refresh_from_db()
    assert named.status == CommentStatus.PENDING


def test_notes_on_a_comment_and_on_its_poster_are_kept_and_never_public(
    desk_client, api_client, post
):
    comment = held(post, "Note me.", author_name="Nat")
    desk_client.post(
        DESK, {"note": f"comment:{comment.pk}:poster", f"note-comment-{comment.pk}": "Watch."}
    )
    desk_client.post(
        DESK, {"note": f"comment:{comment.pk}:comment", f"note-comment-{comment.pk}": "Odd."}
    )
    notes = {(n.body, n.comment_id, n.ip_hash) for n in ModeratorNote.objects.all()}
    assert notes == {("Watch.", None, comment.ip_hash), ("Odd.", comment.pk, "")}
    services.comment_approve(comment_id=comment.pk, actor=UserFactory(is_superuser=True))
    public = api_client.get(f"/api/posts/{post.pk}/comments/").content.decode()
    assert "Note me." in public and "Watch." not in public and "Odd." not in public
    empty = desk_client.post(
        DESK, {"note": f"comment:{comment.pk}:comment", f"note-comment-{comment.pk}": "  "}
    )
    assert empty.status_code == 302
    assert ModeratorNote.objects.count() == 2


def test_the_thread_view_shows_every_comment_with_its_state_and_acts_on_it(
    desk_client, desk_moderator, post
):
    top = make_comment(post, body="Top, public.", status=CommentStatus.APPROVED)
    reply = make_comment(post, body="A held reply.", parent=top, status=CommentStatus.PENDING)
    spam = make_comment(post, body="Spam reply.", parent=top, status=CommentStatus.SPAM)
    gone = make_comment(post, body="Removed.", status=CommentStatus.APPROVED)
    make_comment(post, body="Under the removed.", parent=gone, status=CommentStatus.APPROVED)
    services.comment_remove(comment_id=gone.pk, actor=desk_moderator)
    response = desk_client.get(thread_url(post))
    assert response.status_code == 200
    states = {row["row"].comment.pk: row["row"].state for row in response.context["rows"]}
    assert states[top.pk] == "approved"
    assert states[reply.pk] == "pending"
    assert states[spam.pk] == "spam"
    assert states[gone.pk] == "tombstone"
    html = response.content.decode()
    assert html.index("Top, public.") < html.index("A held reply.") < html.index("Removed.")

    response = desk_client.post(
        thread_url(post),
        {"act": f"comment:{reply.pk}:approve", f"state-{reply.pk}": "pending"},
        follow=True,
    )
    reply.refresh_from_db()
    assert reply.status == CommentStatus.APPROVED
    desk_client.post(
        thread_url(post), {"act": f"comment:{gone.pk}:restore", f"state-{gone.pk}": "tombstone"}
    )
    gone.refresh_from_db()
    assert not gone.is_removed
    stale = desk_client.post(
        thread_url(post),
        {"act": f"comment:{spam.pk}:approve", f"state-{spam.pk}": "pending"},
        follow=True,
    )
    assert "This comment is spam now, not pending" in messages_of(stale)[-1]
    assert desk_client.get(f"{DESK}thread/999999/").status_code == 404
    assert desk_client.get(f"{DESK}thread/{2**70}/").status_code == 404


def test_post_and_comment_admin_link_to_the_thread_view(desk_client, post):
    comment = make_comment(post, body="Linked.", status=CommentStatus.APPROVED)
    post_page = desk_client.get(f"/admin/forum/post/{post.pk}/change/").content.decode()
    assert thread_url(post) in post_page
    comment_page = desk_client.get(f"/admin/forum/comment/{comment.pk}/change/").content.decode()
    assert f"{thread_url(post)}#c{comment.pk}" in comment_page
    listing = desk_client.get("/admin/forum/comment/").content.decode()
    assert f"{thread_url(post)}#c{comment.pk}" in listing


def test_the_desk_costs_the_same_queries_for_1000_held_items_and_200_edits_from_300_posters(
    desk_client, desk_moderator, blog, django_assert_num_queries, settings
):
    posts = [PostFactory(blog=blog) for _ in range(5)]
    made = edits = 0

    def hold_items(count: int, posters: int) -> None:
        nonlocal made
        for n in range(count):
            who = (made + n) % posters
            make_comment(
                posts[n % 5],
                body=f"Held item {made + n}.",
                status=CommentStatus.PENDING,
                ip_hash=ip_hash(f"10.0.{who // 250}.{who % 250}"),
                author_name="" if who % 2 else f"Poster {who}",
            )
        made += count

    def edit_items(count: int, posters: int) -> None:
        """Published comments whose poster's edit awaits review (edits to review)."""
        nonlocal edits
        for n in range(count):
            who = (edits + n) % posters
            comment = make_comment(
                posts[n % 5],
                body=f"Published item {edits + n}.",
                status=CommentStatus.APPROVED,
                ip_hash=ip_hash(f"10.1.{who // 250}.{who % 250}"),
                author_name="" if who % 2 else f"Editor {who}",
                issue_edit_token=True,
            )
            forum_services.comment_update(
                comment_id=comment.pk,
                body=f"Edited item {edits + n}: <b>new</b> words.",
                edit_token=comment.issued_edit_token,
            )
        edits += count
        # One in eight of these edits older than every held item: the first page mixes both.
        new = CommentRevision.objects.filter(status=RevisionStatus.PENDING).order_by("-id")
        older = list(new.values_list("pk", flat=True)[:count])[::8]
        CommentRevision.objects.filter(pk__in=older).update(
            created_at=timezone.now() - datetime.timedelta(days=1)
        )

    hold_items(3, 3)
    edit_items(2, 2)
    desk_client.get(DESK)  # warm the session, the content types
    with django_assert_num_queries(QUERIES) as small:
        assert desk_client.get(DESK).status_code == 200
    hold_items(997, 300)
    edit_items(198, 300)
    with django_assert_num_queries(QUERIES) as big:
        response = desk_client.get(DESK)
    kinds = Counter(view["card"].kind for view in response.context["cards"])
    assert kinds == {"edit": 27, "comment": 23}
    assert response.context["total"] == 1200
    assert len(small.captured_queries) == len(big.captured_queries)


# The desk page, query by query: session, user, moderator check (3); the filters'
# blogs and posts (2); the count and the page of the queue (2); the page's comments,
# their open flags, the edits awaiting review among them (3); the posters' counts,
# bans in force, last comments (3); the notes (1); the admin's permissions and the
# notifications admin's blog-owner check for the sidebar (4); recent decisions (1).
# (18 without edits on the page: their query is left out.)
QUERIES = 19


def test_the_desk_offers_undo_for_fifteen_minutes_then_the_log_does(desk_client, post):
    comment = held(post, "Decided a while ago.")
    desk_client.post(DESK, {"decide": f"comment:{comment.pk}:reject"})
    page = desk_client.get(DESK)
    assert page.context["last"]["ids"] == str(ModerationAction.objects.get().pk)
    assert [entry["undoable"] for entry in page.context["recent"]] == [True]

    session = desk_client.session
    session["desk_last"] = {**session["desk_last"], "at": session["desk_last"]["at"] - 16 * 60}
    session.save()
    ModerationAction.objects.update(created_at=timezone.now() - datetime.timedelta(minutes=16))
    page = desk_client.get(DESK)
    assert page.context["last"] is None
    assert page.context["recent"] == []


def test_the_thread_view_costs_the_same_queries_whatever_the_thread_size(
    desk_client, post, django_assert_num_queries, set_policy
):
    set_policy(mode="hold_none", watched_words="forbidden")  # edits with it wait
    author = UserFactory()

    def grow(n: int) -> None:
        for i in range(Comment.objects.count(), Comment.objects.count() + n):
            top = make_comment(post, body=f"Top {i}.", author=author)
            make_comment(post, body=f"Held reply {i}.", parent=top, status=CommentStatus.PENDING)
            forum_services.comment_update(comment_id=top.pk, body=f"forbidden {i}", user=author)

    grow(1)
    desk_client.get(thread_url(post))  # warm the session
    with django_assert_num_queries(THREAD_QUERIES):
        assert desk_client.get(thread_url(post)).status_code == 200
    grow(30)
    with django_assert_num_queries(THREAD_QUERIES):
        response = desk_client.get(thread_url(post))
    assert len(response.context["rows"]) == 62
    assert len([item for item in response.context["rows"] if item["row"].edit]) == 31
    assert response.content.decode().count("edit awaiting review") == 31


# Session, user, moderator check (3); the post, its comments with their open flags,
# the notes, the edits awaiting review (4); the admin's permissions and the
# notifications admin's blog-owner check for the sidebar (4); recent decisions (1).
THREAD_QUERIES = 12
