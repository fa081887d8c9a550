"""Comment policies for tests (settings.FORUM["COMMENT_POLICY"])."""

from forum.models import CommentStatus
from forum.policy import Decision


def hold_all(**kwargs) -> Decision:
    return Decision(status=CommentStatus.PENDING, reasons=("test",))
