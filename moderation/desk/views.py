"""The desk's pages: the queue as cards (``desk``) and a post's thread (``thread``).

Each page is one HTML form, so every button works without JavaScript: a button's
name says what it does (``decide``, ``ban``, ``bulk``, ``note``, ``undo``) and its
value which item (``comment:12:approve``). A POST calls one service per item (each
in its own transaction, together with its entry in Django's admin log, so "Recent
actions" agrees with the moderation log), reports what happened in words, and
redirects back to the page it came from (with its filters).
"""

import datetime
from functools import wraps
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join

from forum.api.filters import MAX_ID
from forum.errors import ServiceError
from forum.models import Comment, Post
from moderation import cards, casework, services
from moderation.desk import adminlog, card_views, words
from moderation.desk.forms import DeskFilters
from moderation.models import ModerationAction, TargetKind
from moderation.permissions import can_moderate

UNDO_WINDOW = datetime.timedelta(minutes=15)  # how long the desk offers "Undo"
BULK_LIMIT = 500  # items decided by one request (each in its own transaction)
BAN_LENGTHS = {"": "until lifted", "1": "for a day", "7": "for a week", "30": "for 30 days"}
# Rendered once: the same <option>s on every card.
BAN_OPTIONS = format_html_join("", '<option value="{}">{}</option>', BAN_LENGTHS.items())
THREAD_VERBS = {  # the buttons a comment's state gets in the thread view
    "pending": ("approve", "reject", "spam"),
    "approved": ("remove", "spam", "hold"),
    "rejected": ("approve", "spam"),
    "spam": ("approve", "reject"),
    "removed": ("restore",),
    "tombstone": ("restore",),
}
VERB_LABELS = {
    "approve": "Approve",
    "reject": "Reject",
    "spam": "Spam",
    "remove": "Remove",
    "restore": "Restore",
    "hold": "Back to queue",
}


# What a button or a ticked card names: a comment, a post, or a comment's edit
# awaiting review (decided on its card only: see ``_bulk``).
ITEM_KINDS = (TargetKind.COMMENT, TargetKind.POST, casework.EDIT)


class BadRequest(Exception):
    pass


