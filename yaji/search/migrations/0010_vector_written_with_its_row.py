"""PostgreSQL: the document's ``search_vector`` is computed by a trigger from its
``title_tokens`` and ``body_tokens`` whenever a row is inserted or those columns are written,
so the upsert of a document writes one row version, vector included (ADR 0063).

Before, the upsert wrote the row without its vector and ``PostgresBackend.index`` updated it
right after: two versions of every document per write. A bulk seeding or reindex left the
table at about twice its live size, so a broad query's bitmap heap scan visited about twice
the pages. The weights are the ones ``index`` used (title A, body B)."""

from django.db import migrations

from yaji.search.migration_ops import VendorRunSQL


class Migration(migrations.Migration):
    dependencies = [("search", "0009_category_sort_indexes_whole_key")]

    operations = [
        VendorRunSQL(
            "postgresql",
            sql=[
                "CREATE FUNCTION search_document_vector() RETURNS trigger LANGUAGE plpgsql AS $$ "
                "BEGIN NEW.search_vector := "
                "setweight(to_tsvector('simple', NEW.title_tokens), 'A') || "
                "setweight(to_tsvector('simple', NEW.body_tokens), 'B'); "
                "RETURN NEW; END $$",
                "CREATE TRIGGER search_document_vector BEFORE INSERT OR UPDATE OF title_tokens, "
                "body_tokens ON search_document FOR EACH ROW EXECUTE FUNCTION "
                "search_document_vector()",
            ],
            reverse_sql=[
                "DROP TRIGGER IF EXISTS search_document_vector ON search_document",
                "DROP FUNCTION IF EXISTS search_document_vector()",
            ],
        ),
    ]
