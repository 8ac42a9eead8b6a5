from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction

from yaji.core import clock, outbox
from yaji.core.models import OutboxEvent, ProcessedEvent
from yaji.core.outbox import (
    LEASE,
    MAX_ATTEMPTS,
    OutboxNotInTransaction,
    consume_once,
    outbox_backoff,
    outbox_publish,
    outbox_relay_once,
    outbox_retry,
    outbox_subscribe,
    outbox_unsubscribe,
)

TOPIC = "test.order_placed"
EFFECT_TOPIC = "test.effect"


class FrozenClock:
    def __init__(self, start: datetime) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> FrozenClock:
    fake = FrozenClock(clock.now())
    monkeypatch.setattr(clock, "now", fake)
    return fake


@pytest.fixture
def subscribe() -> Iterator[Callable[..., None]]:
    registered: list[tuple[str, str]] = []

    def add(
        handler: Callable[[OutboxEvent], object], *, name: str = "test", topic: str = TOPIC
    ) -> None:
        outbox_subscribe(topic=topic, name=name, handler=handler)
        registered.append((topic, name))

    yield add
    for topic, name in registered:
        outbox_unsubscribe(topic=topic, name=name)


def publish(**payload: object) -> OutboxEvent:
    with transaction.atomic():
        return outbox_publish(topic=TOPIC, payload=dict(payload), key="order-1")


def exactly_once_effect(event: OutboxEvent) -> None:
    """A consumer written the recommended way: marker and effect in one transaction."""
    with transaction.atomic():
        if not consume_once(consumer="test.effect", event_id=event.id):
            return
        outbox_publish(topic=EFFECT_TOPIC, payload={"source": str(event.id)})


def effects() -> Counter[str]:
    return Counter(
        e["source"]
        for e in OutboxEvent.objects.filter(topic=EFFECT_TOPIC).values_list("payload", flat=True)
    )


class Boom(Exception):
    pass


@pytest.mark.django_db
class TestPublish:
    def test_rollback_leaves_no_event(self) -> None:
        with pytest.raises(Boom), transaction.atomic():
            outbox_publish(topic=TOPIC, payload={"order": 1})
            raise Boom
        assert not OutboxEvent.objects.exists()

    def test_commit_keeps_a_pending_event_with_a_time_ordered_uuid(self) -> None:
        first = publish(order=1)
        second = publish(order=2)
        assert isinstance(first.id, uuid.UUID)
        assert first.id.version == 7
        assert first.id < second.id
        stored = OutboxEvent.objects.get(pk=first.pk)
        assert (stored.status, stored.attempts, stored.payload) == ("pending", 0, {"order": 1})

    def test_payload_must_be_json(self) -> None:
        with pytest.raises(TypeError), transaction.atomic():
            outbox_publish(topic=TOPIC, payload={"bad": object()})

    def test_subscribing_two_handlers_under_one_name_is_refused(self, subscribe) -> None:  # type: ignore[no-untyped-def]
        subscribe(lambda event: None, name="dup")
        with pytest.raises(ImproperlyConfigured):
            outbox_subscribe(topic=TOPIC, name="dup", handler=lambda event: None)


@pytest.mark.django_db(transaction=True)
def test_publish_outside_a_transaction_raises() -> None:
    with pytest.raises(OutboxNotInTransaction, match=r"transaction\.atomic"):
        outbox_publish(topic=TOPIC, payload={})
    assert not OutboxEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_consume_once_outside_a_transaction_raises() -> None:
    with pytest.raises(OutboxNotInTransaction):
        consume_once(consumer="x", event_id=uuid.uuid4())


