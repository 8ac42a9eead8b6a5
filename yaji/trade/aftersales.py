"""After-sales on shipped orders: refund only or return and refund, rejection, disputes.

While a request is open the order does not complete by itself (its money stays in escrow).
A refund posts escrow → the buyer's original payment methods for the agreed amount
(:mod:`yaji.trade.refunds`: provider part through the provider, the rest to the wallet) and
settles whatever is left to the shop (commission on the kept part), then closes the order: escrow ends at zero, as the
reconciliation check expects of every order that is not in flight.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q

from yaji.accounts.models import Role, User
from yaji.accounts.permissions import has_role
from yaji.catalog.images import image_process
from yaji.catalog.permissions import shop_can_manage
from yaji.catalog.uploads import private_storage
from yaji.core import clock
from yaji.core.errors import NotFound
from yaji.core.outbox import outbox_publish
from yaji.trade.errors import AfterSaleNotAllowed, InvalidAfterSale, InvalidShipment
from yaji.trade.models import (
    AfterSale,
    AfterSaleKind,
    AfterSalePhoto,
    AfterSaleStatus,
    Order,
    OrderEvent,
    OrderStatus,
)
from yaji.trade.refunds import order_refund_to_methods
from yaji.trade.services import (
    AFTER_SALE_OPEN,
    escrow_account_for,
    shop_payable_account_for,
)
from yaji.trade.settlement import order_split, settlement_postings, settlement_record

OPEN_STATUSES = AFTER_SALE_OPEN
REQUESTABLE_ORDER_STATUSES = (OrderStatus.SHIPPED, OrderStatus.DELIVERED)
TOPIC_AFTER_SALE = "trade.after_sale_changed"
LEDGER_KIND_AFTER_SALE = "trade.after_sale_refund"


def _note(text: str, *, field: str, required: bool = True) -> str:
    text = (text or "").strip()
    if (required and not text) or len(text) > 200 or "\x00" in text:
        raise InvalidAfterSale(extra={"field": field, "max_length": 200})
    return text


def _changed(after_sale: AfterSale) -> None:
    outbox_publish(
        topic=TOPIC_AFTER_SALE,
        payload={
            "after_sale_id": after_sale.pk,
            "order_id": after_sale.order_id,
            "status": after_sale.status,
        },
        key=str(after_sale.order_id),
    )


PHOTOS_MAX = 6


def after_sale_request(
    *,
    buyer: User,
    order_id: int,
    kind: str,
    reason: str,
    amount_fen: int | None = None,
    photos: Sequence[UploadedFile] = (),
) -> AfterSale:
    """Ask for a refund, or a return and refund, on a shipped order: a reason, up to 6 photos.

    Photos are checked and re-encoded like product images (metadata stripped) before the
    transaction and kept in private storage; a request that fails leaves no file behind.
    """
    if len(photos) > PHOTOS_MAX:
        raise InvalidAfterSale(extra={"field": "photos", "max": PHOTOS_MAX})
    processed = [image_process(photo) for photo in photos]  # outside the transaction
    saved: list[str] = []
    try:
        with transaction.atomic(durable=True):
            after_sale = _after_sale_open(
                buyer=buyer, order_id=order_id, kind=kind, reason=reason, amount_fen=amount_fen
            )
            for image in processed:
                name = private_storage.save(
                    f"after-sales/{after_sale.pk}/{uuid.uuid4().hex}.webp", ContentFile(image.full)
                )
                saved.append(name)
                AfterSalePhoto.objects.create(
                    after_sale=after_sale, file=name, width=image.width, height=image.height
                )
    except BaseException:
        for name in saved:
            private_storage.delete(name)
        raise
    return after_sale


def _after_sale_open(
    *, buyer: User, order_id: int, kind: str, reason: str, amount_fen: int | None
) -> AfterSale:
    order = Order.objects.select_for_update().filter(pk=order_id, buyer=buyer).first()
    if order is None:
        raise NotFound()
    if order.status not in REQUESTABLE_ORDER_STATUSES:
        raise AfterSaleNotAllowed(extra={"order_status": order.status})
    if kind not in AfterSaleKind.values:
        raise InvalidAfterSale(extra={"field": "kind"})
    amount = order.total_fen if amount_fen is None else amount_fen
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= order.total_fen:
        raise InvalidAfterSale(extra={"field": "amount_fen", "max": order.total_fen})
    try:
        with transaction.atomic():
            after_sale = AfterSale.objects.create(
                order=order,
                buyer=buyer,
                kind=kind,
                reason=_note(reason, field="reason"),
                amount_fen=amount,
            )
    except IntegrityError as exc:
        raise AfterSaleNotAllowed(extra={"reason": "already_open"}) from exc
    OrderEvent.objects.create(
        order=order, status=order.status, actor=buyer, note=f"售后申请：{reason[:60]}"
    )
    _changed(after_sale)
    return after_sale


def after_sale_photo_get(*, user: User, photo_id: int) -> AfterSalePhoto:
    """A request's photo, for its buyer, the shop's managers and operators; else not found."""
    photo = (
        AfterSalePhoto.objects.select_related("after_sale__order__shop").filter(pk=photo_id).first()
    )
    if photo is None:
        raise NotFound()
    after_sale = photo.after_sale
    if not (
        after_sale.buyer_id == user.pk
        or shop_can_manage(user, after_sale.order.shop)
        or has_role(user, Role.OPERATOR)
    ):
        raise NotFound()
    return photo


def _lock(after_sale_id: int, *, where: Q | None = None) -> AfterSale:
    after_sale = (
        AfterSale.objects.select_for_update()
        .select_related("order", "order__shop")
        .filter(where or Q(), pk=after_sale_id)
        .first()
    )
    if after_sale is None:
        raise NotFound()
    return after_sale


def _as_shop(actor: User, after_sale_id: int) -> AfterSale:
    after_sale = _lock(after_sale_id)
    if not shop_can_manage(actor, after_sale.order.shop):
        raise NotFound()
    return after_sale


def _expect(after_sale: AfterSale, *statuses: str) -> None:
    if after_sale.status not in statuses:
        raise AfterSaleNotAllowed(extra={"status": after_sale.status})


def _refund(after_sale: AfterSale, *, actor: User | None, note: str) -> None:
    """Escrow → the buyer's original payment methods (the agreed amount; ADR 0039), the rest
    settles to the shop in the same ledger transaction; the order closes."""
    order = Order.objects.select_for_update().get(pk=after_sale.order_id)
    # What the shop side keeps is split like a completion (commission, royalties, shop).
    split = order_split(order, refunded_fen=after_sale.amount_fen)
    commission = split.commission_fen
    order_refund_to_methods(
        order,
        amount_fen=after_sale.amount_fen,
        source=escrow_account_for(order),
        request_key=f"after_sale:{after_sale.pk}",
        reference=f"after_sale:{after_sale.pk}:refund",
        kind=LEDGER_KIND_AFTER_SALE,
        description="售后退款",
        reason=after_sale.reason[:80],
        also=settlement_postings(order, split, shop_payable=shop_payable_account_for(order.shop)),
        metadata={"order_id": order.pk, "after_sale_id": after_sale.pk},
    )
    now = clock.now()
    settlement_record(order, split, refunded_fen=after_sale.amount_fen, at=now)
    after_sale.status, after_sale.refunded_at = AfterSaleStatus.REFUNDED, now
    after_sale.save(update_fields=["status", "refunded_at", "updated_at"])
    order.status, order.commission_fen = OrderStatus.CLOSED, commission
    order.save(update_fields=["status", "commission_fen", "updated_at"])
    OrderEvent.objects.create(order=order, status=OrderStatus.CLOSED, actor=actor, note=note[:200])
    _changed(after_sale)


@transaction.atomic(durable=True)
def after_sale_approve(*, actor: User, after_sale_id: int, note: str = "") -> AfterSale:
    after_sale = _as_shop(actor, after_sale_id)
    _expect(after_sale, AfterSaleStatus.REQUESTED)
    after_sale.shop_note = _note(note, field="note", required=False)
    if after_sale.kind == AfterSaleKind.REFUND_ONLY:
        after_sale.save(update_fields=["shop_note", "updated_at"])
        _refund(after_sale, actor=actor, note="店铺同意退款")
    else:
        after_sale.status = AfterSaleStatus.APPROVED
        after_sale.save(update_fields=["status", "shop_note", "updated_at"])
        _changed(after_sale)
    return after_sale


@transaction.atomic(durable=True)
def after_sale_reject(*, actor: User, after_sale_id: int, note: str) -> AfterSale:
    after_sale = _as_shop(actor, after_sale_id)
    _expect(after_sale, AfterSaleStatus.REQUESTED, AfterSaleStatus.RETURNED)
    after_sale.status, after_sale.shop_note = AfterSaleStatus.REJECTED, _note(note, field="note")
    after_sale.save(update_fields=["status", "shop_note", "updated_at"])
    _changed(after_sale)
    return after_sale


@transaction.atomic(durable=True)
def after_sale_return_ship(
    *, buyer: User, after_sale_id: int, carrier: str, tracking_number: str
) -> AfterSale:
    after_sale = _lock(after_sale_id, where=Q(buyer=buyer))
    _expect(after_sale, AfterSaleStatus.APPROVED)
    carrier, tracking_number = (carrier or "").strip(), (tracking_number or "").strip()
    if not (0 < len(carrier) <= 40 and re.fullmatch(r"[A-Za-z0-9\-]{6,40}", tracking_number)):
        raise InvalidShipment()
    after_sale.status = AfterSaleStatus.RETURNED
    after_sale.return_carrier, after_sale.return_tracking = carrier, tracking_number
    after_sale.save(update_fields=["status", "return_carrier", "return_tracking", "updated_at"])
    _changed(after_sale)
    return after_sale


@transaction.atomic(durable=True)
def after_sale_receive(*, actor: User, after_sale_id: int) -> AfterSale:
    """The shop got the goods back: the refund goes out."""
    after_sale = _as_shop(actor, after_sale_id)
    _expect(after_sale, AfterSaleStatus.RETURNED)
    _refund(after_sale, actor=actor, note="店铺确认收到退货")
    return after_sale


@transaction.atomic(durable=True)
def after_sale_escalate(*, buyer: User, after_sale_id: int) -> AfterSale:
    after_sale = _lock(after_sale_id, where=Q(buyer=buyer))
    _expect(after_sale, AfterSaleStatus.REJECTED)
    after_sale.status = AfterSaleStatus.DISPUTED
    after_sale.save(update_fields=["status", "updated_at"])
    _changed(after_sale)
    return after_sale


@transaction.atomic(durable=True)
def after_sale_decide(*, operator: User, after_sale_id: int, refund: bool, note: str) -> AfterSale:
    """An operator arbitrates a dispute: refund the buyer, or close the request."""
    if not has_role(operator, Role.OPERATOR):
        raise NotFound()
    after_sale = _lock(after_sale_id)
    _expect(after_sale, AfterSaleStatus.DISPUTED)
    after_sale.decision_note, after_sale.decided_by = _note(note, field="note"), operator
    after_sale.save(update_fields=["decision_note", "decided_by", "updated_at"])
    if refund:
        _refund(after_sale, actor=operator, note=f"平台裁决退款：{after_sale.decision_note}")
    else:
        after_sale.status = AfterSaleStatus.CLOSED
        after_sale.save(update_fields=["status", "updated_at"])
        _changed(after_sale)
    return after_sale


def after_sale_open_for(order: Order) -> AfterSale | None:
    return order.after_sales.filter(status__in=OPEN_STATUSES).first()
