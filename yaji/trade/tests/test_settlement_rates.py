"""Settlement with commission rates per category and shop tier and royalties of licensed
designs, to the fen (ADR 0032)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yaji.catalog.models import Category, Product, Variant
from yaji.ledger.models import AccountKind
from yaji.ledger.reconciliation import reconciliation_run
from yaji.ledger.selectors import account_balance
from yaji.ledger.services import account_for, system_account
from yaji.payments.commission import GoodsLine, commission_bps_for, settlement_split
from yaji.payments.models import (
    CommissionRate,
    DesignLicense,
    OrderSettlement,
    ShopTier,
    ShopTierAssignment,
)
from yaji.trade import aftersales, services
from yaji.trade.models import Order, OrderStatus
from yaji.trade.tests.factories import (
    UserFactory,
    address_for,
    buyer_funded,
    cart_with,
    listed,
    shop_open,
)

pytestmark = pytest.mark.django_db


def books_ok() -> None:
    bad = [(r.name, r.discrepancies, r.error) for r in reconciliation_run() if not r.ok]
    assert not bad, bad


@pytest.fixture
def rates(settings):  # type: ignore[no-untyped-def]
    """ceramics 8 %, ceramics for premium shops 6 %, premium shops elsewhere 3 %, default 5 %."""
    settings.YAJI_COMMISSION_BPS = 500
    ceramics = Category.objects.create(slug="t-ceramics", name_zh="陶瓷")
    teaware = Category.objects.create(slug="t-teaware", name_zh="茶器", parent=ceramics)
    premium = ShopTier.objects.create(code="premium", name_zh="优选")
    CommissionRate.objects.create(category=ceramics, bps=800)
    CommissionRate.objects.create(category=ceramics, tier=premium, bps=600)
    CommissionRate.objects.create(tier=premium, bps=300)
    return {"ceramics": ceramics, "teaware": teaware, "premium": premium}


def product_in(shop, *, category=None, price_fen=16800):  # type: ignore[no-untyped-def]
    product = listed(shop, stock=10)
    Product.objects.filter(pk=product.pk).update(category=category)
    Variant.objects.filter(product=product).update(price_fen=price_fen)
    return product


def settle(buyer, *items):  # type: ignore[no-untyped-def]
    """Buy ``items`` ((product, qty) of one shop), pay from the wallet, ship, confirm."""
    cart_with(buyer, *items)
    checkout = services.checkout_place(buyer=buyer, address_id=address_for(buyer).pk)
    services.checkout_pay_with_wallet(buyer=buyer, checkout_id=checkout.pk)
    order = Order.objects.get(checkout=checkout)
    services.order_ship(
        actor=order.shop.owner, order_id=order.pk, carrier="SF", tracking_number="SF1234567890"
    )
    return services.order_confirm_receipt(buyer=buyer, order_id=order.pk)


def balance(kind: str, **owner) -> int:  # type: ignore[no-untyped-def]
    if not owner:
        return account_balance(system_account(kind=kind, currency="CNY")).amount
    return account_balance(account_for(kind=kind, currency="CNY", **owner)).amount


def test_the_most_specific_rate_wins(rates) -> None:  # type: ignore[no-untyped-def]
    plain, premium_shop = shop_open(), shop_open()
    ShopTierAssignment.objects.create(shop=premium_shop, tier=rates["premium"])
    cats = [rates["teaware"].pk, rates["ceramics"].pk, None]

    assert commission_bps_for(shop_id=plain.pk, category_ids=cats) == {
        rates["teaware"].pk: 800,  # inherited from ceramics
        rates["ceramics"].pk: 800,
        None: 500,  # YAJI_COMMISSION_BPS
    }
    assert commission_bps_for(shop_id=premium_shop.pk, category_ids=cats) == {
        rates["teaware"].pk: 600,  # ceramics × premium beats ceramics
        rates["ceramics"].pk: 600,
        None: 300,  # the tier's own row
    }
    # a platform row (neither category nor tier) replaces the setting
    CommissionRate.objects.create(bps=450)
    assert commission_bps_for(shop_id=plain.pk, category_ids=[None]) == {None: 450}


def test_settlement_applies_rates_and_pays_the_royalty_to_the_creator(rates) -> None:  # type: ignore[no-untyped-def]
    # given a premium shop selling a licensed teaware design (12.5 % royalty) and an
    # uncategorised piece at an odd price
    shop = shop_open()
    ShopTierAssignment.objects.create(shop=shop, tier=rates["premium"])
    creator = UserFactory()
    cup = product_in(shop, category=rates["teaware"], price_fen=16800)
    DesignLicense.objects.create(product=cup, creator=creator, royalty_bps=1250)
    odd = product_in(shop, price_fen=12345)
    buyer = buyer_funded()

    # when 2 cups and 1 odd piece are bought and the order completes
    order = settle(buyer, (cup, 2), (odd, 1))

    # then: cups 33 600 × 6 % = 2 016 and royalty 33 600 × 12.5 % = 4 200;
    # odd piece 12 345 × 3 % = 370.35 → 370 (floored, the shop keeps the fraction)
    assert order.status == OrderStatus.COMPLETED
    assert order.items_fen == 33600 + 12345
    assert order.commission_fen == 2016 + 370
    assert balance(AccountKind.PLATFORM_REVENUE) == 2386
    assert balance(AccountKind.CREATOR_ROYALTY, owner=creator) == 4200
    expected_shop = order.total_fen - 2386 - 4200
    assert balance(AccountKind.SHOP_PAYABLE, owner_ref=f"shop:{shop.pk}") == expected_shop
    record = OrderSettlement.objects.get(order=order)
    assert (record.gross_fen, record.commission_fen, record.royalty_fen, record.net_fen) == (
        order.total_fen,
        2386,
        4200,
        expected_shop,
    )
    assert [d["commission_bps"] for d in record.detail] == [600, 300]
    books_ok()


def test_a_partial_after_sale_refund_splits_what_the_shop_side_keeps(rates) -> None:  # type: ignore[no-untyped-def]
    shop = shop_open()  # no tier: ceramics 8 %
    creator = UserFactory()
    cup = product_in(shop, category=rates["teaware"], price_fen=33600)
    DesignLicense.objects.create(product=cup, creator=creator, royalty_bps=1250)
    buyer = buyer_funded()
    cart_with(buyer, (cup, 1))
    checkout = services.checkout_place(buyer=buyer, address_id=address_for(buyer).pk)
    services.checkout_pay_with_wallet(buyer=buyer, checkout_id=checkout.pk)
    order = Order.objects.get(checkout=checkout)
    services.order_ship(
        actor=shop.owner, order_id=order.pk, carrier="SF", tracking_number="SF1234567890"
    )

    # when the shop grants a refund of 10 000 fen
    after_sale = aftersales.after_sale_request(
        buyer=buyer, order_id=order.pk, kind="refund_only", reason="瑕疵", amount_fen=10000
    )
    aftersales.after_sale_approve(actor=shop.owner, after_sale_id=after_sale.pk)

    # then the kept goods (capped at the goods) carry commission and royalty, floored
    kept = order.total_fen - 10000
    kept_goods = min(33600, kept)
    commission = kept_goods * 800 // 10000
    royalty = kept_goods * 1250 // 10000
    record = OrderSettlement.objects.get(order=order)
    assert (record.refunded_fen, record.commission_fen, record.royalty_fen) == (
        10000,
        commission,
        royalty,
    )
    assert record.net_fen == kept - commission - royalty
    assert balance(AccountKind.CREATOR_ROYALTY, owner=creator) == royalty
    assert balance(AccountKind.SHOP_PAYABLE, owner_ref=f"shop:{shop.pk}") == record.net_fen
    books_ok()


def test_rates_are_edited_by_finance_in_the_admin_not_by_other_staff(client, rates) -> None:  # type: ignore[no-untyped-def]
    from yaji.accounts.models import Role
    from yaji.accounts.services import role_grant

    finance = UserFactory(is_staff=True)
    operator = UserFactory(is_staff=True)
    root = UserFactory(is_staff=True, is_superuser=True)
    role_grant(actor=root, user=finance, role=Role.FINANCE)
    url = "/admin/payments/commissionrate/add/"

    client.force_login(operator)
    assert client.get(url).status_code == 403
    client.force_login(finance)
    assert client.get(url).status_code == 200
    response = client.post(url, {"category": rates["teaware"].pk, "tier": "", "bps": "720"})
    assert response.status_code == 302, response.content[:500]
    assert CommissionRate.objects.get(category=rates["teaware"], tier=None).bps == 720
    too_high = client.post(url, {"category": "", "tier": "", "bps": "10001"})
    assert too_high.status_code == 200  # the form shows the error, nothing saved
    assert not CommissionRate.objects.filter(bps=10001).exists()


@settings(max_examples=60, deadline=None)
@given(
    goods=st.lists(st.integers(min_value=1, max_value=10_000_000), min_size=1, max_size=4),
    shipping=st.integers(min_value=0, max_value=100_000),
    refund_share=st.floats(min_value=0, max_value=1),
    royalty_bps=st.integers(min_value=1, max_value=5000),
)
@pytest.mark.django_db
def test_a_split_always_adds_up_to_the_fen(goods, shipping, refund_share, royalty_bps) -> None:  # type: ignore[no-untyped-def]
    lines = [
        GoodsLine(line_id=i, product_id=10**9 + i, category_id=None, goods_fen=g)
        for i, g in enumerate(goods)
    ]
    total = sum(goods) + shipping
    kept = total - int(total * refund_share)
    split = settlement_split(shop_id=10**9, lines=lines, shipping_fen=shipping, kept_fen=kept)
    assert split.commission_fen + split.royalty_fen + split.shop_fen == kept
    assert min(split.commission_fen, split.royalty_fen, split.shop_fen) >= 0
