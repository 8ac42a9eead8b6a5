"""Reads of identity & trust data. Object-level rules live here: a user only ever gets their
own devices, tokens, KYC records and audit entries; anything else is "not found"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Q, QuerySet

from yaji.accounts.errors import NotFound
from yaji.accounts.models import (
    ApiToken,
    AuditEntry,
    Device,
    KycStatus,
    LoginEvent,
    RealNameVerification,
    RoleAssignment,
    User,
    age_on,
)
from yaji.core import clock

ADULT_AGE = 18


def local_today() -> date:
    """Today in the platform's configured time zone (``YAJI_TIME_ZONE``)."""
    return clock.now().astimezone(ZoneInfo(settings.TIME_ZONE)).date()


def user_age(user: User) -> int | None:
    if user.birth_date is None:
        return None
    return age_on(user.birth_date, local_today())


def user_is_minor(user: User) -> bool | None:
    """True under 18 by the verified birth date; None while the user has no verified ID."""
    age = user_age(user)
    return None if age is None else age < ADULT_AGE


def user_get(*, user_id: int) -> User:
    user = User.objects.filter(pk=user_id, deleted_at__isnull=True).first()
    if user is None:
        raise NotFound()
    return user


def user_by_identifier(*, identifier: str) -> User | None:
    from yaji.accounts.errors import InvalidIdentifier
    from yaji.accounts.identifiers import identifier_parse, phone_index

    try:
        ident = identifier_parse(identifier)
    except InvalidIdentifier:
        return None
    if ident.kind == "email":
        return User.objects.filter(email=ident.value).first()
    return User.objects.filter(phone_index=phone_index(ident.value)).first()


def user_devices(*, user: User) -> QuerySet[Device]:
    """The user's signed-in devices (not revoked), most recent first, with live-token counts."""
    now = clock.now()
    return (
        Device.objects.filter(user=user, revoked_at__isnull=True)
        .annotate(
            active_tokens=Count(
                "api_tokens",
                filter=Q(api_tokens__revoked_at__isnull=True, api_tokens__expires_at__gt=now),
            )
        )
        .order_by("-last_seen_at", "-id")
    )


def user_device_get(*, user: User, device_id: int) -> Device:
    device = Device.objects.filter(pk=device_id, user=user, revoked_at__isnull=True).first()
    if device is None:
        raise NotFound()
    return device


def user_api_tokens(*, user: User, active_only: bool = True) -> QuerySet[ApiToken]:
    qs = ApiToken.objects.filter(user=user).select_related("device").order_by("-created_at")
    if active_only:
        qs = qs.filter(revoked_at__isnull=True, expires_at__gt=clock.now())
    return qs


def user_login_events(*, user: User, limit: int = 50) -> list[LoginEvent]:
    return list(
        LoginEvent.objects.filter(user=user)
        .select_related("device")
        .order_by("-created_at", "-id")[:limit]
    )


def user_audit_entries(
    *, user: User, before_id: int | None = None, limit: int = 50
) -> list[AuditEntry]:
    """Audit entries by or about ``user``, newest first; page with ``before_id`` (cursor)."""
    qs = AuditEntry.objects.filter(Q(actor=user) | Q(target_user=user)).order_by("-id")
    if before_id is not None:
        qs = qs.filter(id__lt=before_id)
    return list(qs[: max(1, min(limit, 200))])


def user_roles(*, user: User) -> QuerySet[RoleAssignment]:
    return RoleAssignment.objects.filter(user=user).order_by("role", "scope")


def kyc_verified_record(*, user: User) -> RealNameVerification | None:
    return RealNameVerification.objects.filter(user=user, status=KycStatus.VERIFIED).first()


def kyc_latest(*, user: User) -> RealNameVerification | None:
    return RealNameVerification.objects.filter(user=user).order_by("-created_at", "-id").first()


@dataclass(frozen=True)
class KycSummary:
    status: str  # none | verified | rejected | erased
    real_name_masked: str
    id_number_masked: str
    reason_code: str
    verified_at: datetime | None
    face_verified_at: datetime | None
    age: int | None
    is_minor: bool | None


def kyc_status(*, user: User) -> KycSummary:
    """The user's real-name status, masked, with the minor flag risk control needs."""
    record = kyc_verified_record(user=user) or kyc_latest(user=user)
    if record is None:
        return KycSummary("none", "", "", "", None, None, None, None)
    return KycSummary(
        status=record.status,
        real_name_masked=record.real_name_masked,
        id_number_masked=record.id_number_masked,
        reason_code=record.reason_code,
        verified_at=record.verified_at,
        face_verified_at=record.face_verified_at,
        age=user_age(user),
        is_minor=user_is_minor(user),
    )
