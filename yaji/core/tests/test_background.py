from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from django.core.management import call_command
from django.db import transaction
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from yaji.core.background import BackgroundWorker
from yaji.core.models import OutboxEvent
from yaji.core.outbox import outbox_publish, outbox_subscribe, outbox_unsubscribe

TOPIC = "test.background"
delivered: list[dict] = []


@task()
def publish_from_a_task(n: int) -> int:
    with transaction.atomic():
        outbox_publish(topic=TOPIC, payload={"from_task": n})
    return n


@pytest.fixture(autouse=True)
def subscriber() -> Iterator[None]:
    delivered.clear()
    outbox_subscribe(
        topic=TOPIC, name="test.background", handler=lambda e: delivered.append(e.payload)
    )
    yield
    outbox_unsubscribe(topic=TOPIC, name="test.background")


# transaction=True: the tasks worker closes "old" connections, which ends a test transaction.
@pytest.mark.django_db(transaction=True)
def test_worker_once_runs_tasks_and_delivers_events_they_publish(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with transaction.atomic():
        outbox_publish(topic=TOPIC, payload={"direct": 1})
    result = publish_from_a_task.enqueue(42)

    call_command("worker", "--once")

    assert DBTaskResult.objects.get(pk=result.id).status == "SUCCESSFUL"
    assert sorted(delivered, key=str) == [{"direct": 1}, {"from_task": 42}]
    assert set(OutboxEvent.objects.values_list("status", flat=True)) == {"delivered"}
    assert "2 outbox event(s)" in capsys.readouterr().out


@pytest.mark.django_db(transaction=True)
def test_background_worker_threads_deliver_and_stop_promptly() -> None:
    worker = BackgroundWorker(interval=0.05)
    worker.start()
    try:
        assert worker.alive
        with transaction.atomic():
            outbox_publish(topic=TOPIC, payload={"live": True})
        publish_from_a_task.enqueue(7)
        deadline = time.monotonic() + 10
        while len(delivered) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        started = time.monotonic()
        worker.stop(timeout=10)
    assert time.monotonic() - started < 5
    assert not worker.alive
    assert sorted(delivered, key=str) == [{"from_task": 7}, {"live": True}]
