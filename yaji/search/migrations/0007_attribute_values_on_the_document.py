"""The attribute values move onto the document row (ADR 0055): ``attribute_values`` holds
every ``kind:value`` of the product, so attribute facets filter and count on
``search_document`` alone; the ``search_facet_value`` table, filled from the same catalog
data, goes. The existing rows are filled from it first, on each vendor, so search keeps its
facets between the migration and the next ``yaji search-reindex`` (which writes them from the
catalog anyway). The duplicate index on ``category_id`` (the foreign key has its own) goes too.

PostgreSQL: the column is ``jsonb`` with a GIN (``jsonb_path_ops``) index for ``@>``, and
``STORAGE MAIN``: the table's ``toast_tuple_target = 128`` (migration 0006) would otherwise
move these ~40 bytes out of line, and counting them would read the TOAST table for every
match."""

from django.db import migrations, models

from yaji.search.migration_ops import VendorRunSQL

# The facet values the old table held (era, craft, region) are all it can give; the other
# kinds arrive with the next reindex or refresh of each product.
_FILL_POSTGRESQL = (
    "UPDATE search_document d SET attribute_values = f.vals FROM ("
    "SELECT document_id, jsonb_agg(kind || ':' || value ORDER BY kind || ':' || value) AS vals "
    "FROM search_facet_value GROUP BY document_id) f WHERE f.document_id = d.product_id"
)
_FILL_SQLITE = (
    "UPDATE search_document SET attribute_values = ("
    "SELECT json_group_array(v) FROM (SELECT kind || ':' || value AS v FROM search_facet_value "
    "WHERE document_id = search_document.product_id ORDER BY v)) "
    "WHERE product_id IN (SELECT document_id FROM search_facet_value)"
)


class Migration(migrations.Migration):
    dependencies = [("search", "0006_narrow_document_rows")]

    operations = [
        migrations.AddField(
            model_name="searchdocument",
            name="attribute_values",
            field=models.JSONField(blank=True, default=list),
        ),
        VendorRunSQL(
            "postgresql",
            sql=[
                "ALTER TABLE search_document ALTER COLUMN attribute_values SET STORAGE MAIN",
                _FILL_POSTGRESQL,
                "CREATE INDEX search_doc_attribute_values_gin ON search_document "
                "USING gin (attribute_values jsonb_path_ops)",
            ],
            reverse_sql=["DROP INDEX IF EXISTS search_doc_attribute_values_gin"],
        ),
        VendorRunSQL("sqlite", sql=_FILL_SQLITE, reverse_sql=migrations.RunSQL.noop),
        migrations.DeleteModel(name="SearchFacetValue"),
        migrations.RemoveIndex(model_name="searchdocument", name="search_doc_category_idx"),
    ]
