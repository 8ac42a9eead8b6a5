"""``yaji bench flashsale``: a storm of buyers placing orders for one variant on flash sale.

Seeding (services, not measured): a verified creator's shop is applied for and approved, one
product with one variant is listed, and a flash sale of ``units`` (default: a fifth of the
requests, at most 1,000) with a one-per-buyer limit runs now. Every buyer has the variant in the
cart and a delivery address. The measured request is the order placement itself, with a fresh
``Idempotency-Key``: 201 placed (stock taken) or 409 ``flash_sale_sold_out``. Case ``storm``
is what a flash-sale page's button does, buy now (``POST /api/v1/flash-sales/{id}/orders``,
ADR 0040); case ``storm-cart`` checks the cart out (``POST /api/v1/checkouts``, ADR 0030).

Ceiling: the buy-now's own statements on a plain psycopg connection (ADR 0050) — the counts with
the order's id, then the one write statement: the two conditional stock decrements (sale, then
variant), the checkout, order, line and event rows, the outbox event and the idempotency record,
built by the service's own functions — on a twin product of the same stock.
With ``--redis`` the measured sale has its Redis gate (ADR 0045); the twin has none.

Checks, on top of reconciliation: no stock below zero; units sold (order lines on the sale) =
sale stock taken = variant stock taken = placements answered 201; nobody bought twice.
"""

from __future__ import annotations

import hashlib
import io
import json
import uuid
from dataclasses import dataclass
from datetime import timedelta

import psycopg
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.models import Count, Sum
from django.test.utils import CaptureQueriesContext
from PIL import Image

from yaji.accounts.models import Role, RoleAssignment, User
from yaji.bench.cases import Advance, CasePlan, PreparedCase
from yaji.bench.drive import DriveResult, HttpCall
from yaji.bench.seeding import BenchUser, _verify
from yaji.catalog import services as catalog
from yaji.catalog.models import Variant
from yaji.core import clock
from yaji.core.idempotency import (
    PendingKey,
    idempotency_json_response,
    idempotency_request_hash,
    idempotency_store_part_for,
)
from yaji.core.sqlparts import sql_parts_execute
from yaji.trade import flash, services
from yaji.trade.gate import flash_gate
from yaji.trade.models import FlashSale, Order, OrderLine

PRICE_FEN = 16800
SALE_PRICE_FEN = 9900
UNITS_MAX = 1000
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@dataclass(frozen=True, slots=True)
class SaleItem:
    product_id: int
    variant_id: int
    shop_id: int
    sale_id: int


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (178, 45, 36)).save(out, format="PNG")
    return out.getvalue()


def _listed_on_sale(*, tag: str, units: int) -> SaleItem:
    """A shop (applied for and approved), a listed product, a flash sale running now."""
    owner = User.objects.create_user(f"flash-owner-{tag}@bench.yaji.invalid", None)
    _verify(owner)
    reviewer = User.objects.create_user(f"flash-reviewer-{tag}@bench.yaji.invalid", None)
    RoleAssignment.objects.create(user=reviewer, role=Role.REVIEWER)
    application = catalog.shop_application_submit(
        applicant=owner,
        name_zh="压测秒杀店",
        slug=f"flash-{tag}"[:40].lower().replace("_", "-"),
        shop_type="studio",
        story_zh="压测用店铺。",
        documents=[SimpleUploadedFile("licence.pdf", PDF, content_type="application/pdf")],
    )
    shop = catalog.shop_application_approve(reviewer=reviewer, application_id=application.pk)
    product = catalog.product_create(actor=owner, shop=shop, title_zh="秒杀青瓷杯")
    variant = catalog.variant_upsert(
        actor=owner, product_id=product.pk, sku="FLASH-1", price_fen=PRICE_FEN, stock=units * 2
    )
    catalog.product_image_add(
        actor=owner,
        product_id=product.pk,
        upload=SimpleUploadedFile("cup.png", _png(), content_type="image/png"),
    )
    catalog.product_submit(actor=owner, product_id=product.pk)
    catalog.product_review_approve(reviewer=reviewer, product_id=product.pk)
    now = clock.now()
    sale = flash.flash_sale_create(
        actor=owner,
        variant_id=variant.pk,
        title="整点秒杀",
        starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(hours=2),
        price_fen=SALE_PRICE_FEN,
        stock=units,
        per_user_limit=1,
    )
    return SaleItem(product.pk, variant.pk, shop.pk, sale.pk)


