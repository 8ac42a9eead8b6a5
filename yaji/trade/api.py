"""The trade API: my cart, addresses, checkout and wallet payment, my orders, a shop's orders."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from ninja import File, Form, Query, Router, Status, UploadedFile
from ninja.decorators import decorate_view
from ninja.operation import Operation
from ninja.responses import codes_4xx
from ninja.utils import contribute_operation_callback

from yaji.accounts.auth import api_auth
from yaji.accounts.models import User
from yaji.catalog import selectors as catalog_selectors
from yaji.core import clock
from yaji.core.idempotency import (
    IDEMPOTENCY_HEADER,
    idempotency_conflict_from,
    idempotency_json_response,
    idempotency_scope,
    idempotency_store_part,
    idempotency_store_within,
    idempotent,
)
from yaji.core.sqlparts import SqlPart
from yaji.trade import aftersales, carriers, flash, payment, reviews, selectors, services
from yaji.trade.errors import FlashSaleSoldOut
from yaji.trade.models import Checkout, Order, OrderEvent, OrderLine
from yaji.trade.refunds import order_refund_destinations
from yaji.trade.schemas import (
    AddressIn,
    AddressOut,
    AfterSaleDecisionIn,
    AfterSaleIn,
    AfterSaleNoteIn,
    AfterSaleOut,
    CallbackOut,
    CartLineIn,
    CartLineQuantityIn,
    CartOut,
    CheckoutIn,
    CheckoutOut,
    CheckoutPaymentIn,
    CheckoutPaymentOut,
    ErrorOut,
    FlashBuyIn,
    FlashSaleIn,
    FlashSaleOut,
    OrderOut,
    OrderPageOut,
    OrderRefundOut,
    ProductReviewsOut,
    RefundIn,
    ReplyIn,
    ReviewIn,
    ReviewOut,
    ShipIn,
)

router = Router(tags=["trade"], auth=api_auth)
ERRORS = {codes_4xx: ErrorOut}
MAX_ID = 2**63 - 1


def _user(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined, return-value]


def _cart(user: User) -> dict:
    view = selectors.cart_view(cart=selectors.cart_find(user=user))
    return {
        "items_fen": view.items_fen,
        "count": view.count,
        "buyable": view.buyable,
        "groups": [
            {
                "shop_id": group.shop.pk,
                "shop_name": group.shop.name_zh,
                "items_fen": group.items_fen,
                "items": [
                    {
                        "line_id": item.line.pk,
                        "variant_id": item.line.variant_id,
                        "product_id": item.product_id,
                        "title": item.title,
                        "sku": item.sku,
                        "options": item.options,
                        "customisation": item.line.customisation,
                        "quantity": item.line.quantity,
                        "unit_price_fen": item.unit_price_fen,
                        "total_fen": item.total_fen,
                        "problem": item.problem,
                    }
                    for item in group.items
                ],
            }
            for group in view.groups
        ],
    }


def _order(
    order: Order,
    *,
    lines: list[OrderLine] | None = None,
    events: list[OrderEvent] | None = None,
    placed: bool = False,
) -> dict:
    """An order as the API shows it; ``lines``/``events`` given: rendered from them, not read.

    ``placed``: the order was written in this request, so none of its lines has an edition
    number yet (they are issued at payment).
    """
    return {
        **{
            field: getattr(order, field)
            for field in (
                "id",
                "number",
                "checkout_id",
                "shop_id",
                "status",
                "items_fen",
                "shipping_fen",
                "total_fen",
                "currency",
                "shipping_option",
                "lead_time_days",
                "carrier",
                "tracking_number",
                "created_at",
                "paid_at",
                "shipped_at",
                "completed_at",
            )
        },
        "shop_name": order.shop.name_zh,
        "lines": [
            {
                "title": line.title,
                "sku": line.sku,
                "options": line.options,
                "customisation": line.customisation,
                "kind": line.kind,
                "unit_price_fen": line.unit_price_fen,
                "quantity": line.quantity,
                "total_fen": line.total_fen,
                "edition_numbers": (
                    [] if placed else [unit.number for unit in line.edition_units.all()]
                ),
            }
            for line in (order.lines.all() if lines is None else lines)
        ],
        "events": [
            {"status": event.status, "note": event.note, "created_at": event.created_at}
            for event in (order.events.all() if events is None else events)
        ],
    }


def _checkout(checkout: Checkout) -> dict:
    return {
        "id": checkout.pk,
        "status": checkout.status,
        "total_fen": checkout.total_fen,
        "currency": checkout.currency,
        "pay_by": checkout.pay_by,
        "paid_at": checkout.paid_at,
        "orders": [_order(order) for order in checkout.orders.all()],
    }


def _placement(placement: services.Placement) -> dict:
    """The answer to a placement from the rows it wrote: the same body a GET would give."""
    checkout = placement.checkout
    return {
        "id": checkout.pk,
        "status": checkout.status,
        "total_fen": checkout.total_fen,
        "currency": checkout.currency,
        "pay_by": checkout.pay_by,
        "paid_at": checkout.paid_at,
        "orders": [
            _order(placed.order, lines=placed.lines, events=placed.events, placed=True)
            for placed in placement.orders
        ],
    }


# --- cart -------------------------------------------------------------------------------------


@router.get("/cart", response={200: CartOut, **ERRORS}, summary="My cart, priced now, by shop")
def cart_get(request: HttpRequest):  # type: ignore[no-untyped-def]
    return _cart(_user(request))


@router.post("/cart/lines", response={201: CartOut, **ERRORS}, summary="Put a variant in my cart")
def cart_line_add(request: HttpRequest, payload: CartLineIn):  # type: ignore[no-untyped-def]
    user = _user(request)
    services.cart_line_add(
        cart=services.cart_get(user=user),
        variant_id=payload.variant_id,
        quantity=payload.quantity,
        customisation=payload.customisation,
    )
    return Status(201, _cart(user))


@router.patch(
    "/cart/lines/{line_id}", response={200: CartOut, **ERRORS}, summary="Change a line's quantity"
)
def cart_line_update(request: HttpRequest, line_id: int, payload: CartLineQuantityIn):  # type: ignore[no-untyped-def]
    user = _user(request)
    services.cart_line_update(
        cart=services.cart_get(user=user), line_id=min(line_id, MAX_ID), quantity=payload.quantity
    )
    return _cart(user)


@router.delete("/cart/lines/{line_id}", response={200: CartOut, **ERRORS}, summary="Remove a line")
def cart_line_remove(request: HttpRequest, line_id: int):  # type: ignore[no-untyped-def]
    user = _user(request)
    services.cart_line_remove(cart=services.cart_get(user=user), line_id=min(line_id, MAX_ID))
    return _cart(user)


# --- addresses --------------------------------------------------------------------------------


@router.get("/addresses", response={200: list[AddressOut], **ERRORS}, summary="My addresses")
def addresses(request: HttpRequest):  # type: ignore[no-untyped-def]
    return list(selectors.addresses_of(user=_user(request)))


@router.post("/addresses", response={201: AddressOut, **ERRORS}, summary="Add an address")
def address_create(request: HttpRequest, payload: AddressIn):  # type: ignore[no-untyped-def]
    return Status(201, services.address_create(user=_user(request), **payload.dict()))


@router.delete("/addresses/{address_id}", response={204: None, **ERRORS}, summary="Delete one")
def address_delete(request: HttpRequest, address_id: int):  # type: ignore[no-untyped-def]
    services.address_delete(user=_user(request), address_id=min(address_id, MAX_ID))
    return Status(204, None)


# --- checkout ---------------------------------------------------------------------------------

ViewFunc = TypeVar("ViewFunc", bound=Callable[..., Any])


def _plausible_key(key: str) -> bool:
    # The idempotency layer's own rule (1–255 printable ASCII, no edge spaces); a key it would
    # refuse goes on to it, so that the caller hears 400 invalid_idempotency_key, not 409.
    return 0 < len(key) <= 255 and key.isascii() and key.isprintable() and key == key.strip()


def flash_sold_out_gate(func: ViewFunc) -> ViewFunc:
    """Answer 409 ``flash_sale_sold_out`` before the idempotency layer and the placement.

    Put it above ``@idempotent``: its wrapper is installed after the idempotency claim's, so
    it runs first — after authentication and payload validation (ninja does those before any
    view wrapper), before a key is claimed or anything is written. One read decides
    (``flash.flash_sale_sold_out_in_cart``). A refusal here stores no idempotency record: a
    retry with the same key is judged afresh, and succeeds if stock came back meanwhile.
    """

    def install(operation: Operation) -> None:
        inner = operation.view_func

        @functools.wraps(inner)
        def gated(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            key = request.headers.get(IDEMPOTENCY_HEADER)
            if key is not None and _plausible_key(key):
                sale_id = flash.flash_sale_sold_out_in_cart(
                    buyer=_user(request), retry_of=(idempotency_scope(request), key)
                )
                if sale_id is not None:
                    raise FlashSaleSoldOut(extra={"flash_sale_id": sale_id})
            return inner(request, *args, **kwargs)

        operation.view_func = gated

    contribute_operation_callback(func, install)
    return func


@router.post(
    "/checkouts",
    response={201: CheckoutOut, **ERRORS},
    summary="Check out my cart: one order per shop, stock reserved until pay_by",
)
@flash_sold_out_gate
@idempotent(required=True, in_transaction=True)
def checkout_place(request: HttpRequest, payload: CheckoutIn):  # type: ignore[no-untyped-def]
    """The placement and its stored 201 commit together (in-transaction idempotency, ADR 0045):
    one commit per placement instead of three; a refusal stores nothing."""
    answer: list[HttpResponse] = []
    services.checkout_place_detailed(
        buyer=_user(request),
        address_id=payload.address_id,
        shipping_options=payload.shipping_options,
        note=payload.note,
        within=functools.partial(_store_placement, request, answer),
    )
    return answer[0]


def _store_placement(
    request: HttpRequest,
    answer: list[HttpResponse],
    placement: services.Placement,
    as_part: bool = False,
) -> SqlPart | None:
    """Inside the placement's transaction: its 201, rendered from the rows written, stored as
    the answer to the request's Idempotency-Key — or, ``as_part``, returned as the store's
    statement part for the placement's own write statement (ADR 0050)."""
    data = CheckoutOut(**_placement(placement)).model_dump()
    response = idempotency_json_response(data, status=201)
    answer.append(response)
    if as_part:
        return idempotency_store_part(request, response)
    idempotency_store_within(request, response)
    return None


