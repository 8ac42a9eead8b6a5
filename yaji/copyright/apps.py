from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CopyrightConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "yaji.copyright"
    verbose_name = _("版权存证")

    def ready(self) -> None:
        # The listing pre-check pipeline learns about registered works (explicit, not a signal).
        from yaji.copyright import passports, prechecks, services, takedowns
        from yaji.core.outbox import outbox_subscribe

        prechecks.register()
        outbox_subscribe(
            topic=takedowns.TAKEDOWN_UPHELD_TOPIC,
            name="copyright.takedown_delist",
            handler=takedowns.on_takedown_upheld,
        )
        outbox_subscribe(
            topic="copyright.checkpoint_signed",
            name="copyright.witness_anchor",
            handler=services.on_checkpoint_signed,
        )
        outbox_subscribe(
            topic="trade.order_paid",
            name="copyright.passports_issue",
            handler=passports.on_order_paid,
        )
        outbox_subscribe(
            topic="trade.order_cancelled",
            name="copyright.passports_void",
            handler=passports.on_order_cancelled,
        )
