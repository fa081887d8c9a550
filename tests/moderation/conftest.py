"""Fixtures of the moderation tests: moderators who can use the desk, blog policies,
and items in each state of the queue, all made through the services."""

import datetime

import pytest
from django.core.cache import cache
from django.utils import timezone

from forum import services as forum_services
from forum.identity import ip_hash
from forum.models import Comment, CommentStatus, FlagReason
from moderation import services
from moderation.models import BlogPolicy
from tests.factories import PostFactory, UserFactory, make_comment

DESK_PASSWORD = "desk pass phrase 42"


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    # Posting paces are not under test here (tests/forum/test_ratelimit.py): these
    # tests post many comments from one address.
    settings.RATE_LIMITS = {scope: ["10000/min"] for scope in settings.RATE_LIMITS}
    cache.clear()


@pytest.fixture
def desk_moderator(db):
    """A moderator as ``moderator_grant`` makes them: staff, in the Moderators group
    with the desk's permissions (not a superuser)."""
    user = UserFactory(username="deskmod", display_name="Desk Moderator")
    user.set_password(DESK_PASSWORD)
    user.save()
    return services.moderator_grant(user=user)


@pytest.fixture
def desk_client(client, desk_moderator):
    """Django's test client, logged in to the admin as ``desk_moderator``."""
    assert client.login(username=desk_moderator.username, password=DESK_PASSWORD)
    return client


@pytest.fixture
def second_moderator(db):
    return services.moderator_grant(user=UserFactory(username="mod2"))


@pytest.fixture
def set_policy(blog, moderator):
    """Change the ``blog`` fixture's moderation policy: ``set_policy(mode=...)``."""

    def set_policy(**changes) -> BlogPolicy:
        return services.blog_policy_update(blog=blog, actor=moderator, **changes)

    return set_policy


def held(post, body: str = "A held comment.", **kwargs) -> Comment:
    """A comment the policy holds: written anonymously unless told otherwise."""
    kwargs.setdefault("ip_hash", ip_hash("192.0.2.1"))
    comment = make_comment(post, body=body, **kwargs)
    assert comment.status == CommentStatus.PENDING, comment.moderation_reasons
    return comment


@pytest.fixture
def pending_comment(post):
    return make_comment(post, body="Waiting for a moderator.", status=CommentStatus.PENDING)


@pytest.fixture
def approved_comment(post):
    return make_comment(post, body="Published.", author_name="Ann", status=CommentStatus.APPROVED)


def flag_down(comment: Comment, reporters: int = 3) -> Comment:
    """``reporters`` distinct readers flag ``comment`` (by IP hash)."""
    for n in range(reporters):
        forum_services.flag_create(
            comment=comment, reason=FlagReason.ABUSE, ip_hash=ip_hash(f"198.51.100.{n + 1}")
        )
    comment.refresh_from_db()
    return comment


@pytest.fixture
def flagged_comment(approved_comment):
    """A published comment three readers' flags took down (pending, ``flagged``)."""
    comment = flag_down(approved_comment)
    assert comment.status == CommentStatus.PENDING
    return comment


@pytest.fixture
def guest_post(blog):
    return forum_services.guest_post_submit(
        blog=blog, title="My guest blog", body="What I have to say.", author_name="Gus"
    )


@pytest.fixture
def old_post(blog):
    return PostFactory(blog=blog, published_at=timezone.now() - datetime.timedelta(days=30))
