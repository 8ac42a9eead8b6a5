from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LedgerConfig(AppConfig):
    name = "yaji.ledger"
    label = "ledger"
    verbose_name = _("账本")

    def ready(self) -> None:
        from yaji.ledger.reconciliation import ledger_checks_register

        # Explicit registration (no discovery): later apps add their own checks the same way.
        ledger_checks_register()
