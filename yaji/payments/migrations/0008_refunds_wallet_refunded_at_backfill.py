"""Data: refunds made before ADR 0039 that already paid their wallet part (succeeded) get
``wallet_refunded_at``, so the refunds-posted check knows their wallet part is out."""

from django.db import migrations
from django.db.models import F


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    Refund = apps.get_model("payments", "Refund")
    Refund.objects.filter(
        status="succeeded", wallet_amount_fen__gt=0, wallet_refunded_at__isnull=True
    ).update(wallet_refunded_at=F("succeeded_at"))


class Migration(migrations.Migration):
    dependencies = [("payments", "0007_refunds_to_original_methods")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
