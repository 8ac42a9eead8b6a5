"""Transactional outbox: events commit or roll back with the change they announce.

Publishing, inside the service's transaction::

    with transaction.atomic():
        order = Order.objects.create(...)
        outbox_publish(topic="trade.order_placed", payload={"id": order.pk}, key=str(order.pk))

Subscribing, explicitly, in an ``AppConfig.ready``::

    outbox_subscribe(topic="trade.order_placed", name="search.order", handler=on_order_placed)

Delivery is at least once: the relay (:func:`outbox_relay_once`, run by ``yaji worker`` or the
worker embedded in ``yaji serve``) calls every subscriber of the topic; if any raises, the whole
event is retried later with exponential backoff and jitter, and after ``MAX_ATTEMPTS`` it is
``dead`` (retry it from the admin). Handlers therefore must be idempotent — wrap the effect with
:func:`consume_once`, which records the event id in the handler's own transaction::

    def on_order_placed(event: OutboxEvent) -> None:
        with transaction.atomic():
            if not consume_once(consumer="search.order", event_id=event.id):
                return  # already done by an earlier delivery
            ...the effect...

Relays never hold row locks while handlers run: they claim a batch in one short transaction
(``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` serialises
claimers) by pushing ``available_at`` to the end of a lease, deliver outside any transaction,
then record the outcome only if they still own the lease.
"""

from __future__ import annotations

import logging
import random
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, transaction
from django.db.models import Q

from yaji.core import clock
from yaji.core.ids import new_event_id
from yaji.core.models import OutboxEvent, ProcessedEvent
from yaji.core.sqlparts import SqlPart

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
BACKOFF_BASE = timedelta(seconds=5)
BACKOFF_CAP = timedelta(hours=1)
# How long a claimed event is reserved for the relay that claimed it. A handler running longer
# than this gets its event delivered again by another relay (consume_once absorbs that).
LEASE = timedelta(minutes=5)

OutboxHandler = Callable[[OutboxEvent], Any]


class OutboxNotInTransaction(RuntimeError):
    """outbox_publish() was called outside transaction.atomic (a programming error)."""


@dataclass(frozen=True)
class Subscriber:
    topic: str
    name: str
    handler: OutboxHandler


_subscribers: dict[str, dict[str, Subscriber]] = {}


# --- subscribing ------------------------------------------------------------------------------


def outbox_subscribe(*, topic: str, name: str, handler: OutboxHandler) -> None:
    """Register ``handler`` for ``topic`` under a stable ``name`` (also its consume_once name)."""
    registered = _subscribers.setdefault(topic, {})
    current = registered.get(name)
    if current is not None and current.handler is not handler:
        raise ImproperlyConfigured(f"outbox subscriber {name!r} already registered for {topic!r}")
    registered[name] = Subscriber(topic=topic, name=name, handler=handler)


def outbox_unsubscribe(*, topic: str, name: str) -> None:
    _subscribers.get(topic, {}).pop(name, None)


def outbox_subscribers(*, topic: str) -> list[Subscriber]:
    return list(_subscribers.get(topic, {}).values())


# --- publishing -------------------------------------------------------------------------------


def outbox_publish(*, topic: str, payload: dict[str, Any], key: str = "") -> OutboxEvent:
    """Record an event in the current transaction; it is delivered only if that commits."""
    if not connection.in_atomic_block:
        raise OutboxNotInTransaction(
            "outbox_publish() must be called inside transaction.atomic(), so the event commits "
            "or rolls back together with the change it announces"
        )
    if not topic or len(topic) > 100:
        raise ValueError("outbox topic must be 1–100 characters")
    if not isinstance(payload, dict):
        raise TypeError("outbox payload must be a dict")
    # Fail here, at the publisher, rather than at commit time deep inside the ORM.
    DjangoJSONEncoder().encode(payload)
    return OutboxEvent.objects.create(
        topic=topic, key=key[:200], payload=payload, available_at=clock.now()
    )


# The outbox row as plain SQL (PostgreSQL), for a hot transaction that writes its events in the
# same round trip as its other writes (yaji.core.sqlparts, ADR 0044): the same columns and
# values ``OutboxEvent.objects.create`` writes.
OUTBOX_INSERT_COLUMNS = (
    "INSERT INTO core_outboxevent (id, topic, key, payload, status, attempts, available_at, "
    "last_error, created_at, updated_at) "
)


def outbox_part(*, topic: str, payload: dict[str, Any], key: str = "") -> SqlPart:
    """:func:`outbox_publish` as a statement part (PostgreSQL): for
    :func:`yaji.core.sqlparts.sql_parts_execute` inside the caller's transaction (the
    bench's ceiling runs it on a plain psycopg connection, hence no check of Django's)."""
    if not topic or len(topic) > 100:
        raise ValueError("outbox topic must be 1–100 characters")
    if not isinstance(payload, dict):
        raise TypeError("outbox payload must be a dict")
    now = clock.now()
    return SqlPart(
        OUTBOX_INSERT_COLUMNS + "VALUES (%s, %s, %s, %s::jsonb, 'pending', 0, %s, '', %s, %s)",
        (
            new_event_id(),
            topic,
            key[:200],
            DjangoJSONEncoder().encode(payload),
            now,
            now,
            now,
        ),
    )


