"""Sending one-time codes (and later other notices) to a phone or a mailbox.

``settings.YAJI_NOTIFY_SINK`` chooses the :class:`NotificationSink`:

``console``  logs the message after the transaction commits (development);
``outbox``   publishes ``notification.requested`` through the transactional outbox in the
             caller's transaction; :func:`deliver_notification_event` (subscribed in
             ``AccountsConfig.ready``) hands it to the sandbox SMS/e-mail relay, once per event;
``memory``   appends to a module-level list (tests, including a live-server browser test in
             another thread: read it with :func:`sent_messages` / :func:`last_code_for`).

The outbox payload never holds the code or the address in plaintext: both are sealed with
the field-encryption keys, so the outbox table is no easier to mine than the user table.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Protocol

from django.conf import settings
from django.db import transaction

from yaji.core import clock
from yaji.core.encryption import decrypt_str, encrypt_str
from yaji.core.masking import mask_email, mask_phone

logger = logging.getLogger("yaji.accounts.notifications")

NOTIFICATION_TOPIC = "notification.requested"
_PAYLOAD_AAD = "accounts.notification"


@dataclass(frozen=True)
class Notification:
    channel: str  # "sms" | "email"
    target: str  # normalised phone number or e-mail address
    template: str  # e.g. "verification_code"
    body: str
    code: str = ""
    context: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None

    @property
    def target_masked(self) -> str:
        return mask_phone(self.target) if self.channel == "sms" else mask_email(self.target)


class NotificationSink(Protocol):
    name: str

    def send(self, notification: Notification) -> None: ...


class ConsoleSink:
    name = "console"

    def send(self, notification: Notification) -> None:
        def _log() -> None:
            logger.warning(
                "notification (%s → %s): %s",
                notification.channel,
                notification.target,
                notification.body,
            )

        transaction.on_commit(_log)


_memory_lock = threading.Lock()
_memory_outbox: list[Notification] = []


class MemorySink:
    name = "memory"

    def send(self, notification: Notification) -> None:
        with _memory_lock:
            _memory_outbox.append(notification)


def sent_messages() -> list[Notification]:
    with _memory_lock:
        return list(_memory_outbox)


def last_code_for(target: str) -> str | None:
    """The newest code the memory sink sent to ``target`` (phone or e-mail, normalised or not)."""
    from yaji.accounts.identifiers import identifier_parse

    wanted = identifier_parse(target).value
    with _memory_lock:
        for notification in reversed(_memory_outbox):
            if notification.target == wanted and notification.code:
                return notification.code
    return None


def clear_sent_messages() -> None:
    with _memory_lock:
        _memory_outbox.clear()


class OutboxSink:
    name = "outbox"

    def send(self, notification: Notification) -> None:
        from yaji.core.outbox import outbox_publish

        sealed = encrypt_str(
            _json_dumps(
                {
                    "target": notification.target,
                    "body": notification.body,
                    "code": notification.code,
                }
            ),
            associated_data=_PAYLOAD_AAD,
        )
        outbox_publish(
            topic=NOTIFICATION_TOPIC,
            payload={
                "channel": notification.channel,
                "template": notification.template,
                "target_masked": notification.target_masked,
                "sealed": sealed,
            },
            key=notification.template,
        )


def _json_dumps(value: dict[str, Any]) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)


_SINKS: dict[str, type] = {"console": ConsoleSink, "memory": MemorySink, "outbox": OutboxSink}


def notification_sink() -> NotificationSink:
    name = getattr(settings, "YAJI_NOTIFY_SINK", "console")
    try:
        return _SINKS[name]()
    except KeyError as exc:
        raise LookupError(f"unknown YAJI_NOTIFY_SINK {name!r}; known: {sorted(_SINKS)}") from exc


def notification_send(notification: Notification) -> None:
    notification_sink().send(notification)


class SandboxRelay:
    """Stands in for an SMS gateway / SMTP relay: logs what it would send."""

    delivered: list[dict[str, Any]] = []

    def deliver(self, *, channel: str, target: str, body: str) -> str:
        logger.info(
            "sandbox %s relay → %s: %s",
            channel,
            mask_phone(target) if channel == "sms" else mask_email(target),
            body,
        )
        record = {"channel": channel, "target": target, "body": body, "at": clock.now().isoformat()}
        SandboxRelay.delivered.append(record)
        return f"relay-{len(SandboxRelay.delivered)}"


RELAY_CONSUMER = "accounts.notification-relay"


def deliver_notification_event(event: Any) -> bool:
    """Outbox handler for ``notification.requested``; False when already delivered.

    Idempotent by event id (``consume_once`` commits with the delivery record), so a
    redelivered event does not send the SMS/e-mail twice.
    """
    import json

    from yaji.core.outbox import consume_once

    payload = event.payload
    with transaction.atomic():
        if not consume_once(consumer=RELAY_CONSUMER, event_id=event.id):
            return False
        message = json.loads(decrypt_str(payload["sealed"], associated_data=_PAYLOAD_AAD))
        SandboxRelay().deliver(
            channel=payload["channel"], target=message["target"], body=message["body"]
        )
    return True


def notification_subscribers_register() -> None:
    from yaji.core.outbox import outbox_subscribe

    outbox_subscribe(
        topic=NOTIFICATION_TOPIC, name=RELAY_CONSUMER, handler=deliver_notification_event
    )


def notification_as_dict(notification: Notification) -> dict[str, Any]:
    return asdict(notification)
