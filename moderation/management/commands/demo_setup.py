"""Create (or reset) the demo moderator and print its login. Safe to re-run."""

import secrets

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts import services as account_services
from moderation.services import moderator_grant


class Command(BaseCommand):
    help = "Create the demo moderator account (or reset its password) and print its login."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="moderator")
        parser.add_argument(
            "--password",
            help="Password to set (default: a new random one, printed).",
        )

    def handle(self, *args, username, password, **options):
        password = password or secrets.token_urlsafe(12)
        try:
            with transaction.atomic():
                user = account_services.user_set_password_or_create(
                    username=username, password=password, display_name="Demo Moderator"
                )
                moderator_grant(user=user)
        except account_services.InvalidInput as exc:
            raise CommandError(f"{username}: {exc.message}") from exc
        self.stdout.write(
            self.style.SUCCESS("Demo moderator ready.")
            + f"\n  username: {username}\n  password: {password}\n"
            "  admin:    /admin/   API: /api/ (Authorization: Token <key> from /api/auth/token/)"
        )
