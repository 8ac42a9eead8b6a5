"""Probe endpoints for ``yaji bench request-path`` (ADR 0036), mounted only with
``YAJI_BENCH_PROBES=1`` (the bench's server sets it; a deployment never does).

Each does the least database work its layer allows, so the differences between them are
the request path's own costs: the anonymous read is middleware + ninja + one indexed row; the
bearer read adds authentication; the POSTs add ``@idempotent`` (classic mode: the key claimed
and committed before the view, the response stored and committed after it) or
``@idempotent(in_transaction=True)`` (the record inserted in the write's own transaction).
"""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema, Status

from yaji.accounts.auth import api_auth
from yaji.bench.models import Probe
from yaji.core.errors import NotFound
from yaji.core.idempotency import idempotency_json_response, idempotency_store_within, idempotent

router = Router(tags=["bench"])


class ProbeIn(Schema):
    label: str


class ProbeOut(Schema):
    id: int
    label: str


def _probe_get(probe_id: int) -> dict:
    row = Probe.objects.filter(pk=probe_id).values("id", "label").first()
    if row is None:
        raise NotFound()
    return row


@router.get("/bench/probes/{probe_id}", auth=None, response=ProbeOut)
def probe_read(request: HttpRequest, probe_id: int):
    return _probe_get(probe_id)


@router.get("/bench/probes/{probe_id}/authed", auth=api_auth, response=ProbeOut)
def probe_read_authed(request: HttpRequest, probe_id: int):
    return _probe_get(probe_id)


@router.post("/bench/probes", auth=api_auth, response={201: ProbeOut})
@idempotent(required=True)
def probe_create(request: HttpRequest, payload: ProbeIn):
    probe = Probe.objects.create(label=payload.label[:64])
    return Status(201, {"id": probe.pk, "label": probe.label})


@router.post("/bench/probes-atomic", auth=api_auth, response={201: ProbeOut})
@idempotent(required=True, in_transaction=True)
def probe_create_atomic(request: HttpRequest, payload: ProbeIn) -> HttpResponse:
    with transaction.atomic(durable=True):
        probe = Probe.objects.create(label=payload.label[:64])
        response = idempotency_json_response({"id": probe.pk, "label": probe.label}, status=201)
        return idempotency_store_within(request, response)
