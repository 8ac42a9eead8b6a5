"""The default word list (editable in the admin afterwards)."""

from django.db import migrations

from yaji.moderation.defaults import moderation_defaults_seed


def seed(apps, schema_editor):
    moderation_defaults_seed(apps.get_model("moderation", "WordRule"))


class Migration(migrations.Migration):
    dependencies = [("moderation", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
