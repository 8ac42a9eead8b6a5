"""A category page sorted by date, price or sales reads its rows in order within the category
(ADR 0055): one (category, sort key) index per sort. They lead with ``category_id``, so the
foreign key's own index on it goes (it was one of two on that column; 0007 dropped the other)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0006_page_version"),
        ("search", "0007_attribute_values_on_the_document"),
    ]

    operations = [
        migrations.AlterField(
            model_name="searchdocument",
            name="category",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="catalog.category",
            ),
        ),
        migrations.AddIndex(
            model_name="searchdocument",
            index=models.Index(fields=["category", "-listed_at"], name="search_doc_cat_listed_idx"),
        ),
        migrations.AddIndex(
            model_name="searchdocument",
            index=models.Index(fields=["category", "price_fen"], name="search_doc_cat_price_idx"),
        ),
        migrations.AddIndex(
            model_name="searchdocument",
            index=models.Index(
                fields=["category", "-sales_count"], name="search_doc_cat_sales_idx"
            ),
        ),
    ]
