"""What each mail says. Builds ``notifications.mail.Mail`` values; user-supplied
text goes in as data and is escaped by the HTML template."""

from forum.models import Comment, Post
from notifications import links
from notifications.mail import Mail

QUOTE_MAX = 2000


def _quote(text: str) -> str:
    return text if len(text) <= QUOTE_MAX else text[:QUOTE_MAX] + "…"


def _name(name: str) -> str:
    return name or "Someone"


def confirmation(*, address, comment: Comment) -> Mail:
    everything = links.unsubscribe_url(a=address.pk)
    return Mail(
        to=address.email,
        subject="Confirm reply notifications",
        paragraphs=[
            "Someone, hopefully you, left a comment on "
            f"“{comment.post.title}” and asked to be told by mail when someone replies.",
            "Nothing else is sent to this address until you confirm. If it was not you, "
            "ignore this mail.",
        ],
        actions=[
            (
                "Confirm reply notifications",
                links.confirm_url(address_id=address.pk, email=address.email),
            )
        ],
        footer=[("Never mail this address again", everything)],
        unsubscribe_url=everything,
    )


def reply(*, to: str, reply: Comment, thread_unsubscribe: str, all_unsubscribe: str) -> Mail:
    title = reply.post.title
    return Mail(
        to=to,
        subject=f"New reply to your comment on “{title}”",
        paragraphs=[f"{_name(reply.author_name)} replied to your comment on “{title}”:"],
        quote=_quote(reply.body),
        actions=[("Read the thread", links.comment_url(reply))],
        footer=[
            ("Stop mail from this thread", thread_unsubscribe),
            ("Stop all reply mail", all_unsubscribe),
        ],
        unsubscribe_url=all_unsubscribe,
    )


def moderation_section(*, kind: str, target: Comment | Post, urls: list[tuple[str, str]]) -> dict:
    if isinstance(target, Comment):
        reasons = ", ".join(target.moderation_reasons) or "held"
        text = (
            f"A comment by {_name(target.author_name)} on “{target.post.title}” waits "
            f"for review ({reasons})."
        )
    else:
        text = f"The guest post “{target.title}” by {_name(target.author_name)} waits for review."
    return {"paragraphs": [text], "quote": _quote(target.body), "actions": urls}


def edit_section(*, comment: Comment, reasons: list[str], desk_url: str) -> dict:
    """An author's edit of a published comment, waiting for review. Never its text,
    nor the difference: the public keeps reading the approved text, and the edit
    is to be judged on the desk, against that text."""
    why = ", ".join(reasons) or "held"
    return {
        "paragraphs": [
            f"An edit by {_name(comment.author_name)} of their published comment on "
            f"“{comment.post.title}” waits for review ({why}).",
            "The public keeps reading the approved text until a moderator decides. "
            "The desk shows the edit against it.",
        ],
        "quote": "",
        "actions": [("Review edits on the desk", desk_url)],
    }


def moderation_item(*, to: str, section: dict, unsubscribe: str) -> Mail:
    return Mail(
        to=to,
        subject=section["paragraphs"][0],
        paragraphs=section["paragraphs"],
        quote=section["quote"],
        actions=section["actions"],
        footer=[("Stop moderation mail", unsubscribe)],
        unsubscribe_url=unsubscribe,
    )


def moderation_digest(*, to: str, sections: list[dict], unsubscribe: str) -> Mail:
    count = len(sections)
    return Mail(
        to=to,
        subject=f"{count} item{'s' if count != 1 else ''} wait{'' if count != 1 else 's'} "
        "for review",
        paragraphs=[f"These entered the moderation queue in the last hour ({count}):"],
        sections=sections,
        footer=[("Stop moderation mail", unsubscribe)],
        unsubscribe_url=unsubscribe,
    )


def guest_post_published(*, post: Post) -> Mail:
    return Mail(
        to=post.submitter_email,
        subject=f"Your guest post “{post.title}” is published",
        paragraphs=[
            f"Your guest post “{post.title}” was published as Guest Blog {post.guest_number}."
            if post.guest_number
            else f"Your guest post “{post.title}” was published.",
        ],
        actions=[("Read it", links.post_url(post))],
    )


def guest_post_rejected(*, post: Post, reason: str) -> Mail:
    paragraphs = [f"Your guest post “{post.title}” was not accepted."]
    if reason:
        paragraphs.append(f"The moderator's reason: {reason}")
    return Mail(
        to=post.submitter_email, subject=f"Your guest post “{post.title}”", paragraphs=paragraphs
    )
