"""The sandbox carrier's signed tracking callbacks: delivered once, duplicates and forgeries refused."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client

from yaji.core import clock
from yaji.core.outbox import outbox_relay_once
from yaji.trade import carriers, services
from yaji.trade.errors import InvalidCarrierCallback
from yaji.trade.models import Order, OrderStatus, TrackingEvent
from yaji.trade.tests.factories import address_for, buyer_funded, cart_with, listed

pytestmark = pytest.mark.django_db


def relay() -> None:
    while outbox_relay_once():
        pass


def shipped_with_sandbox() -> Order:
    buyer = buyer_funded()
    cart_with(buyer, (listed(), 1))
    checkout = services.checkout_place(buyer=buyer, address_id=address_for(buyer).pk)
    services.checkout_pay_with_wallet(buyer=buyer, checkout_id=checkout.pk)
    order = checkout.orders.get()
    return services.order_ship(
        actor=order.shop.owner, order_id=order.pk, carrier="sandbox", tracking_number="YJSB000001"
    )


def callback(order: Order, status: str, event_id: str | None = None) -> bytes:
    return json.dumps(
        {
            "event_id": event_id or str(uuid.uuid4()),
            "tracking_number": order.tracking_number,
            "status": status,
            "occurred_at": clock.now().isoformat(),
        }
    ).encode()


def test_the_sandbox_carrier_picks_up_then_delivers_through_signed_callbacks() -> None:
    order = shipped_with_sandbox()
    relay()
    assert list(order.tracking_events.values_list("code", flat=True)) == ["picked_up"]
    with transaction.atomic():
        assert carriers.sandbox_carrier_advance(order=order) == 3
    relay()
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED and order.delivered_at
    codes = list(order.tracking_events.values_list("code", flat=True))
    assert codes == ["picked_up", "in_transit", "out_for_delivery", "delivered"]  # duplicates once
    with transaction.atomic():
        assert carriers.sandbox_carrier_advance(order=order) == 0  # nothing left to send


def test_a_duplicate_is_stored_once_and_a_late_earlier_step_changes_nothing() -> None:
    order = shipped_with_sandbox()
    event_id = str(uuid.uuid4())
    body = callback(order, "delivered", event_id)
    headers = carriers.sandbox_carrier_sign(body)
    assert carriers.tracking_callback_receive(headers=headers, body=body) == "recorded"
    assert carriers.tracking_callback_receive(headers=headers, body=body) == "duplicate"
    late = callback(order, "in_transit")
    carriers.tracking_callback_receive(headers=carriers.sandbox_carrier_sign(late), body=late)
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED
    assert TrackingEvent.objects.filter(order=order, code="delivered").count() == 1


@pytest.mark.parametrize("tamper", ["signature", "body", "stale", "unknown", "malformed"])
def test_forged_stale_or_unknown_callbacks_are_refused(tamper: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    order = shipped_with_sandbox()
    body = callback(order, "delivered")
    headers = carriers.sandbox_carrier_sign(body)
    if tamper == "signature":
        headers["Yaji-Carrier-Signature"] = "0" * 64
    elif tamper == "body":
        body = body.replace(b"delivered", b"exception")
    elif tamper == "stale":
        later = clock.now() + timedelta(minutes=10)
        monkeypatch.setattr(clock, "now", lambda: later)
    elif tamper == "unknown":
        body = json.dumps(
            {
                "event_id": str(uuid.uuid4()),
                "tracking_number": "NOPE12345",
                "status": "delivered",
                "occurred_at": clock.now().isoformat(),
            }
        ).encode()
        headers = carriers.sandbox_carrier_sign(body)
    else:
        body = b"{not json"
        headers = carriers.sandbox_carrier_sign(body)
    with pytest.raises(InvalidCarrierCallback):
        carriers.tracking_callback_receive(headers=headers, body=body)
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED


def test_the_http_endpoint_takes_signed_callbacks() -> None:
    order = shipped_with_sandbox()
    body = callback(order, "delivered")
    headers = {
        f"HTTP_{k.upper().replace('-', '_')}": v
        for k, v in carriers.sandbox_carrier_sign(body).items()
    }
    client = Client()
    response = client.post(
        "/api/v1/carriers/sandbox/callback", body, content_type="application/json", **headers
    )
    assert response.status_code == 200 and response.json() == {"outcome": "recorded"}
    forged = client.post("/api/v1/carriers/sandbox/callback", body, content_type="application/json")
    assert forged.status_code == 400 and forged.json()["code"] == "invalid_carrier_callback"
