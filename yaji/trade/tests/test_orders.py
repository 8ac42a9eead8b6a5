"""Checkout, payment into escrow, the order state machine, timers and settlement."""

from __future__ import annotations

from datetime import timedelta

import pytest

from yaji.catalog.models import Variant
from yaji.catalog.tests.factories import verified_user
from yaji.core import clock
from yaji.core.errors import NotFound
from yaji.ledger.errors import InsufficientFunds
from yaji.ledger.models import AccountKind, LedgerAccount
from yaji.ledger.reconciliation import reconciliation_run
from yaji.ledger.services import system_account, wallet_account_for_user
from yaji.trade import services
from yaji.trade.errors import (
    AddressRequired,
    CartEmpty,
    CheckoutNotPayable,
    InsufficientStock,
    InvalidShipment,
    OrderStateInvalid,
    PerBuyerLimitExceeded,
    ProductUnavailable,
    ShippingOptionUnavailable,
)
from yaji.trade.models import (
    Cart,
    CartLine,
    Checkout,
    CheckoutStatus,
    EditionUnit,
    Order,
    OrderStatus,
    ShippingTemplate,
)
from yaji.trade.tests.factories import (
    address_for,
    buyer_funded,
    cart_with,
    listed,
    listed_download,
    shop_open,
    variant_of,
)

pytestmark = pytest.mark.django_db


def balance(account: LedgerAccount) -> int:
    account.refresh_from_db()
    return account.balance


def books_ok() -> None:
    bad = [(r.name, r.discrepancies, r.error) for r in reconciliation_run() if not r.ok]
    assert not bad, bad


def placed(buyer, *items, **kwargs) -> Checkout:  # type: ignore[no-untyped-def]
    cart_with(buyer, *items)
    address = address_for(buyer)
    return services.checkout_place(buyer=buyer, address_id=address.pk, **kwargs)


class TestCheckout:
    def test_one_order_per_shop_under_one_checkout(self) -> None:
        # given a cart with products of two shops
        buyer = buyer_funded()
        tea, silk = listed(stock=5), listed(stock=3)
        # when the buyer checks out
        checkout = placed(buyer, (tea, 2), (silk, 1))
        # then there is one order per shop, priced, with shipping, and the stock is taken
        orders = list(checkout.orders.order_by("shop_id"))
        assert [o.shop_id for o in orders] == sorted([tea.shop_id, silk.shop_id])
        by_shop = {o.shop_id: o for o in orders}
        assert by_shop[tea.shop_id].items_fen == 2 * 16800
        assert by_shop[silk.shop_id].items_fen == 16800
        assert all(o.shipping_fen == 1000 for o in orders)  # default template, first kilogram
        assert checkout.total_fen == sum(o.total_fen for o in orders) == 3 * 16800 + 2000
        assert variant_of(tea).stock == 3 and variant_of(silk).stock == 2
        assert all(o.status == OrderStatus.PENDING_PAYMENT for o in orders)
        assert all(o.address["city"] == "苏州市" for o in orders)
        # and the cart is empty
        assert not CartLine.objects.filter(cart__user=buyer).exists()

    def test_nothing_is_written_when_one_line_is_out_of_stock(self) -> None:
        buyer = buyer_funded()
        tea, silk = listed(stock=5), listed(stock=3)
        cart_with(buyer, (tea, 2), (silk, 2))
        Variant.objects.filter(product=silk).update(stock=1)  # sold elsewhere meanwhile
        address = address_for(buyer)
        with pytest.raises(InsufficientStock) as err:
            services.checkout_place(buyer=buyer, address_id=address.pk)
        assert err.value.extra["available"] == 1
        assert not Order.objects.exists() and not Checkout.objects.exists()
        assert variant_of(tea).stock == 5  # the first line's stock came back with the rollback
        assert CartLine.objects.filter(cart__user=buyer).count() == 2

    def test_empty_cart_missing_address_and_delisted_product(self) -> None:
        buyer = buyer_funded()
        with pytest.raises(CartEmpty):
            services.checkout_place(buyer=buyer)
        tea = listed()
        cart_with(buyer, (tea, 1))
        with pytest.raises(AddressRequired):
            services.checkout_place(buyer=buyer)
        someone_else = address_for(buyer_funded())
        with pytest.raises(AddressRequired):
            services.checkout_place(buyer=buyer, address_id=someone_else.pk)
        tea.status = "delisted"
        tea.save(update_fields=["status"])
        with pytest.raises(ProductUnavailable):
            services.checkout_place(buyer=buyer, address_id=address_for(buyer).pk)

    def test_per_buyer_limit_counts_earlier_orders(self) -> None:
        shop = shop_open()
        edition = listed(shop, stock=10, kind="limited_edition", edition_size=10, per_buyer_limit=2)
        buyer = buyer_funded()
        placed(buyer, (edition, 2))
        cart_with_error = services.cart_get(user=buyer)
        services.cart_line_add(cart=cart_with_error, variant_id=variant_of(edition).pk)
        with pytest.raises(PerBuyerLimitExceeded) as err:
            services.checkout_place(buyer=buyer, address_id=address_for(buyer).pk)
        assert err.value.extra["bought"] == 2

    def test_shipping_template_free_threshold_express_and_white_glove(self) -> None:
        tea = listed(stock=10)
        ShippingTemplate.objects.create(
            shop=tea.shop,
            first_kg_fen=1200,
            extra_kg_fen=600,
            free_over_fen=30000,
            remote_regions=["西藏自治区"],
            remote_extra_fen=2000,
        )
        fee = services.shipping_fee_fen
        assert fee(shop=tea.shop, weight_g=2500, items_fen=10000, option="standard") == 2400
        assert fee(shop=tea.shop, weight_g=2500, items_fen=30000, option="standard") == 0
        assert fee(shop=tea.shop, weight_g=500, items_fen=30000, option="express") == 1800
        assert (
            fee(
                shop=tea.shop, weight_g=500, items_fen=100, option="standard", province="西藏自治区"
            )
            == 3200
        )
        with pytest.raises(ShippingOptionUnavailable):
            fee(shop=tea.shop, weight_g=500, items_fen=100, option="white_glove")
        with pytest.raises(ShippingOptionUnavailable):
            fee(shop=tea.shop, weight_g=500, items_fen=100, option="teleport")


