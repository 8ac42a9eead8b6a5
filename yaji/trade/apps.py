from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# The order timers (unpaid checkouts expire, delivered orders complete) are minute-grained.
TIMERS_EVERY_SECONDS = 60.0


class TradeConfig(AppConfig):
    name = "yaji.trade"
    label = "trade"
    verbose_name = _("交易")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from yaji.core.periodic import periodic_register
        from yaji.payments.services import intent_subject_handler_register
        from yaji.trade.carriers import carrier_subscribers_register
        from yaji.trade.fast import fast_routes_register
        from yaji.trade.payment import SUBJECT_KIND, checkout_intent_succeeded
        from yaji.trade.receivers import cart_merge_on_login
        from yaji.trade.reconciliation import trade_checks_register
        from yaji.trade.services import trade_timers_run

        trade_checks_register()
        # Buy-now's sold-out / over-limit answered before Django from the Redis gate (ADR 0045).
        fast_routes_register()
        # Checkouts paid through payments' intents (provider, wallet or both): ADR 0026.
        intent_subject_handler_register(kind=SUBJECT_KIND, on_succeeded=checkout_intent_succeeded)
        carrier_subscribers_register()
        periodic_register(name="trade.timers", every_s=TIMERS_EVERY_SECONDS, run=trade_timers_run)
        # accounts (a lower layer) cannot call trade, so the guest cart follows the login signal.
        user_logged_in.connect(cart_merge_on_login, dispatch_uid="trade.cart_merge_on_login")
