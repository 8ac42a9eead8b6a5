"""Database guard: the log (leaves, stored nodes, checkpoints), witness anchors and takedown
history are append-only (ADR 0023).

PostgreSQL refuses UPDATE and DELETE with row triggers; TRUNCATE stays an operator's act (and
what test databases reset with). SQLite refuses UPDATE only: Django resets SQLite test
databases with DELETE FROM. Either way the verifier (``yaji verify-log``) recomputes the tree
from the leaves and checks every signed checkpoint, so a change made around the guards is
still detected.
"""

from django.db import migrations

TABLES = (
    "copyright_logentry",
    "copyright_lognode",
    "copyright_checkpoint",
    "copyright_witnessanchor",
    "copyright_takedownevent",
)

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION copyright_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'copyright log rows are append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
"""


def install(apps, schema_editor):  # type: ignore[no-untyped-def]
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FUNCTION, params=None)  # None: the % in RAISE is not a placeholder
        for table in TABLES:
            schema_editor.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION copyright_refuse_change();"
            )
    elif vendor == "sqlite":
        for table in TABLES:
            schema_editor.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'copyright log rows are append-only: UPDATE on {table} refused'); END;"
            )


def uninstall(apps, schema_editor):  # type: ignore[no-untyped-def]
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        for table in TABLES:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")
        schema_editor.execute("DROP FUNCTION IF EXISTS copyright_refuse_change();")
    elif vendor == "sqlite":
        for table in TABLES:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only;")


class Migration(migrations.Migration):
    dependencies = [("copyright", "0001_initial")]

    operations = [migrations.RunPython(install, uninstall)]
