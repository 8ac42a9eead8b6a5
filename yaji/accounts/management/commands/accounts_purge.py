"""``yaji accounts-purge``: drop verification codes and API tokens long past their expiry."""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand

from yaji.accounts.services import credentials_purge_expired


class Command(BaseCommand):
    help = "Delete expired verification codes and API tokens (older than --days past expiry)."

    def add_arguments(self, parser) -> None:  # type: ignore[no-untyped-def]
        parser.add_argument("--days", type=int, default=7)

    def handle(self, *args, days: int, **options) -> None:  # type: ignore[no-untyped-def]
        counts = credentials_purge_expired(keep=timedelta(days=days))
        for name, count in counts.items():
            self.stdout.write(f"{name}: {count} deleted")
