"""Install the comment-tree triggers (see forum/db_triggers.py)."""

from django.db import migrations

from forum import db_triggers


def forward(apps, schema_editor):
    db_triggers.install(schema_editor.connection)


def backward(apps, schema_editor):
    db_triggers.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("forum", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
