from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "yaji.payments"
    label = "payments"
    verbose_name = _("支付")

    def ready(self) -> None:
        from yaji.payments.providers.sandbox import sandbox_subscribers_register

        # Explicit registration (no discovery): the sandbox's notification sender.
        sandbox_subscribers_register()
