"""What the desk's template shows of a card (``moderation.cards.Card``): its age,
its reasons and flags in words, the poster's record, the link to its thread."""

from django.urls import reverse
from django.utils.timesince import timesince

from moderation import cards
from moderation.desk import words
from moderation.models import TargetKind


def card_view(card: cards.Card) -> dict:
    return {
        "card": card,
        "age": timesince(card.created_at),
        "iso": card.created_at.isoformat(),
        "reasons": words.reasons(card.reasons, link_count=card.link_count, flags=card.flags),
        "flags": [
            {"reason": words.FLAG_REASONS.get(f.reason, f.reason), "note": f.note}
            for f in card.flags
        ],
        "record": record_view(card.poster),
        "thread_url": reverse("moderation_desk:thread", args=[card.post_id])
        + (f"#c{card.id}" if card.target_kind == TargetKind.COMMENT else ""),
    }


def record_view(record: cards.PosterRecord | None) -> dict | None:
    if record is None:
        return None
    counts = record.counts
    return {
        "record": record,
        "summary": " · ".join(
            [
                f"{counts['approved']} approved",
                f"{counts['rejected']} rejected",
                f"{counts['spam']} spam",
                f"{counts['pending']} held",
            ]
            + ([f"{counts['removed']} removed"] if counts["removed"] else [])
        ),
        "recent": [
            {
                "url": reverse("moderation_desk:thread", args=[c.post_id]) + f"#c{c.id}",
                "state": words.STATES.get(c.state, c.state),
                "excerpt": c.excerpt,
                "post_title": c.post_title,
            }
            for c in record.recent
        ],
    }
