"""Accounts services: every write to identity & trust data goes through here.

Public signatures (keyword-only; failures raise subclasses of
``yaji.core.errors.ApplicationError`` from ``yaji.accounts.errors`` with stable codes).
Pass the client's ``ip`` / ``user_agent`` / ``device_id`` where you have them (site views:
``request.META["REMOTE_ADDR"]``, ``HTTP_USER_AGENT``; API: ``X-Device-Id`` header).

Codes and registration
    verification_code_send(*, target: str, purpose: str = "register", ip: str | None = None)
        -> CodeSent(target_masked, channel, expires_at, resend_after_s)
        purpose in {"register", "password_reset", "login"}; target is a mainland mobile or an
        e-mail. For password_reset and login an unknown account gets the same answer, no code.
    user_register(*, identifier: str, code: str, password: str, display_name: str = "",
                  language: str = "zh-hans", ip: str | None = None) -> User
Login, devices, tokens
    user_authenticate(*, identifier: str, password: str, ip: str | None = None,
                      user_agent: str = "", device_id: str = "", device_label: str = "")
        -> LoginResult(user, device)        # records LoginEvent + Device; lockout
    user_authenticate_by_code(*, identifier: str, code: str, ip=None, user_agent="",
                              device_id="", device_label="") -> LoginResult  # purpose "login"
    device_session_bind(*, device: Device, session_key: str) -> None   # site login
    user_logout(*, user: User, session_key: str = "", ip: str | None = None) -> None
        # audits the sign-out (action "logout") and unbinds the device of that site session;
        # the caller ends the session itself (django.contrib.auth.logout) and, for a bearer
        # token, revokes it first with api_token_revoke
    api_token_issue(*, user: User, device: Device) -> TokenPair
    api_token_authenticate(*, raw_token: str) -> ApiToken            # access tokens only
    api_token_refresh(*, refresh_token: str, ip: str | None = None) -> TokenPair
    api_token_revoke(*, user: User, token_id: int, ip: str | None = None) -> None   # family
    device_revoke(*, user: User, device_id: int, ip: str | None = None) -> None
Profile and passwords
    user_profile_update(*, user: User, display_name: str | None = None,
                        language: str | None = None) -> User
    password_change(*, user: User, old_password: str, new_password: str,
                    keep_token_id: int | None = None, ip: str | None = None) -> None
        # revokes every API token except keep_token_id's family; Django sessions of other
        # devices die with the password hash (site: call update_session_auth_hash after)
    password_reset(*, identifier: str, code: str, new_password: str,
                   ip: str | None = None) -> User      # revokes every token
Real-name verification
    kyc_submit(*, user: User, real_name: str, id_number: str, ip: str | None = None)
        -> RealNameVerification   # raises KycRejected after storing a rejected attempt
    face_verify(*, user: User, liveness_token: str, ip: str | None = None) -> FaceResult
Roles
    role_grant(*, actor: User, user: User, role: str, scope: str = "",
               ip: str | None = None) -> RoleAssignment
    role_revoke(*, actor: User, assignment_id: int, ip: str | None = None) -> None
    scoped_role_grant(*, actor: User, user: User, role: str, scope: str,
                      authorized_by: str, ip: str | None = None) -> RoleAssignment
    scoped_role_revoke(*, actor: User, user: User, role: str, scope: str,
                       authorized_by: str, ip: str | None = None) -> None
        # for apps that authorised a scoped grant under their own rules (shop owners,
        # reviewers); only scoped roles such as merchant_staff, never platform roles
Personal data (PIPL)
    user_data_export(*, user: User, ip: str | None = None) -> dict
    user_delete(*, user: User, password: str, ip: str | None = None) -> None
Housekeeping
    credentials_purge_expired(*, keep: timedelta = 7 days) -> dict   # `yaji accounts-purge`
Audit
    audit_entry_record(*, action: str, actor: User | None = None,
                       target_user: User | None = None, target_type: str = "",
                       target_id: str = "", ip: str | None = None,
                       metadata: dict | None = None) -> AuditEntry

Reads live in ``yaji.accounts.selectors`` (user_devices, user_audit_entries, user_roles,
kyc_status, user_is_minor, ...) and role checks in ``yaji.accounts.permissions``.
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yaji.accounts import selectors, token_auth
from yaji.accounts.errors import (
    AccountLocked,
    CodeExpired,
    CodeInvalid,
    FaceRejected,
    IdAlreadyVerified,
    IdentifierTaken,
    InvalidCredentials,
    InvalidIdentifier,
    InvalidIdNumber,
    InvalidRealName,
    InvalidRole,
    InvalidScope,
    KycAlreadyVerified,
    KycRejected,
    KycRequired,
    KycUnavailable,
    NotFound,
    PermissionDenied,
    TokenInvalid,
    TokenReused,
    WeakPassword,
)
from yaji.accounts.identifiers import Identifier, identifier_parse, phone_index
from yaji.accounts.kyc import (
    FaceResult,
    ProviderUnavailable,
    id_number_normalize,
    id_number_parse,
    real_name_is_valid,
    verification_provider,
)
from yaji.accounts.models import (
    SCOPED_ROLES,
    ApiToken,
    AuditAction,
    AuditEntry,
    CodePurpose,
    Device,
    KycStatus,
    Language,
    LoginEvent,
    RealNameVerification,
    Role,
    RoleAssignment,
    TokenKind,
    User,
    VerificationCode,
)
from yaji.accounts.notifications import Notification, notification_send
from yaji.core import clock
from yaji.core.encryption import blind_index
from yaji.core.errors import ValidationFailed
from yaji.core.ratelimit import rate_limit_hit

logger = logging.getLogger("yaji.accounts")

# --- policy ------------------------------------------------------------------------------
CODE_TTL = timedelta(minutes=10)
CODE_MAX_ATTEMPTS = 5
CODE_LIMIT_PER_TARGET_MINUTE = 1
CODE_LIMIT_PER_TARGET_DAY = 10
CODE_LIMIT_PER_IP_HOUR = 30
LOGIN_MAX_FAILURES = 5
LOGIN_FAILURE_WINDOW = timedelta(minutes=15)
LOGIN_LOCK = timedelta(minutes=15)
LOGIN_LIMIT_PER_IP = 60  # attempts per LOGIN_FAILURE_WINDOW from one address
KYC_LIMIT_PER_DAY = 5  # provider calls cost money
ACCESS_TOKEN_TTL = timedelta(hours=1)
REFRESH_TOKEN_TTL = timedelta(days=30)
TOKEN_TOUCH_INTERVAL = token_auth.TOKEN_TOUCH_INTERVAL
ID_INDEX_PURPOSE = "accounts.id-number"
_SCOPE_RE = re.compile(r"^shop:[1-9]\d{0,17}$")


# --- results -----------------------------------------------------------------------------
@dataclass(frozen=True)
class CodeSent:
    target_masked: str
    channel: str
    expires_at: datetime
    resend_after_s: int


@dataclass(frozen=True)
class LoginResult:
    user: User
    device: Device


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    access_expires_at: datetime
    refresh_expires_at: datetime
    family: uuid.UUID
    device_id: int
    token_type: str = "Bearer"  # noqa: S105 - a scheme name

    @property
    def expires_in(self) -> int:
        return int(ACCESS_TOKEN_TTL.total_seconds())


# --- audit -------------------------------------------------------------------------------
def audit_entry_record(
    *,
    action: str,
    actor: User | None = None,
    target_user: User | None = None,
    target_type: str = "",
    target_id: str | int = "",
    ip: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one audit entry; call it inside the transaction of the action it records."""
    return AuditEntry.objects.create(
        action=action,
        actor=actor if actor is not None and actor.pk else None,
        target_user=target_user,
        target_type=target_type,
        target_id=str(target_id),
        ip=ip or None,
        metadata=metadata or {},
    )


