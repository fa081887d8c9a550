"""The records the bulk import (``forum.bulk``) reads and the report it returns:
posts and comments as a file has them (filled in by the parsers in ``imports``)."""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import dataclass, field

from forum.models import CommentStatus


@dataclass(slots=True)
class PostRecord:
    """A post as the file has it. ``key`` becomes its ``import_key``; ``body`` is plain
    text (rendered here, as everywhere); ``line`` is where the file has it."""

    key: str
    title: str
    body: str
    published_at: datetime.datetime
    line: int = 1
    source_url: str = ""
    author_name: str = ""
    guest_number: int | None = None


@dataclass(slots=True)
class CommentRecord:
    """A comment as the file has it. ``parent_key`` names its parent's ``key`` (None:
    top level); ``status`` is one of ours; ``removed``: deleted on the source."""

    key: str
    post_key: str
    parent_key: str | None
    body: str
    created_at: datetime.datetime
    author_name: str = ""
    status: str = CommentStatus.APPROVED
    removed: bool = False
    removed_at: datetime.datetime | None = None
    ip_hash: str = ""
    line: int = 0
    # Worked out by the writer.
    order: int = 0
    parent: CommentRecord | None = None
    parent_id: int | None = None
    post_id: int = 0
    depth: int = 0
    path: str = ""
    child_seq: int = 0
    reply_count: int = 0
    pk: int | None = None

    @property
    def visible(self) -> bool:
        """What ``forum.models.public_comment_q`` says of the row this becomes."""
        return self.status == CommentStatus.APPROVED and (not self.removed or self.reply_count > 0)


@dataclass
class BulkReport:
    """What one import did (or, in a dry run, would do)."""

    posts_created: int = 0
    posts_matched: int = 0
    comments_created: int = 0
    comments_skipped: int = 0
    by_status: Counter = field(default_factory=Counter)
    named: int = 0
    anonymous: int = 0
    reparented: int = 0
    flattened: int = 0
    duplicates: int = 0
    post_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "posts_created": self.posts_created,
            "posts_matched": self.posts_matched,
            "comments_created": self.comments_created,
            "comments_skipped": self.comments_skipped,
            "by_status": dict(sorted(self.by_status.items())),
            "named": self.named,
            "anonymous": self.anonymous,
            "reparented": self.reparented,
            "flattened": self.flattened,
            "duplicates": self.duplicates,
        }
