"""Periodic payments upkeep: expire unpaid intents (returning held wallet parts) and retry
refunds and payouts a provider could not take when they were made."""

from __future__ import annotations

from yaji.payments.refunds import refunds_submit_pending
from yaji.payments.services import payment_intents_expire_due
from yaji.payments.shop_finance import shop_payouts_submit_pending
from yaji.payments.withdrawals import withdrawals_submit_pending


def payments_housekeeping() -> dict[str, int]:
    return {
        "intents_expired": payment_intents_expire_due(),
        "refunds_submitted": refunds_submit_pending(),
        "withdrawals_submitted": withdrawals_submit_pending(),
        "shop_payouts_submitted": shop_payouts_submit_pending(),
    }
