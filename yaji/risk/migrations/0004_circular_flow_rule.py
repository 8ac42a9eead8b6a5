from django.db import migrations


def forwards(apps, schema_editor):
    from yaji.risk.defaults import risk_rules_ensure_defaults

    # Creates the rows missing so far (circular_flow); existing rules are never overwritten.
    risk_rules_ensure_defaults(apps.get_model("risk", "RiskRule"))


def backwards(apps, schema_editor):
    apps.get_model("risk", "RiskRule").objects.filter(code="circular_flow").delete()


class Migration(migrations.Migration):
    dependencies = [("risk", "0003_activity_reference_index")]

    operations = [migrations.RunPython(forwards, backwards)]
