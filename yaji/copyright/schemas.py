from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema


class ErrorOut(Schema):
    code: str
    message: str
    extra: dict[str, Any]


class LogKeyOut(Schema):
    origin: str
    public_key: str = Field(..., description="Ed25519 public key, base64 (32 bytes)")
    key_id: str = Field(..., description="First 4 bytes of SHA-256(origin ‖ LF ‖ 0x01 ‖ key), hex")
    algorithm: str = "Ed25519"


class CheckpointOut(Schema):
    origin: str
    tree_size: int
    root_hash: str = Field(..., description="Hex SHA-256 Merkle tree head (RFC 9162)")
    timestamp: str
    key_id: str
    signature: str = Field(..., description="Base64 Ed25519 signature of `body`")
    body: str = Field(..., description="The signed checkpoint text")


class EntryOut(Schema):
    index: int
    leaf: str = Field(..., description="Canonical JSON statement: the RFC 6962 leaf data")
    leaf_hash: str


class InclusionProofOut(Schema):
    leaf_index: int
    tree_size: int
    hashes: list[str] = Field(..., description="Base64 hashes, leaf side first (RFC 9162 §2.1.3)")


class ConsistencyProofOut(Schema):
    first: int
    second: int
    hashes: list[str] = Field(..., description="Base64 hashes (RFC 9162 §2.1.4)")


class RegistrationIn(Schema):
    work_id: int = Field(..., ge=1, le=2**63 - 1)


class RegistrationOut(Schema):
    id: int
    work_id: int
    status: str
    content_sha256: str
    author_did: str
    index: int | None
    certificate_url: str | None
    created_at: datetime


class VerifyIn(Schema):
    certificate: dict[str, Any]


class VerdictOut(Schema):
    valid: bool
    code: str | None = None
    message: str | None = None
    index: int | None = None
    tree_size: int | None = None
    root_hash: str | None = None
    checkpoint_time: str | None = None
    statement: dict[str, Any] | None = None


class CaseOut(Schema):
    id: int
    status: str
    distance: int
    product_id: int | None
    registration_id: int | None
    matched_registration_id: int
    created_at: datetime


class CaseDecisionIn(Schema):
    infringing: bool
    reason: str = Field("", max_length=1000)


class TakedownIn(Schema):
    product_id: int = Field(..., ge=1, le=2**63 - 1)
    certificate: dict[str, Any] = Field(..., description="Your registration certificate (JSON)")
    statement: str = Field(..., min_length=1, max_length=4000)


class StatementIn(Schema):
    statement: str = Field(..., min_length=1, max_length=4000)


class TakedownDecisionIn(Schema):
    uphold: bool
    reason: str = Field(..., min_length=1, max_length=4000)


class TakedownEventOut(Schema):
    kind: str
    note: str
    created_at: datetime


class TakedownOut(Schema):
    id: int
    product_id: int
    registration_id: int
    status: str
    statement: str
    counter_statement: str
    decision_reason: str
    events: list[TakedownEventOut]


class PassportScanIn(Schema):
    token: str = Field(..., max_length=2000)
    city: str = Field("", max_length=20)


class PassportStepOut(Schema):
    kind: str
    index: int
    time: str
    leaf_hash: str
    status: str  # verified | pending | failed
    proof_hashes: int


class PassportScanOut(Schema):
    serial: str
    status: str
    product_id: int
    number: int
    design_registration_id: int
    trail: list[PassportStepOut]
    flags: list[dict[str, Any]]
    checkpoint_size: int | None
