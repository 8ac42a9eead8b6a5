"""Trade services: carts, addresses, checkout, payment into escrow, the order state machine,
timers and settlement. Every write of the trade app goes through here.

Concurrency (ARCHITECTURE.md §3, PRODUCT.md invariants):
- stock is taken at checkout with conditional decrements (``yaji.catalog.stock``) in variant-id
  order inside one transaction: all lines or none, never below zero;
- a buyer's checkouts are serialised by a lock on the buyer's row, so per-buyer limits hold
  when one account races itself;
- edition numbers are issued at payment under a lock on the product row, lowest free first,
  and UNIQUE(product, number) backs it in the database;
- money moves only through the ledger: wallet → per-order escrow at payment, escrow → shop
  payable + platform commission at completion, escrow → the original payment methods on a
  refund before shipment.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import re
import secrets
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Prefetch, Q, Sum
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from yaji.accounts.models import User
from yaji.catalog import selectors as catalog_selectors
from yaji.catalog import services as catalog_services
from yaji.catalog.models import CustomisationOption, Product, Shop, Variant
from yaji.catalog.permissions import shop_can_manage
from yaji.catalog.services import DownloadLink
from yaji.catalog.stock import variant_stock_return, variant_stock_take, variant_stock_take_cte
from yaji.core import clock
from yaji.core.errors import NotFound
from yaji.core.money import Money
from yaji.core.outbox import outbox_part, outbox_publish
from yaji.core.sqlparts import (
    Part,
    SqlChain,
    sql_insert_part,
    sql_model_columns,
    sql_model_from_row,
    sql_parts_execute,
)
from yaji.ledger.models import AccountKind, LedgerAccount
from yaji.ledger.services import (
    Posting,
    account_for,
    ledger_post,
    wallet_account_for_user,
)
from yaji.trade import countries, divisions
from yaji.trade.carriers import SANDBOX_CARRIER, sandbox_carrier_advance
from yaji.trade.divisions import division_check
from yaji.trade.errors import (
    AddressRequired,
    CartEmpty,
    CheckoutNotPayable,
    FlashSaleSoldOut,
    InsufficientStock,
    InvalidAddress,
    InvalidQuantity,
    InvalidShipment,
    InvalidShippingTemplate,
    OrderStateInvalid,
    PerBuyerLimitExceeded,
    ProductUnavailable,
    ShippingOptionUnavailable,
    ShippingUnavailable,
)
from yaji.trade.flash import (
    flash_bought_many,
    flash_gate_admit,
    flash_gate_after,
    flash_gate_epochs,
    flash_gate_give_back_on_commit,
    flash_gate_sold_on_commit,
    flash_gates_resync,
    flash_sales_active,
    flash_stock_return,
    flash_stock_take,
)
from yaji.trade.models import (
    Address,
    Cart,
    CartLine,
    Checkout,
    CheckoutStatus,
    EditionUnit,
    FlashSale,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    ShippingOption,
    ShippingTemplate,
)
from yaji.trade.refunds import order_refund_to_methods
from yaji.trade.settlement import order_split, settlement_postings, settlement_record

CURRENCY = "CNY"
MAX_LINE_QUANTITY = 99
# Kinds that are not shipped: no address, no shipping fee, delivered on payment.
NOT_SHIPPED_KINDS = frozenset({"digital_download", "course", "service"})
SHIPPABLE_STATUSES = (OrderStatus.PAID, OrderStatus.PROCESSING, OrderStatus.IN_PRODUCTION)
# Money of these orders sits in escrow; reconciliation checks the escrow accounts against it.
ESCROWED_STATUSES = (*SHIPPABLE_STATUSES, OrderStatus.SHIPPED, OrderStatus.DELIVERED)
LIVE_STATUSES = (*ESCROWED_STATUSES, OrderStatus.PENDING_PAYMENT, OrderStatus.COMPLETED)
AFTER_SALE_OPEN = ("requested", "approved", "returned", "rejected", "disputed")

TOPIC_CHECKOUT_PLACED = "trade.checkout_placed"
TOPIC_ORDER_PAID = "trade.order_paid"
TOPIC_ORDER_SHIPPED = "trade.order_shipped"
TOPIC_ORDER_COMPLETED = "trade.order_completed"
TOPIC_ORDER_CANCELLED = "trade.order_cancelled"

LEDGER_KIND_PAY = "trade.pay"
LEDGER_KIND_SETTLE = "trade.settle"
LEDGER_KIND_REFUND = "trade.refund"

# Shipping options other than the template's own fee: express costs half again, a scheduled
# delivery slot a flat extra.
EXPRESS_NUMERATOR, EXPRESS_DENOMINATOR = 3, 2
SCHEDULED_EXTRA_FEN = 1000
DEFAULT_TEMPLATE = ShippingTemplate(first_kg_fen=1000, extra_kg_fen=500)

CN_MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
INTL_PHONE_RE = re.compile(r"^\+?[0-9][0-9 \-]{5,19}$")


def pay_window() -> timedelta:
    return timedelta(minutes=int(getattr(settings, "YAJI_ORDER_PAY_MINUTES", 30)))


def auto_complete_after() -> timedelta:
    return timedelta(days=int(getattr(settings, "YAJI_ORDER_AUTO_COMPLETE_DAYS", 7)))


def escrow_account_for(order: Order) -> LedgerAccount:
    return account_for(kind=AccountKind.ESCROW, owner_ref=f"order:{order.pk}", currency=CURRENCY)


def shop_payable_account_for(shop: Shop) -> LedgerAccount:
    return account_for(
        kind=AccountKind.SHOP_PAYABLE, owner_ref=f"shop:{shop.pk}", currency=CURRENCY
    )


# --- carts ------------------------------------------------------------------------------------


def cart_get(*, user: User | None = None, session_key: str | None = None) -> Cart:
    """The member's cart, or the guest cart of this session; created on first use."""
    if user is not None and user.is_authenticated:
        cart, _created = Cart.objects.get_or_create(user=user)
        return cart
    if not session_key:
        raise ValueError("a guest cart needs the session key")
    cart, _created = Cart.objects.get_or_create(session_key=session_key)
    return cart


