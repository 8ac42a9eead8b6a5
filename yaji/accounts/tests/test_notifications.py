"""Notification sinks: the outbox sink publishes in the caller's transaction; the relay
subscriber delivers once per event."""

from __future__ import annotations

import logging

import pytest

from yaji.accounts import services
from yaji.accounts.notifications import (
    NOTIFICATION_TOPIC,
    SandboxRelay,
    deliver_notification_event,
    notification_sink,
)
from yaji.core.errors import RateLimited
from yaji.core.models import OutboxEvent
from yaji.core.outbox import outbox_relay_once, outbox_subscribers

pytestmark = pytest.mark.django_db


def test_sink_is_chosen_by_setting(settings) -> None:  # type: ignore[no-untyped-def]
    for name in ("console", "memory", "outbox"):
        settings.YAJI_NOTIFY_SINK = name
        assert notification_sink().name == name
    settings.YAJI_NOTIFY_SINK = "pigeon"
    with pytest.raises(LookupError):
        notification_sink()


def test_outbox_sink_publishes_sealed_event_and_relay_delivers_once(settings) -> None:  # type: ignore[no-untyped-def]
    settings.YAJI_NOTIFY_SINK = "outbox"
    SandboxRelay.delivered.clear()
    services.verification_code_send(target="13900002222")
    event = OutboxEvent.objects.get(topic=NOTIFICATION_TOPIC)
    assert event.payload["target_masked"] == "139****2222"
    assert "13900002222" not in str(event.payload)  # address and code are sealed

    assert any(
        s.handler is deliver_notification_event
        for s in outbox_subscribers(topic=NOTIFICATION_TOPIC)
    )
    assert outbox_relay_once() >= 1
    assert len(SandboxRelay.delivered) == 1
    delivered = SandboxRelay.delivered[0]
    assert delivered["target"] == "13900002222" and "验证码" in delivered["body"]

    # A redelivered event (at-least-once relay) does not send twice.
    assert deliver_notification_event(event) is False
    assert len(SandboxRelay.delivered) == 1


def test_no_event_when_the_send_fails(settings) -> None:  # type: ignore[no-untyped-def]
    settings.YAJI_NOTIFY_SINK = "outbox"
    services.verification_code_send(target="13900003333")
    with pytest.raises(RateLimited):
        services.verification_code_send(target="13900003333")
    assert OutboxEvent.objects.filter(topic=NOTIFICATION_TOPIC).count() == 1


def test_console_sink_logs_after_commit(
    settings, caplog, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    settings.YAJI_NOTIFY_SINK = "console"
    with (
        caplog.at_level(logging.WARNING, logger="yaji.accounts.notifications"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.verification_code_send(target="dev@example.com")
    assert "dev@example.com" in caplog.text and "验证码" in caplog.text
