"""Demo orders: buyers with wallet money, carts checked out, orders in every state of their life.

Everything goes through trade's services (cart → checkout → wallet payment → shipping with the
sandbox carrier → receipt → review), so the demo's books reconcile like real ones. Wallets are
funded with a demo top-up posted from provider clearing, as a paid top-up would be.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.db import transaction

from yaji.accounts.selectors import user_by_identifier
from yaji.catalog.models import Product
from yaji.core.money import Money
from yaji.core.outbox import outbox_relay_once
from yaji.ledger.models import AccountKind
from yaji.ledger.services import Posting, ledger_post, system_account, wallet_account_for_user
from yaji.trade import carriers, reviews, services
from yaji.trade.models import Order

DEMO_TOPUP_FEN = 2_000_000  # ¥20,000.00 each


@dataclass(frozen=True)
class DemoOrder:
    buyer: str
    products: tuple[str, ...]  # product titles (zh)
    until: str  # pending | paid | shipped | delivered | completed | reviewed
    review: str = ""


DEMO_ORDERS: tuple[DemoOrder, ...] = (
    DemoOrder(
        "buyer01@yaji.demo",
        ("双面绣团扇·宋人花鸟",),
        "reviewed",
        "针脚细密，正反两面一模一样，编号证书也很精致。",
    ),
    DemoOrder("buyer02@yaji.demo", ("景泰蓝掐丝书签",), "completed"),
    DemoOrder("buyer03@yaji.demo", ("景泰蓝掐丝书签", "双面绣团扇·宋人花鸟"), "delivered"),
    DemoOrder("buyer04@yaji.demo", ("双面绣团扇·宋人花鸟",), "shipped"),
    DemoOrder("buyer05@yaji.demo", ("景泰蓝掐丝书签",), "paid"),
    DemoOrder("buyer06@yaji.demo", ("景泰蓝掐丝书签",), "pending"),
)
STAGES = ("pending", "paid", "shipped", "delivered", "completed", "reviewed")


def _fund(user) -> None:  # type: ignore[no-untyped-def]
    amount = Money(DEMO_TOPUP_FEN, "CNY")
    ledger_post(
        kind="demo.topup",
        postings=[
            Posting(system_account(kind=AccountKind.PROVIDER_CLEARING), -amount),
            Posting(wallet_account_for_user(user=user), amount),
        ],
        reference=f"demo:topup:{user.pk}",
        description="演示充值",
    )


def _relay() -> None:
    while outbox_relay_once():
        pass


def _play(spec: DemoOrder) -> None:
    buyer = user_by_identifier(identifier=spec.buyer)
    products = [Product.objects.filter(title_zh=t, status="listed").first() for t in spec.products]
    if buyer is None or not all(products) or Order.objects.filter(buyer=buyer).exists():
        return
    _fund(buyer)
    cart = services.cart_get(user=buyer)
    for product in products:
        variant = product.variants.order_by("position", "id").first()  # type: ignore[union-attr]
        services.cart_line_add(cart=cart, variant_id=variant.pk)
    address = services.address_create(
        user=buyer,
        recipient=buyer.display_name[:30] or "雅集买家",
        phone="13800138000",
        province="浙江省",
        city="杭州市",
        district="西湖区",
        line="南山路 218 号",
    )
    checkout = services.checkout_place(buyer=buyer, address_id=address.pk)
    stage = STAGES.index(spec.until)
    if stage < STAGES.index("paid"):
        return
    services.checkout_pay_with_wallet(buyer=buyer, checkout_id=checkout.pk)
    for order in checkout.orders.select_related("shop", "shop__owner"):
        if stage < STAGES.index("shipped"):
            continue
        services.order_ship(
            actor=order.shop.owner,
            order_id=order.pk,
            carrier=carriers.SANDBOX_CARRIER,
            tracking_number=f"YJSB{order.pk:08d}",
        )
        if stage >= STAGES.index("delivered"):
            order.refresh_from_db()
            with transaction.atomic():
                carriers.sandbox_carrier_advance(order=order)
        _relay()  # the sandbox carrier's signed callbacks arrive
        if stage >= STAGES.index("completed"):
            services.order_confirm_receipt(buyer=buyer, order_id=order.pk)
        if stage >= STAGES.index("reviewed"):
            for line in order.lines.all():
                reviews.review_create(
                    buyer=buyer,
                    order_id=order.pk,
                    product_id=line.product_id,
                    rating=5,
                    text=spec.review,
                )


def orders_chapter() -> Iterator[str]:
    for spec in DEMO_ORDERS:
        _play(spec)
        yield spec.buyer
