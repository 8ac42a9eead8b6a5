"""Request and response bodies of the accounts API (validation only; rules live in services)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Field, Schema

# Text that is stored as is must not hold NUL (PostgreSQL rejects it in text columns).
NO_NUL = r"^[^\x00]*$"

Purpose = Literal["register", "password_reset", "login"]
LanguageCode = Literal["zh-hans", "en"]
RoleName = Literal[
    "buyer", "creator", "merchant_staff", "supplier", "operator", "reviewer", "finance"
]


class ErrorOut(Schema):
    code: str
    message: str
    extra: dict[str, Any]


class OkOut(Schema):
    ok: bool = True


class CodeSendIn(Schema):
    target: str = Field(..., min_length=5, max_length=254, description="Mainland mobile or e-mail")
    purpose: Purpose = "register"


class CodeSentOut(Schema):
    target_masked: str
    channel: str
    expires_at: datetime
    resend_after_s: int


class RegisterIn(Schema):
    identifier: str = Field(..., min_length=5, max_length=254)
    code: str = Field(..., pattern=r"^\d{6}$")
    password: str = Field(..., min_length=1, max_length=128)
    display_name: str = Field("", max_length=64, pattern=NO_NUL)
    language: LanguageCode = "zh-hans"


class LoginIn(Schema):
    identifier: str = Field(..., min_length=1, max_length=254)
    password: str = Field(..., min_length=1, max_length=128)
    device_id: str = Field("", max_length=200, description="Stable id of this app install")
    device_label: str = Field("", max_length=100, pattern=NO_NUL)


class LoginCodeIn(Schema):
    identifier: str = Field(..., min_length=1, max_length=254)
    code: str = Field(..., min_length=1, max_length=8, description="Sent for purpose login")
    device_id: str = Field("", max_length=200, description="Stable id of this app install")
    device_label: str = Field("", max_length=100, pattern=NO_NUL)


class RefreshIn(Schema):
    refresh_token: str = Field(..., min_length=1, max_length=200)


class RoleOut(Schema):
    id: int
    role: str
    scope: str
    created_at: datetime


class MeOut(Schema):
    id: int
    email: str | None
    phone_masked: str
    display_name: str
    language: str
    roles: list[RoleOut]
    kyc_status: str
    is_minor: bool | None
    created_at: datetime


class TokenOut(Schema):
    token_type: str
    access_token: str
    refresh_token: str
    expires_in: int
    access_expires_at: datetime
    refresh_expires_at: datetime
    device_id: int


class LoginOut(TokenOut):
    user: MeOut


class MeUpdateIn(Schema):
    display_name: str | None = Field(None, max_length=64, pattern=NO_NUL)
    language: LanguageCode | None = None


class PasswordChangeIn(Schema):
    old_password: str = Field(..., min_length=1, max_length=128)
    new_password: str = Field(..., min_length=1, max_length=128)


class PasswordResetIn(Schema):
    identifier: str = Field(..., min_length=5, max_length=254)
    code: str = Field(..., pattern=r"^\d{6}$")
    new_password: str = Field(..., min_length=1, max_length=128)


class DeviceOut(Schema):
    id: int
    label: str
    user_agent: str
    last_ip: str | None
    first_seen_at: datetime
    last_seen_at: datetime
    active_tokens: int
    current: bool


class TokenMetaOut(Schema):
    id: int
    kind: str
    device_id: int
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None


class LoginEventOut(Schema):
    id: int
    success: bool
    reason: str
    ip: str | None
    user_agent: str
    device_id: int | None
    created_at: datetime


class KycIn(Schema):
    real_name: str = Field(..., min_length=1, max_length=40)
    id_number: str = Field(..., min_length=15, max_length=24)


class KycOut(Schema):
    status: str
    real_name_masked: str
    id_number_masked: str
    reason_code: str
    verified_at: datetime | None
    face_verified_at: datetime | None
    age: int | None
    is_minor: bool | None


class FaceIn(Schema):
    liveness_token: str = Field(..., min_length=1, max_length=200)


class FaceOut(Schema):
    verified: bool
    score: float
    provider_ref: str


class AuditEntryOut(Schema):
    id: int
    action: str
    actor_id: int | None
    target_type: str
    target_id: str
    ip: str | None
    metadata: dict[str, Any]
    created_at: datetime


class DeleteIn(Schema):
    password: str = Field(..., min_length=1, max_length=128)


class RoleGrantIn(Schema):
    user_id: int = Field(..., ge=1, le=2**62)
    role: RoleName
    scope: str = Field("", max_length=64, description='"" or "shop:<id>" for merchant_staff')


class RoleAssignmentOut(RoleOut):
    user_id: int
