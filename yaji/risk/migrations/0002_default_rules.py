from django.db import migrations


def forwards(apps, schema_editor):
    from yaji.risk.defaults import risk_rules_ensure_defaults

    risk_rules_ensure_defaults(apps.get_model("risk", "RiskRule"))


class Migration(migrations.Migration):
    dependencies = [("risk", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