def _quantity(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_LINE_QUANTITY:
        raise InvalidQuantity(extra={"max": MAX_LINE_QUANTITY})
    return value


def _customisation_key(customisation: dict[str, str]) -> str:
    if not customisation:
        return ""
    canonical = json.dumps(customisation, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:64]


def _listed_product(product_id: int) -> Product:
    try:
        return catalog_selectors.product_get_public(product_id=product_id)
    except NotFound as exc:
        raise ProductUnavailable(extra={"product_id": product_id}) from exc


def _unit_price_fen(product: Product, variant_id: int, customisation: dict[str, str]) -> int:
    # Validates the customisation too (engraving length, known choices, required options).
    return catalog_selectors.customisation_quote(
        product=product, variant_id=variant_id, selections=customisation
    )


@transaction.atomic
def cart_line_add(
    *,
    cart: Cart,
    variant_id: int,
    quantity: int = 1,
    customisation: dict[str, str] | None = None,
) -> CartLine:
    """Put ``quantity`` of a listed variant in the cart (added to a line that is already there).

    Checked as you go: the product is listed, the customisation is valid, the quantity is in
    stock now and within a limited edition's per-buyer limit. Checkout checks all of it again.
    """
    _quantity(quantity)
    customisation = {str(k): str(v) for k, v in (customisation or {}).items() if str(v).strip()}
    variant = Variant.objects.filter(pk=variant_id).only("product_id").first()
    if variant is None:
        raise ProductUnavailable(extra={"variant_id": variant_id})
    product = _listed_product(variant.product_id)
    _unit_price_fen(product, variant_id, customisation)
    key = _customisation_key(customisation)
    line = (
        CartLine.objects.select_for_update()
        .filter(cart=cart, variant_id=variant_id, customisation_key=key)
        .first()
    )
    total = quantity + (line.quantity if line else 0)
    _quantity(total)
    stock = next(v.stock for v in product.variants.all() if v.pk == variant_id)
    if total > stock:
        raise InsufficientStock(extra={"variant_id": variant_id, "available": stock})
    if product.per_buyer_limit and total > product.per_buyer_limit:
        raise PerBuyerLimitExceeded(extra={"limit": product.per_buyer_limit})
    if line is None:
        line = CartLine.objects.create(
            cart=cart,
            variant_id=variant_id,
            quantity=total,
            customisation=customisation,
            customisation_key=key,
        )
    else:
        line.quantity = total
        line.save(update_fields=["quantity", "updated_at"])
    Cart.objects.filter(pk=cart.pk).update(updated_at=clock.now())
    return line


def _cart_line(cart: Cart, line_id: int) -> CartLine:
    line = CartLine.objects.select_for_update().filter(pk=line_id, cart=cart).first()
    if line is None:
        raise NotFound()
    return line


@transaction.atomic
def cart_line_update(*, cart: Cart, line_id: int, quantity: int) -> CartLine:
    line = _cart_line(cart, line_id)
    _quantity(quantity)
    product = _listed_product(Variant.objects.get(pk=line.variant_id).product_id)
    if product.per_buyer_limit and quantity > product.per_buyer_limit:
        raise PerBuyerLimitExceeded(extra={"limit": product.per_buyer_limit})
    line.quantity = quantity
    line.save(update_fields=["quantity", "updated_at"])
    return line


@transaction.atomic
def cart_line_remove(*, cart: Cart, line_id: int) -> None:
    _cart_line(cart, line_id).delete()


@transaction.atomic
def cart_merge(*, user: User, session_key: str) -> int:
    """Move a guest cart into the member's cart at login; returns how many lines moved.

    Same variant and customisation: quantities add up (capped at the line maximum).
    """
    guest = Cart.objects.select_for_update().filter(session_key=session_key).first()
    if guest is None:
        return 0
    cart = cart_get(user=user)
    moved = 0
    for line in guest.lines.all():
        mine = (
            CartLine.objects.select_for_update()
            .filter(cart=cart, variant_id=line.variant_id, customisation_key=line.customisation_key)
            .first()
        )
        if mine is None:
            line.cart = cart
            line.save(update_fields=["cart", "updated_at"])
        else:
            mine.quantity = min(MAX_LINE_QUANTITY, mine.quantity + line.quantity)
            mine.save(update_fields=["quantity", "updated_at"])
        moved += 1
    guest.delete()
    return moved


# --- addresses --------------------------------------------------------------------------------


ADDRESS_FIELDS = {
    "country": _("国家或地区"),
    "phone": _("联系电话"),
    "recipient": _("收件人"),
    "line": _("详细地址"),
    "line2": _("地址第二行"),
    "province": _("省"),
    "city": _("市"),
    "district": _("区县"),
    "region": _("州 / 省 / 地区"),
    "postal_code": _("邮政编码"),
}


def _invalid_address(field: str, extra: dict[str, object]) -> InvalidAddress:
    """invalid_address naming the field, so the form can say which one (the API: ``extra``)."""
    message = format_lazy(_("收货地址的“{field}”缺失或无效。"), field=ADDRESS_FIELDS[field])
    return InvalidAddress(message, extra={"field": field, **extra})


def _text(value: str, *, field: str, max_length: int, required: bool = True) -> str:
    value = (value or "").strip()
    if "\x00" in value or len(value) > max_length or (required and not value):
        raise _invalid_address(field, {"max_length": max_length, "reason": "required_or_too_long"})
    return value


CN_NAME_MAX = 30  # the longest division name in data/cn_divisions.json fits
ABROAD_NAME_MAX = 60  # region / city abroad ("Provence-Alpes-Côte d'Azur", 26)


@transaction.atomic
def address_create(
    *,
    user: User,
    recipient: str,
    phone: str,
    line: str,
    country: str = countries.CHINA,
    province: str = "",
    city: str = "",
    district: str = "",
    postal_code: str = "",
    region: str = "",
    line2: str = "",
    is_default: bool = False,
) -> Address:
    """Add an address.

    In China (``country`` CN) the phone is a mobile and province / city / district must be a real
    division (``unknown_division``). Abroad the address is free-form: an ISO 3166-1 alpha-2
    country, a region / state (``region``; required where addresses need one), a city, a postal
    code (required unless the country has none), one or two address lines. The region is stored
    in the province column, so snapshots, display and shipping read one field either way.
    """
    country = (country or countries.CHINA).strip().upper()
    if not countries.is_country(country):
        raise _invalid_address("country", {"reason": "unknown_country"})
    abroad = country != countries.CHINA
    phone = (phone or "").strip() if abroad else re.sub(r"[\s\-]", "", phone or "")
    if abroad:
        if not INTL_PHONE_RE.match(phone):
            raise _invalid_address("phone", {"reason": "format"})
    else:
        phone = phone.removeprefix("+86")
        if not CN_MOBILE_RE.match(phone):
            raise _invalid_address("phone", {"reason": "format"})
    if abroad:
        province, region = (province or "").strip(), (region or "").strip()
        if province and region and province != region:
            raise _invalid_address("region", {"reason": "province_and_region_differ"})
        if (district or "").strip():
            # Districts are China's third level; abroad they belong in the address lines.
            raise _invalid_address("district", {"reason": "china_only"})
        province = _text(
            region or province,
            field="region",
            max_length=ABROAD_NAME_MAX,
            required=country in countries.REGION_REQUIRED,
        )
        city = _text(city, field="city", max_length=ABROAD_NAME_MAX)
        postal_code = (postal_code or "").strip().upper()
        problem = countries.postal_code_problem(country, postal_code)
        if problem:
            raise _invalid_address("postal_code", {"reason": problem})
    elif (region or "").strip() or (line2 or "").strip():
        raise _invalid_address("region" if region else "line2", {"reason": "abroad_only"})
    fields = {
        "recipient": _text(recipient, field="recipient", max_length=30),
        "line": _text(line, field="line", max_length=200),
        "line2": _text(line2, field="line2", max_length=200, required=False),
        "province": _text(province, field="province", max_length=CN_NAME_MAX)
        if not abroad
        else province,
        "city": _text(city, field="city", max_length=CN_NAME_MAX) if not abroad else city,
        "district": _text(district, field="district", max_length=CN_NAME_MAX, required=False),
        "postal_code": _text(postal_code, field="postal_code", max_length=12, required=False),
    }
    if not abroad:
        division_check(
            province=fields["province"], city=fields["city"], district=fields["district"]
        )
    User.objects.select_for_update().filter(pk=user.pk).first()  # one default at a time
    first = not Address.objects.filter(user=user).exists()
    if is_default or first:
        Address.objects.filter(user=user, is_default=True).update(is_default=False)
    return Address.objects.create(
        user=user, phone=phone, country=country, is_default=is_default or first, **fields
    )


@transaction.atomic
def address_delete(*, user: User, address_id: int) -> None:
    if not Address.objects.filter(pk=address_id, user=user).delete()[0]:
        raise NotFound()


_ADDRESS_FIELDS = (
    "id",
    "user_id",
    "recipient",
    "phone",
    "country",
    "province",
    "city",
    "district",
    "line",
    "line2",
    "postal_code",
)


def _address_snapshot(address: Address) -> dict[str, str]:
    return {
        "recipient": address.recipient,
        "phone": address.phone,
        "country": address.country,
        "province": address.province,
        "city": address.city,
        "district": address.district,
        "line": address.line,
        "line2": address.line2,
        "postal_code": address.postal_code,
    }


# --- shipping ---------------------------------------------------------------------------------

_UNREAD = object()  # shipping_fee_fen: the caller did not read the shop's template


def _shop_template(shop: Shop) -> ShippingTemplate | None:
    """The template select_related brought along with the shop (None: the shop has none)."""
    try:
        return shop.shipping_template  # type: ignore[attr-defined,no-any-return]
    except ShippingTemplate.DoesNotExist:
        return None


def shipping_fee_fen(
    *,
    shop: Shop,
    weight_g: int,
    items_fen: int,
    option: str,
    province: str = "",
    country: str = countries.CHINA,
    template: ShippingTemplate | object | None = _UNREAD,
) -> int:
    """The shop's fee for one parcel: template by weight and region, free over the threshold.

    ``template``: the shop's template when the caller read it already (None: the shop has
    none), so that this costs no query.

    Abroad (``country`` other than CN) the template's international rate applies — first
    kilogram + each further one, standard or express, never free (the threshold is a domestic
    promise) — and a shop without one does not ship there: ``shipping_unavailable``.
    """
    if template is _UNREAD:
        template = ShippingTemplate.objects.filter(shop=shop).first()
    template = template or DEFAULT_TEMPLATE
    assert isinstance(template, ShippingTemplate)  # narrowed, for the type checker
    if option not in ShippingOption.values:
        raise ShippingOptionUnavailable(extra={"option": str(option)[:20]})
    if country != countries.CHINA:
        if not template.international_first_kg_fen:
            raise ShippingUnavailable(extra={"shop_id": shop.pk, "country": country})
        if option not in (ShippingOption.STANDARD, ShippingOption.EXPRESS):
            raise ShippingOptionUnavailable(extra={"option": option, "country": country})
        kilograms = max(1, math.ceil(weight_g / 1000))
        fee = template.international_first_kg_fen + (kilograms - 1) * (
            template.international_extra_kg_fen
        )
        if option == ShippingOption.EXPRESS:
            fee = -(-fee * EXPRESS_NUMERATOR // EXPRESS_DENOMINATOR)
        return fee
    if option == ShippingOption.WHITE_GLOVE:
        if not template.white_glove_fen:
            raise ShippingOptionUnavailable(extra={"option": option})
        return template.white_glove_fen
    kilograms = max(1, math.ceil(weight_g / 1000))
    fee = template.first_kg_fen + (kilograms - 1) * template.extra_kg_fen
    if province and province in (template.remote_regions or []):
        fee += template.remote_extra_fen
    if (
        option == ShippingOption.STANDARD
        and template.free_over_fen
        and items_fen >= template.free_over_fen
    ):
        return 0
    if option == ShippingOption.EXPRESS:
        fee = -(-fee * EXPRESS_NUMERATOR // EXPRESS_DENOMINATOR)  # round up to the fen
    elif option == ShippingOption.SCHEDULED:
        fee += SCHEDULED_EXTRA_FEN
    return fee


MAX_SHIPPING_FEN = 1_000_000_000  # ten million yuan: a typo, not a rate


@transaction.atomic(durable=True)
def shipping_template_update(
    *,
    actor: User,
    shop: Shop,
    first_kg_fen: int,
    extra_kg_fen: int,
    free_over_fen: int = 0,
    remote_regions: Iterable[str] = (),
    remote_extra_fen: int = 0,
    white_glove_fen: int = 0,
    international_first_kg_fen: int = 0,
    international_extra_kg_fen: int = 0,
) -> ShippingTemplate:
    """A shop manager sets the shop's shipping template — domestic rates, remote provinces,
    white-glove, and the international rate (0: the shop does not ship abroad; ADR 0040).

    Amounts are non-negative fen up to ten million yuan; the first kilogram is never free
    (free shipping is the threshold's job); remote regions must be provinces of the division
    list; an international further-kilogram rate needs an international first kilogram.
    """
    if not shop_can_manage(actor, shop):
        raise NotFound()
    amounts = {
        "first_kg_fen": first_kg_fen,
        "extra_kg_fen": extra_kg_fen,
        "free_over_fen": free_over_fen,
        "remote_extra_fen": remote_extra_fen,
        "white_glove_fen": white_glove_fen,
        "international_first_kg_fen": international_first_kg_fen,
        "international_extra_kg_fen": international_extra_kg_fen,
    }
    for field, value in amounts.items():
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not 0 <= value <= MAX_SHIPPING_FEN
        ):
            raise InvalidShippingTemplate(extra={"field": field})
    if first_kg_fen == 0:
        raise InvalidShippingTemplate(extra={"field": "first_kg_fen", "reason": "zero"})
    if international_extra_kg_fen and not international_first_kg_fen:
        raise InvalidShippingTemplate(
            extra={"field": "international_first_kg_fen", "reason": "required"}
        )
    known = set(divisions.provinces())
    regions = sorted({str(name).strip() for name in remote_regions if str(name).strip()})
    unknown = [name for name in regions if name not in known]
    if unknown:
        raise InvalidShippingTemplate(extra={"field": "remote_regions", "unknown": unknown[:5]})
    template, _created = ShippingTemplate.objects.select_for_update().get_or_create(shop=shop)
    for field, value in amounts.items():
        setattr(template, field, value)
    template.remote_regions = regions
    template.save()
    return template


# --- checkout ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Priced:
    line: CartLine
    product: Product
    variant: Variant
    unit_price_fen: int
    sale: FlashSale | None = None


def _order_number(now: datetime) -> str:
    # Local date and time first (what a buyer reads on the order), then 8 random digits.
    return f"YJ{timezone.localtime(now):%Y%m%d%H%M%S}{secrets.randbelow(10**8):08d}"


def _bought_before(buyer: User, product_ids: Iterable[int]) -> dict[int, int]:
    rows = (
        OrderLine.objects.filter(
            order__buyer=buyer, product_id__in=list(product_ids), order__status__in=LIVE_STATUSES
        )
        .values("product_id")
        .annotate(n=Sum("quantity"))
    )
    return {row["product_id"]: row["n"] for row in rows}


def _event(order: Order, status: str, *, actor: User | None = None, note: str = "") -> OrderEvent:
    return OrderEvent.objects.create(order=order, status=status, actor=actor, note=note[:200])


@dataclass(frozen=True)
class PlacedOrder:
    order: Order
    lines: list[OrderLine]
    events: list[OrderEvent]


@dataclass(frozen=True)
class Placement:
    """What a checkout wrote, so the API can answer without reading it back."""

    checkout: Checkout
    orders: list[PlacedOrder]  # newest first, as the selectors list a checkout's orders


# What the API runs inside a placement's transaction (its idempotent answer): called with
# ``as_part`` False it stores the answer itself; True (PostgreSQL buy-now, ADR 0050) it returns
# the store as a statement part for the placement's one write statement.
Within = Callable[[Placement, bool], "Part | None"]


def checkout_place(
    *,
    buyer: User,
    address_id: int | None = None,
    shipping_options: dict[int, str] | None = None,
    note: str = "",
) -> Checkout:
    """See :func:`checkout_place_detailed`; returns the checkout only."""
    return checkout_place_detailed(
        buyer=buyer, address_id=address_id, shipping_options=shipping_options, note=note
    ).checkout


def _listed_products(product_ids: Iterable[int]) -> dict[int, Product]:
    """The cart's products that can be bought now, with what checkout prices them from.

    The same rule as the catalog's ``product_get_public`` (listed, in an active shop), loaded
    for the whole cart in three queries — the product with its shop, the variants and the
    customisation options — instead of the product page's seven per product.
    """
    ids = sorted(set(product_ids))
    return {
        product.pk: product
        for product in Product.objects.filter(
            pk__in=ids, status=Product.Status.LISTED, shop__status=Shop.Status.ACTIVE
        )
        .select_related("shop")
        .prefetch_related(
            Prefetch("variants", queryset=Variant.objects.order_by("position", "id")),
            Prefetch(
                "customisation_options",
                queryset=CustomisationOption.objects.order_by("position", "id"),
            ),
        )
    }


@transaction.atomic(durable=True)
def checkout_place_detailed(
    *,
    buyer: User,
    address_id: int | None = None,
    shipping_options: dict[int, str] | None = None,
    note: str = "",
    within: Within | None = None,
) -> Placement:
    """Turn the buyer's cart into one order per shop under one checkout, and reserve the stock.

    All or nothing: a line that is unavailable, out of stock or over its per-buyer limit fails
    the whole checkout with a 4xx and nothing is written. The stock stays taken until the
    checkout is paid or it expires (``pay_by``), when ``checkouts_expire_due`` gives it back.

    The hot rows (a flash sale's and a variant's stock) are decremented last, just before the
    commit, so their row locks are held for two statements and the commit, not for the whole
    placement: that is what a storm of buyers queues on (ADR 0030). ``within`` runs last inside
    the transaction (the API stores its idempotent response there, ADR 0045).
    """
    # A buyer's checkouts queue here, so per-buyer limits hold when one account races itself.
    list(User.objects.select_for_update().filter(pk=buyer.pk).values_list("pk", flat=True))
    lines = list(CartLine.objects.filter(cart__user=buyer).select_related("variant").order_by("id"))
    if not lines:
        raise CartEmpty()
    note = (note or "").strip()
    if len(note) > 200 or "\x00" in note:
        raise InvalidAddress(extra={"field": "note", "max_length": 200})

    products = _listed_products(line.variant.product_id for line in lines)
    sales = flash_sales_active(variant_ids=[line.variant_id for line in lines])
    priced: list[_Priced] = []
    for line in lines:
        product = products.get(line.variant.product_id)
        if product is None:
            raise ProductUnavailable(extra={"product_id": line.variant.product_id})
        unit = _unit_price_fen(product, line.variant_id, line.customisation)
        sale = sales.get(line.variant_id)
        if sale is not None:  # the sale price replaces the variant's; customisation still adds
            unit = sale.price_fen + unit - line.variant.price_fen
        priced.append(_Priced(line, product, line.variant, unit, sale))

    wanted: dict[int, int] = defaultdict(int)
    for item in priced:
        wanted[item.product.pk] += item.line.quantity
    limited = [pid for pid in wanted if products[pid].per_buyer_limit]
    before = _bought_before(buyer, limited) if limited else {}
    for product_id, quantity in wanted.items():
        limit = products[product_id].per_buyer_limit
        if limit and before.get(product_id, 0) + quantity > limit:
            raise PerBuyerLimitExceeded(
                extra={
                    "product_id": product_id,
                    "limit": limit,
                    "bought": before.get(product_id, 0),
                }
            )

    on_sale: dict[int, tuple[FlashSale, int]] = {}
    for item in priced:
        if item.sale is not None:
            sale, quantity = on_sale.get(item.sale.pk, (item.sale, 0))
            on_sale[sale.pk] = (sale, quantity + item.line.quantity)
    bought_on_sale = flash_bought_many(buyer=buyer, sale_ids=list(on_sale)) if on_sale else {}
    for sale_id, (sale, quantity) in on_sale.items():
        bought = bought_on_sale.get(sale_id, 0)
        if bought + quantity > sale.per_user_limit:
            raise PerBuyerLimitExceeded(
                extra={"flash_sale_id": sale_id, "limit": sale.per_user_limit, "bought": bought}
            )

    shipped = [item for item in priced if item.product.kind not in NOT_SHIPPED_KINDS]
    address = None
    if shipped:
        if address_id is None:
            raise AddressRequired()
        address = Address.objects.filter(pk=address_id, user=buyer).first()
        if address is None:
            raise AddressRequired()

    now = clock.now()
    by_shop: dict[int, list[_Priced]] = defaultdict(list)
    for item in priced:
        by_shop[item.product.shop_id].append(item)
    options = {int(k): v for k, v in (shipping_options or {}).items()}
    plans = []
    for shop_id, items in sorted(by_shop.items()):
        shop = items[0].product.shop
        items_fen = sum(item.unit_price_fen * item.line.quantity for item in items)
        physical = [item for item in items if item.product.kind not in NOT_SHIPPED_KINDS]
        option = options.get(shop_id, ShippingOption.STANDARD)
        fee = 0
        if physical:
            weight = sum(item.variant.weight_g * item.line.quantity for item in physical)
            fee = shipping_fee_fen(
                shop=shop,
                weight_g=weight,
                items_fen=items_fen,
                option=option,
                province=address.province if address else "",
                country=address.country if address else countries.CHINA,
            )
        lead = max((item.product.lead_time_days or 0 for item in items), default=0)
        plans.append((shop, items, items_fen, fee, option if physical else "", lead))

    checkout = Checkout.objects.create(
        buyer=buyer,
        total_fen=sum(items_fen + fee for _s, _i, items_fen, fee, _o, _l in plans),
        currency=CURRENCY,
        pay_by=now + pay_window(),
    )
    placed: list[PlacedOrder] = []
    for shop, items, items_fen, fee, option, lead in plans:
        order = Order.objects.create(
            number=_order_number(now),
            checkout=checkout,
            buyer=buyer,
            shop=shop,
            items_fen=items_fen,
            shipping_fen=fee,
            total_fen=items_fen + fee,
            currency=CURRENCY,
            shipping_option=option or ShippingOption.STANDARD,
            address=_address_snapshot(address) if address and option else {},
            note=note,
            lead_time_days=lead,
        )
        order_lines = OrderLine.objects.bulk_create(
            OrderLine(
                order=order,
                product=item.product,
                variant=item.variant,
                title=item.product.title_zh[:120],
                sku=item.variant.sku,
                options=item.variant.options,
                customisation=item.line.customisation,
                kind=item.product.kind,
                unit_price_fen=item.unit_price_fen,
                quantity=item.line.quantity,
                total_fen=item.unit_price_fen * item.line.quantity,
                flash_sale=item.sale,
            )
            for item in items
        )
        placed.append(
            PlacedOrder(
                order, order_lines, [_event(order, OrderStatus.PENDING_PAYMENT, actor=buyer)]
            )
        )
    CartLine.objects.filter(pk__in=[line.pk for line in lines]).delete()
    outbox_publish(
        topic=TOPIC_CHECKOUT_PLACED,
        payload={"checkout_id": str(checkout.pk), "buyer_id": buyer.pk},
        key=str(checkout.pk),
    )

    # Units sold on sale without a gate ticket: the gates count them once this commits (their
    # epochs read now, so a gate rebuilt meanwhile from the database does not count them twice).
    epochs = flash_gate_epochs(sorted(on_sale)) if on_sale else {}
    # Stock last. One lock order for everyone — flash sales by id, then variants by id — so
    # concurrent checkouts never wait on each other in a cycle, and a sold-out sale is refused
    # before its variant's row is touched. A refusal rolls back everything written above.
    for sale_id in sorted(on_sale):
        sale, quantity = on_sale[sale_id]
        if not flash_stock_take(sale=sale, quantity=quantity):
            raise FlashSaleSoldOut(extra={"flash_sale_id": sale_id})
    per_variant: dict[int, int] = defaultdict(int)
    for item in priced:
        per_variant[item.variant.pk] += item.line.quantity
    for variant_id in sorted(per_variant):
        if not variant_stock_take(variant_id=variant_id, quantity=per_variant[variant_id]):
            available = Variant.objects.filter(pk=variant_id).values_list("stock", flat=True)
            raise InsufficientStock(
                extra={"variant_id": variant_id, "available": next(iter(available), 0)}
            )
    flash_gate_sold_on_commit(
        epochs=epochs, user_id=buyer.pk, units={sid: q for sid, (_s, q) in on_sale.items()}
    )
    placement = Placement(checkout=checkout, orders=placed[::-1])
    if within is not None:
        within(placement, False)
    return placement


FLASH_BUY_OPTIONS = (ShippingOption.STANDARD, ShippingOption.EXPRESS)


def flash_sale_buy(
    *,
    buyer: User,
    sale_id: int,
    quantity: int = 1,
    address_id: int | None = None,
    shipping_option: str = ShippingOption.STANDARD,
    note: str = "",
    placement_key: str = "",
    within: Within | None = None,
) -> Placement:
    """Buy now through the Redis gate when there is one (ADR 0045), else the database alone.

    The gate answers ``flash_sale_sold_out`` and ``per_buyer_limit_exceeded`` (the placement's
    own errors, same ``extra``) before any query when they are definitive; an admitted or
    bypassed request is placed by :func:`_flash_sale_buy_placed`, the source of truth, and the
    gate is told the outcome: a refusal or a failure gives the units back.
    """
    _quantity(quantity)
    admission = flash_gate_admit(
        sale_id=sale_id, user_id=buyer.pk, units=quantity, key_digest=placement_key, now=clock.now()
    )
    after = functools.partial(
        flash_gate_after, admission, sale_id=sale_id, user_id=buyer.pk, units=quantity
    )
    try:
        placement = _flash_sale_buy_placed(
            buyer=buyer,
            sale_id=sale_id,
            quantity=quantity,
            address_id=address_id,
            shipping_option=shipping_option,
            note=note,
            placement_key=placement_key,
            within=within,
        )
    except FlashSaleSoldOut:
        after(outcome="sold_out")
        raise
    except BaseException:
        after(outcome="failed")
        raise
    after(outcome="placed", key_digest=placement_key)
    return placement


@transaction.atomic(durable=True)
def _flash_sale_buy_placed(
    *,
    buyer: User,
    sale_id: int,
    quantity: int,
    address_id: int | None,
    shipping_option: str,
    note: str,
    placement_key: str,
    within: Within | None,
) -> Placement:
    """Buy now: one order for ``quantity`` units of a running flash sale, without the cart.

    What a flash-sale page's button does (ADR 0040): the same rules as a cart checkout of that
    line — listed product in an active shop, sale window, the sale's and the product's
    per-buyer limits under the buyer's row lock, shipping from the shop's template, stock
    reserved until ``pay_by`` — written in about a dozen statements, hot rows last (the sale,
    then the variant, the lock order of every stock movement). ``placement_key`` is the
    request's idempotency key, kept on the checkout so the sold-out gate in front of the API can
    tell a retry of a placement that succeeded (ADR 0040). ``within`` runs last inside the
    transaction (the API stores its idempotent response there), so a placement and its
    response commit together.
    """
    _quantity(quantity)
    note = (note or "").strip()
    if len(note) > 200 or "\x00" in note:
        raise InvalidAddress(extra={"field": "note", "max_length": 200})
    if shipping_option not in ShippingOption.values:
        raise ShippingOptionUnavailable(extra={"option": str(shipping_option)[:20]})
    now = clock.now()
    sale = flash_sale_for_buy(sale_id=sale_id, now=now)
    if sale is None:
        raise ProductUnavailable(extra={"flash_sale_id": sale_id})
    variant, product = sale.variant, sale.variant.product
    if sale.needs_choice or product.kind == Product.Kind.BUNDLE:  # type: ignore[attr-defined]
        # A made-to-order choice or a bundle's sets: only the cart checkout prices those.
        raise ProductUnavailable(extra={"flash_sale_id": sale_id, "reason": "use_cart"})
    # The buyer's row lock first — taken through the address when it is theirs, which reads the
    # address in the same statement; otherwise alone (the address is refused below, after the
    # limits, as before). A buyer's placements queue on that row. The counts come in the next
    # statement: under READ COMMITTED a statement that waited for a lock still reads with the
    # snapshot it started with, so counts computed in the locking statement itself could miss
    # the order the previous holder just committed (ADR 0045).
    address = _address_locking_buyer(address_id=address_id, buyer_id=buyer.pk)
    if address is None:
        list(User.objects.select_for_update().filter(pk=buyer.pk).values_list("pk", flat=True))
    postgres = connection.vendor == "postgresql"
    bought_on_sale, bought_of_product, order_id = flash_counts_and_order_id(
        buyer_id=buyer.pk, sale_id=sale_id, product_id=product.pk, order_id=postgres
    )
    if bought_on_sale + quantity > sale.per_user_limit:
        raise PerBuyerLimitExceeded(
            extra={"flash_sale_id": sale_id, "limit": sale.per_user_limit, "bought": bought_on_sale}
        )
    if product.per_buyer_limit and bought_of_product + quantity > product.per_buyer_limit:
        raise PerBuyerLimitExceeded(
            extra={
                "product_id": product.pk,
                "limit": product.per_buyer_limit,
                "bought": bought_of_product,
            }
        )
    unit = sale.price_fen
    items_fen = unit * quantity
    shipped = product.kind not in NOT_SHIPPED_KINDS
    fee = 0
    if not shipped:
        address = None  # nothing to deliver: the order keeps no address
    if shipped:
        if shipping_option not in FLASH_BUY_OPTIONS:
            raise ShippingOptionUnavailable(extra={"option": shipping_option})
        if address is None:
            raise AddressRequired()
        fee = shipping_fee_fen(
            shop=product.shop,
            weight_g=variant.weight_g * quantity,
            items_fen=items_fen,
            option=shipping_option,
            province=address.province,
            country=address.country,
            template=_shop_template(product.shop),
        )
    placement = flash_placement_rows(
        buyer_id=buyer.pk,
        sale=sale,
        quantity=quantity,
        fee_fen=fee,
        shipping_option=shipping_option if shipped else ShippingOption.STANDARD,
        address=_address_snapshot(address) if address else {},
        note=note,
        placement_key=placement_key,
        now=now,
        order_id=order_id,
    )
    if postgres:
        # One statement (ADR 0050): the stock taken (sale, then variant), the rows, the event,
        # the idempotent answer; a refusal of either decrement fails the whole transaction.
        parts = flash_placement_parts(placement, quantity=quantity)
        if within is not None:
            stored = within(placement, True)
            if stored is not None:
                parts.append(stored)
        taken = flash_placement_execute(parts)
        if taken == FLASH_SALE_SOLD_OUT:
            raise FlashSaleSoldOut(extra={"flash_sale_id": sale_id})
        if taken == FLASH_VARIANT_SOLD_OUT:
            raise InsufficientStock(extra={"variant_id": variant.pk})
        return placement
    placed = placement.orders[0]
    for row in (placement.checkout, placed.order, *placed.lines, *placed.events):
        row.save(force_insert=True)
    outbox_publish(**_placed_event(placement.checkout))
    # Stock last, sale before variant (the one lock order): a refusal rolls back the rows above.
    if not flash_stock_take(sale=sale, quantity=quantity):
        raise FlashSaleSoldOut(extra={"flash_sale_id": sale_id})
    if not variant_stock_take(variant_id=variant.pk, quantity=quantity):
        raise InsufficientStock(extra={"variant_id": variant.pk})
    if within is not None:
        within(placement, False)
    return placement


def flash_placement_rows(
    *,
    buyer_id: int,
    sale: FlashSale,
    quantity: int,
    fee_fen: int,
    shipping_option: str,
    address: dict[str, str],
    note: str,
    placement_key: str,
    now: datetime,
    order_id: int | None,
) -> Placement:
    """A buy-now's checkout, order, line and event (unsaved) for ``sale`` as
    :func:`flash_sale_for_buy` loads it (variant, product, shop). The bench's ceiling builds
    its rows here too, so it writes what a placement writes."""
    variant = sale.variant
    product = variant.product
    items_fen = sale.price_fen * quantity
    checkout = Checkout(
        buyer_id=buyer_id,
        total_fen=items_fen + fee_fen,
        currency=CURRENCY,
        pay_by=now + pay_window(),
        placement_key=placement_key[:64],
    )
    order = Order(
        id=order_id,
        number=_order_number(now),
        checkout=checkout,
        buyer_id=buyer_id,
        shop=product.shop,
        items_fen=items_fen,
        shipping_fen=fee_fen,
        total_fen=items_fen + fee_fen,
        currency=CURRENCY,
        shipping_option=shipping_option,
        address=address,
        note=note,
        lead_time_days=product.lead_time_days or 0,
    )
    line = OrderLine(
        order=order,
        product=product,
        variant=variant,
        title=product.title_zh[:120],
        sku=variant.sku,
        options=variant.options,
        customisation={},
        kind=product.kind,
        unit_price_fen=sale.price_fen,
        quantity=quantity,
        total_fen=items_fen,
        flash_sale=sale,
    )
    event = OrderEvent(order=order, status=OrderStatus.PENDING_PAYMENT, actor_id=buyer_id, note="")
    return Placement(checkout=checkout, orders=[PlacedOrder(order, [line], [event])])


def _placed_event(checkout: Checkout) -> dict[str, Any]:
    return {
        "topic": TOPIC_CHECKOUT_PLACED,
        "payload": {"checkout_id": str(checkout.pk), "buyer_id": checkout.buyer_id},
        "key": str(checkout.pk),
    }


FLASH_PLACED, FLASH_SALE_SOLD_OUT, FLASH_VARIANT_SOLD_OUT = 0, 1, 2


def flash_sale_for_buy(*, sale_id: int, now: datetime) -> FlashSale | None:
    """The running sale with its variant, product, shop and the shop's shipping template (None:
    none), and ``needs_choice`` (a required customisation option), in one plain statement.

    What ``FlashSale.objects.select_related(…).filter(…).annotate(Exists(…))`` reads — the
    rule of ``product_get_public`` (listed, in an active shop) and the window — without the
    ORM's compile, the largest single cost of a buy-now (ADR 0050). Portable SQL.
    """
    qn = connection.ops.quote_name
    adapt = connection.ops.adapt_datetimefield_value
    models = (FlashSale, Variant, Product, Shop, ShippingTemplate)
    sql = (
        f"SELECT {', '.join(sql_model_columns(m, a) for m, a in zip(models, 'svpht', strict=True))}, "  # noqa: S608  # model names only
        f"EXISTS (SELECT 1 FROM {qn(CustomisationOption._meta.db_table)} c "
        "WHERE c.product_id = p.id AND c.required) "
        f"FROM {qn(FlashSale._meta.db_table)} s "
        f"JOIN {qn(Variant._meta.db_table)} v ON v.id = s.variant_id "
        f"JOIN {qn(Product._meta.db_table)} p ON p.id = v.product_id "
        f"JOIN {qn(Shop._meta.db_table)} h ON h.id = p.shop_id "
        f"LEFT JOIN {qn(ShippingTemplate._meta.db_table)} t ON t.shop_id = h.id "
        "WHERE s.id = %s AND s.starts_at <= %s AND s.ends_at > %s AND p.status = %s "
        "AND h.status = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                sale_id,
                adapt(now),
                adapt(now),
                str(Product.Status.LISTED),
                str(Shop.Status.ACTIVE),
            ],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    start, found = 0, []
    for model in models:
        found.append(sql_model_from_row(model, row, start))
        start += len(model._meta.concrete_fields)
    sale, variant, product, shop, template = found
    assert sale is not None and variant is not None and product is not None and shop is not None
    Shop.shipping_template.related.set_cached_value(shop, template)  # type: ignore[attr-defined]
    product.shop = shop
    variant.product = product
    sale.variant = variant
    sale.needs_choice = bool(row[start])  # type: ignore[attr-defined]
    return sale  # type: ignore[return-value]


def _address_locking_buyer(*, address_id: int | None, buyer_id: int) -> Address | None:
    """The buyer's address ``address_id`` (None: not theirs), read under the lock of the
    buyer's row (PostgreSQL; SQLite has one writer at a time), in one plain statement."""
    if not address_id:
        return None
    qn = connection.ops.quote_name
    lock = " FOR UPDATE OF u" if connection.features.has_select_for_update_of else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {sql_model_columns(Address, 'a')} FROM {qn(Address._meta.db_table)} a "  # noqa: S608  # model names only
            f"JOIN {qn(User._meta.db_table)} u ON u.id = a.user_id "
            f"WHERE a.id = %s AND a.user_id = %s{lock}",
            [address_id, buyer_id],
        )
        row = cursor.fetchone()
    return None if row is None else sql_model_from_row(Address, row)  # type: ignore[return-value]


def flash_counts_and_order_id(
    *, buyer_id: int, sale_id: int, product_id: int, order_id: bool
) -> tuple[int, int, int | None]:
    """The buyer's units on live orders of the sale and of the product, and with ``order_id``
    (PostgreSQL) the next order id, in one plain statement. Run after the buyer's row lock (a
    statement that waited reads with its own snapshot, ADR 0045). Portable SQL but the id."""
    sql, params = flash_counts_statement(
        buyer_id=buyer_id, sale_id=sale_id, product_id=product_id, order_id=order_id
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return int(row[0]), int(row[1]), (int(row[2]) if order_id else None)


def flash_counts_statement(
    *, buyer_id: int, sale_id: int, product_id: int, order_id: bool
) -> tuple[str, list[Any]]:
    """:func:`flash_counts_and_order_id`'s statement (also what the bench's ceiling runs)."""
    qn = connection.ops.quote_name
    statuses = [str(status) for status in LIVE_STATUSES]
    line, order = OrderLine._meta.db_table, Order._meta.db_table
    next_id = f", nextval(pg_get_serial_sequence('{order}', 'id'))" if order_id else ""
    return (
        "SELECT COALESCE(SUM(CASE WHEN l.flash_sale_id = %s THEN l.quantity END), 0), "  # noqa: S608  # model names only
        f"COALESCE(SUM(CASE WHEN l.product_id = %s THEN l.quantity END), 0){next_id} "
        f"FROM {qn(line)} l JOIN {qn(order)} o ON o.id = l.order_id "
        f"WHERE o.buyer_id = %s AND o.status IN ({', '.join(['%s'] * len(statuses))}) "
        "AND (l.flash_sale_id = %s OR l.product_id = %s)",
        [sale_id, product_id, buyer_id, *statuses, sale_id, product_id],
    )


def flash_placement_parts(placement: Placement, *, quantity: int) -> list[Part]:
    """A buy-now's writes as statement parts (PostgreSQL, ADR 0050): the sale's and the
    variant's conditional decrements (one chain, sale first: the lock order of every stock
    movement), the checkout, order, line and event rows, the ``trade.checkout_placed`` event.
    The bench's ceiling runs the very same parts."""
    placed = placement.orders[0]
    order, line = placed.order, placed.lines[0]
    assert line.flash_sale_id is not None and line.variant_id is not None
    sale_table = FlashSale._meta.db_table
    variant_cte, variant_params = variant_stock_take_cte(
        variant_id=line.variant_id, quantity=quantity, after="{p}sale"
    )
    stock = SqlChain(
        ctes=(
            (
                "sale",
                f'MATERIALIZED (UPDATE "{sale_table}" SET "stock" = "stock" - %s '  # noqa: S608  # table name only
                'WHERE "id" = %s AND "stock" >= %s RETURNING "id")',
            ),
            ("variant", variant_cte),
        ),
        params=(quantity, line.flash_sale_id, quantity, *variant_params),
        result=(
            f"(CASE WHEN NOT EXISTS (SELECT 1 FROM {{p}}sale) THEN {FLASH_SALE_SOLD_OUT} "  # noqa: S608  # constants only
            f"WHEN NOT EXISTS (SELECT 1 FROM {{p}}variant) THEN {FLASH_VARIANT_SOLD_OUT} "
            f"ELSE {FLASH_PLACED} END)"
        ),
    )
    return [
        stock,
        sql_insert_part(placement.checkout),
        sql_insert_part(order),
        sql_insert_part(line),
        *(sql_insert_part(event) for event in placed.events),
        outbox_part(**_placed_event(placement.checkout)),
    ]


def flash_placement_execute(parts: list[Part]) -> int:
    """Run a buy-now's parts as one statement; FLASH_PLACED or which decrement refused. A
    unique violation (a caller's idempotency part: the key taken meanwhile) raises
    ``IntegrityError`` and fails the whole statement."""
    with connection.cursor() as cursor:
        return int(sql_parts_execute(cursor, parts)[0])


def _checkout_lock(*, buyer: User, checkout_id: object) -> Checkout:
    checkout = (
        Checkout.objects.select_for_update().filter(pk=checkout_id, buyer=buyer).first()
        if _is_uuid(checkout_id)
        else None
    )
    if checkout is None:
        raise NotFound()
    return checkout


def _is_uuid(value: object) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _editions_issue(lines: list[OrderLine]) -> None:
    """Number each unit of a limited edition: the lowest free numbers, under the product lock."""
    for line in (line for line in lines if line.kind == "limited_edition"):
        product = Product.objects.select_for_update().get(pk=line.product_id)
        taken = set(EditionUnit.objects.filter(product=product).values_list("number", flat=True))
        size = product.edition_size or 0
        free = [n for n in range(1, size + 1) if n not in taken][: line.quantity]
        if len(free) < line.quantity:  # stock and edition size disagree: never oversell numbers
            raise InsufficientStock(extra={"product_id": product.pk, "edition_size": size})
        EditionUnit.objects.bulk_create(
            EditionUnit(product=product, number=number, line=line) for number in free
        )


@transaction.atomic(durable=True)
def checkout_pay_with_wallet(*, buyer: User, checkout_id: object) -> Checkout:
    """Pay a pending checkout from the wallet: the money goes into each order's escrow.

    ``insufficient_funds`` (409) leaves everything as it was; paying twice is refused with
    ``checkout_not_payable`` (the API's Idempotency-Key replays the first answer instead).
    """
    checkout = _checkout_lock(buyer=buyer, checkout_id=checkout_id)
    now = clock.now()
    if checkout.status != CheckoutStatus.PENDING or checkout.pay_by <= now:
        raise CheckoutNotPayable(extra={"status": checkout.status})
    orders = list(checkout.orders.select_related("shop").order_by("id"))
    lines: dict[int, list[OrderLine]] = defaultdict(list)
    for line in OrderLine.objects.filter(order__checkout=checkout).order_by("id"):
        lines[line.order_id].append(line)
    postings = [
        Posting(wallet_account_for_user(user=buyer, currency=CURRENCY), -cny(checkout.total_fen))
    ]
    postings += [Posting(escrow_account_for(order), cny(order.total_fen)) for order in orders]
    _editions_issue([line for order in orders for line in lines[order.pk]])
    ledger_post(
        kind=LEDGER_KIND_PAY,
        postings=postings,
        reference=f"checkout:{checkout.pk}:pay",
        description="订单付款",
        metadata={"checkout_id": str(checkout.pk), "method": "wallet"},
    )
    checkout.status = CheckoutStatus.PAID
    checkout.paid_at = now
    checkout.save(update_fields=["status", "paid_at", "updated_at"])
    for order in orders:
        _order_paid(order, kinds={line.kind for line in lines[order.pk]}, now=now, actor=buyer)
    return checkout


def cny(fen: int) -> Money:
    return Money(fen, CURRENCY)


def _order_paid(order: Order, *, kinds: set[str], now: datetime, actor: User) -> None:
    if kinds <= NOT_SHIPPED_KINDS:
        # Downloads, courses and services are delivered with the payment.
        next_status, extra = OrderStatus.DELIVERED, {"delivered_at": now}
    elif "made_to_order" in kinds:
        next_status, extra = OrderStatus.IN_PRODUCTION, {}
    else:
        next_status, extra = OrderStatus.PROCESSING, {}
    OrderEvent.objects.bulk_create(
        [
            OrderEvent(order=order, status=OrderStatus.PAID, actor=actor),
            OrderEvent(order=order, status=next_status),
        ]
    )
    Order.objects.filter(pk=order.pk).update(
        status=next_status, paid_at=now, updated_at=now, **extra
    )
    outbox_publish(
        topic=TOPIC_ORDER_PAID,
        payload={
            "order_id": order.pk,
            "number": order.number,
            "buyer_id": order.buyer_id,
            "shop_id": order.shop_id,
            "total_fen": order.total_fen,
        },
        key=str(order.pk),
    )


def _stock_return(orders: Iterable[Order]) -> None:
    per_variant: dict[int, int] = defaultdict(int)
    per_sale: dict[int, int] = defaultdict(int)
    per_sale_buyer: dict[tuple[int, int], int] = defaultdict(int)
    lines = OrderLine.objects.filter(order__in=list(orders)).values_list(
        "variant_id", "quantity", "flash_sale_id", "order__buyer_id"
    )
    for variant_id, quantity, sale_id, buyer_id in lines:
        per_variant[variant_id] += quantity
        if sale_id:
            per_sale[sale_id] += quantity
            per_sale_buyer[(sale_id, buyer_id)] += quantity
    flash_gate_give_back_on_commit(dict(per_sale_buyer))
    # The lock order of checkout: flash sales by id, then variants by id.
    for sale_id in sorted(per_sale):
        flash_stock_return(sale_id=sale_id, quantity=per_sale[sale_id])
    for variant_id in sorted(per_variant):
        variant_stock_return(variant_id=variant_id, quantity=per_variant[variant_id])


def _checkout_cancel(checkout: Checkout, *, reason: str, actor: User | None) -> None:
    now = clock.now()
    moved = Checkout.objects.filter(pk=checkout.pk, status=CheckoutStatus.PENDING).update(
        status=CheckoutStatus.CANCELLED, cancelled_at=now, updated_at=now
    )
    if moved != 1:
        return  # paid or cancelled meanwhile: nothing to give back (safe to run twice)
    orders = list(checkout.orders.all())
    Order.objects.filter(pk__in=[o.pk for o in orders]).update(
        status=OrderStatus.CANCELLED, cancelled_at=now, cancel_reason=reason, updated_at=now
    )
    for order in orders:
        _event(order, OrderStatus.CANCELLED, actor=actor, note=reason)
        outbox_publish(
            topic=TOPIC_ORDER_CANCELLED,
            payload={"order_id": order.pk, "reason": reason, "refunded_fen": 0},
            key=str(order.pk),
        )
    _stock_return(orders)


@transaction.atomic(durable=True)
def checkout_cancel(*, buyer: User, checkout_id: object) -> Checkout:
    """The buyer gives up an unpaid checkout: its orders are cancelled and the stock returns."""
    checkout = _checkout_lock(buyer=buyer, checkout_id=checkout_id)
    if checkout.status != CheckoutStatus.PENDING:
        raise CheckoutNotPayable(extra={"status": checkout.status})
    _checkout_cancel(checkout, reason="买家取消", actor=buyer)
    checkout.refresh_from_db()
    return checkout


def checkouts_expire_due(*, now: datetime | None = None, batch: int = 200) -> int:
    """Cancel checkouts not paid in time and give their stock back; safe to run twice."""
    now = now or clock.now()
    due = list(
        Checkout.objects.filter(status=CheckoutStatus.PENDING, pay_by__lte=now)
        .order_by("pay_by")
        .values_list("pk", flat=True)[:batch]
    )
    expired = 0
    for checkout_id in due:
        with transaction.atomic(durable=True):
            checkout = Checkout.objects.select_for_update().filter(pk=checkout_id).first()
            if checkout and checkout.status == CheckoutStatus.PENDING and checkout.pay_by <= now:
                _checkout_cancel(checkout, reason="超时未支付", actor=None)
                expired += 1
    return expired


# --- after payment ----------------------------------------------------------------------------


def _order_lock(order_id: int, *, where: Q) -> Order:
    order = Order.objects.select_for_update().filter(where, pk=order_id).first()
    if order is None:
        raise NotFound()
    return order


@transaction.atomic(durable=True)
def order_refund_before_shipment(*, buyer: User, order_id: int, reason: str = "") -> Order:
    """Refund only, before the parcel leaves: automatic, escrow back to the buyer's original
    payment methods.

    Made-to-order pieces already in production are not refunded automatically.
    """
    order = _order_lock(order_id, where=Q(buyer=buyer))
    if order.status not in (OrderStatus.PAID, OrderStatus.PROCESSING):
        raise OrderStateInvalid(extra={"status": order.status})
    reason = (reason or "").strip()[:200] or "买家申请退款（未发货）"
    now = clock.now()
    # Back to the methods that paid (provider part through the provider, the rest to the
    # wallet; ADR 0039); a checkout paid straight from the wallet goes back to the wallet.
    order_refund_to_methods(
        order,
        amount_fen=order.total_fen,
        source=escrow_account_for(order),
        request_key=f"order:{order.pk}:refund",
        reference=f"order:{order.pk}:refund",
        kind=LEDGER_KIND_REFUND,
        description="订单退款",
        reason=reason[:80],
        metadata={"order_id": order.pk, "reason": reason},
    )
    order.status = OrderStatus.CANCELLED
    order.cancelled_at = now
    order.cancel_reason = reason
    order.save(update_fields=["status", "cancelled_at", "cancel_reason", "updated_at"])
    EditionUnit.objects.filter(line__order=order).delete()  # the numbers go back to the edition
    _stock_return([order])
    _event(order, OrderStatus.CANCELLED, actor=buyer, note=reason)
    outbox_publish(
        topic=TOPIC_ORDER_CANCELLED,
        payload={"order_id": order.pk, "reason": reason, "refunded_fen": order.total_fen},
        key=str(order.pk),
    )
    return order


@transaction.atomic(durable=True)
def order_ship(*, actor: User, order_id: int, carrier: str, tracking_number: str) -> Order:
    """The shop hands the parcel to a carrier."""
    order = _order_lock(order_id, where=Q())
    if not shop_can_manage(actor, order.shop):
        raise NotFound()
    carrier, tracking_number = (carrier or "").strip(), (tracking_number or "").strip()
    if not (0 < len(carrier) <= 40 and re.fullmatch(r"[A-Za-z0-9\-]{6,40}", tracking_number)):
        raise InvalidShipment()
    if order.status not in SHIPPABLE_STATUSES:
        raise OrderStateInvalid(extra={"status": order.status})
    now = clock.now()
    order.status = OrderStatus.SHIPPED
    order.carrier, order.tracking_number, order.shipped_at = carrier, tracking_number, now
    order.save(update_fields=["status", "carrier", "tracking_number", "shipped_at", "updated_at"])
    _event(order, OrderStatus.SHIPPED, actor=actor, note=f"{carrier} {tracking_number}")
    if carrier == SANDBOX_CARRIER:
        sandbox_carrier_advance(order=order, until="picked_up")
    outbox_publish(
        topic=TOPIC_ORDER_SHIPPED,
        payload={"order_id": order.pk, "carrier": carrier, "tracking_number": tracking_number},
        key=str(order.pk),
    )
    return order


@transaction.atomic(durable=True)
def order_mark_delivered(*, order_id: int, note: str = "") -> Order:
    """Mark a shipped order delivered by hand (an operator); carriers report it by callback."""
    order = _order_lock(order_id, where=Q())
    if order.status != OrderStatus.SHIPPED:
        raise OrderStateInvalid(extra={"status": order.status})
    order_delivered_record(order=order, at=clock.now(), note=note)
    return order


def order_delivered_record(*, order: Order, at: datetime, note: str = "") -> None:
    """A locked, shipped order was delivered at ``at``; the 7-day completion clock starts."""
    order.status, order.delivered_at = OrderStatus.DELIVERED, min(at, clock.now())
    order.save(update_fields=["status", "delivered_at", "updated_at"])
    _event(order, OrderStatus.DELIVERED, note=note)


def _order_complete(order: Order, *, actor: User | None, note: str) -> None:
    """Complete and settle: escrow → platform commission + the shop's payable."""
    now = clock.now()
    # Commission per category and shop tier, royalties of licensed designs (ADR 0032).
    split = order_split(order)
    commission = split.commission_fen
    postings = [Posting(escrow_account_for(order), -cny(order.total_fen))]
    postings += settlement_postings(order, split, shop_payable=shop_payable_account_for(order.shop))
    ledger_post(
        kind=LEDGER_KIND_SETTLE,
        postings=postings,
        reference=f"order:{order.pk}:settle",
        description="订单结算",
        metadata={
            "order_id": order.pk,
            "commission_fen": commission,
            "royalty_fen": split.royalty_fen,
        },
    )
    settlement_record(order, split, refunded_fen=0, at=now)
    order.status, order.completed_at, order.commission_fen = OrderStatus.COMPLETED, now, commission
    if order.delivered_at is None:
        order.delivered_at = now
    order.save(
        update_fields=["status", "completed_at", "commission_fen", "delivered_at", "updated_at"]
    )
    _event(order, OrderStatus.COMPLETED, actor=actor, note=note)
    outbox_publish(
        topic=TOPIC_ORDER_COMPLETED,
        payload={"order_id": order.pk, "shop_id": order.shop_id, "commission_fen": commission},
        key=str(order.pk),
    )


@transaction.atomic(durable=True)
def order_confirm_receipt(*, buyer: User, order_id: int) -> Order:
    """The buyer confirms the parcel arrived: the order completes and is settled."""
    order = _order_lock(order_id, where=Q(buyer=buyer))
    if order.status not in (OrderStatus.SHIPPED, OrderStatus.DELIVERED):
        raise OrderStateInvalid(extra={"status": order.status})
    if order.after_sales.filter(status__in=AFTER_SALE_OPEN).exists():
        raise OrderStateInvalid(extra={"status": order.status, "reason": "after_sale_open"})
    _order_complete(order, actor=buyer, note="买家确认收货")
    return order


def orders_complete_due(*, now: datetime | None = None, batch: int = 200) -> int:
    """Complete orders delivered more than the configured days ago; safe to run twice."""
    cutoff = (now or clock.now()) - auto_complete_after()
    # An open after-sales request holds the order (and its money) until it is resolved.
    open_after_sale = Q(after_sales__status__in=AFTER_SALE_OPEN)
    due = list(
        Order.objects.filter(status=OrderStatus.DELIVERED, delivered_at__lte=cutoff)
        .exclude(open_after_sale)
        .order_by("delivered_at")
        .values_list("pk", flat=True)[:batch]
    )
    done = 0
    for order_id in due:
        with transaction.atomic(durable=True):
            order = Order.objects.select_for_update().select_related("shop").get(pk=order_id)
            if order.status == OrderStatus.DELIVERED and order.delivered_at <= cutoff:
                _order_complete(order, actor=None, note="签收后自动完成")
                done += 1
    return done


def trade_timers_run(*, now: datetime | None = None) -> dict[str, int]:
    """Both order timers, and the flash gates' resync; the background worker runs this every
    minute."""
    return {
        "expired": checkouts_expire_due(now=now),
        "completed": orders_complete_due(now=now),
        "flash_gates_resynced": flash_gates_resync(),
    }


# --- digital downloads ------------------------------------------------------------------------

DOWNLOAD_TTL = timedelta(hours=24)
DOWNLOADS_PER_LINK = 5


def order_download_link(*, buyer: User, order_id: int, line_id: int) -> DownloadLink:
    """A fresh signed link (24 h, 5 downloads) to a digital line of my paid order.

    Issued on demand rather than at payment, so a buyer can always get a working link later.
    """
    order = Order.objects.filter(pk=order_id, buyer=buyer).first()
    if order is None:
        raise NotFound()
    line = order.lines.select_related("product").filter(pk=line_id, kind="digital_download").first()
    if line is None:
        raise NotFound()
    if order.status not in (OrderStatus.DELIVERED, OrderStatus.COMPLETED):
        raise OrderStateInvalid(extra={"status": order.status})
    return catalog_services.digital_download_link_issue(
        product=line.product, user=buyer, ttl=DOWNLOAD_TTL, max_downloads=DOWNLOADS_PER_LINK
    )
