"""A test-only API exercising @idempotent; mounted with @pytest.mark.urls, never in the product."""

from __future__ import annotations

import time
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.urls import path
from ninja import NinjaAPI, Router, Schema, Status
from ninja.security import APIKeyHeader

from yaji.core.errors import ApplicationError
from yaji.core.idempotency import (
    idempotency_json_response,
    idempotency_store_within,
    idempotent,
)
from yaji.core.models import OutboxEvent
from yaji.core.outbox import outbox_publish

SIDE_EFFECT_TOPIC = "test.thing_created"


class TestUserHeader(APIKeyHeader):
    """``X-Test-User: <pk>`` authenticates as that (unsaved) user: enough for scoping."""

    param_name = "X-Test-User"

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        if key and key.isdigit():
            return get_user_model()(pk=int(key))
        return None


class ThingIn(Schema):
    name: str
    delay_ms: int = 0


class ThingOut(Schema):
    event_id: str
    name: str
    created: int


class Flaky:
    """Fails with a 503 the first ``failures`` times, after the side effect was attempted."""

    failures = 0


router = Router()


def _create(payload: ThingIn) -> ThingOut:
    if payload.delay_ms:
        time.sleep(payload.delay_ms / 1000)
    with transaction.atomic():
        event = outbox_publish(topic=SIDE_EFFECT_TOPIC, payload={"name": payload.name})
    created = OutboxEvent.objects.filter(topic=SIDE_EFFECT_TOPIC).count()
    return ThingOut(event_id=str(event.id), name=payload.name, created=created)


@router.post("/things", response={201: ThingOut})
@idempotent
def thing_create(request: HttpRequest, payload: ThingIn) -> Any:
    return Status(201, _create(payload))


@router.post("/user-things", response={201: ThingOut}, auth=TestUserHeader())
@idempotent
def user_thing_create(request: HttpRequest, payload: ThingIn) -> Any:
    return Status(201, _create(payload))


@idempotent(required=True)  # placed above the route decorator on purpose: both orders work
@router.post("/strict-things", response={201: ThingOut})
def strict_thing_create(request: HttpRequest, payload: ThingIn) -> Any:
    return Status(201, _create(payload))


@router.post("/flaky-things", response={201: ThingOut})
@idempotent
def flaky_thing_create(request: HttpRequest, payload: ThingIn) -> Any:
    result = _create(payload)
    if Flaky.failures > 0:
        Flaky.failures -= 1
        raise ApplicationError("upstream down", code="upstream_unavailable", status=503)
    return Status(201, result)


@router.post("/refused-things")
@idempotent
def refused_thing_create(request: HttpRequest, payload: ThingIn) -> Any:
    _create(payload)
    raise ApplicationError("no more things", code="things_exhausted", status=422)


@router.post("/crashing-things")
@idempotent
def crashing_thing_create(request: HttpRequest, payload: ThingIn) -> Any:
    _create(payload)
    raise RuntimeError("bug")


@router.post("/tx-things", response={201: ThingOut})
@idempotent(required=True, in_transaction=True)
def tx_thing_create(request: HttpRequest, payload: ThingIn) -> Any:
    """In-transaction mode: one thing per name; the answer is stored with the thing."""
    with transaction.atomic(durable=True):
        if OutboxEvent.objects.filter(topic=SIDE_EFFECT_TOPIC, payload__name=payload.name).exists():
            raise ApplicationError("exists", code="thing_exists", status=409)
        if payload.delay_ms:
            time.sleep(payload.delay_ms / 1000)
        event = outbox_publish(topic=SIDE_EFFECT_TOPIC, payload={"name": payload.name})
        created = OutboxEvent.objects.filter(topic=SIDE_EFFECT_TOPIC).count()
        body = ThingOut(event_id=str(event.id), name=payload.name, created=created)
        return idempotency_store_within(
            request, idempotency_json_response(body.model_dump(), status=201)
        )


api = NinjaAPI(urls_namespace="idempotency-test", docs_url=None)


@api.exception_handler(ApplicationError)
def _application_error(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    return api.create_response(request, exc.as_body(), status=exc.status)


api.add_router("/", router)

urlpatterns = [path("api/", api.urls)]
