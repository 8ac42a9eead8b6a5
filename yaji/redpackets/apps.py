from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RedPacketsConfig(AppConfig):
    name = "yaji.redpackets"
    label = "redpackets"
    verbose_name = _("红包")

    def ready(self) -> None:
        from yaji.core.periodic import periodic_register
        from yaji.redpackets.payment_funding import (
            red_packet_cancel_unpaid_due,
            red_packet_subject_register,
        )
        from yaji.redpackets.reconciliation import redpacket_checks_register
        from yaji.redpackets.services import red_packet_expire_due

        # Explicit registration (no discovery), like the ledger's own checks.
        redpacket_checks_register()
        # Unclaimed shares go back 24 h after sending; the worker looks every minute.
        periodic_register(name="redpackets.expire", every_s=60.0, run=red_packet_expire_due)
        # Packets funded through a payment (ADR 0042): payments hands their succeeded intents
        # over; those still unpaid at their deadline are cancelled by the minute job.
        red_packet_subject_register()
        periodic_register(
            name="redpackets.cancel_unpaid", every_s=60.0, run=red_packet_cancel_unpaid_due
        )
        # "All taken" / "expired" answered before Django (ADR 0043).
        from yaji.redpackets import fast  # noqa: F401
