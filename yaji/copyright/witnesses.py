"""Anchoring checkpoints with an outside witness (optional): the interface and a sandbox.

A witness receives the signed checkpoint body and returns a *token* that says "I saw exactly
these bytes at this time". That defends against the one thing the log's own signature cannot:
the platform showing different histories to different people (a split view), or back-dating.
Real adapters follow published protocols — an RFC 3161 time-stamp authority (the token is a
TimeStampResp over SHA-256 of the body) or a transaction on a chain carrying the root.

The sandbox TSA here behaves like RFC 3161 in what matters to the log: a message imprint
(SHA-256 of the body), a generation time, a serial number, and a signature by the authority's
own Ed25519 key (derived from SECRET_KEY, so it is stable across restarts and differs from the
log key). Anchoring runs after the checkpoint commits (outbox topic
``copyright.checkpoint_signed``), never inside the log's lock.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
from typing import Any, Protocol

from django.conf import settings

from yaji.copyright import signing
from yaji.copyright.statements import canonical
from yaji.core import clock


class Witness(Protocol):
    name: str

    def timestamp(self, body: bytes) -> dict[str, Any]:
        """A token over ``body`` (the signed checkpoint text)."""
        ...

    def verify(self, token: dict[str, Any], body: bytes) -> bool: ...


class SandboxTimestampAuthority:
    name = "sandbox-tsa"
    _serial = itertools.count(1)

    def _key(self) -> signing.Ed25519PrivateKey:
        seed = hmac.new(
            settings.SECRET_KEY.encode(), b"yaji sandbox time-stamp authority", hashlib.sha256
        ).digest()
        return signing.private_key_from_seed(seed)

    def public_key(self) -> bytes:
        return signing.public_bytes(self._key())

    def timestamp(self, body: bytes) -> dict[str, Any]:
        tst_info = {
            "policy": "yaji-sandbox-tsa/1",
            "message_imprint": {
                "hash_algorithm": "sha256",
                "hash": hashlib.sha256(body).hexdigest(),
            },
            "gen_time": signing.timestamp_format(clock.now()),
            "serial_number": f"{clock.now().timestamp():.6f}-{next(self._serial)}",
            "tsa": self.name,
        }
        return {
            "tst_info": tst_info,
            "signature": signing.b64(self._key().sign(canonical(tst_info))),
        }

    def verify(self, token: dict[str, Any], body: bytes) -> bool:
        try:
            info = token["tst_info"]
            signature = signing.unb64(token["signature"], size=64)
            imprint = info["message_imprint"]["hash"]
        except (KeyError, TypeError, signing.SignatureFormatError):
            return False
        if imprint != hashlib.sha256(body).hexdigest():
            return False
        return signing.verify_signature(self.public_key(), signature, canonical(info))


def witness_default() -> Witness:
    return SandboxTimestampAuthority()
