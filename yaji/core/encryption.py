"""Field-level encryption (AES-256-GCM with key ids) and blind indexes.

Keys come from ``settings.YAJI_ENCRYPTION_KEYS`` = ``"kid:base64key,kid2:base64key"``: the first
key encrypts, every key decrypts, so a key is rotated by putting a new one first, re-saving the
encrypted columns (``yaji reencrypt``) and later dropping the old one.

Stored form: ``v1:<kid>:<base64(nonce | ciphertext | tag)>`` with a random 96-bit nonce. The
caller's associated data (for model fields: ``app_label.model.field``) is authenticated but not
stored, so a ciphertext copied into another column fails to decrypt instead of leaking there.

Encrypted values cannot be searched; :func:`blind_index` gives a keyed HMAC-SHA256 of a
normalised value for exact-match lookups and uniqueness (phone login, one ID per account).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

VERSION = "v1"
NONCE_BYTES = 12
KEY_BYTES = 32
_KID_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class DecryptionError(Exception):
    """A stored value could not be decrypted: unknown key id, tampering or wrong column."""


@dataclass(frozen=True)
class KeyRing:
    active_kid: str
    keys: dict[str, bytes]

    @classmethod
    def parse(cls, spec: str) -> KeyRing:
        keys: dict[str, bytes] = {}
        order: list[str] = []
        for part in (spec or "").split(","):
            part = part.strip()
            if not part:
                continue
            kid, sep, b64 = part.partition(":")
            kid = kid.strip()
            if not sep or not _KID_RE.match(kid):
                raise ImproperlyConfigured(
                    "YAJI_ENCRYPTION_KEYS must be 'kid:base64key,...' with key ids of letters, "
                    f"digits, '-' or '_' (got an entry starting {part[:8]!r}...)."
                )
            try:
                key = base64.b64decode(b64.strip(), validate=True)
            except (binascii.Error, ValueError) as exc:
                raise ImproperlyConfigured(
                    f"YAJI_ENCRYPTION_KEYS: key {kid!r} is not valid base64."
                ) from exc
            if len(key) != KEY_BYTES:
                raise ImproperlyConfigured(
                    f"YAJI_ENCRYPTION_KEYS: key {kid!r} is {len(key)} bytes; AES-256 needs 32."
                )
            if kid in keys:
                raise ImproperlyConfigured(f"YAJI_ENCRYPTION_KEYS: key id {kid!r} appears twice.")
            keys[kid] = key
            order.append(kid)
        if not order:
            raise ImproperlyConfigured(
                "YAJI_ENCRYPTION_KEYS is empty; field encryption needs a key."
            )
        return cls(active_kid=order[0], keys=keys)


@lru_cache(maxsize=8)
def _keyring_for(spec: str) -> KeyRing:
    return KeyRing.parse(spec)


def keyring() -> KeyRing:
    # Cached per spec string so tests that override the setting see the new keys at once.
    return _keyring_for(settings.YAJI_ENCRYPTION_KEYS)


def encrypt_str(plaintext: str, *, associated_data: str = "") -> str:
    ring = keyring()
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(ring.keys[ring.active_kid]).encrypt(
        nonce, plaintext.encode("utf-8"), associated_data.encode("utf-8") or None
    )
    blob = base64.b64encode(nonce + sealed).decode("ascii")
    return f"{VERSION}:{ring.active_kid}:{blob}"


def key_id_of(token: str) -> str:
    _version, kid, _blob = _split(token)
    return kid


def _split(token: str) -> tuple[str, str, str]:
    parts = token.split(":", 2)
    if len(parts) != 3 or parts[0] != VERSION:
        raise DecryptionError("not an encrypted value of a known format")
    return parts[0], parts[1], parts[2]


def decrypt_str(token: str, *, associated_data: str = "") -> str:
    _version, kid, blob = _split(token)
    key = keyring().keys.get(kid)
    if key is None:
        raise DecryptionError(f"unknown encryption key id {kid!r} (was it removed too early?)")
    try:
        raw = base64.b64decode(blob, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DecryptionError("encrypted value is not valid base64") from exc
    if len(raw) < NONCE_BYTES + 16:
        raise DecryptionError("encrypted value is truncated")
    try:
        plain = AESGCM(key).decrypt(
            raw[:NONCE_BYTES], raw[NONCE_BYTES:], associated_data.encode("utf-8") or None
        )
    except InvalidTag as exc:
        raise DecryptionError("encrypted value failed authentication (tampered?)") from exc
    return plain.decode("utf-8")


def needs_reencryption(token: str) -> bool:
    """True when ``token`` was sealed with a key other than the active one."""
    return key_id_of(token) != keyring().active_kid


def blind_index(value: str, *, purpose: str) -> str:
    """Keyed HMAC-SHA256 (hex) of ``value`` for exact-match lookups.

    ``purpose`` separates domains, so the index of a phone number cannot be matched against
    the index of an ID number. Normalise ``value`` before calling.
    """
    key = settings.YAJI_LOOKUP_KEY.encode("utf-8")
    message = purpose.encode("utf-8") + b"\x00" + value.encode("utf-8")
    return hmac.new(key, message, hashlib.sha256).hexdigest()
