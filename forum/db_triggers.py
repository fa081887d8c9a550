"""Cross-row invariants of the comment tree, enforced by the database.

A reply's parent must be on the same post, exactly one level up, and its path must
be the parent's path plus one step; once written, a comment's place in the tree
(post, parent, depth, path) never changes. Check constraints cannot look at another
row, so these are triggers, written once per engine.

SQLite drops a table's triggers whenever Django rebuilds the table (most
``AlterField``/``AddField`` operations do), so ``install`` is idempotent and runs
after every ``migrate`` (``forum.apps``), not only in the migration that added them.
"""

SQLITE_FORWARD = [
    """
    CREATE TRIGGER IF NOT EXISTS forum_comment_tree_insert BEFORE INSERT ON forum_comment
    WHEN NEW.parent_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM forum_comment p
        WHERE p.id = NEW.parent_id AND p.post_id = NEW.post_id
          AND p.depth + 1 = NEW.depth
          AND substr(NEW.path, 1, length(p.path)) = p.path
    )
    BEGIN
        SELECT RAISE(
            ABORT, 'comment tree: parent must be on this post, one level up, prefixing the path'
        );
    END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS forum_comment_tree_immutable
    BEFORE UPDATE OF post_id, parent_id, depth, path ON forum_comment
    WHEN NEW.post_id IS NOT OLD.post_id OR NEW.parent_id IS NOT OLD.parent_id
      OR NEW.depth IS NOT OLD.depth OR NEW.path IS NOT OLD.path
    BEGIN
        SELECT RAISE(ABORT, 'comment tree: a comment''s place in the tree never changes');
    END
    """,
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS forum_comment_tree_insert",
    "DROP TRIGGER IF EXISTS forum_comment_tree_immutable",
]

POSTGRES_FORWARD = [
    """
    CREATE OR REPLACE FUNCTION forum_comment_tree_check() RETURNS trigger AS $$
    DECLARE
        parent forum_comment%ROWTYPE;
    BEGIN
        IF TG_OP = 'UPDATE' THEN
            IF NEW.post_id IS DISTINCT FROM OLD.post_id
               OR NEW.parent_id IS DISTINCT FROM OLD.parent_id
               OR NEW.depth IS DISTINCT FROM OLD.depth
               OR NEW.path IS DISTINCT FROM OLD.path THEN
                RAISE EXCEPTION 'comment tree: a comment''s place in the tree never changes'
                    USING ERRCODE = 'check_violation';
            END IF;
            RETURN NEW;
        END IF;
        IF NEW.parent_id IS NOT NULL THEN
            -- The parent by its primary key alone: one index probe whatever the
            -- planner's statistics say (a bulk import into a fresh table has none).
            SELECT * INTO parent FROM forum_comment p WHERE p.id = NEW.parent_id;
            IF NOT FOUND OR parent.post_id <> NEW.post_id
               OR parent.depth + 1 <> NEW.depth
               OR left(NEW.path, length(parent.path)) <> parent.path THEN
                RAISE EXCEPTION
                    'comment tree: parent must be on this post, one level up, prefixing the path'
                    USING ERRCODE = 'check_violation';
            END IF;
        END IF;
        RETURN NEW;
    END
    $$ LANGUAGE plpgsql
    """,
    "DROP TRIGGER IF EXISTS forum_comment_tree ON forum_comment",
    """
    CREATE TRIGGER forum_comment_tree BEFORE INSERT OR UPDATE ON forum_comment
    FOR EACH ROW EXECUTE FUNCTION forum_comment_tree_check()
    """,
]
POSTGRES_BACKWARD = [
    "DROP TRIGGER IF EXISTS forum_comment_tree ON forum_comment",
    "DROP FUNCTION IF EXISTS forum_comment_tree_check()",
]


_STATEMENTS = {
    "sqlite": (SQLITE_FORWARD, SQLITE_BACKWARD),
    "postgresql": (POSTGRES_FORWARD, POSTGRES_BACKWARD),
}


def _statements(connection, *, forward: bool) -> list[str]:
    if connection.vendor not in _STATEMENTS:
        raise NotImplementedError(f"no comment-tree triggers for {connection.vendor}")
    return _STATEMENTS[connection.vendor][0 if forward else 1]


def install(connection) -> None:
    """Create the triggers, or re-create them where they are missing."""
    with connection.cursor() as cursor:
        for statement in _statements(connection, forward=True):
            cursor.execute(statement)


def uninstall(connection) -> None:
    with connection.cursor() as cursor:
        for statement in _statements(connection, forward=False):
            cursor.execute(statement)
