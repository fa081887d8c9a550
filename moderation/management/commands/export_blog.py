"""python manage.py export_blog SLUG FILE: a whole blog, with its moderation
history, to JSON (moderation.transfer)."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.json import DjangoJSONEncoder

from forum.models import Blog
from moderation.transfer import blog_export


class Command(BaseCommand):
    help = "Write a blog (posts, comments, flags, bans, policy, audit log) to a JSON file."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("file", type=Path)

    def handle(self, *args, slug: str, file: Path, **options):
        blog = Blog.objects.filter(slug=slug).first()
        if blog is None:
            raise CommandError(f"No blog with slug {slug!r}.")
        data = blog_export(blog=blog)
        try:
            file.write_text(
                json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=1),
                encoding="utf-8",
            )
        except OSError as exc:
            raise CommandError(f"{file}: {exc.strerror}") from exc
        self.stdout.write(
            f"{file}: blog {slug}: {len(data['posts'])} posts, {len(data['comments'])} comments, "
            f"{len(data['moderation_actions'])} moderation actions"
        )
