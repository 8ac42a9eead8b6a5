from django.db import migrations


def forwards(apps, schema_editor):
    from yaji.redpackets.gift_catalogue import gift_catalogue_ensure_defaults

    gift_catalogue_ensure_defaults(
        apps.get_model("redpackets", "Gift"), apps.get_model("redpackets", "PartnerSplit")
    )


class Migration(migrations.Migration):
    dependencies = [("redpackets", "0002_audiences_and_gifts")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
