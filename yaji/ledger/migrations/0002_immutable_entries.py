"""Database guard: posted transactions and entries cannot be changed (ADR 0012).

PostgreSQL refuses UPDATE and DELETE with row triggers. TRUNCATE is deliberately left alone:
it is an operator's act (and what test databases use to reset), not something code does by
accident. SQLite refuses UPDATE only: Django resets SQLite test databases with DELETE FROM,
which a DELETE trigger would break for every transactional test that posts money; deletes
there are stopped by the ORM guard (ImmutableModel) alone.
"""

from django.db import migrations

TABLES = ("ledger_ledgertransaction", "ledger_ledgerentry")

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'ledger rows are immutable: % on % refused', TG_OP, TG_TABLE_NAME
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
                f"CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();"
            )
    elif vendor == "sqlite":
        for table in TABLES:
            schema_editor.execute(
                f"CREATE TRIGGER {table}_immutable BEFORE UPDATE ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'ledger rows are immutable: UPDATE on {table} refused'); END;"
            )


def uninstall(apps, schema_editor):  # type: ignore[no-untyped-def]
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        for table in TABLES:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_immutable ON {table};")
        schema_editor.execute("DROP FUNCTION IF EXISTS ledger_refuse_change();")
    elif vendor == "sqlite":
        for table in TABLES:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_immutable;")


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [migrations.RunPython(install, uninstall)]
