"""PostgreSQL: keep the wide columns of ``search_document`` (the tsvector and the analysed token
strings) out of line, so the rows a search visits are narrow (ADR 0051).

A search's candidates are read from the heap (the business-signal score of every match): with
the vector and the token strings inline a row was ~2.2 kB, the table (217 MB at 100k products)
did not fit the buffer cache and a broad query read thousands of pages. ``STORAGE EXTERNAL``
and ``toast_tuple_target = 128`` move those columns to the TOAST table whenever a row is long
enough to be toasted at all; the existing rows are rewritten once so they take the new form
and packed (the heap went 217 → 63 MB at 100k). SQLite keeps its FTS5 table and records the migration only."""

from django.db import migrations

from yaji.search.migration_ops import VendorRunSQL


class Migration(migrations.Migration):
    atomic = False  # VACUUM FULL runs outside a transaction

    dependencies = [("search", "0005_spelling_vocabulary_fill")]

    operations = [
        VendorRunSQL(
            "postgresql",
            sql=[
                "ALTER TABLE search_document SET (toast_tuple_target = 128)",
                "ALTER TABLE search_document "
                "ALTER COLUMN search_vector SET STORAGE EXTERNAL, "
                "ALTER COLUMN title_tokens SET STORAGE EXTERNAL, "
                "ALTER COLUMN body_tokens SET STORAGE EXTERNAL",
                # A fresh value per column (the concatenations change nothing) makes every row
                # go through the toaster again; an unchanged value would be kept as stored.
                "UPDATE search_document SET search_vector = search_vector || ''::tsvector, "
                "title_tokens = title_tokens || '', body_tokens = body_tokens || ''",
                # Packs the narrow rows together (the UPDATE left the old wide ones as dead
                # space between them); a short exclusive lock, once.
                "VACUUM FULL search_document",
            ],
            reverse_sql=[
                "ALTER TABLE search_document RESET (toast_tuple_target)",
                "ALTER TABLE search_document "
                "ALTER COLUMN search_vector SET STORAGE EXTENDED, "
                "ALTER COLUMN title_tokens SET STORAGE EXTENDED, "
                "ALTER COLUMN body_tokens SET STORAGE EXTENDED",
            ],
        ),
    ]
