"""The leaf: a registration statement, serialised canonically and signed by its author.

Canonical form (what is hashed as RFC 6962 leaf data): UTF-8 of ``json.dumps(obj,
sort_keys=True, separators=(",", ":"), ensure_ascii=True)`` — keys sorted, no whitespace,
only ASCII, integers only (no floats). Fields, version 1::

    {"v": 1, "type": "work", "work_id": 42, "work_kind": "design",
     "content_sha256": "<64 hex>", "dhash": "<16 hex>"|null, "dhash_mirror": ...,
     "phash": ..., "phash_mirror": ..., "author": "did:key:z6Mk...",
     "time": "2026-11-22T07:40:00.123456Z", "sig": "<base64 Ed25519>"}

``sig`` is the author's custodial key signing the canonical form of every other field, so
the leaf says "this author claimed this content at this time" by itself; the log's checkpoint
then says "and the log has held that claim since". No name, phone or account id appears.
"""

from __future__ import annotations

import json
import re
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from yaji.copyright import signing

VERSION = 1
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_HEX16 = re.compile(r"^[0-9a-f]{16}$")
FIELDS = {
    "v",
    "type",
    "work_id",
    "work_kind",
    "content_sha256",
    "dhash",
    "dhash_mirror",
    "phash",
    "phash_mirror",
    "author",
    "time",
    "sig",
}


class StatementError(ValueError):
    """A leaf that is not a well-formed, correctly signed statement."""


def canonical(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def statement_build(
    *,
    key: Ed25519PrivateKey,
    work_id: int,
    work_kind: str,
    content_sha256: str,
    hashes: dict[str, str | None],
    time: str,
) -> bytes:
    body: dict[str, Any] = {
        "v": VERSION,
        "type": "work",
        "work_id": work_id,
        "work_kind": work_kind,
        "content_sha256": content_sha256,
        "dhash": hashes.get("dhash"),
        "dhash_mirror": hashes.get("dhash_mirror"),
        "phash": hashes.get("phash"),
        "phash_mirror": hashes.get("phash_mirror"),
        "author": signing.did_key(signing.public_bytes(key)),
        "time": time,
    }
    body["sig"] = signing.b64(key.sign(canonical(body)))
    return canonical(body)


PASSPORT_FIELDS = {
    "v",
    "type",
    "serial",
    "event",
    "design_index",
    "design_leaf_hash",
    "number",
    "issuer",
    "time",
    "sig",
}
PASSPORT_EVENTS = {"produced", "sold", "transferred", "voided"}


def passport_statement_build(
    *,
    key: Ed25519PrivateKey,
    serial: str,
    event: str,
    design_index: int,
    design_leaf_hash: str,
    number: int,
    time: str,
) -> bytes:
    """A step of a limited-edition unit's provenance, signed by the log's key (the platform
    attests it produced, sold or saw the transfer). No buyer or holder is named."""
    body: dict[str, Any] = {
        "v": VERSION,
        "type": "passport",
        "serial": serial,
        "event": event,
        "design_index": design_index,
        "design_leaf_hash": design_leaf_hash,
        "number": number,
        "issuer": signing.did_key(signing.public_bytes(key)),
        "time": time,
    }
    body["sig"] = signing.b64(key.sign(canonical(body)))
    return canonical(body)


def _passport_parse(obj: dict[str, Any]) -> dict[str, Any]:
    if set(obj) != PASSPORT_FIELDS or obj.get("v") != VERSION:
        raise StatementError("leaf does not have the passport version 1 fields")
    if obj["event"] not in PASSPORT_EVENTS or not _HEX64.match(str(obj["design_leaf_hash"])):
        raise StatementError("bad passport event or design hash")
    if not isinstance(obj["design_index"], int) or not isinstance(obj["number"], int):
        raise StatementError("bad design index or edition number")
    try:
        signing.timestamp_parse(str(obj["time"]))
        public = signing.did_key_public(str(obj["issuer"]))
        sig = signing.unb64(str(obj["sig"]), size=64)
    except signing.SignatureFormatError as exc:
        raise StatementError(str(exc)) from exc
    unsigned = {k: v for k, v in obj.items() if k != "sig"}
    if not signing.verify_signature(public, sig, canonical(unsigned)):
        raise StatementError("the issuer's signature does not verify")
    return obj


def statement_parse(leaf: bytes, *, types: tuple[str, ...] = ("work",)) -> dict[str, Any]:
    """The statement in ``leaf``, checked: canonical bytes, fields, and the signature.

    ``types`` says which statements the caller accepts: a certificate is only ever for a
    work; the whole-log audit accepts passport steps too."""
    try:
        obj = json.loads(leaf.decode("ascii"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise StatementError("leaf is not ASCII JSON") from exc
    if isinstance(obj, dict) and obj.get("type") == "passport" and "passport" in types:
        if canonical(obj) != leaf:
            raise StatementError("leaf is not in canonical form")
        return _passport_parse(obj)
    if not isinstance(obj, dict) or set(obj) != FIELDS or obj.get("v") != VERSION:
        raise StatementError("leaf does not have the version 1 fields")
    if canonical(obj) != leaf:
        raise StatementError("leaf is not in canonical form")
    if not isinstance(obj["work_id"], int) or not _HEX64.match(str(obj["content_sha256"])):
        raise StatementError("bad work id or content hash")
    for name in ("dhash", "dhash_mirror", "phash", "phash_mirror"):
        if obj[name] is not None and not _HEX16.match(str(obj[name])):
            raise StatementError(f"bad {name}")
    try:
        signing.timestamp_parse(str(obj["time"]))
        public = signing.did_key_public(str(obj["author"]))
        sig = signing.unb64(str(obj["sig"]), size=64)
    except signing.SignatureFormatError as exc:
        raise StatementError(str(exc)) from exc
    unsigned = {k: v for k, v in obj.items() if k != "sig"}
    if not signing.verify_signature(public, sig, canonical(unsigned)):
        raise StatementError("the author's signature does not verify")
    return obj