@router.get("/checkouts/{checkout_id}", response={200: CheckoutOut, **ERRORS}, summary="A checkout")
def checkout_get(request: HttpRequest, checkout_id: str):  # type: ignore[no-untyped-def]
    return _checkout(selectors.checkout_get(buyer=_user(request), checkout_id=checkout_id))


@router.post(
    "/checkouts/{checkout_id}/pay",
    response={200: CheckoutOut, **ERRORS},
    summary="Pay a checkout from my wallet (money waits in escrow until the order completes)",
)
@idempotent(required=True)
def checkout_pay(request: HttpRequest, checkout_id: str):  # type: ignore[no-untyped-def]
    user = _user(request)
    services.checkout_pay_with_wallet(buyer=user, checkout_id=checkout_id)
    return _checkout(selectors.checkout_get(buyer=user, checkout_id=checkout_id))


@router.post(
    "/checkouts/{checkout_id}/payments",
    response={201: CheckoutPaymentOut, **ERRORS},
    summary="Pay a checkout by provider, wallet or both (a payment intent; the provider's "
    "notification pays the orders)",
)
@idempotent(required=True)
def checkout_payment_start(request: HttpRequest, checkout_id: str, payload: CheckoutPaymentIn):  # type: ignore[no-untyped-def]
    user = _user(request)
    intent = payment.checkout_payment_start(
        buyer=user,
        checkout_id=checkout_id,
        wallet_amount_fen=payload.wallet_amount_fen,
        provider=payload.provider or None,
    )
    pay_url = request.build_absolute_uri(intent.pay_url) if intent.pay_url else ""
    return Status(
        201,
        {
            "intent": intent,
            "pay_url": pay_url,
            "checkout": _checkout(selectors.checkout_get(buyer=user, checkout_id=checkout_id)),
        },
    )