@pytest.mark.django_db
class TestRelay:
    def test_delivers_to_every_subscriber_and_marks_delivered(self, subscribe) -> None:  # type: ignore[no-untyped-def]
        seen: list[tuple[str, uuid.UUID, dict]] = []
        subscribe(lambda event: seen.append(("a", event.id, event.payload)), name="a")
        subscribe(lambda event: seen.append(("b", event.id, event.payload)), name="b")
        event = publish(order=7)

        assert outbox_relay_once() == 1

        assert seen == [("a", event.id, {"order": 7}), ("b", event.id, {"order": 7})]
        event.refresh_from_db()
        assert event.status == OutboxEvent.Status.DELIVERED
        assert event.delivered_at is not None
        assert event.lease_id is None
        assert outbox_relay_once() == 0  # nothing due any more
        assert len(seen) == 2

    def test_respects_batch_size_and_order(self, subscribe) -> None:  # type: ignore[no-untyped-def]
        order: list[int] = []
        subscribe(lambda event: order.append(event.payload["n"]))
        for n in range(5):
            publish(n=n)
        assert outbox_relay_once(batch=2) == 2
        assert outbox_relay_once(batch=10) == 3
        assert order == [0, 1, 2, 3, 4]

    def test_events_of_other_topics_are_delivered_without_handlers(self) -> None:
        with transaction.atomic():
            outbox_publish(topic="nobody.listens", payload={})
        assert outbox_relay_once() == 1
        assert OutboxEvent.objects.get().status == OutboxEvent.Status.DELIVERED

    def test_failing_handler_retries_with_growing_backoff_then_dies(
        self,
        subscribe,  # type: ignore[no-untyped-def]
        frozen: FrozenClock,
    ) -> None:
        calls: list[datetime] = []

        def fail(event: OutboxEvent) -> None:
            calls.append(clock.now())
            raise Boom("partner webhook returned 502")

        subscribe(fail)
        event = publish(order=1)
        delays: list[timedelta] = []

        for attempt in range(1, MAX_ATTEMPTS + 1):
            assert outbox_relay_once() == 1
            event.refresh_from_db()
            assert event.attempts == attempt
            assert "partner webhook returned 502" in event.last_error
            if attempt == MAX_ATTEMPTS:
                break
            assert event.status == OutboxEvent.Status.PENDING
            delays.append(event.available_at - frozen.current)
            # Not due before its backoff has passed ...
            frozen.advance(delays[-1] - timedelta(milliseconds=1))
            assert outbox_relay_once() == 0
            frozen.advance(timedelta(milliseconds=1))

        assert event.status == OutboxEvent.Status.DEAD
        assert len(calls) == MAX_ATTEMPTS
        growing = list(itertools.pairwise(delays))[:8]  # before the 1 h cap
        assert all(later > earlier for earlier, later in growing), delays
        assert max(delays) <= outbox.BACKOFF_CAP
        assert delays[0] >= outbox.BACKOFF_BASE / 2
        frozen.advance(timedelta(days=1))
        assert outbox_relay_once() == 0  # dead events stay dead

    def test_retry_revives_a_dead_event(self, subscribe, frozen: FrozenClock) -> None:  # type: ignore[no-untyped-def]
        delivered: list[uuid.UUID] = []
        subscribe(lambda event: delivered.append(event.id))
        event = publish(order=1)
        OutboxEvent.objects.filter(pk=event.pk).update(status="dead", attempts=MAX_ATTEMPTS)

        assert outbox_retry(event_ids=[event.pk]) == 1
        assert outbox_relay_once() == 1

        event.refresh_from_db()
        assert (event.status, delivered) == ("delivered", [event.id])

    def test_backoff_grows_is_jittered_and_capped(self) -> None:
        import random

        rng = random.Random(7)
        for attempts in range(1, 20):
            step = min(outbox.BACKOFF_CAP, outbox.BACKOFF_BASE * 2 ** (attempts - 1))
            samples = {outbox_backoff(attempts=attempts, rng=rng) for _ in range(20)}
            assert all(step / 2 <= delay <= step for delay in samples)
            assert len(samples) > 1  # jitter


@pytest.mark.django_db
class TestExactlyOnceEffects:
    def test_redelivery_after_a_failed_acknowledgement_has_no_second_effect(
        self,
        subscribe,  # type: ignore[no-untyped-def]
        frozen: FrozenClock,
    ) -> None:
        # The effect commits, then a later subscriber fails: the event is delivered again.
        subscribe(exactly_once_effect, name="effect")
        failures = iter([Boom("flaky"), None])

        def flaky(event: OutboxEvent) -> None:
            error = next(failures)
            if error:
                raise error

        subscribe(flaky, name="flaky")
        event = publish(order=1)

        outbox_relay_once()
        frozen.advance(timedelta(hours=2))
        outbox_relay_once()

        event.refresh_from_db()
        assert event.status == OutboxEvent.Status.DELIVERED
        assert event.attempts == 1
        assert effects() == {str(event.id): 1}
        assert ProcessedEvent.objects.filter(consumer="test.effect", event_id=event.id).count() == 1

    def test_a_relay_whose_lease_expired_cannot_double_apply_or_overwrite(
        self,
        subscribe,  # type: ignore[no-untyped-def]
        frozen: FrozenClock,
    ) -> None:
        subscribe(exactly_once_effect)
        event = publish(order=1)

        slow_lease = uuid.uuid4()
        claimed = outbox._claim(batch=10, lease_id=slow_lease)  # relay A claims, then stalls
        assert [e.id for e in claimed] == [event.id]
        assert outbox_relay_once() == 0  # leased: nobody else takes it meanwhile

        frozen.advance(LEASE + timedelta(seconds=1))
        assert outbox_relay_once() == 1  # relay B takes over the expired lease and delivers

        error = outbox._deliver(claimed[0])  # relay A wakes up and delivers again
        outbox._record(event=claimed[0], lease_id=slow_lease, error=error or "late failure")

        event.refresh_from_db()
        assert event.status == OutboxEvent.Status.DELIVERED
        assert event.attempts == 0  # A's late outcome was ignored
        assert effects() == {str(event.id): 1}

    def test_an_effect_that_rolls_back_rolls_back_its_marker(self) -> None:
        event_id = uuid.uuid4()
        with pytest.raises(Boom), transaction.atomic():
            assert consume_once(consumer="c", event_id=event_id)
            raise Boom
        with transaction.atomic():
            assert consume_once(consumer="c", event_id=event_id)
            assert not consume_once(consumer="c", event_id=event_id)
            assert consume_once(consumer="other", event_id=event_id)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_four_concurrent_relays_deliver_every_event_with_exactly_once_effects(
    subscribe,  # type: ignore[no-untyped-def]
) -> None:
    calls: Counter[uuid.UUID] = Counter()
    lock = threading.Lock()

    def handler(event: OutboxEvent) -> None:
        with lock:
            calls[event.id] += 1
        time.sleep(0.001)  # let the relays interleave
        exactly_once_effect(event)

    subscribe(handler)
    published = {publish(n=n).id for n in range(200)}
    errors: list[BaseException] = []

    def relay() -> None:
        try:
            idle = 0
            while idle < 3:
                idle = idle + 1 if outbox_relay_once(batch=7) == 0 else 0
        except BaseException as exc:  # surfaced in the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=relay) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    assert set(calls) == published
    assert all(count == 1 for count in calls.values())  # SKIP LOCKED: never claimed twice
    assert not OutboxEvent.objects.filter(pk__in=published).exclude(status="delivered").exists()
    assert effects() == {str(event_id): 1 for event_id in published}
