"""Mails: one shape (a greeting, paragraphs, buttons, footer links), rendered as plain
text and as HTML. Every string that came from a user (names, titles, comment text,
reasons) reaches the HTML part through Django's autoescaping only, and subjects are
folded to one line (no header injection)."""

from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string


@dataclass
class Mail:
    to: str
    subject: str
    paragraphs: list[str] = field(default_factory=list)
    # (label, url) pairs shown as buttons / links.
    actions: list[tuple[str, str]] = field(default_factory=list)
    # Quoted user text (a comment), shown as a block.
    quote: str = ""
    # Sections of a digest: each a dict of the same fields (paragraphs, quote, actions).
    sections: list[dict] = field(default_factory=list)
    # (label, url) footer links: unsubscribe from the thread / from everything.
    footer: list[tuple[str, str]] = field(default_factory=list)
    # One-click unsubscribe (RFC 8058), the mail's List-Unsubscribe.
    unsubscribe_url: str = ""

    def rendered(self) -> dict:
        """What the outbox stores: subject, text and HTML bodies, headers."""
        context = {
            "mail": self,
            "sections": self.sections,
            "site_url": settings.SITE_URL,
        }
        headers = {"Auto-Submitted": "auto-generated"}
        if self.unsubscribe_url:
            headers["List-Unsubscribe"] = f"<{self.unsubscribe_url}>"
            headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        return {
            "subject": one_line(self.subject)[:300],
            "body_text": render_to_string("notifications/mail.txt", context),
            "body_html": render_to_string("notifications/mail.html", context),
            "headers": headers,
        }


def one_line(text: str) -> str:
    return " ".join(str(text).split())


def send(*, to: str, subject: str, body_text: str, body_html: str, headers: dict) -> None:
    """Send one mail through Django's configured backend (raises on failure)."""
    message = EmailMultiAlternatives(
        subject=subject,
        body=body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers=headers,
        connection=get_connection(fail_silently=False),
    )
    if body_html:
        message.attach_alternative(body_html, "text/html")
    message.send(fail_silently=False)