# --- consuming --------------------------------------------------------------------------------


def consume_once(*, consumer: str, event_id: uuid.UUID) -> bool:
    """True the first time ``consumer`` sees ``event_id``; False on any redelivery.

    Must run inside the consumer's ``transaction.atomic`` so the marker commits with the
    effect: if the effect rolls back, so does the marker and the next delivery tries again.
    Concurrent deliveries block on the unique index until the first commits, then get False.
    """
    if not connection.in_atomic_block:
        raise OutboxNotInTransaction("consume_once() must be called inside transaction.atomic()")
    try:
        with transaction.atomic():  # a savepoint, so a duplicate leaves the outer one usable
            ProcessedEvent.objects.create(consumer=consumer, event_id=event_id)
    except IntegrityError:
        return False
    return True


# --- relaying ---------------------------------------------------------------------------------


def outbox_backoff(*, attempts: int, rng: random.Random | None = None) -> timedelta:
    """Delay before attempt ``attempts + 1``: exponential, capped, with "equal jitter".

    Half of the exponential step is fixed and half random, so failing relays spread out yet the
    delays still grow from one attempt to the next.
    """
    step = min(BACKOFF_CAP, BACKOFF_BASE * (2 ** max(attempts - 1, 0)))
    half = step / 2
    return half + half * (rng or random).random()


def _claim(*, batch: int, lease_id: uuid.UUID) -> list[OutboxEvent]:
    now = clock.now()
    # select_for_update is ignored on SQLite, where BEGIN IMMEDIATE already serialises claimers.
    with transaction.atomic():
        due = (
            OutboxEvent.objects.filter(status=OutboxEvent.Status.PENDING, available_at__lte=now)
            .order_by("available_at")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:batch]
        )
        ids = list(due)
        if not ids:
            return []
        lease_end = now + LEASE
        OutboxEvent.objects.filter(pk__in=ids).update(
            available_at=lease_end, locked_until=lease_end, lease_id=lease_id, updated_at=now
        )
    return list(
        OutboxEvent.objects.filter(pk__in=ids, lease_id=lease_id).order_by("available_at", "pk")
    )


def _deliver(event: OutboxEvent) -> str | None:
    """Call every subscriber; the first failure's traceback, or None when all succeeded."""
    for subscriber in outbox_subscribers(topic=event.topic):
        try:
            subscriber.handler(event)
        except Exception:  # any handler error means "retry later", recorded, never raised
            logger.warning(
                "outbox handler failed",
                exc_info=True,
                extra={
                    "event_id": str(event.id),
                    "topic": event.topic,
                    "subscriber": subscriber.name,
                },
            )
            return f"{subscriber.name}: {traceback.format_exc(limit=5)}"[-4000:]
    return None


def _record(*, event: OutboxEvent, lease_id: uuid.UUID, error: str | None) -> None:
    now = clock.now()
    owned = OutboxEvent.objects.filter(
        pk=event.pk, lease_id=lease_id, status=OutboxEvent.Status.PENDING
    )
    if error is None:
        owned.update(
            status=OutboxEvent.Status.DELIVERED,
            delivered_at=now,
            locked_until=None,
            lease_id=None,
            updated_at=now,
        )
        return
    attempts = event.attempts + 1
    if attempts >= MAX_ATTEMPTS:
        owned.update(
            status=OutboxEvent.Status.DEAD,
            attempts=attempts,
            last_error=error,
            locked_until=None,
            lease_id=None,
            updated_at=now,
        )
        logger.error(
            "outbox event is dead after %d attempts",
            attempts,
            extra={"event_id": str(event.id), "topic": event.topic},
        )
        return
    owned.update(
        attempts=attempts,
        available_at=now + outbox_backoff(attempts=attempts),
        last_error=error,
        locked_until=None,
        lease_id=None,
        updated_at=now,
    )


def outbox_relay_once(*, batch: int = 100) -> int:
    """Deliver up to ``batch`` due events; returns how many were attempted (0: nothing due)."""
    lease_id = uuid.uuid4()
    events = _claim(batch=batch, lease_id=lease_id)
    for event in events:
        _record(event=event, lease_id=lease_id, error=_deliver(event))
    return len(events)


def outbox_retry(*, event_ids: list[uuid.UUID]) -> int:
    """Make dead (or backing-off) events due now with a fresh attempt budget; used by the admin.

    Events leased by a running relay are left alone, so a retry never races a delivery.
    """
    now = clock.now()
    retryable = Q(status=OutboxEvent.Status.DEAD) | Q(
        status=OutboxEvent.Status.PENDING, locked_until__isnull=True
    )
    return OutboxEvent.objects.filter(retryable, pk__in=event_ids).update(
        status=OutboxEvent.Status.PENDING,
        attempts=0,
        available_at=now,
        locked_until=None,
        lease_id=None,
        updated_at=now,
    )
