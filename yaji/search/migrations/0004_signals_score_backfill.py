"""Data: the signals score of documents indexed before 0003 (which added it at 1.0)."""

from django.db import migrations
from django.utils import timezone

BATCH = 2000


def backfill(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    # The ranking formula is the selectors' (a pure function, no model access).
    from yaji.search.selectors import signals_boost

    document = apps.get_model("search", "SearchDocument")
    now = timezone.now()
    last = 0
    while True:
        rows = list(
            document.objects.filter(pk__gt=last)
            .order_by("pk")
            .only("pk", "sales_count", "rating_centi", "rating_count", "listed_at")[:BATCH]
        )
        if not rows:
            return
        for row in rows:
            row.signals_score = signals_boost(
                sales=row.sales_count,
                rating_centi=row.rating_centi,
                rating_count=row.rating_count,
                age_days=(now - row.listed_at).total_seconds() / 86400,
            )
        document.objects.bulk_update(rows, ["signals_score"])
        last = rows[-1].pk


class Migration(migrations.Migration):
    dependencies = [("search", "0003_spelling_vocabulary_signals_score")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