@router.post(
    "/checkouts/{checkout_id}/cancel",
    response={200: CheckoutOut, **ERRORS},
    summary="Give up an unpaid checkout (the stock goes back)",
)
def checkout_cancel(request: HttpRequest, checkout_id: str):  # type: ignore[no-untyped-def]
    user = _user(request)
    services.checkout_cancel(buyer=user, checkout_id=checkout_id)
    return _checkout(selectors.checkout_get(buyer=user, checkout_id=checkout_id))


# --- my orders --------------------------------------------------------------------------------


@router.get("/orders", response={200: OrderPageOut, **ERRORS}, summary="My orders, newest first")
def orders(  # type: ignore[no-untyped-def]
    request: HttpRequest,
    status: str | None = Query(None, max_length=20, description="an order status"),
    cursor: str | None = Query(None, max_length=40),
    limit: int = Query(20, ge=1, le=50),
):
    page = selectors.orders_of_buyer(
        buyer=_user(request), status=status, cursor=cursor, limit=limit
    )
    return {"items": [_order(o) for o in page.items], "next_cursor": page.next_cursor}


@router.get("/orders/{order_id}", response={200: OrderOut, **ERRORS}, summary="One of my orders")
def order_get(request: HttpRequest, order_id: int):  # type: ignore[no-untyped-def]
    return _order(
        selectors.order_get_by_id_for_buyer(buyer=_user(request), order_id=min(order_id, MAX_ID))
    )


