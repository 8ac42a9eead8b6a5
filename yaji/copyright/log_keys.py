"""The log's own Ed25519 key (``YAJI_COPYRIGHT_LOG_KEY``) and origin (``YAJI_COPYRIGHT_LOG_ORIGIN``)."""

from __future__ import annotations

from functools import lru_cache

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from yaji.copyright import signing


@lru_cache(maxsize=4)
def _key(seed_b64: str) -> Ed25519PrivateKey:
    try:
        return signing.private_key_from_seed(signing.unb64(seed_b64.strip(), size=32))
    except signing.SignatureFormatError as exc:
        raise ImproperlyConfigured(
            "YAJI_COPYRIGHT_LOG_KEY must be the base64 of a 32-byte Ed25519 seed."
        ) from exc


def log_private_key() -> Ed25519PrivateKey:
    return _key(settings.YAJI_COPYRIGHT_LOG_KEY)


def log_public_key() -> bytes:
    return signing.public_bytes(log_private_key())


def log_origin() -> str:
    return settings.YAJI_COPYRIGHT_LOG_ORIGIN


def log_key_id() -> str:
    return signing.key_id(log_origin(), log_public_key()).hex()
