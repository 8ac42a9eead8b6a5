"""Ed25519 keys, ``did:key`` identifiers and the signed checkpoint text — no database here.

* ``did:key``: ``did:key:z`` + base58btc(0xed 0x01 ‖ raw 32-byte public key) — the multicodec
  ``ed25519-pub`` varint prefix and multibase ``z`` (W3C did:key method).
* A checkpoint is the C2SP ``tlog-checkpoint`` body — origin, tree size, base64 root hash, one
  line each — plus one extension line ``time <RFC 3339 UTC>``; the log signs the UTF-8 body
  bytes with Ed25519. The key id is the first 4 bytes of SHA-256(origin ‖ "\\n" ‖ 0x01 ‖ key),
  as C2SP signed notes name Ed25519 keys.

Everything a verifier needs is in this module and :mod:`yaji.copyright.merkle`; neither
touches Django's database, so ``yaji verify`` runs offline.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58)}
ED25519_PUB_MULTICODEC = b"\xed\x01"
DID_KEY_PREFIX = "did:key:z"


class SignatureFormatError(ValueError):
    """Something that should be a key, a DID, a signature or a checkpoint is malformed."""


def b58encode(data: bytes) -> str:
    zeros = len(data) - len(data.lstrip(b"\x00"))
    number = int.from_bytes(data, "big")
    out = []
    while number:
        number, rem = divmod(number, 58)
        out.append(_B58[rem])
    return "1" * zeros + "".join(reversed(out))


def b58decode(text: str) -> bytes:
    number = 0
    for char in text:
        if char not in _B58_INDEX:
            raise SignatureFormatError(f"not base58: {char!r}")
        number = number * 58 + _B58_INDEX[char]
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\x00" * zeros + body


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str, *, size: int | None = None) -> bytes:
    try:
        raw = base64.b64decode(str(text), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SignatureFormatError("not base64") from exc
    if size is not None and len(raw) != size:
        raise SignatureFormatError(f"expected {size} bytes, got {len(raw)}")
    return raw


def private_key_from_seed(seed: bytes) -> Ed25519PrivateKey:
    if len(seed) != 32:
        raise SignatureFormatError("an Ed25519 seed is 32 bytes")
    return Ed25519PrivateKey.from_private_bytes(seed)


def seed_of(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )


def public_bytes(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def did_key(public: bytes) -> str:
    return DID_KEY_PREFIX + b58encode(ED25519_PUB_MULTICODEC + public)


def did_key_public(did: str) -> bytes:
    if not did.startswith(DID_KEY_PREFIX):
        raise SignatureFormatError("not an Ed25519 did:key")
    raw = b58decode(did[len(DID_KEY_PREFIX) :])
    if len(raw) != 34 or raw[:2] != ED25519_PUB_MULTICODEC:
        raise SignatureFormatError("not an Ed25519 did:key")
    return raw[2:]


def verify_signature(public: bytes, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def key_id(origin: str, public: bytes) -> bytes:
    return hashlib.sha256(origin.encode() + b"\n\x01" + public).digest()[:4]


def timestamp_format(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def timestamp_parse(text: str) -> datetime:
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    except ValueError as exc:
        raise SignatureFormatError("bad timestamp") from exc


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    timestamp: str  # RFC 3339, UTC, microseconds

    def body(self) -> bytes:
        return f"{self.origin}\n{self.size}\n{b64(self.root)}\ntime {self.timestamp}\n".encode()

    @classmethod
    def parse(cls, body: str) -> Checkpoint:
        lines = body.split("\n")
        if len(lines) != 5 or lines[-1] != "" or not lines[3].startswith("time "):
            raise SignatureFormatError("not a Yaji checkpoint")
        origin, size_text, root_text, time_line = lines[:4]
        if not size_text.isdigit() or not origin:
            raise SignatureFormatError("not a Yaji checkpoint")
        timestamp = time_line[len("time ") :]
        timestamp_parse(timestamp)
        return cls(
            origin=origin, size=int(size_text), root=unb64(root_text, size=32), timestamp=timestamp
        )


def checkpoint_sign(key: Ed25519PrivateKey, checkpoint: Checkpoint) -> bytes:
    return key.sign(checkpoint.body())


def checkpoint_verify(public: bytes, checkpoint: Checkpoint, signature: bytes) -> bool:
    return verify_signature(public, signature, checkpoint.body())
