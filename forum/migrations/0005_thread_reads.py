"""Thread reads: the denormalized count of a post's public top-level comments, and a
partial index holding exactly those comments (see forum.selectors.thread_page)."""

from django.db import migrations, models

COUNT_PUBLIC_TOP_LEVEL = """
UPDATE forum_post SET top_level_count = (
    SELECT COUNT(*) FROM forum_comment c
    WHERE c.post_id = forum_post.id AND c.parent_id IS NULL AND c.status = 'approved'
      AND (c.removed_at IS NULL OR c.reply_count > 0)
)
"""


class Migration(migrations.Migration):
    dependencies = [
        ("forum", "0004_rate_counter"),
    ]

    operations = [
        migrations.AddField(
            model_name="post",
            name="top_level_count",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.RunSQL(COUNT_PUBLIC_TOP_LEVEL, migrations.RunSQL.noop),
        migrations.AddIndex(
            model_name="comment",
            index=models.Index(
                condition=models.Q(
                    ("parent__isnull", True),
                    ("status", "approved"),
                    models.Q(("removed_at__isnull", True), ("reply_count__gt", 0), _connector="OR"),
                ),
                fields=["post", "path"],
                name="comment_public_top_idx",
            ),
        ),
    ]