def moderator_page(view):
    """The admin's login and staff checks, then moderators only (403)."""

    @wraps(view)
    def checked(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not can_moderate(request.user):
            raise PermissionDenied
        try:
            return view(request, *args, **kwargs)
        except BadRequest as exc:
            return HttpResponse(f"Bad request: {exc}", status=400, content_type="text/plain")

    return admin.site.admin_view(checked)


# --- input ------------------------------------------------------------------------------


def _is_number(text: str) -> bool:
    """ASCII digits only: ``str.isdigit`` also takes "²" (which ``int`` refuses) and
    other scripts' digits (which it reads)."""
    return text.isascii() and text.isdigit()


def _item(value: str, *, verbs: tuple[str, ...] = ()) -> tuple[str, int, str]:
    """``"comment:12:approve"`` → ``("comment", 12, "approve")`` (verb only if asked)."""
    parts = value.split(":")
    if len(parts) != (3 if verbs else 2) or parts[0] not in ITEM_KINDS:
        raise BadRequest(f"unknown item {value[:40]!r}")
    if not _is_number(parts[1]) or not 0 < int(parts[1]) <= MAX_ID:
        raise BadRequest(f"unknown item {value[:40]!r}")
    verb = parts[2] if verbs else ""
    if verbs and verb not in verbs:
        raise BadRequest(f"unknown decision {verb[:20]!r}")
    return parts[0], int(parts[1]), verb


def _text(request: HttpRequest, name: str) -> str:
    value = request.POST.get(name, "")
    if len(value) > services.REASON_MAX_LENGTH:
        raise BadRequest(f"{name} is longer than {services.REASON_MAX_LENGTH} characters")
    return value


def _back(request: HttpRequest, default: str, anchor: str = "") -> HttpResponseRedirect:
    query = request.POST.get("query", "")
    if len(query) > 2000 or "\n" in query or "\r" in query:
        query = ""
    return HttpResponseRedirect(f"{default}?{query}{anchor}" if query else default + anchor)


def _say_error(request: HttpRequest, label: str, exc: ServiceError) -> None:
    messages.warning(request, f"{label}: {exc.message}")


# --- the desk -----------------------------------------------------------------------------


@moderator_page
def desk(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _desk_post(request)
    if request.method != "GET":
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    form = DeskFilters(request.GET)
    status = 200
    if form.is_valid():
        entries = cards.desk_entries(**form.entries_filters())
        total = entries.count()
        pages = max(1, -(-total // cards.PAGE_SIZE))
        page = min(form.cleaned_data["page"] or 1, pages)
        start = (page - 1) * cards.PAGE_SIZE
        card_list = cards.desk_cards(list(entries[start : start + cards.PAGE_SIZE]))
    else:
        status, total, pages, page, card_list = 400, 0, 1, 1, []
    query = {k: v for k, v in request.GET.items() if k != "page" and v}
    context = {
        **admin.site.each_context(request),
        "title": "Moderation desk",
        "form": form,
        "cards": [card_views.card_view(card) for card in card_list],
        "total": total,
        "page": page,
        "pages": pages,
        "query": urlencode(query) if form.is_valid() else "",
        "page_query": urlencode({**query, "page": page}) if form.is_valid() else "",
        "prev_query": urlencode({**query, "page": page - 1}),
        "next_query": urlencode({**query, "page": page + 1}),
        "recent": _recent(request),
        "ban_options": BAN_OPTIONS,
        "last": _last(request),
    }
    return render(request, "moderation_desk/desk.html", context, status=status)


def _recent(request: HttpRequest) -> list[dict]:
    since = timezone.now() - UNDO_WINDOW
    return [
        {
            "id": action.pk,
            "text": words.decision(action),
            "at": action.created_at,
            "undoable": casework.undo_verb(action) is not None,
        }
        for action in cards.recent_decisions(actor=request.user, since=since)
    ]


def _remember(request: HttpRequest, text: str, actions: list[ModerationAction]) -> None:
    """The last decision, offered for undo at the top of the page."""
    ids = ",".join(str(a.pk) for a in actions if a is not None)
    at = timezone.now().timestamp()
    request.session["desk_last"] = {"text": text, "ids": ids, "at": at} if ids else None


def _last(request: HttpRequest) -> dict | None:
    """The last decision while it may still be undone from the top of the page."""
    last = request.session.get("desk_last")
    if not last or timezone.now().timestamp() - last.get("at", 0) > UNDO_WINDOW.total_seconds():
        return None
    return last


def _desk_post(request: HttpRequest) -> HttpResponse:
    url = reverse("moderation_desk:desk")
    post = request.POST
    if "decide" in post:
        _decide_one(request, *_decision(request))
        return _back(request, url)
    if "ban" in post:
        kind, pk, _ = _item(post["ban"])
        _ban_poster(request, pk, reason=_text(request, f"reason-{kind}-{pk}"), kind=kind)
        return _back(request, url)
    if "bulk" in post:
        verb = post["bulk"]
        if verb not in casework.DESK_VERBS:
            raise BadRequest(f"unknown decision {verb[:20]!r}")
        _bulk(request, verb, reason=_text(request, "bulk_reason"))
        return _back(request, url)
    if "note" in post:
        kind, pk, about = _item(post["note"], verbs=("comment", "poster"))
        _note(request, kind, pk, about, _text(request, f"note-{kind}-{pk}"))
        return _back(request, url, f"#card-{kind}-{pk}")
    if "undo" in post:
        _undo(request, post["undo"])
        return _back(request, url)
    raise BadRequest("no action")


def _decision(request: HttpRequest) -> tuple[str, int, str, str, int | None]:
    """A card's decision button (``decide``: ``edit:12:approve``) with its reason and,
    for an edit, the version its moderator read: ``_decide_one``'s arguments."""
    kind, pk, verb = _item(request.POST["decide"], verbs=tuple(casework.DESK_VERBS))
    reason = _text(request, f"reason-{kind}-{pk}")
    revision = request.POST.get(f"revision-{pk}", "") if kind == casework.EDIT else "0"
    if not _is_number(revision) or int(revision) > MAX_ID:
        raise BadRequest("which version of the edit?")
    return kind, pk, verb, reason, int(revision) or None


def _label(kind: str, pk: int) -> str:
    if kind != TargetKind.POST:
        comment = Comment.objects.select_related("post").filter(pk=pk).first()
        return adminlog.comment_label(comment) if comment else "A comment no longer here"
    post = Post.objects.filter(pk=pk).first()
    return f"The post “{words.excerpt(post.title)}”" if post else "A post no longer here"


def _decide_one(
    request: HttpRequest, kind: str, pk: int, verb: str, reason: str, revision: int | None = None
) -> None:
    try:
        with transaction.atomic():
            outcome = casework.item_decide(
                kind=kind,
                item_id=pk,
                decision=verb,
                actor=request.user,
                reason=reason,
                revision=revision,
            )
            adminlog.log_decision(outcome.action, request.user)
    except ServiceError as exc:
        _say_error(request, _label(kind, pk), exc)
        return
    if outcome.changed:
        text = words.decision(outcome.action)
        messages.success(request, f"{text}.")
        # A decision on an edit has no inverse verb (casework): no "Undo" offered.
        _remember(request, text, [outcome.action] if kind != casework.EDIT else [])
    else:
        messages.info(request, f"{_label(kind, pk)}: already decided that way; nothing changed.")


def _ban_until(request: HttpRequest, kind: str, pk: int) -> datetime.datetime | None:
    days = request.POST.get(f"ban_days-{kind}-{pk}", "")
    if days not in BAN_LENGTHS:
        raise BadRequest("unknown ban length")
    return timezone.now() + datetime.timedelta(days=int(days)) if days else None


def _ban_poster(request: HttpRequest, pk: int, *, reason: str, kind: str) -> None:
    if kind != TargetKind.COMMENT:
        raise BadRequest("only a comment's poster can be banned here")
    try:
        with transaction.atomic():
            sweep = casework.poster_ban_and_reject(
                comment_id=pk,
                actor=request.user,
                reason=reason,
                expires_at=_ban_until(request, kind, pk),
            )
            entries = sweep.log_entries
            for entry in entries:
                adminlog.log_decision(entry, request.user)
    except ServiceError as exc:
        _say_error(request, _label(kind, pk), exc)
        return
    subject = words.target(entries[-1]) if sweep.ban_created else "the poster (banned already)"
    text = (
        f"Banned {subject} and rejected "
        f"{words.plural(len([r for r in sweep.rejected if r.changed]), 'held comment')}"
    )
    messages.success(request, f"{text}.")
    _remember(request, text, entries)


def _bulk(request: HttpRequest, verb: str, *, reason: str) -> None:
    if request.POST.get("all_matching") == "1":
        form = DeskFilters(_query_dict(request.POST.get("query", "")))
        if not form.is_valid():
            raise BadRequest("bad filters")
        rows = cards.desk_entries(**form.entries_filters())[:BULK_LIMIT]
        items = [(kind if kind in ITEM_KINDS else TargetKind.COMMENT, pk) for kind, pk, *_ in rows]
        if len(items) == BULK_LIMIT:
            messages.info(request, f"The first {BULK_LIMIT} matching; run it again for more.")
    else:
        items = [_item(value)[:2] for value in request.POST.getlist("selected")[:BULK_LIMIT]]
    # An edit is decided on its card, against the diff its moderator read: never in bulk.
    edits = sum(1 for kind, _ in items if kind == casework.EDIT)
    items = [(kind, pk) for kind, pk in items if kind != casework.EDIT]
    if edits:
        messages.info(
            request, f"{words.plural(edits, 'edit')} skipped: decide edits on their cards."
        )
    if not items:
        if not edits:
            messages.warning(request, "Nothing selected: tick some cards, or “all matching”.")
        return
    changed, unchanged, conflicts, done = 0, 0, [], []
    for kind, pk in items:
        try:
            with transaction.atomic():
                outcome = casework.item_decide(
                    kind=kind, item_id=pk, decision=verb, actor=request.user, reason=reason
                )
                adminlog.log_decision(outcome.action, request.user)
        except ServiceError as exc:
            conflicts.append(f"{_label(kind, pk)}: {exc.message}")
            continue
        if outcome.changed:
            changed += 1
            done.append(outcome.action)
        else:
            unchanged += 1
    verb_words = {"approve": "approved", "reject": "rejected", "spam": "marked as spam"}[verb]
    text = f"{words.plural(changed, 'item')} {verb_words}"
    messages.success(
        request,
        f"{text}; {words.plural(len(conflicts), 'conflict')}"
        + (f"; {unchanged} unchanged" if unchanged else "")
        + ".",
    )
    for conflict in conflicts[:20]:
        messages.warning(request, conflict)
    _remember(request, text, done)


def _query_dict(query: str) -> QueryDict:
    return QueryDict(query[:2000])


def _note(request: HttpRequest, kind: str, pk: int, about: str, body: str) -> None:
    if kind != TargetKind.COMMENT:
        raise BadRequest("notes are about comments and their posters")
    try:
        casework.note_add(comment_id=pk, about=about, body=body, actor=request.user)
    except ServiceError as exc:
        _say_error(request, _label(kind, pk), exc)
        return
    subject = "the poster" if about == "poster" else "the comment"
    messages.success(request, f"Note kept on {subject}.")


def _undo(request: HttpRequest, value: str) -> None:
    ids = value.split(",")
    if not ids or len(ids) > 1000 or not all(_is_number(i) and 0 < int(i) <= MAX_ID for i in ids):
        raise BadRequest("unknown log entries")
    try:
        with transaction.atomic():
            tally = casework.actions_undo(action_ids=[int(i) for i in ids], actor=request.user)
            for entry in tally.undone:
                adminlog.log_decision(entry, request.user)
    except ServiceError as exc:
        messages.warning(request, f"Not undone: {exc.message}")
        return
    request.session["desk_last"] = None
    if tally.undone:
        messages.success(
            request,
            "Undone: " + "; ".join(words.decision(entry) for entry in tally.undone[:5]) + ".",
        )
    else:
        messages.info(request, "Undone already; nothing changed.")


# --- the thread view ----------------------------------------------------------------------


@moderator_page
def thread(request: HttpRequest, post_id: int) -> HttpResponse:
    if post_id > MAX_ID:
        post_id = 0  # no such post (and no integer overflow in the database)
    url = reverse("moderation_desk:thread", args=[post_id])
    if request.method == "POST":
        return _thread_post(request, url)
    if request.method != "GET":
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    try:
        post, rows = cards.thread_for_moderators(post_id=post_id)
    except ServiceError:
        return render(
            request,
            "moderation_desk/thread.html",
            {**admin.site.each_context(request), "title": "No such post", "missing": True},
            status=404,
        )
    context = {
        **admin.site.each_context(request),
        "title": f"Thread: {post.title}",
        "post": post,
        "rows": [
            {
                "row": row,
                "state": words.STATES.get(row.state, row.state),
                "verbs": [(v, VERB_LABELS[v]) for v in THREAD_VERBS.get(row.state, ())],
                "indent": min(row.comment.depth, 6),
                "edit_reasons": words.reasons(
                    row.edit["reasons"], link_count=row.edit["link_count"]
                )
                if row.edit
                else [],
            }
            for row in rows
        ],
        "recent": _recent(request),
        "last": _last(request),
        "ban_options": BAN_OPTIONS,
    }
    return render(request, "moderation_desk/thread.html", context)


def _thread_post(request: HttpRequest, url: str) -> HttpResponse:
    post = request.POST
    if "act" in post:
        _, pk, verb = _item(post["act"], verbs=tuple(VERB_LABELS))
        expected = post.get(f"state-{pk}", "")
        if expected == "tombstone":
            expected = services.REMOVED
        if expected not in services.COMMENT_STATES:
            raise BadRequest("unknown state")
        try:
            with transaction.atomic():
                outcome = services.comment_decide(
                    comment_id=pk,
                    action=verb,
                    actor=request.user,
                    reason=_text(request, f"reason-comment-{pk}"),
                    expected_state=expected,
                )
                adminlog.log_decision(outcome.action, request.user)
        except ServiceError as exc:
            _say_error(request, _label(TargetKind.COMMENT, pk), exc)
        else:
            if outcome.changed:
                text = words.decision(outcome.action)
                messages.success(request, f"{text}.")
                _remember(request, text, [outcome.action])
            else:
                messages.info(request, "Nothing changed: it was already so.")
        return HttpResponseRedirect(f"{url}#c{pk}")
    if "decide" in post:  # an edit awaiting review: the desk's edit-card buttons
        kind, pk, verb, reason, revision = _decision(request)
        if kind != casework.EDIT:
            raise BadRequest("the thread decides comments with “act”")
        _decide_one(request, kind, pk, verb, reason, revision=revision)
        return HttpResponseRedirect(f"{url}#c{pk}")
    if "ban" in post:
        kind, pk, _ = _item(post["ban"])
        _ban_poster(request, pk, reason=_text(request, f"reason-{kind}-{pk}"), kind=kind)
        return HttpResponseRedirect(f"{url}#c{pk}")
    if "note" in post:
        kind, pk, about = _item(post["note"], verbs=("comment", "poster"))
        _note(request, kind, pk, about, _text(request, f"note-{kind}-{pk}"))
        return HttpResponseRedirect(f"{url}#c{pk}")
    if "undo" in post:
        _undo(request, post["undo"])
        return HttpResponseRedirect(url)
    raise BadRequest("no action")
