"""The full-text structure, which depends on the database: an FTS5 virtual table on SQLite,
a tsvector column with a GIN index on PostgreSQL (ADR 0015). Each statement runs only on the
vendor it is written for; the other vendor records the migration and does nothing."""

from django.db import migrations

from yaji.search.migration_ops import VendorRunSQL


class Migration(migrations.Migration):
    dependencies = [("search", "0001_initial")]

    operations = [
        VendorRunSQL(
            "sqlite",
            # The token strings are pre-analysed and space separated; unicode61 only splits on
            # the spaces (tokens are [Han]+ or [a-z0-9]+). rowid is the product id.
            sql="CREATE VIRTUAL TABLE search_fts USING fts5("
            "title, body, tokenize = 'unicode61 remove_diacritics 0')",
            reverse_sql="DROP TABLE IF EXISTS search_fts",
        ),
        VendorRunSQL(
            "postgresql",
            sql=[
                "ALTER TABLE search_document ADD COLUMN search_vector tsvector",
                "CREATE INDEX search_document_vector_gin ON search_document "
                "USING gin (search_vector)",
            ],
            reverse_sql=[
                "DROP INDEX IF EXISTS search_document_vector_gin",
                "ALTER TABLE search_document DROP COLUMN IF EXISTS search_vector",
            ],
        ),
    ]
