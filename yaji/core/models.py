"""Kernel tables: idempotency records, the transactional outbox and consumer de-duplication."""

from __future__ import annotations

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q

from yaji.core.ids import new_event_id


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class IdempotencyRecord(TimeStampedModel):
    """The first response to a request carrying an ``Idempotency-Key``, replayed on retry."""

    class State(models.TextChoices):
        IN_PROGRESS = "in_progress", "in progress"
        COMPLETED = "completed", "completed"

    # "user:<pk>" or "anon": one caller's keys never collide with another caller's.
    scope = models.CharField(max_length=64)
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=2048)
    request_hash = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    state = models.CharField(max_length=16, choices=State.choices, default=State.IN_PROGRESS)
    # When the current attempt started; an in-progress record older than the stale window is
    # presumed abandoned (its process died) and may be taken over.
    locked_at = models.DateTimeField()
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.BinaryField(default=b"", blank=True)
    response_content_type = models.CharField(max_length=255, blank=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="core_idempotency_scope_key_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.key} ({self.state})"


class OutboxEvent(TimeStampedModel):
    """An event written in the same transaction as the change it announces."""

    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        DELIVERED = "delivered", "delivered"
        DEAD = "dead", "dead"

    # The de-duplication id consumers record in ProcessedEvent.
    id = models.UUIDField(primary_key=True, default=new_event_id, editable=False)
    topic = models.CharField(max_length=100)
    key = models.CharField(max_length=200, blank=True, help_text="What the event is about.")
    payload = models.JSONField(encoder=DjangoJSONEncoder)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    # Next time a relay may pick the event up. A relay that claims an event moves this to the
    # end of its lease, so one index serves both "due" and "not leased".
    available_at = models.DateTimeField()
    locked_until = models.DateTimeField(null=True, blank=True)
    # Which claim owns the event; an outcome is recorded only by the claim that still owns it,
    # so a relay whose lease ran out cannot overwrite a newer delivery's result.
    lease_id = models.UUIDField(null=True, blank=True, editable=False)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["available_at"],
                name="core_outbox_due_idx",
                condition=Q(status="pending"),
            ),
            models.Index(fields=["topic", "created_at"], name="core_outbox_topic_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.topic} {self.id} ({self.status})"


class ProcessedEvent(TimeStampedModel):
    """One row per (consumer, event) already handled: makes at-least-once delivery exactly-once."""

    consumer = models.CharField(max_length=100)
    event_id = models.UUIDField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["consumer", "event_id"], name="core_processed_event_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.consumer} {self.event_id}"