# --- helpers -----------------------------------------------------------------------------
def _user_for(ident: Identifier) -> User | None:
    if ident.kind == "email":
        return User.objects.filter(email=ident.value).first()
    return User.objects.filter(phone_index=phone_index(ident.value)).first()


def _password_validate(password: str, *, user: User | None = None) -> None:
    try:
        password_validation.validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise WeakPassword(extra={"reasons": [str(m) for m in exc.messages]}) from exc


def _code_hash(*, target_index: str, purpose: str, code: str) -> str:
    return blind_index(f"{target_index}:{purpose}:{code}", purpose="accounts.code")


def _code_check(*, ident: Identifier, purpose: str, code: str) -> int:
    """Check ``code`` against the newest live code; returns its id, not yet consumed.

    A wrong guess is counted in its own transaction, committed before the error is raised,
    so it sticks; call this outside any outer ``atomic`` block.
    """
    error: Exception | None = None
    now = clock.now()
    with transaction.atomic():
        row = (
            VerificationCode.objects.select_for_update()
            .filter(target_index=ident.target_index, purpose=purpose, consumed_at__isnull=True)
            .order_by("-created_at", "-id")
            .first()
        )
        if row is None:
            error = CodeInvalid()
        elif row.attempts >= CODE_MAX_ATTEMPTS:
            error = CodeInvalid(extra={"attempts_left": 0})
        elif row.expires_at <= now:
            error = CodeExpired()
        elif not hmac.compare_digest(
            row.code_hash, _code_hash(target_index=ident.target_index, purpose=purpose, code=code)
        ):
            row.attempts += 1
            row.save(update_fields=["attempts", "updated_at"])
            error = CodeInvalid(extra={"attempts_left": max(0, CODE_MAX_ATTEMPTS - row.attempts)})
    if error is not None:
        raise error
    assert row is not None
    return row.pk


def _code_consume(code_id: int) -> None:
    # Conditional update: of two requests racing with the same code only one gets the row.
    if not VerificationCode.objects.filter(pk=code_id, consumed_at__isnull=True).update(
        consumed_at=clock.now()
    ):
        raise CodeInvalid()


def _token_hash(raw: str) -> str:
    return token_auth.token_hash(raw)


def _device_fingerprint(*, device_id: str, user_agent: str) -> str:
    device_id = (device_id or "").strip()[:200]
    basis = f"id:{device_id}" if device_id else f"ua:{user_agent or ''}"
    return blind_index(basis, purpose="accounts.device")


_UA_PLATFORMS = (
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)
_UA_BROWSERS = (
    ("MicroMessenger", "WeChat"),
    ("Edg/", "Edge"),
    ("Chrome/", "Chrome"),
    ("Firefox/", "Firefox"),
    ("Safari/", "Safari"),
)


def _device_label(user_agent: str) -> str:
    platform = next((name for token, name in _UA_PLATFORMS if token in user_agent), "")
    browser = next((name for token, name in _UA_BROWSERS if token in user_agent), "")
    if browser and platform:
        return f"{browser} · {platform}"
    return browser or platform or (user_agent[:60] if user_agent else str(_("未知设备")))


def _session_delete(session_key: str) -> None:
    if session_key:
        store = import_module(settings.SESSION_ENGINE).SessionStore
        store(session_key=session_key).delete()


