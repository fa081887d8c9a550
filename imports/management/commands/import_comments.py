"""``manage.py import_comments FILE [FILE ...] [--from FORMAT] [--blog SLUG] [--dry-run]``.

A thin shell over ``imports.services.export_file_import``: each file is imported in
its own transaction (a bad file writes nothing; the files before it stay), and the
same file imported again changes nothing. Errors name the file and the line.
"""

import sys
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_slug

from forum.errors import ServiceError
from imports.formats import FORMATS
from imports.services import ImportReport, export_file_import
from imports.xmlstream import ImportFileError


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def describe(report: ImportReport) -> list[str]:
    """The report's lines: what was (or would be) written, and what was skipped."""
    done = report.written
    statuses = ", ".join(f"{n} {status}" for status, n in sorted(done.by_status.items()))
    lines = [
        f"  blog: {report.blog_name} ({report.blog_slug}); format: {report.format}",
        f"  posts: {done.posts_created} created, {done.posts_matched} matched",
        f"  comments: {done.comments_created} created"
        + (f" ({statuses})" if statuses else "")
        + f", {done.comments_skipped} already imported"
        + (f", {done.duplicates} repeated in the file (read once)" if done.duplicates else ""),
        f"  replies re-parented to the top level (parent missing): {done.reparented}",
    ]
    if done.flattened:
        lines.append(f"  replies moved up to the deepest level allowed: {done.flattened}")
    skipped = ", ".join(f"{n} {kind}" for kind, n in sorted(report.skipped.items()))
    lines.append(f"  skipped: {skipped or 'nothing'}")
    return lines


class Command(BaseCommand):
    help = (
        "Import posts and their comment threads from Blogger (classic export or Takeout "
        "feed.atom), Disqus or WordPress (WXR) export files. Safe to re-run: what was "
        "imported before is skipped; a newer export adds only what is new."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
        parser.add_argument(
            "--from",
            dest="fmt",
            choices=("auto", *FORMATS),
            default="auto",
            help="the files' format (default: recognised from each file)",
        )
        parser.add_argument(
            "--blog",
            metavar="SLUG",
            help="the blog to import into (created when missing); default: the blog "
            "named after the export's site, found again by its address",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="report what would happen; write nothing"
        )

    def handle(self, *args, files: list[Path], fmt: str, blog: str | None, **options) -> None:
        dry_run = options["dry_run"]
        if blog is not None:
            try:
                validate_slug(blog)
            except ValidationError as exc:
                raise CommandError(f"--blog {blog!r}: not a slug (letters, digits, -, _).") from exc
        for path in files:
            if not path.is_file():
                raise CommandError(f"{path}: no such file.")
        for path in files:
            report = self._import_one(path, fmt=fmt, blog=blog, dry_run=dry_run)
            title = f"{path}: " + ("dry run, nothing written" if dry_run else "imported")
            self.stdout.write(self.style.SUCCESS(title) if not dry_run else title)
            for line in describe(report):
                self.stdout.write(line)

    def _import_one(self, path: Path, *, fmt: str, blog: str | None, dry_run: bool):
        with _Progress(self, path) as progress:
            try:
                return export_file_import(
                    path=path, fmt=fmt, blog_slug=blog, dry_run=dry_run, progress=progress
                )
            except ImportFileError as exc:
                raise CommandError(f"{path}:{exc.line}: {exc.message}") from exc
            except ServiceError as exc:
                message = f"{exc.field}: {exc.message}" if exc.field else exc.message
                raise CommandError(f"{path}:{exc.extra.get('line', 1)}: {message}") from exc
            except OSError as exc:
                raise CommandError(f"{path}: cannot be read ({exc.strerror or exc}).") from exc


class _Progress:
    """Reading progress: a bar (rich) on a terminal, a plain line per quarter of the
    file otherwise (files over 1 MB only)."""

    def __init__(self, command: BaseCommand, path: Path) -> None:
        self.command, self.path = command, path
        self.size = path.stat().st_size if path.is_file() else 0
        self.bar = None
        self.quarter = 0

    def __enter__(self):
        stream = getattr(self.command.stdout, "_out", None)
        if stream is not None and stream is sys.stdout and sys.stdout.isatty():
            from rich.progress import Progress

            self.bar = Progress(transient=True)
            self.bar.start()
            self.task = self.bar.add_task(f"reading {self.path.name}", total=self.size or None)
        return self

    def __call__(self, done: int) -> None:
        if self.bar is not None:
            self.bar.update(self.task, completed=done)
        elif self.size > 1 << 20:
            quarter = done * 4 // self.size
            if quarter > self.quarter and quarter < 4:
                self.quarter = quarter
                self.command.stdout.write(f"{self.path}: read {quarter * 25}%")

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()
