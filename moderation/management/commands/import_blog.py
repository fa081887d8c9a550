"""python manage.py import_blog FILE: restore a blog written by export_blog, all or
nothing, into a database that does not hold it yet."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from forum.errors import ServiceError
from moderation.transfer import blog_import


class Command(BaseCommand):
    help = "Restore a blog exported with export_blog."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options):
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except OSError as exc:
            raise CommandError(f"{file}: {exc.strerror}") from exc
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            line = getattr(exc, "lineno", 1)
            raise CommandError(f"{file}:{line}: not a JSON export: {exc}") from exc
        except RecursionError as exc:
            raise CommandError(f"{file}:1: not a JSON export: nested too deeply") from exc
        try:
            counts = blog_import(data=data)
        except ServiceError as exc:
            raise CommandError(f"{file}: {exc.message}") from exc
        summary = ", ".join(f"{count} {name}" for name, count in counts.items())
        self.stdout.write(f"{file}: restored {summary}")