class TestPayment:
    def test_wallet_payment_moves_money_into_each_orders_escrow(self) -> None:
        buyer = buyer_funded(100_000)
        tea, silk = listed(), listed()
        checkout = placed(buyer, (tea, 1), (silk, 2))
        services.checkout_pay_with_wallet(buyer=buyer, checkout_id=checkout.pk)
        checkout.refresh_from_db()
        assert checkout.status == CheckoutStatus.PAID
        assert balance(wallet_account_for_user(user=buyer)) == 100_000 - checkout.total_fen
        for order in checkout.orders.all():
            assert order.status == OrderStatus.PROCESSING and order.paid_at
            assert balance(services.escrow_account_for(order)) == order.total_fen
            assert list(order.events.values_list("status", flat=True)) == [
                "pending_payment",
                "paid",
                "processing",
            ]
        books_ok()

    def test_insufficient_funds_changes_nothing_and_paying_twice_is_refused(self) -> None:
        buyer = buyer_funded(100)
        checkout = placed(buyer, (listed(), 1))
        with pytest.raises(InsufficientFunds):
            services.checkout_pay_with_wallet(buyer=buyer, checkout_id=checkout.pk)
        checkout.refresh_from_db()
        assert checkout.status == CheckoutStatus.PENDING
        assert not EditionUnit.objects.exists()
        rich = buyer_funded()
        paid = placed(rich, (listed(), 1))
        services.checkout_pay_with_wallet(buyer=rich, checkout_id=paid.pk)
        with pytest.raises(CheckoutNotPayable):
            services.checkout_pay_with_wallet(buyer=rich, checkout_id=paid.pk)
        with pytest.raises(NotFound):  # someone else's checkout does not exist for you
            services.checkout_pay_with_wallet(buyer=buyer, checkout_id=paid.pk)
        books_ok()

    def test_limited_edition_units_get_the_lowest_free_numbers(self) -> None:
        edition = listed(stock=5, kind="limited_edition", edition_size=5, per_buyer_limit=3)
        first, second = buyer_funded(), buyer_funded()
        a = placed(first, (edition, 2))
        b = placed(second, (edition, 3))
        services.checkout_pay_with_wallet(buyer=second, checkout_id=b.pk)
        services.checkout_pay_with_wallet(buyer=first, checkout_id=a.pk)
        numbers = {
            unit.line.order.buyer_id: sorted(
                EditionUnit.objects.filter(line__order__buyer=unit.line.order.buyer).values_list(
                    "number", flat=True
                )
            )
            for unit in EditionUnit.objects.select_related("line__order")
        }
        assert numbers == {second.pk: [1, 2, 3], first.pk: [4, 5]}
        # a refund before shipment gives the numbers back to the edition
        order = Order.objects.get(buyer=second)
        services.order_refund_before_shipment(buyer=second, order_id=order.pk)
        assert sorted(EditionUnit.objects.values_list("number", flat=True)) == [4, 5]
        books_ok()

    def test_digital_downloads_are_delivered_on_payment_without_address_or_shipping(self) -> None:
        ebook = listed_download()
        buyer = buyer_funded()
        cart_with(buyer, (ebook, 1))
        checkout = services.checkout_place(buyer=buyer)
        order = checkout.orders.get()
        assert order.shipping_fen == 0 and order.address == {}
        line = order.lines.get()
        with pytest.raises(OrderStateInvalid):  # nothing to download before paying
            services.order_download_link(buyer=buyer, order_id=order.pk, line_id=line.pk)
        services.checkout_pay_with_wallet(buyer=buyer, checkout_id=checkout.pk)
        order.refresh_from_db()
        assert order.status == OrderStatus.DELIVERED and order.delivered_at
        # the buyer gets a signed, expiring link to the file; nobody else does
        link = services.order_download_link(buyer=buyer, order_id=order.pk, line_id=line.pk)
        assert link.url.startswith("/") and link.expires_at > clock.now()
        with pytest.raises(NotFound):
            services.order_download_link(buyer=buyer_funded(), order_id=order.pk, line_id=line.pk)


