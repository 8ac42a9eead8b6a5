from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "yaji.payments"
    label = "payments"
    verbose_name = _("支付")

    def ready(self) -> None:
        from yaji.core.periodic import periodic_register
        from yaji.ledger.reconciliation import reconciliation_check_register
        from yaji.payments.housekeeping import payments_housekeeping
        from yaji.payments.providers.sandbox import sandbox_subscribers_register
        from yaji.payments.providers.sandbox_payout import sandbox_payout_subscribers_register
        from yaji.payments.providers.wechatpay import wechatpay_certificates_refresh_job
        from yaji.payments.refunds import check_refunds_in_flight, check_refunds_posted
        from yaji.payments.shop_finance import check_shop_payables
        from yaji.payments.statements import check_provider_statements
        from yaji.payments.withdrawals import check_payout_clearing

        # Explicit registration (no discovery): the sandbox's notification senders and the
        # payments reconciliation checks.
        sandbox_subscribers_register()
        sandbox_payout_subscribers_register()
        # Expire unpaid intents, retry refunds and payouts a provider could not take yet.
        periodic_register(name="payments.housekeeping", every_s=60.0, run=payments_housekeeping)
        periodic_register(
            name="payments.wechatpay_certificates",
            every_s=12 * 3600.0,
            run=wechatpay_certificates_refresh_job,
        )
        reconciliation_check_register(
            name="payments.payout_clearing",
            description="payout clearing equals the money of open withdrawals",
            run=check_payout_clearing,
        )
        reconciliation_check_register(
            name="payments.refunds_posted",
            description="refunds posted per method (wallet, provider) equal the refunds; intents agree",
            run=check_refunds_posted,
        )
        reconciliation_check_register(
            name="payments.refunds_in_flight",
            description="refunds-in-flight escrow equals the provider parts of pending refunds",
            run=check_refunds_in_flight,
        )
        reconciliation_check_register(
            name="payments.shop_payables",
            description="shop payables' settlement, clawback and payout entries equal the records",
            run=check_shop_payables,
        )
        reconciliation_check_register(
            name="payments.provider_statements",
            description="provider clearing matches the providers' daily statements",
            run=check_provider_statements,
        )
