from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _reinstall_tree_triggers(sender, using, **kwargs):
    from django.db import connections

    from forum import db_triggers

    db_triggers.install(connections[using])


class ForumConfig(AppConfig):
    name = "forum"

    def ready(self) -> None:
        # Table rebuilds during migrations drop SQLite triggers: put them back.
        post_migrate.connect(_reinstall_tree_triggers, sender=self)