class TestCancelAndExpire:
    def test_buyer_cancels_an_unpaid_checkout_and_the_stock_returns(self) -> None:
        buyer = buyer_funded()
        tea = listed(stock=2)
        checkout = placed(buyer, (tea, 2))
        assert variant_of(tea).stock == 0
        services.checkout_cancel(buyer=buyer, checkout_id=checkout.pk)
        assert variant_of(tea).stock == 2
        assert set(checkout.orders.values_list("status", flat=True)) == {"cancelled"}
        with pytest.raises(CheckoutNotPayable):
            services.checkout_pay_with_wallet(buyer=buyer, checkout_id=checkout.pk)

    def test_unpaid_checkouts_expire_once_even_when_run_twice(self) -> None:
        buyer = buyer_funded()
        tea = listed(stock=3)
        checkout = placed(buyer, (tea, 3))
        assert services.checkouts_expire_due() == 0  # not due yet
        later = clock.now() + services.pay_window() + timedelta(seconds=1)
        assert services.checkouts_expire_due(now=later) == 1
        assert services.checkouts_expire_due(now=later) == 0
        assert variant_of(tea).stock == 3
        checkout.refresh_from_db()
        assert checkout.status == CheckoutStatus.CANCELLED
        books_ok()

    def test_a_late_payment_is_refused(self, monkeypatch: pytest.MonkeyPatch) -> None:
        buyer = buyer_funded()
        checkout = placed(buyer, (listed(), 1))
        late = clock.now() + services.pay_window() + timedelta(minutes=1)
        monkeypatch.setattr(clock, "now", lambda: late)
        with pytest.raises(CheckoutNotPayable):
            services.checkout_pay_with_wallet(buyer=buyer, checkout_id=checkout.pk)


def paid_order(buyer=None, product=None) -> Order:  # type: ignore[no-untyped-def]
    buyer = buyer or buyer_funded()
    checkout = placed(buyer, (product or listed(), 1))
    services.checkout_pay_with_wallet(buyer=buyer, checkout_id=checkout.pk)
    return checkout.orders.get()


