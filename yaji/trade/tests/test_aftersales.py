"""After-sales: return and refund, refund only, rejection, disputes decided by an operator."""

from __future__ import annotations

import pytest

from yaji.accounts.models import Role, RoleAssignment
from yaji.catalog.tests.factories import verified_user
from yaji.core import clock
from yaji.core.errors import NotFound
from yaji.ledger.reconciliation import reconciliation_run
from yaji.ledger.services import wallet_account_for_user
from yaji.trade import aftersales, services
from yaji.trade.errors import AfterSaleNotAllowed, InvalidAfterSale, OrderStateInvalid
from yaji.trade.models import AfterSaleStatus, Order, OrderStatus
from yaji.trade.tests.factories import address_for, buyer_funded, cart_with, listed

pytestmark = pytest.mark.django_db


def books_ok() -> None:
    bad = [(r.name, r.discrepancies, r.error) for r in reconciliation_run() if not r.ok]
    assert not bad, bad


def shipped_order(balance: int = 100_000) -> Order:
    buyer = buyer_funded(balance)
    cart_with(buyer, (listed(), 1))
    checkout = services.checkout_place(buyer=buyer, address_id=address_for(buyer).pk)
    services.checkout_pay_with_wallet(buyer=buyer, checkout_id=checkout.pk)
    order = checkout.orders.get()
    return services.order_ship(
        actor=order.shop.owner, order_id=order.pk, carrier="EMS", tracking_number="EMS10203040"
    )


def wallet_balance(user) -> int:  # type: ignore[no-untyped-def]
    return wallet_account_for_user(user=user).balance


def test_return_and_refund_end_to_end() -> None:
    order = shipped_order()
    buyer, owner = order.buyer, order.shop.owner
    request = aftersales.after_sale_request(
        buyer=buyer, order_id=order.pk, kind="return_refund", reason="釉面有裂纹"
    )
    with pytest.raises(OrderStateInvalid):  # the order waits for the after-sales request
        services.order_confirm_receipt(buyer=buyer, order_id=order.pk)
    aftersales.after_sale_approve(actor=owner, after_sale_id=request.pk)
    aftersales.after_sale_return_ship(
        buyer=buyer, after_sale_id=request.pk, carrier="顺丰", tracking_number="SF55550000"
    )
    aftersales.after_sale_receive(actor=owner, after_sale_id=request.pk)
    request.refresh_from_db()
    order.refresh_from_db()
    assert request.status == AfterSaleStatus.REFUNDED and order.status == OrderStatus.CLOSED
    assert wallet_balance(buyer) == 100_000
    books_ok()


def test_partial_refund_only_settles_the_rest_to_the_shop(settings) -> None:  # type: ignore[no-untyped-def]
    settings.YAJI_COMMISSION_BPS = 1000
    order = shipped_order()
    request = aftersales.after_sale_request(
        buyer=order.buyer, order_id=order.pk, kind="refund_only", reason="少了赠品", amount_fen=1800
    )
    aftersales.after_sale_approve(actor=order.shop.owner, after_sale_id=request.pk)
    order.refresh_from_db()
    assert order.status == OrderStatus.CLOSED
    kept = order.total_fen - 1800
    assert order.commission_fen == min(order.items_fen, kept) // 10
    assert services.shop_payable_account_for(order.shop).balance == kept - order.commission_fen
    assert wallet_balance(order.buyer) == 100_000 - order.total_fen + 1800
    books_ok()


