"""``yaji payments-housekeeping``: expire unpaid intents, retry pending refunds and payouts."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from yaji.payments.housekeeping import payments_housekeeping


class Command(BaseCommand):
    help = "Expire unpaid payment intents and retry refunds/payouts a provider did not take."

    def handle(self, *args, **options) -> None:  # type: ignore[no-untyped-def]
        for name, count in payments_housekeeping().items():
            self.stdout.write(f"{name}: {count}")
