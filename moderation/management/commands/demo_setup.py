"""Create (or reset) the demo moderator and print its login; give the desk something
to decide. Safe to re-run.

After ``import_seeds`` has made the blog ``on-probation``, the newest post of that
blog gets (once: each item is made only when missing) an anonymous comment with
three links and a comment with a watched word, both held by the blog's policy; a
comment three readers flagged, taken down for review; and a pending guest post.
Everything is written through the services, as if readers had done it.
"""

import secrets

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts import services as account_services
from accounts.models import User
from fixtures.services import SEED_BLOG_SLUG
from forum import selectors as forum_selectors
from forum import services as forum_services
from forum.errors import ServiceError
from forum.identity import ip_hash
from forum.models import Comment, CommentStatus, FlagReason, Post
from moderation import services
from moderation.models import word_list
from moderation.services import moderator_grant

WATCHED_WORD = "guaranteed"
# Documentation addresses (RFC 5737): the demo's readers.
READER_IPS = ["192.0.2.10", "192.0.2.11", "192.0.2.12"]
FLAGGER_IPS = ["198.51.100.1", "198.51.100.2", "198.51.100.3"]
GUEST_POST_TITLE = "Guest Blog: a week on the front desk"

HELD_COMMENTS = [
    {
        "import_key": "demo:held:links",
        "author_name": "",
        "ip": READER_IPS[0],
        "body": "Useful resources: https://example.com/one, https://example.com/two "
        "and www.example.org/three",
    },
    {
        "import_key": "demo:held:watched",
        "author_name": "Pat Newcomer",
        "ip": READER_IPS[1],
        "body": f"Our course is {WATCHED_WORD} to get anyone through their supervision.",
    },
]
FLAGGED_COMMENT = {
    "import_key": "demo:flagged",
    "author_name": "Sam Regular",
    "ip": READER_IPS[2],
    "body": "Everyone who works in probation is useless, and you all know it.",
}


def fill_queue(*, moderator: User) -> list[str]:
    """Make the demo's queue items that are missing; say what was done."""
    blog = forum_selectors.blog_get(slug=SEED_BLOG_SLUG)
    post = forum_selectors.post_list().filter(blog=blog).first() if blog else None
    if post is None:
        return [f"No posts on blog {SEED_BLOG_SLUG!r} (run import_seeds first): queue left empty."]
    done = []

    policy = services.blog_policy_get_or_create(blog_id=blog.pk)
    if WATCHED_WORD not in word_list(policy.watched_words):
        services.blog_policy_update(
            blog=blog,
            actor=moderator,
            watched_words="\n".join([*word_list(policy.watched_words), WATCHED_WORD]),
        )
        done.append(f"watching the word {WATCHED_WORD!r} on {blog.slug}")

    existing = set(
        Comment.objects.filter(import_key__startswith="demo:").values_list("import_key", flat=True)
    )
    for spec in HELD_COMMENTS:
        if spec["import_key"] not in existing:
            comment = forum_services.comment_create(
                post=post,
                body=spec["body"],
                author_name=spec["author_name"],
                ip_hash=ip_hash(spec["ip"]),
                import_key=spec["import_key"],
            )
            done.append(f"comment {comment.pk} ({comment.status}: {comment.moderation_reasons})")

    if FLAGGED_COMMENT["import_key"] not in existing:
        comment = forum_services.comment_create(
            post=post,
            body=FLAGGED_COMMENT["body"],
            author_name=FLAGGED_COMMENT["author_name"],
            ip_hash=ip_hash(FLAGGED_COMMENT["ip"]),
            import_key=FLAGGED_COMMENT["import_key"],
            status=CommentStatus.APPROVED,  # it was published, then readers flagged it
        )
        for flagger in FLAGGER_IPS:
            forum_services.flag_create(
                comment=comment, reason=FlagReason.ABUSE, ip_hash=ip_hash(flagger)
            )
        comment.refresh_from_db()
        done.append(f"comment {comment.pk} flagged by {len(FLAGGER_IPS)} readers")

    if not Post.objects.filter(blog=blog, is_guest=True, title=GUEST_POST_TITLE).exists():
        guest = forum_services.guest_post_submit(
            blog=blog,
            title=GUEST_POST_TITLE,
            body="What a week on the front desk of a probation office looks like.\n\n"
            "Monday starts with a queue at the door ...",
            author_name="A Guest Writer",
        )
        done.append(f"guest post {guest.pk} awaiting review")
    return done or ["demo queue items present already"]


class Command(BaseCommand):
    help = (
        "Create the demo moderator account (or reset its password), print its login, "
        "and leave a few items in the moderation queue (once)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="moderator")
        parser.add_argument(
            "--password",
            help="Password to set (default: a new random one, printed).",
        )

    def handle(self, *args, username, password, **options):
        password = password or secrets.token_urlsafe(12)
        try:
            with transaction.atomic():
                user = account_services.user_set_password_or_create(
                    username=username, password=password, display_name="Demo Moderator"
                )
                moderator_grant(user=user)
                queue = fill_queue(moderator=user)
        except ServiceError as exc:
            raise CommandError(f"{username}: {exc.message}") from exc
        self.stdout.write(
            self.style.SUCCESS("Demo moderator ready.")
            + f"\n  username: {username}\n  password: {password}\n"
            "  admin:    /admin/   API: /api/ (Authorization: Token <key> from /api/auth/token/)"
        )
        self.stdout.write("Moderation queue (demo):")
        for line in queue:
            self.stdout.write(f"  - {line}")
