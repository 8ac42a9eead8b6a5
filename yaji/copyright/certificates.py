"""Registration certificates: the JSON document, its offline verification and a printable PNG.

A certificate carries everything needed to check it without asking the platform::

    {"format": "yaji-copyright-certificate/1",
     "entry": {"index": 7, "leaf": "<the canonical leaf JSON, as stored and hashed>"},
     "inclusion_proof": {"leaf_index": 7, "tree_size": 12, "hashes": ["<base64>", ...]},
     "checkpoint": {"body": "<origin>\\n12\\n<base64 root>\\ntime <RFC 3339>\\n",
                    "signature": "<base64 Ed25519>", "key_id": "<8 hex>"},
     "log": {"origin": "...", "public_key": "<base64>"}}

Verification (``yaji verify``, the public page) trusts only the log public key it is given —
never the ``log`` block inside the document, which is there for convenience: the checkpoint
signature must verify with the trusted key, the leaf must be included in that checkpoint's
tree at its index, and the leaf's own author signature must verify.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from yaji.copyright import merkle, signing
from yaji.copyright.statements import StatementError, statement_parse

FORMAT = "yaji-copyright-certificate/1"
MAX_CERTIFICATE_BYTES = 64 * 1024
MAX_PROOF_HASHES = 64


class CertificateError(ValueError):
    """The certificate does not verify; the message says which check failed (English, for
    the command line; the web page maps ``code`` to a translated message)."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


@dataclass(frozen=True)
class Verdict:
    index: int
    tree_size: int
    root_hash: str
    origin: str
    checkpoint_time: str
    statement: dict[str, Any]


def certificate_document(
    *,
    index: int,
    leaf: str,
    proof: list[bytes],
    checkpoint_body: bytes,
    checkpoint_signature: str,
    key_id: str,
    origin: str,
    public_key: bytes,
    tree_size: int,
) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "entry": {"index": index, "leaf": leaf},
        "inclusion_proof": {
            "leaf_index": index,
            "tree_size": tree_size,
            "hashes": [signing.b64(h) for h in proof],
        },
        "checkpoint": {
            "body": checkpoint_body.decode(),
            "signature": checkpoint_signature,
            "key_id": key_id,
        },
        "log": {"origin": origin, "public_key": signing.b64(public_key)},
    }


def certificate_json(document: dict[str, Any], *, compact: bool = False) -> str:
    if compact:
        return json.dumps(document, separators=(",", ":"), ensure_ascii=False)
    return json.dumps(document, indent=2, ensure_ascii=False)


def certificate_load(text: str | bytes) -> dict[str, Any]:
    if isinstance(text, bytes):
        if len(text) > MAX_CERTIFICATE_BYTES:
            raise CertificateError("too_large", "the certificate is larger than 64 KiB")
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CertificateError("malformed", "the certificate is not UTF-8 text") from exc
    if len(text) > MAX_CERTIFICATE_BYTES:
        raise CertificateError("too_large", "the certificate is larger than 64 KiB")
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise CertificateError("malformed", "the certificate is not JSON") from exc
    if not isinstance(document, dict):
        raise CertificateError("malformed", "the certificate is not a JSON object")
    return document


def _field(document: dict[str, Any], *path: str) -> Any:
    value: Any = document
    for key in path:
        if not isinstance(value, dict) or key not in value:
            raise CertificateError("malformed", f"missing field {'.'.join(path)}")
        value = value[key]
    return value