@router.get(
    "/orders/{order_id}/refunds",
    response={200: list[OrderRefundOut], **ERRORS},
    summary="My order's refunds: the wallet part and the provider part with its status",
)
def order_refunds(request: HttpRequest, order_id: int):  # type: ignore[no-untyped-def]
    order = selectors.order_get_by_id_for_buyer(
        buyer=_user(request), order_id=min(order_id, MAX_ID)
    )
    return order_refund_destinations(order)


@router.post(
    "/orders/{order_id}/refund",
    response={200: OrderOut, **ERRORS},
    summary="Refund only, before shipment: automatic, back to the original payment methods",
)
@idempotent(required=True)
def order_refund(request: HttpRequest, order_id: int, payload: RefundIn):  # type: ignore[no-untyped-def]
    user = _user(request)
    order_id = min(order_id, MAX_ID)
    services.order_refund_before_shipment(buyer=user, order_id=order_id, reason=payload.reason)
    return _order(selectors.order_get_by_id_for_buyer(buyer=user, order_id=order_id))


@router.post(
    "/orders/{order_id}/confirm-receipt",
    response={200: OrderOut, **ERRORS},
    summary="I received the parcel: the order completes and the shop is paid",
)
@idempotent(required=True)
def order_confirm(request: HttpRequest, order_id: int):  # type: ignore[no-untyped-def]
    user = _user(request)
    order_id = min(order_id, MAX_ID)
    services.order_confirm_receipt(buyer=user, order_id=order_id)
    return _order(selectors.order_get_by_id_for_buyer(buyer=user, order_id=order_id))


# --- a shop's orders --------------------------------------------------------------------------