class TestFulfilment:
    def test_refund_before_shipment_returns_money_and_stock(self) -> None:
        buyer = buyer_funded(100_000)
        tea = listed(stock=1)
        order = paid_order(buyer, tea)
        services.order_refund_before_shipment(buyer=buyer, order_id=order.pk, reason="买错了")
        order.refresh_from_db()
        assert order.status == OrderStatus.CANCELLED and order.cancel_reason == "买错了"
        assert balance(wallet_account_for_user(user=buyer)) == 100_000
        assert variant_of(tea).stock == 1
        with pytest.raises(OrderStateInvalid):
            services.order_refund_before_shipment(buyer=buyer, order_id=order.pk)
        books_ok()

    def test_only_the_shops_managers_ship_and_the_tracking_number_is_checked(self) -> None:
        order = paid_order()
        stranger = verified_user()
        with pytest.raises(NotFound):
            services.order_ship(
                actor=stranger, order_id=order.pk, carrier="顺丰", tracking_number="SF1234567890"
            )
        owner = order.shop.owner
        with pytest.raises(InvalidShipment):
            services.order_ship(actor=owner, order_id=order.pk, carrier="顺丰", tracking_number="x")
        services.order_ship(
            actor=owner, order_id=order.pk, carrier="顺丰", tracking_number="SF1234567890"
        )
        order.refresh_from_db()
        assert order.status == OrderStatus.SHIPPED and order.shipped_at
        # shipped: no automatic refund any more
        with pytest.raises(OrderStateInvalid):
            services.order_refund_before_shipment(buyer=order.buyer, order_id=order.pk)

    def test_confirming_receipt_settles_commission_and_shop_payable(self, settings) -> None:  # type: ignore[no-untyped-def]
        settings.YAJI_COMMISSION_BPS = 500
        order = paid_order()
        services.order_ship(
            actor=order.shop.owner, order_id=order.pk, carrier="EMS", tracking_number="EMS12345678"
        )
        revenue = system_account(kind=AccountKind.PLATFORM_REVENUE)
        before = balance(revenue)
        services.order_confirm_receipt(buyer=order.buyer, order_id=order.pk)
        order.refresh_from_db()
        assert order.status == OrderStatus.COMPLETED and order.commission_fen == 840
        assert balance(revenue) - before == 840  # 5 % of ¥168.00
        assert balance(services.shop_payable_account_for(order.shop)) == order.total_fen - 840
        assert balance(services.escrow_account_for(order)) == 0
        with pytest.raises(OrderStateInvalid):
            services.order_confirm_receipt(buyer=order.buyer, order_id=order.pk)
        books_ok()

    def test_delivered_orders_complete_by_themselves_after_seven_days(self) -> None:
        order = paid_order()
        services.order_ship(
            actor=order.shop.owner, order_id=order.pk, carrier="EMS", tracking_number="EMS12345678"
        )
        services.order_mark_delivered(order_id=order.pk, note="sandbox carrier")
        now = clock.now()
        assert services.orders_complete_due(now=now + timedelta(days=6)) == 0
        assert services.orders_complete_due(now=now + timedelta(days=7, seconds=1)) == 1
        assert services.orders_complete_due(now=now + timedelta(days=8)) == 0
        order.refresh_from_db()
        assert order.status == OrderStatus.COMPLETED
        books_ok()

    def test_reconciliation_notices_escrow_that_does_not_match_an_order(self) -> None:
        order = paid_order()
        Order.objects.filter(pk=order.pk).update(status=OrderStatus.COMPLETED)  # behind the books
        result = next(r for r in reconciliation_run() if r.name == "trade.order_escrow")
        assert not result.ok and order.number in result.discrepancies[0].subject


class TestCart:
    def test_adding_again_adds_up_and_limits_are_checked_as_you_go(self) -> None:
        buyer = buyer_funded()
        tea = listed(stock=3)
        cart = services.cart_get(user=buyer)
        services.cart_line_add(cart=cart, variant_id=variant_of(tea).pk, quantity=2)
        line = services.cart_line_add(cart=cart, variant_id=variant_of(tea).pk, quantity=1)
        assert line.quantity == 3 and cart.lines.count() == 1
        with pytest.raises(InsufficientStock):
            services.cart_line_add(cart=cart, variant_id=variant_of(tea).pk, quantity=1)

    @pytest.mark.parametrize("quantity", [0, -1, 100, True, "2"])
    def test_bad_quantities_are_refused(self, quantity: object) -> None:
        from yaji.trade.errors import InvalidQuantity

        cart = services.cart_get(user=buyer_funded())
        with pytest.raises(InvalidQuantity):
            services.cart_line_add(cart=cart, variant_id=variant_of(listed()).pk, quantity=quantity)  # type: ignore[arg-type]

    def test_a_guest_cart_merges_into_the_members_cart(self) -> None:
        tea, silk = listed(stock=9), listed(stock=9)
        guest = services.cart_get(session_key="guest-token-1")
        services.cart_line_add(cart=guest, variant_id=variant_of(tea).pk, quantity=2)
        services.cart_line_add(cart=guest, variant_id=variant_of(silk).pk, quantity=1)
        member = buyer_funded()
        services.cart_line_add(
            cart=services.cart_get(user=member), variant_id=variant_of(tea).pk, quantity=1
        )
        assert services.cart_merge(user=member, session_key="guest-token-1") == 2
        quantities = dict(
            CartLine.objects.filter(cart__user=member).values_list(
                "variant__product_id", "quantity"
            )
        )
        assert quantities == {tea.pk: 3, silk.pk: 1}
        assert not Cart.objects.filter(session_key="guest-token-1").exists()
