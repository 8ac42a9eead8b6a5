"""The top-level categories and the common cultural attribute values (editable in admin later)."""

from django.db import migrations

from yaji.catalog.defaults import catalog_defaults_seed


def seed(apps, schema_editor):
    catalog_defaults_seed(
        apps.get_model("catalog", "Category"), apps.get_model("catalog", "Attribute")
    )


class Migration(migrations.Migration):
    dependencies = [("catalog", "0002_products")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
