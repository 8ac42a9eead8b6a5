"""Anchoring checkpoints with the sandbox time-stamp authority, after the checkpoint commits."""

from __future__ import annotations

import pytest
from django.test import Client

from yaji.copyright import services, signing
from yaji.copyright.models import WitnessAnchor
from yaji.copyright.tests.factories import creator, registered
from yaji.copyright.witnesses import SandboxTimestampAuthority
from yaji.core.outbox import outbox_relay_once

pytestmark = pytest.mark.django_db


def _body(checkpoint) -> bytes:  # type: ignore[no-untyped-def]
    return signing.Checkpoint(
        origin=checkpoint.origin,
        size=checkpoint.size,
        root=bytes.fromhex(checkpoint.root_hash),
        timestamp=checkpoint.timestamp,
    ).body()


def test_a_signed_checkpoint_is_time_stamped_by_the_witness_once():
    registered(creator(), seed=51)
    checkpoint = services.checkpoint_create()
    assert not WitnessAnchor.objects.exists()  # never inside the log's transaction
    outbox_relay_once()
    anchor = WitnessAnchor.objects.get(checkpoint=checkpoint)
    tsa = SandboxTimestampAuthority()
    assert tsa.verify(anchor.token, _body(checkpoint))
    assert not tsa.verify(anchor.token, _body(checkpoint).replace(b"\n1\n", b"\n2\n"))
    forged = {
        **anchor.token,
        "tst_info": {**anchor.token["tst_info"], "gen_time": "2020-01-01T00:00:00.000000Z"},
    }
    assert not tsa.verify(forged, _body(checkpoint))
    assert services.checkpoint_anchor(checkpoint_size=checkpoint.size).pk == anchor.pk
    assert WitnessAnchor.objects.count() == 1
    assert 'data-testid="anchor"' in Client().get("/copyright/log/").content.decode()
