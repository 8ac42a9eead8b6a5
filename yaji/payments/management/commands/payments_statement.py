"""``yaji payments-statement``: download a provider's daily statement file (对账单).

``yaji payments-statement --provider sandbox --date 2026-11-21 -o sandbox-2026-11-21.csv``
writes the raw file (stdout without ``-o``); ``--compare`` also matches it against provider
clearing and exits 1 on any difference, like ``yaji reconcile`` does for the closed days.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from yaji.core.errors import ApplicationError
from yaji.payments.providers import provider_get
from yaji.payments.statements import local_today, provider_statement_compare


class Command(BaseCommand):
    help = "Download a payment provider's daily statement file (and optionally compare it)."

    def add_arguments(self, parser) -> None:  # type: ignore[no-untyped-def]
        parser.add_argument("--provider", default="sandbox")
        parser.add_argument("--date", dest="day", help="YYYY-MM-DD (default: today)")
        parser.add_argument("-o", "--output", help="Write the file here instead of stdout.")
        parser.add_argument("--compare", action="store_true", help="Match it with our books.")

    def handle(
        self, *args, provider: str, day: str | None, output: str | None, compare: bool, **options
    ) -> None:  # type: ignore[no-untyped-def]
        try:
            when = date.fromisoformat(day) if day else local_today()
        except ValueError:
            raise CommandError("--date must be YYYY-MM-DD") from None
        try:
            content = provider_get(provider).statement_download(when)
            found = provider_statement_compare(provider=provider, day=when) if compare else []
        except ApplicationError as exc:
            raise CommandError(f"{exc.code}: {exc.message} {exc.extra}") from exc
        if output:
            Path(output).write_bytes(content)
            self.stderr.write(f"wrote {len(content)} bytes to {output}")
        else:
            self.stdout.write(content.decode(), ending="")
        for item in found:
            self.stderr.write(
                f"MISMATCH {item.subject}: expected {item.expected}, actual {item.actual}"
            )
        if found:
            raise CommandError(f"{len(found)} difference(s) between the statement and our books")
