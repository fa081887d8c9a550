"""``manage.py export_comments BLOG FILE --to wordpress|disqus [--site-url URL]``: write
a blog's posts and public comment threads as a WordPress (WXR) or Disqus export
(``imports.export``). The file is written next to its final name and moved there
once complete, so a failed export leaves no half file behind."""

import os
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from forum.models import Blog
from imports.export import FORMATS, export_blog


class Command(BaseCommand):
    help = (
        "Export a blog's published posts and public comments (threads kept, removed "
        "comments with public replies as deleted) as a WordPress WXR or Disqus file."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("blog", metavar="BLOG", help="the blog's slug")
        parser.add_argument("file", type=Path, metavar="FILE")
        parser.add_argument("--to", choices=FORMATS, required=True)
        parser.add_argument(
            "--site-url",
            default="http://localhost:8000",
            help="the address posts without a source address are linked under",
        )

    def handle(self, *args, blog: str, file: Path, to: str, site_url: str, **options) -> None:
        found = Blog.objects.filter(slug=blog).first()
        if found is None:
            raise CommandError(f"No blog with the slug {blog!r}.")
        directory = file.parent if str(file.parent) else Path()
        if not directory.is_dir():
            raise CommandError(f"{file}: the directory {directory} does not exist.")
        handle, temporary = tempfile.mkstemp(prefix=f".{file.name}.", dir=directory)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                report = export_blog(blog=found, out=out, to=to, site_url=site_url)
            os.replace(temporary, file)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        self.stdout.write(
            self.style.SUCCESS(
                f"{file}: {report.posts} posts and {report.comments} comments "
                f"({report.tombstones} removed, kept as deleted) of {found.slug} as {to}"
            )
        )
