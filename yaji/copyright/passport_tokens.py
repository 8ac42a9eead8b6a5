"""The signed QR payload of a digital passport — no database here, so it can be checked
offline with nothing but the log's public key.

``YJP1.<base64url(payload)>.<base64url(signature)>`` where the payload is canonical JSON
(:func:`yaji.copyright.statements.canonical`)::

    {"v": 1, "serial": "YJ-…", "origin": "<log origin>",
     "design": {"index": 17, "leaf_hash": "<64 hex>"},
     "edition": {"product": 42, "number": 3, "size": 100}}

and the signature is the log's Ed25519 key over ``b"yaji-passport-v1\\n" + payload`` (the
prefix keeps a passport signature from ever being mistaken for a checkpoint's). The payload
binds the unit to the registered design's log entry by index *and* leaf hash, so a payload
pointing at another design, another number or another log fails the signature.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from yaji.copyright import signing
from yaji.copyright.statements import canonical

PREFIX = "YJP1"
DOMAIN = b"yaji-passport-v1\n"
TOKEN_MAX = 1200
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_SERIAL = re.compile(r"^YJ-[0-9A-Z]{4,36}$")


class PassportTokenError(ValueError):
    """A QR payload that is malformed, altered or not signed by this log."""


@dataclass(frozen=True)
class PassportClaim:
    serial: str
    origin: str
    design_index: int
    design_leaf_hash: str
    product_id: int
    number: int
    edition_size: int

    def payload(self) -> bytes:
        return canonical(
            {
                "v": 1,
                "serial": self.serial,
                "origin": self.origin,
                "design": {"index": self.design_index, "leaf_hash": self.design_leaf_hash},
                "edition": {
                    "product": self.product_id,
                    "number": self.number,
                    "size": self.edition_size,
                },
            }
        )


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text):
        raise PassportTokenError("not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise PassportTokenError("not base64url") from exc


def token_sign(key: Ed25519PrivateKey, claim: PassportClaim) -> str:
    payload = claim.payload()
    return f"{PREFIX}.{_b64url(payload)}.{_b64url(key.sign(DOMAIN + payload))}"


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**63:
        raise PassportTokenError("bad number in the payload")
    return value


def token_verify(token: str, *, public_key: bytes, origin: str) -> PassportClaim:
    """The claim in ``token`` if the log signed exactly these bytes; raises otherwise."""
    token = (token or "").strip()
    if len(token) > TOKEN_MAX:
        raise PassportTokenError("payload too long")
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != PREFIX:
        raise PassportTokenError("not a Yaji passport payload")
    payload, signature = _unb64url(parts[1]), _unb64url(parts[2])
    if len(signature) != 64 or not signing.verify_signature(
        public_key, signature, DOMAIN + payload
    ):
        raise PassportTokenError("the signature does not verify with this log's key")
    try:
        obj = json.loads(payload.decode("ascii"))
        claim = PassportClaim(
            serial=str(obj["serial"]),
            origin=str(obj["origin"]),
            design_index=_int(obj["design"]["index"]),
            design_leaf_hash=str(obj["design"]["leaf_hash"]),
            product_id=_int(obj["edition"]["product"]),
            number=_int(obj["edition"]["number"]),
            edition_size=_int(obj["edition"]["size"]),
        )
    except (UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise PassportTokenError("the payload is not a passport") from exc
    if claim.payload() != payload or obj.get("v") != 1:
        raise PassportTokenError("the payload is not in canonical form")
    if not _SERIAL.match(claim.serial) or not _HEX64.match(claim.design_leaf_hash):
        raise PassportTokenError("bad serial or design hash")
    if claim.origin != origin:
        raise PassportTokenError("the passport belongs to another log")
    return claim
