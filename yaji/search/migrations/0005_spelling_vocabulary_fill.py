"""Data: fill the spelling vocabulary of an index built before 0003 (which created it empty).

Without this, typo tolerance found nothing on an upgraded database until someone ran
``yaji search-reindex``. The counts come from the full-text structure itself (``ts_stat`` on
PostgreSQL, ``fts5vocab`` on SQLite), as ``vocabulary_recount`` does; a vocabulary that already
has rows is left alone."""

from django.db import migrations
from django.utils import timezone

BATCH = 1000


def fill(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    # Pure functions and the backends' raw SQL only (no current models).
    from yaji.search.analysis import VOCABULARY_TOKEN_MAX, spelling_keys
    from yaji.search.backends import backend_get

    vocabulary = apps.get_model("search", "SearchVocabulary")
    keys = apps.get_model("search", "SearchSpellingKey")
    document = apps.get_model("search", "SearchDocument")
    if vocabulary.objects.exists() or not document.objects.exists():
        return
    now = timezone.now()
    counted = [
        (token, n)
        for token, n in backend_get().vocabulary()
        if n > 0 and len(token) <= VOCABULARY_TOKEN_MAX
    ]
    vocabulary.objects.bulk_create(
        [vocabulary(token=t, documents=n, created_at=now, updated_at=now) for t, n in counted],
        batch_size=BATCH,
    )
    keys.objects.bulk_create(
        [keys(key=k, token=t, created_at=now) for t, _n in counted for k in spelling_keys(t)],
        ignore_conflicts=True,
        batch_size=BATCH,
    )


class Migration(migrations.Migration):
    dependencies = [("search", "0004_signals_score_backfill")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
