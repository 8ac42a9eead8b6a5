"""Shop finance end to end: settled orders, a clawback after settlement, the shop's statement
for the period, a payout batch through the sandbox payout provider (success, failure returns
the money, shops without a card skipped), duplicate callbacks, reconciliation (ADR 0032)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from yaji.core import clock
from yaji.core.errors import ApplicationError
from yaji.ledger.models import AccountKind
from yaji.ledger.reconciliation import reconciliation_run
from yaji.ledger.selectors import account_balance
from yaji.ledger.services import account_for, system_account
from yaji.payments.models import ShopClawback, ShopPayout, ShopPayoutStatus
from yaji.payments.shop_finance import (
    payout_batch_create,
    shop_clawback_refund,
    shop_payable_account,
    shop_statement,
)
from yaji.payments.tests.factories import relay_all
from yaji.payments.tests.withdrawal_factories import FROZEN_CARD, OK_CARD, verified_user
from yaji.payments.withdrawals import bank_card_add
from yaji.trade.models import Order
from yaji.trade.tests.factories import UserFactory, buyer_funded, shop_open
from yaji.trade.tests.test_settlement_rates import product_in, settle

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _sandbox(settings) -> None:  # type: ignore[no-untyped-def]
    settings.YAJI_SANDBOX_PAY_SECRET = "test-sandbox-secret"
    settings.YAJI_SANDBOX_PAY_DUPLICATE_RATE = 0.0
    settings.YAJI_COMMISSION_BPS = 500


def books_ok() -> None:
    bad = [(r.name, r.discrepancies, r.error) for r in reconciliation_run() if not r.ok]
    assert not bad, bad


def shop_with_card(number: str | None):  # type: ignore[no-untyped-def]
    owner = verified_user()
    if number:
        bank_card_add(user=owner, holder_name="王小明", card_number=number)
    return shop_open(owner=owner)


def payable(shop) -> int:  # type: ignore[no-untyped-def]
    return account_balance(shop_payable_account(shop_id=shop.pk)).amount


def test_statement_clawback_and_payout_batch(settings) -> None:  # type: ignore[no-untyped-def]
    start = clock.now() - timedelta(minutes=1)
    paid_shop, frozen_shop, cardless_shop = (
        shop_with_card(OK_CARD),
        shop_with_card(FROZEN_CARD),
        shop_with_card(None),
    )
    buyer = buyer_funded()
    # two orders of 10 000 fen goods at 5 %: 500 commission each; shipping goes to the shop
    first = settle(buyer, (product_in(paid_shop, price_fen=10000), 1))
    second = settle(buyer, (product_in(paid_shop, price_fen=10000), 1))
    settle(buyer, (product_in(frozen_shop, price_fen=20000), 1))
    settle(buyer, (product_in(cardless_shop, price_fen=3000), 1))
    net_each = first.total_fen - 500
    assert payable(paid_shop) == 2 * net_each

    # an operator refunds 1 500 fen of the first order after it settled: clawed back
    finance = UserFactory()
    before = account_balance(account_for(kind=AccountKind.USER_WALLET, owner=buyer)).amount
    shop_clawback_refund(actor=finance, order_id=first.pk, amount_fen=1500, reason="瑕疵补偿")
    after = account_balance(account_for(kind=AccountKind.USER_WALLET, owner=buyer)).amount
    assert after - before == 1500
    assert payable(paid_shop) == 2 * net_each - 1500

    # the shop's statement for the period says what settled and what was taken back
    end = clock.now() + timedelta(minutes=1)
    statement = shop_statement(shop_id=paid_shop.pk, start=start, end=end)
    assert statement.orders == 2
    assert statement.gross_fen == first.total_fen + second.total_fen
    assert statement.commission_fen == 1000
    assert statement.royalty_fen == 0
    assert statement.settled_net_fen == 2 * net_each
    assert statement.clawback_fen == 1500
    assert (statement.opening_fen, statement.closing_fen) == (0, 2 * net_each - 1500)
    assert statement.balanced

    # when finance runs a payout batch
    result = payout_batch_create(actor=finance)
    assert {p.shop_id for p in result.payouts} == {paid_shop.pk, frozen_shop.pk}
    assert result.skipped == {cardless_shop.pk: "no_bank_card"}
    assert result.batch.total_fen == sum(p.amount_fen for p in result.payouts)
    assert payable(paid_shop) == 0 and payable(frozen_shop) == 0
    books_ok()  # the money waits in payout clearing, which matches the open payouts

    # then the callbacks arrive: the good card is paid, the frozen one fails and returns
    relay_all()
    paid = ShopPayout.objects.get(shop=paid_shop)
    frozen = ShopPayout.objects.get(shop=frozen_shop)
    assert paid.status == ShopPayoutStatus.PAID and paid.amount_fen == 2 * net_each - 1500
    assert frozen.status == ShopPayoutStatus.RETURNED
    assert frozen.failure_reason == "account_frozen"
    assert payable(paid_shop) == 0
    assert payable(frozen_shop) == frozen.amount_fen  # the money came back
    assert payable(cardless_shop) > 0
    clearing = system_account(kind=AccountKind.PAYOUT_CLEARING, currency="CNY")
    assert account_balance(clearing).amount == 0

    later = shop_statement(shop_id=paid_shop.pk, start=start, end=clock.now() + timedelta(1))
    assert later.payouts_fen == paid.amount_fen and later.closing_fen == 0 and later.balanced
    frozen_statement = shop_statement(
        shop_id=frozen_shop.pk, start=start, end=clock.now() + timedelta(1)
    )
    assert frozen_statement.returned_fen == frozen.amount_fen and frozen_statement.balanced
    books_ok()

    # a second batch pays nothing twice: only the returned and the cardless money are left
    again = payout_batch_create(actor=finance)
    assert {p.shop_id for p in again.payouts} == {frozen_shop.pk}


def test_duplicate_payout_callbacks_move_the_money_once(settings) -> None:  # type: ignore[no-untyped-def]
    settings.YAJI_SANDBOX_PAY_DUPLICATE_RATE = 1.0  # every callback is sent twice
    shop = shop_with_card(FROZEN_CARD)
    settle(buyer_funded(), (product_in(shop, price_fen=10000), 1))
    owed = payable(shop)
    payout_batch_create(actor=UserFactory())
    relay_all()
    assert ShopPayout.objects.get().status == ShopPayoutStatus.RETURNED
    assert payable(shop) == owed  # returned once, not twice
    books_ok()


def test_clawback_limits_and_bad_input() -> None:
    shop = shop_with_card(OK_CARD)
    order = settle(buyer_funded(), (product_in(shop, price_fen=10000), 1))
    net = order.total_fen - 500
    actor = UserFactory()

    with pytest.raises(ApplicationError) as exc:
        shop_clawback_refund(actor=actor, order_id=order.pk, amount_fen=net + 1, reason="x")
    assert exc.value.code == "clawback_exceeds_settled"
    for bad in (0, -5, True, "100"):
        with pytest.raises(ApplicationError) as exc:
            shop_clawback_refund(actor=actor, order_id=order.pk, amount_fen=bad, reason="x")  # type: ignore[arg-type]
        assert exc.value.code == "invalid_amount"
    unsettled = Order.objects.exclude(pk=order.pk).first()
    with pytest.raises(ApplicationError) as exc:
        shop_clawback_refund(
            actor=actor, order_id=unsettled.pk if unsettled else 10**9, amount_fen=1, reason="x"
        )
    assert exc.value.code == "not_found"

    # once the payable is paid out, a clawback cannot take money the shop no longer holds
    payout_batch_create(actor=actor)
    relay_all()
    with pytest.raises(ApplicationError) as exc:
        shop_clawback_refund(actor=actor, order_id=order.pk, amount_fen=100, reason="晚到的投诉")
    assert exc.value.code == "insufficient_funds"
    assert not ShopClawback.objects.exists()
    books_ok()