def _tokens_revoke(queryset) -> int:  # type: ignore[no-untyped-def]
    live = queryset.filter(revoked_at__isnull=True)
    # The bearer-token cache must stop serving these at once (ADR 0036): their entries go and
    # their users' auth generation moves on, after this transaction commits.
    affected = list(live.values_list("user_id", "token_hash"))
    revoked = live.update(revoked_at=clock.now())
    token_auth.auth_generation_bump(
        user_ids={user_id for user_id, _hash in affected},
        token_hashes=[hashed for _user_id, hashed in affected],
    )
    return revoked


# --- codes -------------------------------------------------------------------------------
# Codes for these purposes go only to existing accounts; for others the answer is the same.
CODES_FOR_EXISTING_ACCOUNTS = (CodePurpose.PASSWORD_RESET, CodePurpose.LOGIN)


@transaction.atomic
def verification_code_send(
    *, target: str, purpose: str = CodePurpose.REGISTER, ip: str | None = None
) -> CodeSent:
    ident = identifier_parse(target)
    if purpose not in CodePurpose.values:
        raise ValidationFailed(extra={"purpose": purpose})
    if ip:
        rate_limit_hit(key=f"code:ip:{ip}", limit=CODE_LIMIT_PER_IP_HOUR, window_s=3600)
    rate_limit_hit(
        key=f"code:t:{ident.target_index}:m", limit=CODE_LIMIT_PER_TARGET_MINUTE, window_s=60
    )
    rate_limit_hit(
        key=f"code:t:{ident.target_index}:d", limit=CODE_LIMIT_PER_TARGET_DAY, window_s=86400
    )
    user = _user_for(ident)
    if purpose == CodePurpose.REGISTER and user is not None:
        raise IdentifierTaken()
    now = clock.now()
    expires_at = now + CODE_TTL
    sent = CodeSent(ident.masked, ident.channel, expires_at, 60)
    if purpose in CODES_FOR_EXISTING_ACCOUNTS and (user is None or not user.is_active):
        # Same answer as for a real account, so the endpoint cannot be used to probe.
        return sent
    # A new code replaces any older live one.
    VerificationCode.objects.filter(
        target_index=ident.target_index, purpose=purpose, consumed_at__isnull=True
    ).update(consumed_at=now)
    code = f"{secrets.randbelow(1_000_000):06d}"
    VerificationCode.objects.create(
        target_index=ident.target_index,
        channel=ident.channel,
        purpose=purpose,
        code_hash=_code_hash(target_index=ident.target_index, purpose=purpose, code=code),
        expires_at=expires_at,
        ip=ip or None,
    )
    minutes = int(CODE_TTL.total_seconds() // 60)
    body = f"【雅集】您的验证码是 {code}，{minutes} 分钟内有效。请勿告诉他人。"
    notification_send(
        Notification(
            channel=ident.channel,
            target=ident.value,
            template=f"verification_code.{purpose}",
            body=body,
            code=code,
            context={"purpose": purpose, "minutes": minutes},
            created_at=now,
        )
    )
    return sent


# --- registration ------------------------------------------------------------------------
def user_register(
    *,
    identifier: str,
    code: str,
    password: str,
    display_name: str = "",
    language: str = Language.ZH_HANS,
    ip: str | None = None,
) -> User:
    ident = identifier_parse(identifier)
    if language not in Language.values:
        raise ValidationFailed(extra={"language": language})
    display_name = (display_name or "").strip()[:64]
    candidate = User(
        email=ident.value if ident.kind == "email" else None, display_name=display_name
    )
    _password_validate(password, user=candidate)
    if _user_for(ident) is not None:
        raise IdentifierTaken()
    code_id = _code_check(ident=ident, purpose=CodePurpose.REGISTER, code=code)
    try:
        with transaction.atomic():
            _code_consume(code_id)
            user = User(display_name=display_name, language=language)
            if ident.kind == "email":
                user.email = ident.value
            else:
                user.phone = ident.value
                user.phone_index = phone_index(ident.value)
            user.set_password(password)
            user.save()
            RoleAssignment.objects.create(user=user, role=Role.BUYER)
            audit_entry_record(
                action=AuditAction.REGISTER,
                actor=user,
                target_user=user,
                ip=ip,
                metadata={"channel": ident.channel},
            )
    except IntegrityError as exc:
        raise IdentifierTaken() from exc
    return user


# --- login -------------------------------------------------------------------------------
def _recent_failures(lock_key: str) -> list[datetime]:
    """Counted failures (newest first, at most the limit) since the window or last success."""
    since = clock.now() - LOGIN_FAILURE_WINDOW
    last_success = (
        LoginEvent.objects.filter(identifier_index=lock_key, success=True)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if last_success and last_success > since:
        since = last_success
    return list(
        LoginEvent.objects.filter(
            identifier_index=lock_key,
            success=False,
            reason=InvalidCredentials.code,
            created_at__gt=since,
        )
        .order_by("-created_at")
        .values_list("created_at", flat=True)[:LOGIN_MAX_FAILURES]
    )


def _lock_remaining(lock_key: str) -> int:
    """Seconds left of a lockout for this identifier/user (0 when not locked)."""
    failures = _recent_failures(lock_key)
    if len(failures) < LOGIN_MAX_FAILURES:
        return 0
    left = (failures[0] + LOGIN_LOCK - clock.now()).total_seconds()
    return int(left) + 1 if left > 0 else 0


def user_authenticate(
    *,
    identifier: str,
    password: str,
    ip: str | None = None,
    user_agent: str = "",
    device_id: str = "",
    device_label: str = "",
) -> LoginResult:
    """Check a password login; every attempt is recorded, failures before the error is raised.

    Call outside an outer ``atomic`` block, or a failure's record rolls back with it.
    """
    user_agent = (user_agent or "")[:512]
    if ip:
        rate_limit_hit(
            key=f"login:ip:{ip}",
            limit=LOGIN_LIMIT_PER_IP,
            window_s=int(LOGIN_FAILURE_WINDOW.total_seconds()),
        )
    try:
        ident: Identifier | None = identifier_parse(identifier)
    except InvalidIdentifier:
        ident = None
    user = _user_for(ident) if ident else None
    if user is not None:
        lock_key = blind_index(f"user:{user.pk}", purpose="accounts.login")
    elif ident is not None:
        lock_key = ident.target_index
    else:
        lock_key = blind_index((identifier or "").strip().lower(), purpose="accounts.login")

    remaining = _lock_remaining(lock_key)
    if remaining:
        LoginEvent.objects.create(
            user=user,
            identifier_index=lock_key,
            success=False,
            reason=AccountLocked.code,
            ip=ip or None,
            user_agent=user_agent,
        )
        raise AccountLocked(extra={"retry_after": remaining})

    if user is None:
        # Spend the same hashing time as a real check so timing does not reveal accounts.
        User().set_password(password)
        ok = False
    else:
        ok = user.is_active and user.deleted_at is None and user.check_password(password)

    if not ok:
        with transaction.atomic():
            LoginEvent.objects.create(
                user=user,
                identifier_index=lock_key,
                success=False,
                reason=InvalidCredentials.code,
                ip=ip or None,
                user_agent=user_agent,
            )
            if user is not None:
                audit_entry_record(
                    action=AuditAction.LOGIN_FAILED,
                    actor=None,
                    target_user=user,
                    ip=ip,
                    metadata={"reason": InvalidCredentials.code},
                )
        remaining = _lock_remaining(lock_key)
        if remaining:
            raise AccountLocked(extra={"retry_after": remaining})
        left = max(0, LOGIN_MAX_FAILURES - len(_recent_failures(lock_key)))
        raise InvalidCredentials(extra={"attempts_left": left})

    assert user is not None
    with transaction.atomic():
        return _login_record(
            user=user,
            lock_key=lock_key,
            ip=ip,
            user_agent=user_agent,
            device_id=device_id,
            device_label=device_label,
            method="password",
        )


def user_authenticate_by_code(
    *,
    identifier: str,
    code: str,
    ip: str | None = None,
    user_agent: str = "",
    device_id: str = "",
    device_label: str = "",
) -> LoginResult:
    """Log in with a one-time code sent for purpose ``login`` instead of a password.

    Guessing is bounded by the code itself (5 attempts, 10 minutes, rate-limited sending);
    an unknown account gets the same ``code_invalid`` as a wrong code, so it cannot be probed.
    Call outside an outer ``atomic`` block, or a wrong guess's count rolls back with it.
    """
    user_agent = (user_agent or "")[:512]
    ident = identifier_parse(identifier)
    user = _user_for(ident)
    if user is None or not user.is_active or user.deleted_at is not None:
        raise CodeInvalid()
    code_id = _code_check(ident=ident, purpose=CodePurpose.LOGIN, code=code)
    with transaction.atomic():
        _code_consume(code_id)
        return _login_record(
            user=user,
            lock_key=blind_index(f"user:{user.pk}", purpose="accounts.login"),
            ip=ip,
            user_agent=user_agent,
            device_id=device_id,
            device_label=device_label,
            method="code",
        )


def _login_record(
    *,
    user: User,
    lock_key: str,
    ip: str | None,
    user_agent: str,
    device_id: str,
    device_label: str,
    method: str,
) -> LoginResult:
    """A successful sign-in: the device, the login event (which also ends a lockout), audit."""
    device = _device_touch(
        user=user, ip=ip, user_agent=user_agent, device_id=device_id, label=device_label
    )
    LoginEvent.objects.create(
        user=user,
        identifier_index=lock_key,
        success=True,
        reason="" if method == "password" else method,
        ip=ip or None,
        user_agent=user_agent,
        device=device,
    )
    user.last_login = clock.now()
    user.save(update_fields=["last_login"])
    audit_entry_record(
        action=AuditAction.LOGIN,
        actor=user,
        target_user=user,
        ip=ip,
        target_type="device",
        target_id=device.pk,
        metadata={"method": method},
    )
    return LoginResult(user=user, device=device)


def _device_touch(
    *, user: User, ip: str | None, user_agent: str, device_id: str, label: str = ""
) -> Device:
    now = clock.now()
    fingerprint = _device_fingerprint(device_id=device_id, user_agent=user_agent)
    device, created = Device.objects.get_or_create(
        user=user,
        fingerprint=fingerprint,
        defaults={
            "label": (label or _device_label(user_agent))[:100],
            "user_agent": user_agent,
            "last_ip": ip or None,
            "last_seen_at": now,
        },
    )
    if not created:
        device.last_seen_at = now
        device.last_ip = ip or None
        device.user_agent = user_agent or device.user_agent
        device.revoked_at = None
        if label:
            device.label = label[:100]
        device.save()
    return device


@transaction.atomic
def device_session_bind(*, device: Device, session_key: str) -> None:
    """Remember the site session opened on ``device`` so revoking the device ends it."""
    Device.objects.filter(pk=device.pk).update(session_key=session_key or "")


@transaction.atomic
def user_logout(*, user: User, session_key: str = "", ip: str | None = None) -> None:
    """Record that ``user`` signed out, and unbind the site session from its device.

    The device stays listed (it is still a known browser) but no longer claims the session,
    so it shows no live site session and revoking it later touches nothing. Ending the session
    is the caller's job (``django.contrib.auth.logout``), as is revoking an API token.
    """
    device = None
    if session_key:
        device = Device.objects.filter(user=user, session_key=session_key).first()
        if device is not None:
            Device.objects.filter(pk=device.pk).update(session_key="", updated_at=clock.now())
    audit_entry_record(
        action=AuditAction.LOGOUT,
        actor=user,
        target_user=user,
        ip=ip,
        target_type="device" if device is not None else "",
        target_id=device.pk if device is not None else "",
        metadata={"session": bool(session_key)},
    )


# --- API tokens --------------------------------------------------------------------------
def _pair_issue(*, user: User, device: Device, family: uuid.UUID) -> TokenPair:
    now = clock.now()
    access = "yat_" + secrets.token_urlsafe(32)
    refresh = "yrt_" + secrets.token_urlsafe(32)
    access_exp = now + ACCESS_TOKEN_TTL
    refresh_exp = now + REFRESH_TOKEN_TTL
    ApiToken.objects.bulk_create(
        [
            ApiToken(
                user=user,
                device=device,
                family=family,
                kind=TokenKind.ACCESS,
                token_hash=_token_hash(access),
                expires_at=access_exp,
            ),
            ApiToken(
                user=user,
                device=device,
                family=family,
                kind=TokenKind.REFRESH,
                token_hash=_token_hash(refresh),
                expires_at=refresh_exp,
            ),
        ]
    )
    return TokenPair(access, refresh, access_exp, refresh_exp, family, device.pk)


@transaction.atomic
def api_token_issue(*, user: User, device: Device) -> TokenPair:
    if device.user_id != user.pk:
        raise NotFound()
    return _pair_issue(user=user, device=device, family=uuid.uuid4())


def api_token_authenticate(*, raw_token: str) -> ApiToken:
    """The live access token for ``raw_token``, with its ``user`` loaded (``device_id`` only).

    One plain statement, or a cache hit that revocations and user changes invalidate at once
    (``yaji.accounts.token_auth``, ADR 0036); the use is recorded at most once a minute.
    """
    return token_auth.token_authenticate(raw_token)


def api_token_refresh(*, refresh_token: str, ip: str | None = None) -> TokenPair:
    """Rotate a refresh token. Presenting a used one revokes its whole family (theft signal)."""
    error: Exception | None = None
    pair: TokenPair | None = None
    now = clock.now()
    with transaction.atomic():
        token = (
            ApiToken.objects.select_for_update()
            .select_related("user", "device")
            .filter(token_hash=_token_hash(refresh_token or ""), kind=TokenKind.REFRESH)
            .first()
        )
        if token is None:
            error = TokenInvalid()
        elif token.used_at is not None:
            revoked = _tokens_revoke(ApiToken.objects.filter(family=token.family))
            audit_entry_record(
                action=AuditAction.TOKEN_REUSE,
                actor=None,
                target_user=token.user,
                ip=ip,
                target_type="token_family",
                target_id=str(token.family),
                metadata={"revoked": revoked, "device_id": token.device_id},
            )
            error = TokenReused()
        elif token.revoked_at is not None or token.expires_at <= now or not token.user.is_active:
            error = TokenInvalid()
        else:
            token.used_at = now
            token.save(update_fields=["used_at", "updated_at"])
            _tokens_revoke(ApiToken.objects.filter(family=token.family).exclude(pk=token.pk))
            Device.objects.filter(pk=token.device_id).update(
                last_seen_at=now, **({"last_ip": ip} if ip else {})
            )
            pair = _pair_issue(user=token.user, device=token.device, family=token.family)
    if error is not None:
        raise error
    assert pair is not None
    return pair


@transaction.atomic
def api_token_revoke(*, user: User, token_id: int, ip: str | None = None) -> None:
    """Revoke the token ``token_id`` of ``user`` and the rest of its family (logout)."""
    token = ApiToken.objects.filter(pk=token_id, user=user).first()
    if token is None:
        raise NotFound()
    revoked = _tokens_revoke(ApiToken.objects.filter(family=token.family))
    audit_entry_record(
        action=AuditAction.TOKEN_REVOKE,
        actor=user,
        target_user=user,
        ip=ip,
        target_type="token_family",
        target_id=str(token.family),
        metadata={"revoked": revoked, "device_id": token.device_id},
    )


@transaction.atomic
def device_revoke(*, user: User, device_id: int, ip: str | None = None) -> None:
    """Sign a device out: its tokens are revoked and its site session ends."""
    device = selectors.user_device_get(user=user, device_id=device_id)
    revoked = _tokens_revoke(ApiToken.objects.filter(device=device))
    session_key = device.session_key
    device.revoked_at = clock.now()
    device.session_key = ""
    device.save(update_fields=["revoked_at", "session_key", "updated_at"])
    transaction.on_commit(lambda: _session_delete(session_key))
    audit_entry_record(
        action=AuditAction.DEVICE_REVOKE,
        actor=user,
        target_user=user,
        ip=ip,
        target_type="device",
        target_id=device.pk,
        metadata={"tokens_revoked": revoked},
    )


# --- profile and passwords ---------------------------------------------------------------
@transaction.atomic
def user_profile_update(
    *, user: User, display_name: str | None = None, language: str | None = None
) -> User:
    changed: list[str] = []
    if display_name is not None:
        display_name = display_name.strip()
        if len(display_name) > 64:
            raise ValidationFailed(extra={"display_name": "max 64"})
        user.display_name = display_name
        changed.append("display_name")
    if language is not None:
        if language not in Language.values:
            raise ValidationFailed(extra={"language": language})
        user.language = language
        changed.append("language")
    if changed:
        user.save(update_fields=[*changed, "updated_at"])
        audit_entry_record(
            action=AuditAction.PROFILE_UPDATE,
            actor=user,
            target_user=user,
            metadata={"fields": changed},
        )
    return user


@transaction.atomic
def password_change(
    *,
    user: User,
    old_password: str,
    new_password: str,
    keep_token_id: int | None = None,
    ip: str | None = None,
) -> None:
    rate_limit_hit(key=f"pwchange:{user.pk}", limit=10, window_s=3600)
    if not user.check_password(old_password):
        raise InvalidCredentials(_("当前密码不正确。"))
    _password_validate(new_password, user=user)
    user.set_password(new_password)
    user.save(update_fields=["password", "updated_at"])
    tokens = ApiToken.objects.filter(user=user)
    if keep_token_id is not None:
        keep = (
            ApiToken.objects.filter(pk=keep_token_id, user=user)
            .values_list("family", flat=True)
            .first()
        )
        if keep is not None:
            tokens = tokens.exclude(family=keep)
    revoked = _tokens_revoke(tokens)
    audit_entry_record(
        action=AuditAction.PASSWORD_CHANGE,
        actor=user,
        target_user=user,
        ip=ip,
        metadata={"tokens_revoked": revoked},
    )


def password_reset(*, identifier: str, code: str, new_password: str, ip: str | None = None) -> User:
    ident = identifier_parse(identifier)
    user = _user_for(ident)
    if user is None or not user.is_active:
        raise CodeInvalid()
    _password_validate(new_password, user=user)
    code_id = _code_check(ident=ident, purpose=CodePurpose.PASSWORD_RESET, code=code)
    with transaction.atomic():
        _code_consume(code_id)
        user.set_password(new_password)
        user.save(update_fields=["password", "updated_at"])
        revoked = _tokens_revoke(ApiToken.objects.filter(user=user))
        # A successful reset also clears a lockout: record it as a success for the user key.
        LoginEvent.objects.create(
            user=user,
            identifier_index=blind_index(f"user:{user.pk}", purpose="accounts.login"),
            success=True,
            reason="password_reset",
            ip=ip or None,
        )
        audit_entry_record(
            action=AuditAction.PASSWORD_RESET,
            actor=user,
            target_user=user,
            ip=ip,
            metadata={"tokens_revoked": revoked, "channel": ident.channel},
        )
    return user


# --- real-name verification --------------------------------------------------------------
def kyc_submit(
    *, user: User, real_name: str, id_number: str, ip: str | None = None
) -> RealNameVerification:
    """Verify ``user``'s identity with the configured provider.

    The provider call happens outside any transaction. A rejected attempt is stored and
    audited, then :class:`KycRejected` is raised (``extra.reason_code``).
    """
    name = (real_name or "").strip()
    number = id_number_normalize(id_number)
    if not real_name_is_valid(name):
        raise InvalidRealName()
    parsed = id_number_parse(number)
    if parsed is None:
        raise InvalidIdNumber()
    id_index = blind_index(number, purpose=ID_INDEX_PURPOSE)
    verified = RealNameVerification.objects.filter(status=KycStatus.VERIFIED)
    if verified.filter(user=user).exists():
        raise KycAlreadyVerified()
    if verified.filter(id_index=id_index).exists():
        raise IdAlreadyVerified()
    rate_limit_hit(key=f"kyc:{user.pk}", limit=KYC_LIMIT_PER_DAY, window_s=86400)

    provider = verification_provider()
    try:
        result = provider.verify_identity(name, number)
    except ProviderUnavailable as exc:
        logger.warning("kyc provider unavailable: %s", exc)
        raise KycUnavailable() from exc

    now = clock.now()
    status = KycStatus.VERIFIED if result.verified else KycStatus.REJECTED
    try:
        with transaction.atomic():
            record = RealNameVerification.objects.create(
                user=user,
                real_name=name,
                id_number=number,
                id_index=id_index,
                birth_date=parsed.birth_date if result.verified else None,
                status=status,
                reason_code=result.reason_code,
                provider=provider.name,
                provider_ref=result.provider_ref,
                verified_at=now if result.verified else None,
            )
            if result.verified:
                User.objects.filter(pk=user.pk).update(birth_date=parsed.birth_date)
                user.birth_date = parsed.birth_date
                # A queryset update sends no signal: cached bearer users must see the change.
                token_auth.auth_generation_bump(user_ids=[user.pk])
            audit_entry_record(
                action=AuditAction.KYC_SUBMIT,
                actor=user,
                target_user=user,
                ip=ip,
                target_type="kyc",
                target_id=record.pk,
                metadata={
                    "status": status,
                    "reason_code": result.reason_code,
                    "provider": provider.name,
                    "provider_ref": result.provider_ref,
                },
            )
    except IntegrityError as exc:
        # Lost a race: another request verified this ID (or this user) first.
        if verified.filter(user=user).exists():
            raise KycAlreadyVerified() from exc
        raise IdAlreadyVerified() from exc
    if not result.verified:
        raise KycRejected(extra={"reason_code": result.reason_code, "verification_id": record.pk})
    return record


def face_verify(*, user: User, liveness_token: str, ip: str | None = None) -> FaceResult:
    """Step-up face check against the user's verified identity (for risk control)."""
    record = selectors.kyc_verified_record(user=user)
    if record is None:
        raise KycRequired()
    provider = verification_provider()
    try:
        result = provider.verify_face(
            name=record.real_name, id_number=record.id_number, liveness_token=liveness_token
        )
    except ProviderUnavailable as exc:
        raise KycUnavailable() from exc
    with transaction.atomic():
        if result.verified:
            RealNameVerification.objects.filter(pk=record.pk).update(face_verified_at=clock.now())
        audit_entry_record(
            action=AuditAction.FACE_VERIFY,
            actor=user,
            target_user=user,
            ip=ip,
            target_type="kyc",
            target_id=record.pk,
            metadata={
                "verified": result.verified,
                "score": result.score,
                "provider_ref": result.provider_ref,
            },
        )
    if not result.verified:
        raise FaceRejected(extra={"reason_code": result.reason_code})
    return result


# --- roles -------------------------------------------------------------------------------
def _role_manager_check(*, actor: User, role: str | None) -> None:
    from yaji.accounts.permissions import has_role

    if actor.is_superuser:
        return
    if not actor.is_active or not has_role(actor, Role.OPERATOR):
        raise PermissionDenied()
    if role == Role.OPERATOR:
        # Only a superuser makes operators, so an operator account cannot clone itself.
        raise PermissionDenied(_("只有超级管理员可以授予运营角色。"))


def _scope_validate(role: str, scope: str) -> str:
    scope = (scope or "").strip()
    if role in SCOPED_ROLES:
        if not _SCOPE_RE.match(scope):
            raise InvalidScope(extra={"expected": "shop:<id>"})
    elif scope:
        raise InvalidScope(extra={"expected": ""})
    return scope


@transaction.atomic
def role_grant(
    *, actor: User, user: User, role: str, scope: str = "", ip: str | None = None
) -> RoleAssignment:
    """Grant ``role`` (idempotent: granting an existing assignment returns it)."""
    if role not in Role.values:
        raise InvalidRole(extra={"role": role})
    scope = _scope_validate(role, scope)
    _role_manager_check(actor=actor, role=role)
    return _assignment_create(actor=actor, user=user, role=role, scope=scope, ip=ip, via="")


@transaction.atomic
def role_revoke(*, actor: User, assignment_id: int, ip: str | None = None) -> None:
    _role_manager_check(actor=actor, role=None)
    assignment = RoleAssignment.objects.select_related("user").filter(pk=assignment_id).first()
    if assignment is None:
        raise NotFound()
    _role_manager_check(actor=actor, role=assignment.role)
    _assignment_delete(actor=actor, assignment=assignment, ip=ip, via="")


@transaction.atomic
def scoped_role_grant(
    *, actor: User, user: User, role: str, scope: str, authorized_by: str, ip: str | None = None
) -> RoleAssignment:
    """Grant a *scoped* role that another app has already authorised under its own rules.

    A reviewer approving a shop, or a shop owner adding a colleague, may not be a platform
    operator, yet the grant is legitimate: the owning app (``authorized_by``, e.g. "catalog")
    checked it. Only scoped roles can be granted this way, so no platform-wide role (operator,
    finance ...) can ever be handed out through it. Audited like ``role_grant``.
    """
    if role not in SCOPED_ROLES:
        raise InvalidRole(extra={"role": role, "expected": sorted(SCOPED_ROLES)})
    scope = _scope_validate(role, scope)
    return _assignment_create(
        actor=actor, user=user, role=role, scope=scope, ip=ip, via=authorized_by
    )


@transaction.atomic
def scoped_role_revoke(
    *, actor: User, user: User, role: str, scope: str, authorized_by: str, ip: str | None = None
) -> None:
    """Revoke what :func:`scoped_role_grant` granted (a no-op if there is nothing to revoke)."""
    if role not in SCOPED_ROLES:
        raise InvalidRole(extra={"role": role, "expected": sorted(SCOPED_ROLES)})
    for assignment in RoleAssignment.objects.filter(user=user, role=role, scope=scope):
        _assignment_delete(actor=actor, assignment=assignment, ip=ip, via=authorized_by)


def _assignment_create(
    *, actor: User, user: User, role: str, scope: str, ip: str | None, via: str
) -> RoleAssignment:
    if user.deleted_at is not None:
        raise NotFound()
    assignment, created = RoleAssignment.objects.get_or_create(
        user=user, role=role, scope=scope, defaults={"granted_by": actor}
    )
    if created:
        metadata = {"role": role, "scope": scope, **({"via": via} if via else {})}
        audit_entry_record(
            action=AuditAction.ROLE_GRANT,
            actor=actor,
            target_user=user,
            ip=ip,
            target_type="role_assignment",
            target_id=assignment.pk,
            metadata=metadata,
        )
    return assignment


def _assignment_delete(
    *, actor: User, assignment: RoleAssignment, ip: str | None, via: str
) -> None:
    metadata = {"role": assignment.role, "scope": assignment.scope, **({"via": via} if via else {})}
    audit_entry_record(
        action=AuditAction.ROLE_REVOKE,
        actor=actor,
        target_user=assignment.user,
        ip=ip,
        target_type="role_assignment",
        target_id=assignment.pk,
        metadata=metadata,
    )
    assignment.delete()


# --- personal data (PIPL) ----------------------------------------------------------------
def _iso(value: Any) -> Any:
    return value.isoformat() if value is not None and hasattr(value, "isoformat") else value


@transaction.atomic
def user_data_export(*, user: User, ip: str | None = None) -> dict[str, Any]:
    """Everything the platform holds about ``user``, unmasked (it is their own data)."""
    audit_entry_record(action=AuditAction.DATA_EXPORT, actor=user, target_user=user, ip=ip)
    data: dict[str, Any] = {
        "format": "yaji.accounts.export/1",
        "exported_at": _iso(clock.now()),
        "profile": {
            "id": user.pk,
            "email": user.email,
            "phone": user.phone,
            "display_name": user.display_name,
            "language": user.language,
            "birth_date": _iso(user.birth_date),
            "is_minor": selectors.user_is_minor(user),
            "created_at": _iso(user.created_at),
            "last_login": _iso(user.last_login),
        },
        "roles": [
            {"role": a.role, "scope": a.scope, "granted_at": _iso(a.created_at)}
            for a in selectors.user_roles(user=user)
        ],
        "devices": [
            {
                "id": d.pk,
                "label": d.label,
                "user_agent": d.user_agent,
                "last_ip": d.last_ip,
                "first_seen_at": _iso(d.first_seen_at),
                "last_seen_at": _iso(d.last_seen_at),
                "revoked_at": _iso(d.revoked_at),
            }
            for d in Device.objects.filter(user=user).order_by("id")
        ],
        "login_events": [
            {
                "at": _iso(e.created_at),
                "success": e.success,
                "reason": e.reason,
                "ip": e.ip,
                "user_agent": e.user_agent,
                "device_id": e.device_id,
            }
            for e in LoginEvent.objects.filter(user=user).order_by("id")
        ],
        "api_tokens": [
            {
                "id": t.pk,
                "kind": t.kind,
                "device_id": t.device_id,
                "created_at": _iso(t.created_at),
                "expires_at": _iso(t.expires_at),
                "used_at": _iso(t.used_at),
                "revoked_at": _iso(t.revoked_at),
                "last_used_at": _iso(t.last_used_at),
            }
            for t in ApiToken.objects.filter(user=user).order_by("id")
        ],
        "real_name_verifications": [
            {
                "id": k.pk,
                "status": k.status,
                "real_name": k.real_name,
                "id_number": k.id_number,
                "birth_date": _iso(k.birth_date),
                "reason_code": k.reason_code,
                "provider": k.provider,
                "verified_at": _iso(k.verified_at),
                "face_verified_at": _iso(k.face_verified_at),
                "created_at": _iso(k.created_at),
            }
            for k in RealNameVerification.objects.filter(user=user).order_by("id")
        ],
        "audit_entries": [
            {
                "id": a.pk,
                "action": a.action,
                "actor_id": a.actor_id,
                "target_type": a.target_type,
                "target_id": a.target_id,
                "ip": a.ip,
                "metadata": a.metadata,
                "at": _iso(a.created_at),
            }
            for a in AuditEntry.objects.filter(Q(actor=user) | Q(target_user=user)).order_by("id")
        ],
    }
    return data


@transaction.atomic
def user_delete(*, user: User, password: str, ip: str | None = None) -> None:
    """Erase ``user``'s personal data but keep the row, so others' records stay intact.

    Wiped: e-mail, phone, display name, birth date, KYC name/ID (the ID may verify a new
    account afterwards), devices, tokens, live codes, roles, and the IP/user agent of every
    login event and audit entry about them. Kept: the user id, the fact of each login and
    audited action (security records) without personal data, and anything other apps link.
    """
    if user.deleted_at is not None:
        raise NotFound()
    if not user.check_password(password):
        raise InvalidCredentials(_("密码不正确。"))
    now = clock.now()
    targets = []
    if user.email:
        targets.append(Identifier("email", user.email).target_index)
    if user.phone:
        targets.append(Identifier("phone", user.phone).target_index)
    VerificationCode.objects.filter(target_index__in=targets).delete()
    session_keys = [
        k for k in Device.objects.filter(user=user).values_list("session_key", flat=True) if k
    ]
    ApiToken.objects.filter(user=user).delete()
    LoginEvent.objects.filter(user=user).update(ip=None, user_agent="", device=None)
    Device.objects.filter(user=user).delete()
    RoleAssignment.objects.filter(user=user).delete()
    RealNameVerification.objects.filter(user=user).update(
        real_name="",
        id_number="",
        id_index=None,
        birth_date=None,
        provider_ref="",
        status=KycStatus.ERASED,
        updated_at=now,
    )
    # The one sanctioned write to audit rows: erasure of the IP under PIPL art. 47.
    AuditEntry.objects.filter(Q(actor=user) | Q(target_user=user)).update(ip=None)
    user.email = None
    user.phone = None
    user.phone_index = None
    user.display_name = ""
    user.birth_date = None
    user.is_active = False
    user.is_staff = False
    user.is_superuser = False
    user.deleted_at = now
    user.set_unusable_password()
    user.save()
    audit_entry_record(action=AuditAction.ACCOUNT_DELETE, actor=user, target_user=user)
    transaction.on_commit(lambda: [_session_delete(k) for k in session_keys])


# --- housekeeping ------------------------------------------------------------------------
@transaction.atomic
def credentials_purge_expired(*, keep: timedelta = timedelta(days=7)) -> dict[str, int]:
    """Delete verification codes and API tokens that expired more than ``keep`` ago."""
    cutoff = clock.now() - keep
    codes, _ = VerificationCode.objects.filter(expires_at__lt=cutoff).delete()
    tokens, _ = ApiToken.objects.filter(expires_at__lt=cutoff).delete()
    return {"verification_codes": codes, "api_tokens": tokens}
