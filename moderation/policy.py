"""The forum's comment policy, set per blog by moderators (``BlogPolicy``).

``settings.FORUM["COMMENT_POLICY"]`` names ``BlogModerationPolicy`` by default; the
forum asks it, through ``forum.policy``, whether a poster may comment at all and
whether a new comment is published, held or marked spam, and why.

Rules of ``decide`` (every reason that applies is returned):

* a blocked word or phrase (whole words, any case) → ``spam``, ``blocked_word:<w>``;
* mode ``hold_all`` → held, ``hold_all``;
* mode ``hold_untrusted`` → anonymous posters (no name) are held, ``anonymous``; named
  posters with fewer than ``trust_after`` published comments on the blog are held,
  ``first_post``. Posters with an account are counted by account, the others by
  their name and the keyed hash of their IP address together (``Comment.ip_hash``):
  another name from the same address, or the same name from elsewhere, starts over;
* in every mode: more than ``max_links`` links → held, ``links``; a watched word or
  phrase → held, ``watched_word:<w>``;
* when an outside spam checker is configured (``moderation.spamcheck``): its "spam"
  → ``spam``, ``spam_check``; its failure → held, ``spam_check_unavailable`` (it
  fails closed: nothing is published unchecked).

Each call costs one or two queries: the blog's policy, and (for a named poster
under ``hold_untrusted``) one indexed count bounded by ``trust_after``.
``check_can_post`` costs two: the policy and the active-ban lookup.
"""

import datetime
import re
from functools import lru_cache

from django.utils import formats, timezone

from forum.errors import NotPermitted
from forum.models import CommentStatus, Post
from forum.policy import Decision, FlagRules, OpenPolicy, Submission
from moderation import selectors, services, spamcheck
from moderation.models import Ban, BlogPolicy, ModerationMode

# Reason codes (Comment.moderation_reasons).
HOLD_ALL = "hold_all"
ANONYMOUS = "anonymous"
FIRST_POST = "first_post"
LINKS = "links"
BLOCKED_WORD = "blocked_word"
WATCHED_WORD = "watched_word"
SPAM_CHECK = "spam_check"
SPAM_CHECK_UNAVAILABLE = "spam_check_unavailable"

CLOSED_MESSAGE = "Comments are closed on this post."


@lru_cache(maxsize=1024)
def _word_pattern(word: str) -> re.Pattern[str]:
    # Whole words: no word character on either side; a phrase matches across any
    # run of whitespace.
    body = r"\s+".join(re.escape(part) for part in word.split())
    return re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)


def words_in(text: str, words: list[str]) -> list[str]:
    """The ``words`` (or phrases) that occur in ``text`` as whole words, any case."""
    return [word for word in words if _word_pattern(word).search(text)]


def link_count(html: str) -> int:
    """How many links readers will see in a rendered body (``Submission.rendered``)."""
    return html.count("<a ")


def comments_closed(*, policy: BlogPolicy, post: Post, now: datetime.datetime) -> bool:
    if policy.close_after_days is None:
        return False
    opened = post.published_at or post.created_at
    return now >= opened + datetime.timedelta(days=policy.close_after_days)


def ban_message(ban: Ban) -> str:
    if ban.expires_at is None:
        return "You are banned from commenting on this blog until further notice."
    until = timezone.localtime(ban.expires_at)
    when = formats.date_format(until, "j F Y, H:i")
    return f"You are banned from commenting on this blog until {when} {until.tzname()}."


def _is_anonymous(submission: Submission) -> bool:
    author = submission.author
    has_account = author is not None and author.is_authenticated
    return not has_account and not submission.author_name


class BlogModerationPolicy(OpenPolicy):
    """Moderation by each blog's ``BlogPolicy`` and bans."""

    def check_can_post(self, submission: Submission) -> None:
        post = submission.post
        policy = services.blog_policy_get_or_create(blog_id=post.blog_id)
        if comments_closed(policy=policy, post=post, now=timezone.now()):
            raise NotPermitted(CLOSED_MESSAGE)
        ban = selectors.active_ban_for(
            blog_id=post.blog_id, user=submission.author, ip_hash=submission.ip_hash
        )
        if ban is not None:
            until = ban.expires_at.isoformat() if ban.expires_at else None
            raise NotPermitted(ban_message(ban), extra={"banned_until": until})

    def decide(self, submission: Submission) -> Decision:
        policy = services.blog_policy_get_or_create(blog_id=submission.post.blog_id)
        body = submission.body
        blocked = words_in(body, policy.blocked_word_list)
        reasons = [f"{BLOCKED_WORD}:{word}" for word in blocked]
        if policy.mode == ModerationMode.HOLD_ALL:
            reasons.append(HOLD_ALL)
        elif policy.mode == ModerationMode.HOLD_UNTRUSTED:
            if _is_anonymous(submission):
                reasons.append(ANONYMOUS)
            elif not self._is_trusted(policy, submission):
                reasons.append(FIRST_POST)
        if link_count(submission.rendered()) > policy.max_links:
            reasons.append(LINKS)
        reasons += [f"{WATCHED_WORD}:{word}" for word in words_in(body, policy.watched_word_list)]
        checked_spam = False
        if not blocked:
            checked_spam = self._outside_check(submission, reasons)

        if blocked or checked_spam:
            status = CommentStatus.SPAM
        elif reasons:
            status = CommentStatus.PENDING
        else:
            status = CommentStatus.APPROVED
        return Decision(status=status, reasons=tuple(reasons))

    @staticmethod
    def _outside_check(submission: Submission, reasons: list[str]) -> bool:
        checker = spamcheck.get_checker()
        if checker is None:
            return False
        try:
            spam = checker.is_spam(submission)
        except spamcheck.SpamCheckError:
            reasons.append(SPAM_CHECK_UNAVAILABLE)
            return False
        if spam:
            reasons.append(SPAM_CHECK)
        return spam

    def flag_threshold(self, post: Post) -> int | None:
        return services.blog_policy_get_or_create(blog_id=post.blog_id).flag_threshold

    def flag_rules(self, post: Post) -> FlagRules:
        policy = services.blog_policy_get_or_create(blog_id=post.blog_id)
        return FlagRules(
            threshold=policy.flag_threshold,
            account_min_age_days=policy.flag_account_min_age_days,
            trusted_after=policy.trust_after,
            trusted_weight=policy.flag_trusted_weight,
        )

    def downvotes_allowed(self, post: Post) -> bool:
        return services.blog_policy_get_or_create(blog_id=post.blog_id).allow_downvotes

    def check_can_vote(self, *, post: Post, user, ip_hash: str) -> None:
        """Readers banned from the blog (account or network) do not vote there."""
        ban = selectors.active_ban_for(blog_id=post.blog_id, user=user, ip_hash=ip_hash)
        if ban is not None:
            raise NotPermitted(ban_message(ban))

    @staticmethod
    def _is_trusted(policy: BlogPolicy, submission: Submission) -> bool:
        if policy.trust_after == 0:
            return True
        author, ip_hash = submission.author, submission.ip_hash
        has_account = author is not None and author.is_authenticated
        if not has_account and not ip_hash:  # nothing to recognise the poster by
            return False
        count = selectors.published_comment_count(
            blog_id=submission.post.blog_id,
            author=author if has_account else None,
            ip_hash=ip_hash,
            author_name=submission.author_name,
            limit=policy.trust_after,
        )
        return count >= policy.trust_after
