"""Import an export file into the forum: read it (``imports.formats``), then write it
through the forum's one bulk path (``forum.bulk.import_threads``), all or nothing.

A dry run does everything a real run does, inside the transaction, and then rolls
it back: its report is exactly what the real run would report, and nothing is left
behind (the thread cache is only touched after a commit).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from forum import bulk, services
from forum.models import Blog
from imports.formats import Export, read_export


@dataclass
class ImportReport:
    """What importing one file did (or, in a dry run, would do)."""

    path: str
    format: str
    blog_slug: str
    blog_name: str
    dry_run: bool
    written: bulk.BulkReport
    skipped: Counter = field(default_factory=Counter)


class _DryRun(Exception):
    def __init__(self, report: ImportReport) -> None:
        self.report = report


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def export_file_import(
    *,
    path: Path,
    fmt: str = "auto",
    blog_slug: str | None = None,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import one export file. Raises ``ImportFileError`` (with the line) for a file
    that cannot be read, and the forum's ``ServiceError`` (``extra["line"]``) for a
    row it refuses; either way nothing of the file is written."""
    export = read_export(path, fmt=fmt, progress=progress)
    sha256 = file_sha256(path)
    try:
        with transaction.atomic():
            report = _write(export, path=path, sha256=sha256, blog_slug=blog_slug)
            report.dry_run = dry_run
            if dry_run:
                raise _DryRun(report)
    except _DryRun as stop:
        return stop.report
    return report


def _write(export: Export, *, path: Path, sha256: str, blog_slug: str | None) -> ImportReport:
    blog = _blog(export, blog_slug=blog_slug)
    written = bulk.import_threads(
        blog=blog,
        posts=export.posts,
        comments=export.comments,
        source_format=export.format,
        source_name=str(path),
        source_sha256=sha256,
        extra_report={"skipped": dict(sorted(export.skipped.items()))},
    )
    return ImportReport(
        path=str(path),
        format=export.format,
        blog_slug=blog.slug,
        blog_name=blog.name,
        dry_run=False,
        written=written,
        skipped=export.skipped,
    )


def _blog(export: Export, *, blog_slug: str | None) -> Blog:
    if blog_slug:
        blog, _ = services.blog_get_or_create(slug=blog_slug, name=export.site_title)
        return blog
    return bulk.blog_for_import(
        key=export.site_key, name=export.site_title, source_url=export.site_url
    )