def _ready_buyer(user_id: int, variant_id: int, *, cart: bool = True) -> int:
    """Put the variant in the buyer's cart and give them an address; returns the address id."""
    user = User.objects.get(pk=user_id)
    if cart:
        services.cart_line_add(cart=services.cart_get(user=user), variant_id=variant_id)
    return services.address_create(
        user=user,
        recipient="压测买家",
        phone="13800138000",
        province="浙江省",
        city="杭州市",
        line="压测路 1 号",
    ).pk


def queries_per_order(*, item: SaleItem, tag: str, cart: bool) -> int:
    """SQL statements of one order placement by the service, measured in this process."""
    buyer = User.objects.create_user(f"flash-probe-{tag}@bench.yaji.invalid", None)
    address_id = _ready_buyer(buyer.pk, item.variant_id, cart=cart)
    # With Redis: the sale's gate exists (as after its commit), so a rebuild is not counted.
    flash.flash_gate_open(FlashSale.objects.get(pk=item.sale_id))
    with CaptureQueriesContext(connection) as captured:
        if cart:
            services.checkout_place(buyer=buyer, address_id=address_id)
        else:
            services.flash_sale_buy(buyer=buyer, sale_id=item.sale_id, address_id=address_id)
    return len(captured)


@dataclass(frozen=True, slots=True)
class CeilingRows:
    """What the ceiling's placements copy from the probe's real one: the sale as the service
    loads it, the shipping fee and the address snapshot."""

    sale: FlashSale
    fee_fen: int
    address: dict[str, str]


def ceiling_rows(item: SaleItem) -> CeilingRows:
    probe = Order.objects.filter(lines__flash_sale_id=item.sale_id).order_by("id").first()
    sale = services.flash_sale_for_buy(sale_id=item.sale_id, now=clock.now())
    assert probe is not None and sale is not None
    return CeilingRows(sale=sale, fee_fen=probe.shipping_fen, address=probe.address)


def place_transaction(
    conn: psycopg.Connection, *, item: SaleItem, rows: CeilingRows, buyer_id: int
) -> bool:
    """The buy-now's transaction on PostgreSQL, statement for statement, on a plain psycopg
    connection (ADR 0050): the counts with the order's id (``flash_counts_statement``), then
    the one write statement — the stock chain (sale, then variant), the checkout, order, line
    and event rows (``flash_placement_rows``), the outbox event (``flash_placement_parts``)
    and the idempotency record with the answer (``idempotency_store_part_for``) — then the
    commit. Left out: Django, the request, the sale's read and the buyer's lock. True if the
    unit was taken and the order written."""
    now = clock.now()
    path = f"/api/v1/flash-sales/{item.sale_id}/orders"
    key = str(uuid.uuid4())
    with conn.cursor() as cur:
        sql, params = services.flash_counts_statement(
            buyer_id=buyer_id, sale_id=item.sale_id, product_id=item.product_id, order_id=True
        )
        cur.execute(sql, params)
        counted = cur.fetchone()
        assert counted is not None
        placement = services.flash_placement_rows(
            buyer_id=buyer_id,
            sale=rows.sale,
            quantity=1,
            fee_fen=rows.fee_fen,
            shipping_option="standard",
            address=rows.address,
            note="",
            placement_key=hashlib.sha256(key.encode()).hexdigest(),
            now=now,
            order_id=counted[2],
        )
        parts = services.flash_placement_parts(placement, quantity=1)
        order = placement.orders[0].order
        body = {
            "id": placement.checkout.pk,
            "status": placement.checkout.status,
            "total_fen": placement.checkout.total_fen,
            "pay_by": placement.checkout.pay_by,
            "orders": [{"id": order.pk, "number": order.number, "address": order.address}],
        }
        pending = PendingKey(
            scope=f"user:{buyer_id}",
            key=key,
            method="POST",
            path=path,
            request_hash=idempotency_request_hash(method="POST", path=path, body=b"{}"),
        )
        parts.append(
            idempotency_store_part_for(
                pending, response=idempotency_json_response(body, status=201), now=now
            )
        )
        (taken, *_rest) = sql_parts_execute(cur, parts)
        if taken != services.FLASH_PLACED:
            conn.rollback()
            return False
    conn.commit()
    return True