@router.get(
    "/shops/{slug}/orders",
    response={200: OrderPageOut, **ERRORS},
    summary="Orders of a shop I manage (paid and later)",
)
def shop_orders(  # type: ignore[no-untyped-def]
    request: HttpRequest,
    slug: str,
    status: str | None = Query(None, max_length=20, description="an order status"),
    cursor: str | None = Query(None, max_length=40),
    limit: int = Query(20, ge=1, le=50),
):
    user = _user(request)
    shop = catalog_selectors.shop_get_managed(user=user, slug=slug)
    page = selectors.orders_of_shop(user=user, shop=shop, status=status, cursor=cursor, limit=limit)
    return {"items": [_order(o) for o in page.items], "next_cursor": page.next_cursor}


@router.post(
    "/shop-orders/{order_id}/ship",
    response={200: OrderOut, **ERRORS},
    summary="Ship an order of a shop I manage (carrier + tracking number)",
)
def shop_order_ship(request: HttpRequest, order_id: int, payload: ShipIn):  # type: ignore[no-untyped-def]
    user = _user(request)
    order_id = min(order_id, MAX_ID)
    services.order_ship(
        actor=user,
        order_id=order_id,
        carrier=payload.carrier,
        tracking_number=payload.tracking_number,
    )
    return _order(selectors.order_get_for_shop(user=user, order_id=order_id))


# --- carriers ---------------------------------------------------------------------------------


@router.post(
    "/carriers/sandbox/callback",
    auth=None,
    response={200: CallbackOut, **ERRORS},
    summary="Tracking callbacks of the sandbox carrier (HMAC-SHA256 signed, like a real carrier)",
)
def carrier_callback(request: HttpRequest):  # type: ignore[no-untyped-def]
    outcome = carriers.tracking_callback_receive(headers=request.headers, body=request.body)
    return {"outcome": outcome}


# --- reviews ----------------------------------------------------------------------------------


def _review(review) -> dict:  # type: ignore[no-untyped-def]
    return {
        "id": review.pk,
        "product_id": review.product_id,
        "rating": review.rating,
        "text": review.text,
        "buyer_name": review.buyer.display_name[:1] + "**" if review.buyer.display_name else "**",
        "photos": [photo.thumb.url for photo in review.photos.all()],
        "reply": review.reply,
        "replied_at": review.replied_at,
        "created_at": review.created_at,
    }


@router.post(
    "/orders/{order_id}/reviews",
    response={201: ReviewOut, **ERRORS},
    summary="Review a product of my completed order (multipart: fields + up to 9 photos)",
)
def review_create(  # type: ignore[no-untyped-def]
    request: HttpRequest,
    order_id: int,
    payload: Form[ReviewIn],
    photos: File[list[UploadedFile] | None] = None,
):
    review = reviews.review_create(
        buyer=_user(request),
        order_id=min(order_id, MAX_ID),
        product_id=payload.product_id,
        rating=payload.rating,
        text=payload.text,
        photos=photos or [],
    )
    return Status(201, _review(review))


@router.get(
    "/products/{product_id}/reviews",
    auth=None,
    response={200: ProductReviewsOut, **ERRORS},
    summary="Reviews of a listed product, newest first, with the average rating",
)
def product_reviews(request: HttpRequest, product_id: int):  # type: ignore[no-untyped-def]
    product = catalog_selectors.product_get_public(product_id=min(product_id, MAX_ID))
    rating = reviews.product_rating(product=product)
    return {
        "average": rating.average,
        "count": rating.count,
        "items": [_review(r) for r in reviews.reviews_of_product(product=product)],
    }


@router.post(
    "/reviews/{review_id}/reply",
    response={200: ReviewOut, **ERRORS},
    summary="Reply to a review of my shop (once)",
)
def review_reply(request: HttpRequest, review_id: int, payload: ReplyIn):  # type: ignore[no-untyped-def]
    review = reviews.review_reply(
        actor=_user(request), review_id=min(review_id, MAX_ID), text=payload.text
    )
    return _review(review)


