"""The pages links in mails open. A GET only shows what the button will do (mail
scanners follow links); the POST does it. The signed token in the URL is the
credential, so these pages need no login and no CSRF cookie (one-click
unsubscribe, RFC 8058, POSTs from the mail client)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from forum.errors import ServiceError
from moderation.services import CommentOutcome
from notifications import services


def _page(request: HttpRequest, *, title: str, text: str, button: str = "", status: int = 200):
    response = render(
        request,
        "notifications/page.html",
        {"title": title, "text": text, "button": button},
        status=status,
    )
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"  # the token must not leak onwards
    return response


def _error(request: HttpRequest, exc: ServiceError) -> HttpResponse:
    return _page(request, title="This link does not work", text=exc.message, status=exc.status_code)


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    try:
        if request.method == "POST":
            address = services.address_confirm(token=token)
            return _page(
                request,
                title="Confirmed",
                text=f"Replies will be mailed to {address.email}.",
            )
        address = services.address_for_confirmation(token=token)
    except ServiceError as exc:
        return _error(request, exc)
    return _page(
        request,
        title="Confirm reply notifications",
        text=f"Mail {address.email} when someone replies to its comments?",
        button="Yes, mail me replies",
    )


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    try:
        if request.method == "POST":
            done = services.unsubscribe(token=token)
            return _page(request, title="Unsubscribed", text=f"Done: {done.description}")
        found = services.unsubscription_for(token=token)
    except ServiceError as exc:
        return _error(request, exc)
    return _page(request, title="Unsubscribe", text=found.description, button="Unsubscribe")


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def moderate(request: HttpRequest, token: str) -> HttpResponse:
    try:
        if request.method == "POST":
            outcome = services.moderation_link_use(token=token)
            done = "Done" if outcome.changed else "Nothing to do: it was decided already"
            what = "comment" if isinstance(outcome, CommentOutcome) else "post"
            target = outcome.comment if isinstance(outcome, CommentOutcome) else outcome.post
            return _page(
                request,
                title=done,
                text=f"The {what} is {target.status} now.",
            )
        link = services.moderation_link_get(token=token)
        target = services.moderation_link_target(link)
    except ServiceError as exc:
        return _error(request, exc)
    if target is None:
        return _page(request, title="Gone", text="This item no longer exists.", status=404)
    text = (
        f"{link.action.capitalize()} the {link.target} “{getattr(target, 'title', '')}”"
        if link.target == "post"
        else f"{link.action.capitalize()} this comment by "
        f"{target.author_name or 'an anonymous poster'} on “{target.post.title}”:"
    )
    quote = target.body[:2000]
    return _page(
        request, title="Moderation", text=f"{text}\n\n{quote}", button=link.action.capitalize()
    )
