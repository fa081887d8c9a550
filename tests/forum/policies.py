"""Comment policies for tests (settings.FORUM["COMMENT_POLICY"])."""

from forum.errors import NotPermitted
from forum.models import CommentStatus
from forum.policy import Decision, OpenPolicy, Submission


class HoldAll(OpenPolicy):
    def decide(self, submission: Submission) -> Decision:
        return Decision(status=CommentStatus.PENDING, reasons=("test",))


class BanEveryone(OpenPolicy):
    def check_can_post(self, submission: Submission) -> None:
        raise NotPermitted("You are banned from this blog.")
