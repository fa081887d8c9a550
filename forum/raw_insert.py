"""One row inserted without the ORM's query compilation, which costs several times
the statement itself on the hottest write paths (a comment posted, its event).

``insert_row`` sends the values the ORM would send: plain text, number and
foreign-key columns as they are (what their fields would do); any other field
prepares its value as in ``Model.save`` (``pre_save``: ``auto_now_add`` dates; JSON
adapted). It sets the primary key and sends no save signals: only for models nothing
listens to.
"""

from functools import cache
from typing import Any

from django.db import connections, models

# Fields whose value goes to the database unchanged (no adaptation, no pre_save).
_PLAIN_FIELDS = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.BigIntegerField,
    models.PositiveIntegerField,
    models.PositiveSmallIntegerField,
    models.ForeignKey,
)


def insert_row(cursor, obj: models.Model, *, also: str = "", params: dict | None = None) -> Any:
    """INSERT ``obj`` (a new row) on ``cursor``'s connection and set its ``pk``.

    ``also``: an SQL expression returned with the new row (evaluated in the insert's
    own snapshot), with its own named ``params``; its value is returned."""
    db = cursor.db
    fields, sql = _insert_statement(type(obj), db.alias)
    values = {
        field.column: getattr(obj, field.attname)
        if plain
        else field.get_db_prep_save(field.pre_save(obj, True), db)
        for field, plain in fields
    }
    cursor.execute(f"{sql}, {also}" if also else sql, {**values, **(params or {})})
    row = cursor.fetchone()
    obj.pk = row[0]
    obj._state.adding = False
    obj._state.db = db.alias
    return row[1] if also else None


@cache
def _insert_statement(model: type[models.Model], alias: str) -> tuple[list, str]:
    db = connections[alias]
    fields = [
        (field, type(field) in _PLAIN_FIELDS)
        for field in model._meta.concrete_fields
        if not field.primary_key
    ]
    columns = ", ".join(db.ops.quote_name(field.column) for field, _plain in fields)
    marks = ", ".join(f"%({field.column})s" for field, _plain in fields)
    table = db.ops.quote_name(model._meta.db_table)
    pk = db.ops.quote_name(model._meta.pk.column)
    sql = f"INSERT INTO {table} ({columns}) VALUES ({marks}) RETURNING {pk}"  # noqa: S608
    return fields, sql