def test_a_rejected_request_escalates_and_an_operator_decides() -> None:
    order = shipped_order()
    request = aftersales.after_sale_request(
        buyer=order.buyer, order_id=order.pk, kind="refund_only", reason="与描述不符"
    )
    with pytest.raises(InvalidAfterSale):
        aftersales.after_sale_reject(actor=order.shop.owner, after_sale_id=request.pk, note="")
    aftersales.after_sale_reject(
        actor=order.shop.owner, after_sale_id=request.pk, note="商品与描述一致"
    )
    aftersales.after_sale_escalate(buyer=order.buyer, after_sale_id=request.pk)
    with pytest.raises(NotFound):  # only operators arbitrate
        aftersales.after_sale_decide(
            operator=verified_user(), after_sale_id=request.pk, refund=True, note="x"
        )
    operator = verified_user()
    RoleAssignment.objects.create(user=operator, role=Role.OPERATOR)
    aftersales.after_sale_decide(
        operator=operator, after_sale_id=request.pk, refund=True, note="照片显示瑕疵"
    )
    request.refresh_from_db()
    assert request.status == AfterSaleStatus.REFUNDED and request.decided_by == operator
    books_ok()


def test_rules_one_open_request_amount_and_strangers() -> None:
    order = shipped_order()
    with pytest.raises(InvalidAfterSale):
        aftersales.after_sale_request(
            buyer=order.buyer,
            order_id=order.pk,
            kind="refund_only",
            reason="x",
            amount_fen=order.total_fen + 1,
        )
    with pytest.raises(NotFound):
        aftersales.after_sale_request(
            buyer=verified_user(), order_id=order.pk, kind="refund_only", reason="x"
        )
    request = aftersales.after_sale_request(
        buyer=order.buyer, order_id=order.pk, kind="refund_only", reason="x"
    )
    with pytest.raises(AfterSaleNotAllowed):
        aftersales.after_sale_request(
            buyer=order.buyer, order_id=order.pk, kind="refund_only", reason="again"
        )
    with pytest.raises(NotFound):
        aftersales.after_sale_approve(actor=verified_user(), after_sale_id=request.pk)
    with pytest.raises(AfterSaleNotAllowed):
        aftersales.after_sale_receive(actor=order.shop.owner, after_sale_id=request.pk)


def test_an_open_request_holds_the_automatic_completion() -> None:
    from datetime import timedelta

    order = shipped_order()
    services.order_mark_delivered(order_id=order.pk)
    aftersales.after_sale_request(
        buyer=order.buyer, order_id=order.pk, kind="refund_only", reason="未收到赠品"
    )
    later = clock.now() + timedelta(days=30)
    assert services.orders_complete_due(now=later) == 0
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED


def test_after_sales_over_the_api() -> None:
    import uuid

    from yaji.accounts.tests.conftest import Api
    from yaji.accounts.tests.factories import PASSWORD

    order = shipped_order()
    buyer_api, shop_api = Api(), Api()
    buyer_api.login(order.buyer.email, PASSWORD)
    shop_api.login(order.shop.owner.email, PASSWORD)

    def keyed(api, path, data=None):  # type: ignore[no-untyped-def]
        return api.post(path, data, headers={"Idempotency-Key": str(uuid.uuid4())})

    created = keyed(
        buyer_api,
        f"/orders/{order.pk}/after-sales",
        {"kind": "return_refund", "reason": "尺寸不合"},
    )
    assert created.status_code == 201, created.content
    after_sale_id = created.json()["id"]
    assert (
        keyed(shop_api, f"/after-sales/{after_sale_id}/approve", {}).json()["status"] == "approved"
    )
    returned = buyer_api.post(
        f"/after-sales/{after_sale_id}/return", {"carrier": "顺丰", "tracking_number": "SF77778888"}
    )
    assert returned.json()["status"] == "returned"
    # the buyer cannot confirm the return for the shop
    assert keyed(buyer_api, f"/after-sales/{after_sale_id}/receive").status_code == 404
    done = keyed(shop_api, f"/after-sales/{after_sale_id}/receive")
    assert done.status_code == 200 and done.json()["status"] == "refunded"
    bad = keyed(buyer_api, f"/orders/{order.pk}/after-sales", {"kind": "swap", "reason": "x"})
    assert bad.status_code == 422
