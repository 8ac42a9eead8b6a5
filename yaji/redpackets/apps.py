from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RedPacketsConfig(AppConfig):
    name = "yaji.redpackets"
    label = "redpackets"
    verbose_name = _("红包")

    def ready(self) -> None:
        from yaji.redpackets.reconciliation import redpacket_checks_register

        # Explicit registration (no discovery), like the ledger's own checks.
        redpacket_checks_register()