def _checks(*, item: SaleItem, units: int, placed: int) -> list[str]:
    found: list[str] = []
    sale = FlashSale.objects.get(pk=item.sale_id)
    variant = Variant.objects.get(pk=item.variant_id)
    lines = OrderLine.objects.filter(flash_sale_id=item.sale_id)
    sold = lines.aggregate(n=Sum("quantity"))["n"] or 0
    if sale.stock < 0 or variant.stock < 0:
        found.append(f"stock below zero: sale {sale.stock}, variant {variant.stock}")
    if sold > units:
        found.append(f"oversold: {sold} units sold of {units}")
    if sold != units - sale.stock:
        found.append(f"{sold} units sold, sale stock fell by {units - sale.stock}")
    if sold != 2 * units - variant.stock:
        found.append(f"{sold} units sold, variant stock fell by {2 * units - variant.stock}")
    if placed != sold:
        found.append(f"{placed} placements answered 201, {sold} units on order lines")
    twice = lines.values("order__buyer_id").annotate(n=Count("id")).filter(n__gt=1).count()
    if twice:
        found.append(f"{twice} buyers got more than the per-buyer limit")
    return found


def _plan(requests: int, units: int, *, cart: bool) -> CasePlan:
    def prepare(users: list[BenchUser], tag: str, advance: Advance) -> PreparedCase:
        item = _listed_on_sale(tag=tag, units=units)
        twin = _listed_on_sale(tag=f"{tag}-twin", units=units)
        measured = users[:requests]
        addresses = []
        for user in measured:
            addresses.append(_ready_buyer(user.id, item.variant_id, cart=cart))
            advance(1)
        path = "/api/v1/checkouts" if cart else f"/api/v1/flash-sales/{item.sale_id}/orders"
        calls = [
            HttpCall(
                method="POST",
                path=path,
                body=json.dumps({"address_id": address_id}).encode(),
                headers={
                    "Content-Type": "application/json",
                    "Idempotency-Key": str(uuid.uuid4()),
                    **user.headers,
                },
            )
            for user, address_id in zip(measured, addresses, strict=True)
        ]
        per_order = queries_per_order(item=twin, tag=tag, cart=cart)
        # The ceiling moves the twin's stock in raw SQL, behind any Redis gate (ADR 0045): the
        # twin has none, or reconciliation would rightly find the gate and the database apart.
        twin_gate = flash_gate()
        if twin_gate is not None:
            twin_gate.forget(twin.sale_id)
        twin_buyers = [u.id for u in users[:requests]]
        rows = ceiling_rows(twin)

        def ceiling(conn: psycopg.Connection, i: int) -> bool:
            return place_transaction(conn, item=twin, rows=rows, buyer_id=twin_buyers[i])

        def check(http: DriveResult, _ceiling: DriveResult) -> list[str]:
            placed = sum(1 for o in http.outcomes if o is not None and o.status == 201)
            found = _checks(item=item, units=units, placed=placed)
            twin_sale = FlashSale.objects.get(pk=twin.sale_id)
            if twin_sale.stock < 0:
                found.append(f"ceiling oversold: twin sale stock {twin_sale.stock}")
            twin_sold = OrderLine.objects.filter(flash_sale_id=twin.sale_id).count()
            if twin_sold != units - twin_sale.stock:  # the ceiling wrote whole placements
                found.append(
                    f"ceiling: {twin_sold} lines, twin stock fell by {units - twin_sale.stock}"
                )
            return found

        return PreparedCase(
            calls=calls,
            expected=frozenset({201, 409}),
            ceiling_count=requests,
            ceiling_transaction=ceiling,
            check=check,
            extra={"queries_per_order": per_order, "units": units},
        )

    name = "storm-cart" if cart else "storm"
    return CasePlan(name=name, users_needed=requests, seed_steps=requests, prepare=prepare)


CASES = ("storm", "storm-cart")


def flashsale_cases(*, requests: int, names: list[str], units: int | None = None) -> list[CasePlan]:
    units = units or max(1, min(UNITS_MAX, -(-requests // 5)))
    return [_plan(requests, units, cart=name == "storm-cart") for name in names if name in CASES]
