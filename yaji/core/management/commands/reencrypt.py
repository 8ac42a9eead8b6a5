"""``yaji reencrypt``: re-seal every encrypted column with the active key (key rotation).

Rotate a key: put the new key first in ``YAJI_ENCRYPTION_KEYS`` (keep the old ones after it),
restart, run ``yaji reencrypt``, and once it reports 0 rows left drop the old key.
Only rows whose stored value names another key id are rewritten; it is safe to re-run.
"""

from __future__ import annotations

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from yaji.core.encryption import VERSION, keyring
from yaji.core.fields import EncryptedTextField


def encrypted_columns() -> list[tuple[type, list[EncryptedTextField]]]:
    found = []
    for model in apps.get_models():
        fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if fields and not model._meta.proxy:
            found.append((model, fields))
    return found


def stale_pks(model: type, fields: list[EncryptedTextField], active_kid: str) -> list:
    """Primary keys of rows with any column sealed by a key other than the active one."""
    qn = connection.ops.quote_name
    prefix = f"{VERSION}:{active_kid}:"
    conditions = " OR ".join(
        f"({qn(f.column)} IS NOT NULL AND {qn(f.column)} <> '' "
        f"AND SUBSTR({qn(f.column)}, 1, %s) <> %s)"
        for f in fields
    )
    params: list = []
    for _field in fields:
        params += [len(prefix), prefix]
    sql = (
        f"SELECT {qn(model._meta.pk.column)} FROM {qn(model._meta.db_table)} "  # noqa: S608 - identifiers quoted, values bound
        f"WHERE {conditions} ORDER BY 1"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


class Command(BaseCommand):
    help = "Re-encrypt encrypted columns with the active key (after adding a new key first)."

    def add_arguments(self, parser) -> None:  # type: ignore[no-untyped-def]
        parser.add_argument("--batch", type=int, default=500)
        parser.add_argument("--check", action="store_true", help="Only count rows on old keys.")

    def handle(self, *args, batch: int, check: bool, **options) -> None:  # type: ignore[no-untyped-def]
        active = keyring().active_kid
        plan = [(m, fs, stale_pks(m, fs, active)) for m, fs in encrypted_columns()]
        total = sum(len(pks) for _m, _fs, pks in plan)
        if check or total == 0:
            for model, _fields, pks in plan:
                self.stdout.write(f"{model._meta.label}: {len(pks)} row(s) on old keys")
            self.stdout.write(f"{total} row(s) to re-encrypt with key {active!r}")
            return
        columns = [
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
        ]
        with Progress(*columns, disable=not self.stdout.isatty()) as progress:
            for model, fields, pks in plan:
                if not pks:
                    continue
                task = progress.add_task(model._meta.label, total=len(pks))
                names = [f.name for f in fields]
                for start in range(0, len(pks), batch):
                    chunk = pks[start : start + batch]
                    with transaction.atomic():
                        rows = list(model._base_manager.filter(pk__in=chunk).only("pk", *names))
                        # Saving the decrypted values re-seals them with the active key.
                        model._base_manager.bulk_update(rows, names)
                    progress.advance(task, len(chunk))
        self.stdout.write(self.style.SUCCESS(f"re-encrypted {total} row(s) with key {active!r}"))