def certificate_verify(
    document: dict[str, Any], *, public_key: bytes, origin: str | None = None
) -> Verdict:
    """Check a certificate against the trusted log ``public_key``; raise CertificateError."""
    if document.get("format") != FORMAT:
        raise CertificateError("malformed", f"not a {FORMAT} document")
    index = _field(document, "entry", "index")
    leaf = _field(document, "entry", "leaf")
    proof_index = _field(document, "inclusion_proof", "leaf_index")
    tree_size = _field(document, "inclusion_proof", "tree_size")
    hashes = _field(document, "inclusion_proof", "hashes")
    body = _field(document, "checkpoint", "body")
    signature = _field(document, "checkpoint", "signature")
    if not all(
        isinstance(v, int) and not isinstance(v, bool) for v in (index, proof_index, tree_size)
    ):
        raise CertificateError("malformed", "index and tree size must be integers")
    if not isinstance(leaf, str) or not isinstance(body, str) or not isinstance(hashes, list):
        raise CertificateError("malformed", "leaf, checkpoint body and proof have wrong types")
    if len(hashes) > MAX_PROOF_HASHES:
        raise CertificateError("malformed", "the inclusion proof is implausibly long")
    try:
        checkpoint = signing.Checkpoint.parse(body)
        sig = signing.unb64(signature, size=64)
        path = [signing.unb64(h, size=32) for h in hashes]
    except (signing.SignatureFormatError, TypeError) as exc:
        raise CertificateError("malformed", f"malformed checkpoint or proof: {exc}") from exc
    if not signing.checkpoint_verify(public_key, checkpoint, sig):
        raise CertificateError(
            "bad_checkpoint_signature",
            "the checkpoint signature does not verify with the log's public key",
        )
    if origin is not None and checkpoint.origin != origin:
        raise CertificateError(
            "wrong_origin", f"the checkpoint is from log {checkpoint.origin!r}, not {origin!r}"
        )
    if proof_index != index or tree_size != checkpoint.size:
        raise CertificateError(
            "proof_mismatch", "the inclusion proof is not for this entry and checkpoint"
        )
    try:
        leaf_bytes = leaf.encode("ascii")
    except UnicodeEncodeError as exc:
        raise CertificateError("bad_leaf", "the leaf is not canonical ASCII JSON") from exc
    if not merkle.verify_inclusion(
        merkle.leaf_hash(leaf_bytes), index, tree_size, path, checkpoint.root
    ):
        raise CertificateError(
            "not_included",
            f"entry {index} is not included in the signed tree of size {tree_size} "
            "(the leaf or the proof was altered)",
        )
    try:
        statement = statement_parse(leaf_bytes)
    except StatementError as exc:
        raise CertificateError("bad_leaf", f"the registration statement is invalid: {exc}") from exc
    return Verdict(
        index=index,
        tree_size=tree_size,
        root_hash=checkpoint.root.hex(),
        origin=checkpoint.origin,
        checkpoint_time=checkpoint.timestamp,
        statement=statement,
    )


# --- the printable certificate ------------------------------------------------------------------

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
)


def _font(size: int) -> Any:
    from PIL import ImageFont

    for candidate in FONT_CANDIDATES:
        if Path(candidate).exists():
            return ImageFont.truetype(candidate, size)
    return ImageFont.load_default(size)


def qr_matrix(payload: str) -> list[list[bool]]:
    import segno

    code = segno.make(payload, error="l", micro=False, mode="byte")
    return [[bool(cell) for cell in row] for row in code.matrix]


def certificate_png(document: dict[str, Any], *, lines: list[str], title: str) -> bytes:
    """An A4-ish PNG: title, the human lines, and a QR code holding the whole certificate."""
    from PIL import Image, ImageDraw

    matrix = qr_matrix(certificate_json(document, compact=True))
    quiet = 4
    modules = len(matrix) + 2 * quiet
    scale = max(4, 1100 // modules)
    qr_side = modules * scale
    width, height = 1240, 560 + qr_side + 80
    image = Image.new("RGB", (width, height), (252, 249, 242))
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 20, width - 20, height - 20), outline=(139, 58, 43), width=4)
    draw.text((60, 50), title, fill=(139, 58, 43), font=_font(44))
    y = 130
    small = _font(24)
    for line in lines:
        draw.text((60, y), line, fill=(40, 40, 40), font=small)
        y += 38
    left = (width - qr_side) // 2
    top = max(y + 20, 520)
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if dark:
                x0 = left + (c + quiet) * scale
                y0 = top + (r + quiet) * scale
                draw.rectangle((x0, y0, x0 + scale - 1, y0 + scale - 1), fill=(0, 0, 0))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
