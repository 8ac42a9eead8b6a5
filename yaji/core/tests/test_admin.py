from __future__ import annotations

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse

from yaji.core.models import IdempotencyRecord, OutboxEvent
from yaji.core.outbox import outbox_publish


@pytest.fixture
def dead_event() -> OutboxEvent:
    with transaction.atomic():
        event = outbox_publish(topic="test.admin", payload={"n": 1})
    OutboxEvent.objects.filter(pk=event.pk).update(status="dead", attempts=12, last_error="boom")
    return event


@pytest.mark.django_db
def test_operators_can_browse_but_not_edit(admin_client: Client, dead_event: OutboxEvent) -> None:
    changelist = admin_client.get(reverse("admin:core_outboxevent_changelist"))
    assert changelist.status_code == 200
    assert "test.admin" in changelist.content.decode()
    assert admin_client.get(reverse("admin:core_idempotencyrecord_changelist")).status_code == 200
    detail = admin_client.get(reverse("admin:core_outboxevent_change", args=[dead_event.pk]))
    assert detail.status_code == 200
    assert 'name="_save"' not in detail.content.decode()
    assert admin_client.get(reverse("admin:core_outboxevent_add")).status_code == 403


@pytest.mark.django_db
def test_retry_now_makes_a_dead_event_pending_again(
    admin_client: Client, dead_event: OutboxEvent
) -> None:
    response = admin_client.post(
        reverse("admin:core_outboxevent_changelist"),
        {"action": "retry_now", "_selected_action": [str(dead_event.pk)]},
        follow=True,
    )
    assert response.status_code == 200
    dead_event.refresh_from_db()
    assert (dead_event.status, dead_event.attempts) == ("pending", 0)
    assert dead_event.last_error == "boom"  # kept for the post-mortem


@pytest.mark.django_db
def test_idempotency_record_detail_shows_the_stored_body(admin_client: Client) -> None:
    from yaji.core import clock

    record = IdempotencyRecord.objects.create(
        scope="anon",
        key="k",
        method="POST",
        path="/api/v1/x",
        request_hash="0" * 64,
        state="completed",
        locked_at=clock.now(),
        expires_at=clock.now(),
        response_status=201,
        response_body='{"id": "订单"}'.encode(),
        response_content_type="application/json",
    )
    page = admin_client.get(reverse("admin:core_idempotencyrecord_change", args=[record.pk]))
    assert page.status_code == 200
    assert "订单" in page.content.decode()
