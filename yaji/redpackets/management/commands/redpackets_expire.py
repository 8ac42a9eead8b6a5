"""``yaji redpackets-expire``: refund the unclaimed shares of red packets past 24 hours."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from yaji.redpackets.payment_funding import red_packet_cancel_unpaid_due
from yaji.redpackets.services import red_packet_expire_due


class Command(BaseCommand):
    help = "Refund expired red packets to their senders, cancel unpaid ones (safe to run twice; run from cron)."

    def handle(self, *args: Any, **options: Any) -> None:
        refunded = red_packet_expire_due()
        cancelled = red_packet_cancel_unpaid_due()
        self.stdout.write(f"refunded {refunded} red packet(s), cancelled {cancelled} unpaid")
