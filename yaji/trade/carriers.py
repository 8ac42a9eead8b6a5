"""Carriers: tracking events arrive as signed callbacks; the sandbox carrier sends them like a real one.

A real carrier (SF, EMS, JD) pushes tracking events to a webhook, signed, retried, sometimes
twice and out of order. The platform's side is :func:`tracking_callback_receive`: it checks the
signature and timestamp, stores each event once (by the carrier's event id), and a ``delivered``
event moves a shipped order to delivered (the 7-day completion clock starts).

The **sandbox carrier** runs inside the platform: when a shop ships, it "picks up" the parcel;
:func:`sandbox_carrier_advance` (the admin action, the demo, tests) moves it on to in transit
and delivered. Each step is published to the outbox (sometimes twice) and the relay delivers it
to the receiver with a fresh signature on every attempt, exactly as the HTTP endpoint
``POST /api/v1/carriers/sandbox/callback`` would.

Signature: ``Yaji-Carrier-Signature = hex(HMAC-SHA256(key, timestamp + "\\n" + nonce + "\\n" +
body))``; the key is derived from ``SECRET_KEY`` for the sandbox (a real adapter uses the
carrier's own key).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import secrets
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from yaji.core import clock
from yaji.core.errors import ApplicationError
from yaji.core.outbox import outbox_publish, outbox_subscribe
from yaji.trade.errors import InvalidCarrierCallback
from yaji.trade.models import Order, OrderStatus, TrackingEvent

logger = logging.getLogger(__name__)

SANDBOX_CARRIER = "sandbox"
TOPIC_SANDBOX_TRACK = "trade.sandbox_carrier_track"
TOLERANCE_SECONDS = 300
DUPLICATE_RATE = 0.2
STEPS = (
    TrackingEvent.Code.PICKED_UP,
    TrackingEvent.Code.IN_TRANSIT,
    TrackingEvent.Code.OUT_FOR_DELIVERY,
    TrackingEvent.Code.DELIVERED,
)
STEP_TEXT = {
    TrackingEvent.Code.PICKED_UP: "快递员已揽件",
    TrackingEvent.Code.IN_TRANSIT: "运输中，已到达转运中心",
    TrackingEvent.Code.OUT_FOR_DELIVERY: "派送中",
    TrackingEvent.Code.DELIVERED: "已签收",
}


def _key() -> bytes:
    return hashlib.sha256(f"yaji.trade.sandbox_carrier:{settings.SECRET_KEY}".encode()).digest()


def _mac(timestamp: str, nonce: str, body: bytes) -> str:
    message = timestamp.encode() + b"\n" + nonce.encode() + b"\n" + body
    return hmac.new(_key(), message, hashlib.sha256).hexdigest()


def sandbox_carrier_sign(body: bytes) -> dict[str, str]:
    timestamp, nonce = str(int(clock.now().timestamp())), secrets.token_hex(8)
    return {
        "Yaji-Carrier-Timestamp": timestamp,
        "Yaji-Carrier-Nonce": nonce,
        "Yaji-Carrier-Signature": _mac(timestamp, nonce, body),
    }


def _header(headers: Mapping[str, str], name: str) -> str:
    lowered = {k.lower(): v for k, v in headers.items()}
    return str(lowered.get(name.lower(), ""))


def tracking_callback_receive(*, headers: Mapping[str, str], body: bytes) -> str:
    """Verify and apply one tracking callback; returns what happened (``recorded``, ``duplicate``).

    A bad signature, a stale timestamp or a malformed body raises ``invalid_carrier_callback``
    (400) and changes nothing.
    """
    timestamp = _header(headers, "Yaji-Carrier-Timestamp")
    nonce = _header(headers, "Yaji-Carrier-Nonce")
    signature = _header(headers, "Yaji-Carrier-Signature")
    if not (timestamp.isdigit() and nonce and signature):
        raise InvalidCarrierCallback(extra={"reason": "missing_headers"})
    if not hmac.compare_digest(signature, _mac(timestamp, nonce, body)):
        raise InvalidCarrierCallback(extra={"reason": "bad_signature"})
    if abs(clock.now().timestamp() - int(timestamp)) > TOLERANCE_SECONDS:
        raise InvalidCarrierCallback(extra={"reason": "stale"})
    try:
        data = json.loads(body)
        event_id = uuid.UUID(str(data["event_id"]))
        code = str(data["status"])
        occurred_at = datetime.fromisoformat(str(data["occurred_at"]))
        tracking_number = str(data["tracking_number"])[:40]
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidCarrierCallback(extra={"reason": "malformed"}) from exc
    if code not in TrackingEvent.Code.values:
        raise InvalidCarrierCallback(extra={"reason": "unknown_status"})
    return _tracking_event_apply(
        event_id=event_id,
        tracking_number=tracking_number,
        code=code,
        occurred_at=occurred_at,
        description=str(data.get("description", ""))[:120],
        location=str(data.get("location", ""))[:60],
    )


@transaction.atomic(durable=True)
def _tracking_event_apply(
    *,
    event_id: uuid.UUID,
    tracking_number: str,
    code: str,
    occurred_at: datetime,
    description: str,
    location: str,
) -> str:
    order = (
        Order.objects.select_for_update()
        .filter(carrier=SANDBOX_CARRIER, tracking_number=tracking_number)
        .first()
    )
    if order is None:
        raise InvalidCarrierCallback(extra={"reason": "unknown_tracking_number"})
    try:
        with transaction.atomic():
            TrackingEvent.objects.create(
                order=order,
                event_id=event_id,
                code=code,
                occurred_at=occurred_at,
                description=description,
                location=location,
            )
    except IntegrityError:
        return "duplicate"
    # Events may arrive out of order: "delivered" wins whenever it comes; earlier steps arriving
    # after it are stored for the history and change nothing.
    if code == TrackingEvent.Code.DELIVERED and order.status == OrderStatus.SHIPPED:
        from yaji.trade.services import order_delivered_record

        order_delivered_record(order=order, at=occurred_at, note=description)
    return "recorded"


def sandbox_carrier_advance(*, order: Order, until: str = TrackingEvent.Code.DELIVERED) -> int:
    """The sandbox carrier moves the parcel on, step by step up to ``until``; returns steps sent.

    Must be called inside a transaction (the steps are outbox events that commit with it).
    """
    if order.carrier != SANDBOX_CARRIER or until not in STEPS:
        return 0
    done = set(order.tracking_events.values_list("code", flat=True))
    sent = 0
    for step in STEPS[: STEPS.index(until) + 1]:
        if step in done:
            continue
        body = json.dumps(
            {
                "event_id": str(uuid.uuid4()),
                "tracking_number": order.tracking_number,
                "status": step,
                "occurred_at": clock.now().isoformat(),
                "description": STEP_TEXT[step],
                "location": "杭州转运中心" if step == TrackingEvent.Code.IN_TRANSIT else "",
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )
        copies = 2 if random.random() < DUPLICATE_RATE else 1
        for _copy in range(copies):
            outbox_publish(topic=TOPIC_SANDBOX_TRACK, payload={"body": body}, key=order.number)
        sent += 1
    return sent


def sandbox_carrier_deliver(event: Any) -> Any:
    """Outbox handler: the sandbox carrier's sender signs each attempt afresh and delivers it."""
    body = str(event.payload["body"]).encode()
    try:
        return tracking_callback_receive(headers=sandbox_carrier_sign(body), body=body)
    except ApplicationError as exc:
        logger.warning("sandbox carrier callback rejected", extra={"code": exc.code})
        return None


def carrier_subscribers_register() -> None:
    outbox_subscribe(
        topic=TOPIC_SANDBOX_TRACK, name="trade.sandbox_carrier", handler=sandbox_carrier_deliver
    )