# --- flash sales ------------------------------------------------------------------------------


def _sale(sale) -> dict:  # type: ignore[no-untyped-def]
    return {
        **{
            f: getattr(sale, f)
            for f in (
                "id",
                "variant_id",
                "title",
                "starts_at",
                "ends_at",
                "price_fen",
                "stock",
                "initial_stock",
                "per_user_limit",
            )
        },
        "product_id": sale.variant.product_id,
    }


@router.post(
    "/flash-sales",
    response={201: FlashSaleOut, **ERRORS},
    summary="Put a variant of my shop on flash sale (window, sale price, sale stock, limit)",
)
def flash_sale_create(request: HttpRequest, payload: FlashSaleIn):  # type: ignore[no-untyped-def]
    sale = flash.flash_sale_create(actor=_user(request), **payload.dict())
    return Status(201, _sale(sale))


@router.get(
    "/flash-sales",
    auth=None,
    response={200: list[FlashSaleOut], **ERRORS},
    summary="Flash sales running now or starting within a day",
)
def flash_sales(request: HttpRequest):  # type: ignore[no-untyped-def]
    return [_sale(sale) for sale in flash.flash_sales_upcoming()]


def _key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _flash_buy_gate(run: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Around ninja's ``Operation.run`` of buy-now: the sold-out answer before authentication.

    Installed outside the idempotency layer's own run wrapper, so a sold-out sale is answered
    before the caller is authenticated, the payload parsed or a key looked at — one primary-key
    read (``flash.flash_sale_gate_sold_out``), the whole cost of the thousands of requests that
    arrive after the last unit (ADR 0040). Only a plausible key is judged here: a missing or
    malformed one goes on and hears the idempotency layer's 400. A retry of a placement that
    succeeded passes (its checkout carries the key's digest) and gets its 201 replayed.
    """

    @functools.wraps(run)
    def gated(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        key = request.headers.get(IDEMPOTENCY_HEADER)
        raw_id = str(kwargs.get("sale_id", ""))
        if key is not None and _plausible_key(key) and raw_id.isdigit() and len(raw_id) < 19:
            sale_id = int(raw_id)
            digest = _key_digest(key)
            # The Redis gate's read-only answer when there is one (ADR 0045), else the database's.
            sold_out = flash.flash_gate_peek_sold_out(
                sale_id=sale_id, key_digest=digest, now=clock.now()
            )
            if sold_out is None:
                sold_out = flash.flash_sale_gate_sold_out(sale_id=sale_id, placement_key=digest)
            if sold_out:
                refusal = FlashSaleSoldOut(extra={"flash_sale_id": sale_id})
                operation = getattr(run, "__self__", None)
                api = getattr(operation, "api", None)
                if api is not None:  # the API's own renderer, as its exception handler does
                    return api.create_response(request, refusal.as_body(), status=refusal.status)
                return JsonResponse(refusal.as_body(), status=refusal.status)
        return run(request, *args, **kwargs)

    return gated


@router.post(
    "/flash-sales/{sale_id}/orders",
    response={201: CheckoutOut, **ERRORS},
    summary="Buy now: order units of a running flash sale (no cart), stock reserved until pay_by",
)
@decorate_view(_flash_buy_gate)
@idempotent(required=True, in_transaction=True)
def flash_sale_buy(request: HttpRequest, sale_id: int, payload: FlashBuyIn):  # type: ignore[no-untyped-def]
    """The placement and its stored 201 commit together (in-transaction idempotency): one
    commit per placement; a refusal stores nothing, so a retry after one is judged afresh."""
    answer: list[HttpResponse] = []
    try:
        services.flash_sale_buy(
            buyer=_user(request),
            sale_id=min(sale_id, MAX_ID),
            quantity=payload.quantity,
            address_id=payload.address_id,
            shipping_option=payload.shipping_option,
            note=payload.note,
            placement_key=_key_digest(request.headers.get(IDEMPOTENCY_HEADER, "")),
            within=functools.partial(_store_placement, request, answer),
        )
    except IntegrityError as exc:  # the key stored meanwhile, in the one write statement
        conflict = idempotency_conflict_from(exc, request)
        if conflict is None:
            raise
        raise conflict from exc
    return answer[0]


# --- after-sales ------------------------------------------------------------------------------


@router.post(
    "/orders/{order_id}/after-sales",
    response={201: AfterSaleOut, **ERRORS},
    summary="Ask for a refund or a return and refund on a shipped order",
)
@idempotent(required=True)
def after_sale_request(request: HttpRequest, order_id: int, payload: AfterSaleIn):  # type: ignore[no-untyped-def]
    after_sale = aftersales.after_sale_request(
        buyer=_user(request), order_id=min(order_id, MAX_ID), **payload.dict()
    )
    return Status(201, after_sale)


@router.post(
    "/after-sales/{after_sale_id}/return",
    response={200: AfterSaleOut, **ERRORS},
    summary="I shipped the goods back (carrier + tracking number)",
)
def after_sale_return(request: HttpRequest, after_sale_id: int, payload: ShipIn):  # type: ignore[no-untyped-def]
    return aftersales.after_sale_return_ship(
        buyer=_user(request),
        after_sale_id=min(after_sale_id, MAX_ID),
        carrier=payload.carrier,
        tracking_number=payload.tracking_number,
    )


@router.post(
    "/after-sales/{after_sale_id}/escalate",
    response={200: AfterSaleOut, **ERRORS},
    summary="The shop refused: ask the platform to decide",
)
def after_sale_escalate(request: HttpRequest, after_sale_id: int):  # type: ignore[no-untyped-def]
    return aftersales.after_sale_escalate(
        buyer=_user(request), after_sale_id=min(after_sale_id, MAX_ID)
    )


@router.post(
    "/after-sales/{after_sale_id}/approve",
    response={200: AfterSaleOut, **ERRORS},
    summary="Shop: accept (refund only: refunds now; return: waits for the goods)",
)
@idempotent(required=True)
def after_sale_approve(request: HttpRequest, after_sale_id: int, payload: AfterSaleNoteIn):  # type: ignore[no-untyped-def]
    return aftersales.after_sale_approve(
        actor=_user(request), after_sale_id=min(after_sale_id, MAX_ID), note=payload.note
    )


@router.post(
    "/after-sales/{after_sale_id}/reject",
    response={200: AfterSaleOut, **ERRORS},
    summary="Shop: refuse, with a reason",
)
def after_sale_reject(request: HttpRequest, after_sale_id: int, payload: AfterSaleNoteIn):  # type: ignore[no-untyped-def]
    return aftersales.after_sale_reject(
        actor=_user(request), after_sale_id=min(after_sale_id, MAX_ID), note=payload.note
    )


@router.post(
    "/after-sales/{after_sale_id}/receive",
    response={200: AfterSaleOut, **ERRORS},
    summary="Shop: the goods came back; the refund goes out",
)
@idempotent(required=True)
def after_sale_receive(request: HttpRequest, after_sale_id: int):  # type: ignore[no-untyped-def]
    return aftersales.after_sale_receive(
        actor=_user(request), after_sale_id=min(after_sale_id, MAX_ID)
    )


@router.post(
    "/after-sales/{after_sale_id}/decide",
    response={200: AfterSaleOut, **ERRORS},
    summary="Operator: decide a dispute (refund or close)",
)
@idempotent(required=True)
def after_sale_decide(request: HttpRequest, after_sale_id: int, payload: AfterSaleDecisionIn):  # type: ignore[no-untyped-def]
    return aftersales.after_sale_decide(
        operator=_user(request),
        after_sale_id=min(after_sale_id, MAX_ID),
        refund=payload.refund,
        note=payload.note,
    )
