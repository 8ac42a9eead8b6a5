"""The accounts API: sign-up, login and tokens, the signed-in user's own data, roles.

Thin: each endpoint validates its body (schemas), calls one service or selector, renders.
"""

from __future__ import annotations

import json

from django.contrib.auth import logout as django_logout
from django.contrib.auth import update_session_auth_hash
from django.http import HttpRequest, HttpResponse
from ninja import Path, Query, Router, Status
from ninja.responses import codes_4xx

from yaji.accounts import selectors, services
from yaji.accounts.auth import api_auth, request_device_id, request_ip, request_user_agent
from yaji.accounts.models import Role, User
from yaji.accounts.permissions import require_role
from yaji.accounts.schemas import (
    AuditEntryOut,
    CodeSendIn,
    CodeSentOut,
    DeleteIn,
    DeviceOut,
    ErrorOut,
    FaceIn,
    FaceOut,
    KycIn,
    KycOut,
    LoginCodeIn,
    LoginEventOut,
    LoginIn,
    LoginOut,
    MeOut,
    MeUpdateIn,
    OkOut,
    PasswordChangeIn,
    PasswordResetIn,
    RefreshIn,
    RegisterIn,
    RoleAssignmentOut,
    RoleGrantIn,
    TokenMetaOut,
    TokenOut,
)
from yaji.core.idempotency import idempotent

router = Router(tags=["accounts"], auth=api_auth)

MAX_ID = 2**63 - 1
ERRORS = {codes_4xx: ErrorOut}


def _user(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined, return-value]


def _me(user: User) -> dict:
    kyc = selectors.kyc_status(user=user)
    return {
        "id": user.pk,
        "email": user.email,
        "phone_masked": user.phone_masked,
        "display_name": user.display_name,
        "language": user.language,
        "roles": list(selectors.user_roles(user=user)),
        "kyc_status": kyc.status,
        "is_minor": kyc.is_minor,
        "created_at": user.created_at,
    }


def _tokens(pair: services.TokenPair) -> dict:
    return {
        "token_type": pair.token_type,
        "access_token": pair.access_token,
        "refresh_token": pair.refresh_token,
        "expires_in": pair.expires_in,
        "access_expires_at": pair.access_expires_at,
        "refresh_expires_at": pair.refresh_expires_at,
        "device_id": pair.device_id,
    }


# --- auth (public) -----------------------------------------------------------------------
@router.post(
    "/auth/codes",
    auth=None,
    tags=["auth"],
    response={202: CodeSentOut, **ERRORS},
    summary="Send a 6-digit verification code to a mobile number or e-mail",
)
def code_send(request: HttpRequest, payload: CodeSendIn):
    sent = services.verification_code_send(
        target=payload.target, purpose=payload.purpose, ip=request_ip(request)
    )
    return Status(202, sent)


@router.post(
    "/auth/register",
    auth=None,
    tags=["auth"],
    response={201: MeOut, **ERRORS},
    summary="Register with a verified mobile number or e-mail and a password",
)
@idempotent
def register(request: HttpRequest, payload: RegisterIn):
    user = services.user_register(
        identifier=payload.identifier,
        code=payload.code,
        password=payload.password,
        display_name=payload.display_name,
        language=payload.language,
        ip=request_ip(request),
    )
    return Status(201, _me(user))


@router.post(
    "/auth/login",
    auth=None,
    tags=["auth"],
    response={200: LoginOut, **ERRORS},
    summary="Log in with e-mail or mobile + password; returns access and refresh tokens",
)
def login(request: HttpRequest, payload: LoginIn):
    result = services.user_authenticate(
        identifier=payload.identifier,
        password=payload.password,
        ip=request_ip(request),
        user_agent=request_user_agent(request),
        device_id=payload.device_id or request_device_id(request),
        device_label=payload.device_label,
    )
    pair = services.api_token_issue(user=result.user, device=result.device)
    return {**_tokens(pair), "user": _me(result.user)}


@router.post(
    "/auth/login-code",
    auth=None,
    tags=["auth"],
    response={200: LoginOut, **ERRORS},
    summary="Log in with a one-time code sent for purpose login (no password)",
)
def login_code(request: HttpRequest, payload: LoginCodeIn):
    result = services.user_authenticate_by_code(
        identifier=payload.identifier,
        code=payload.code,
        ip=request_ip(request),
        user_agent=request_user_agent(request),
        device_id=payload.device_id or request_device_id(request),
        device_label=payload.device_label,
    )
    pair = services.api_token_issue(user=result.user, device=result.device)
    return {**_tokens(pair), "user": _me(result.user)}


@router.post(
    "/auth/refresh",
    auth=None,
    tags=["auth"],
    response={200: TokenOut, **ERRORS},
    summary="Exchange a refresh token for a new pair (a reused refresh token ends the session)",
)
def refresh(request: HttpRequest, payload: RefreshIn):
    pair = services.api_token_refresh(refresh_token=payload.refresh_token, ip=request_ip(request))
    return _tokens(pair)


@router.post(
    "/auth/password-reset",
    auth=None,
    tags=["auth"],
    response={200: OkOut, **ERRORS},
    summary="Set a new password with a code sent for purpose password_reset",
)
def password_reset(request: HttpRequest, payload: PasswordResetIn):
    services.password_reset(
        identifier=payload.identifier,
        code=payload.code,
        new_password=payload.new_password,
        ip=request_ip(request),
    )
    return {"ok": True}


@router.post("/auth/logout", tags=["auth"], response={200: OkOut, **ERRORS}, summary="Log out")
def logout(request: HttpRequest):
    token = getattr(request, "api_token", None)
    user, ip = _user(request), request_ip(request)
    if token is not None:
        services.api_token_revoke(user=user, token_id=token.pk, ip=ip)
        services.user_logout(user=user, ip=ip)
    else:
        session_key = request.session.session_key or ""
        django_logout(request)
        services.user_logout(user=user, session_key=session_key, ip=ip)
    return {"ok": True}


# --- me ----------------------------------------------------------------------------------
@router.get("/me", response={200: MeOut, **ERRORS}, summary="The signed-in user")
def me(request: HttpRequest):
    return _me(_user(request))


@router.patch("/me", response={200: MeOut, **ERRORS}, summary="Change display name or language")
def me_update(request: HttpRequest, payload: MeUpdateIn):
    user = services.user_profile_update(
        user=_user(request), display_name=payload.display_name, language=payload.language
    )
    return _me(user)


@router.post(
    "/me/password",
    response={200: OkOut, **ERRORS},
    summary="Change password (signs out every other device)",
)
def me_password(request: HttpRequest, payload: PasswordChangeIn):
    token = getattr(request, "api_token", None)
    user = _user(request)
    services.password_change(
        user=user,
        old_password=payload.old_password,
        new_password=payload.new_password,
        keep_token_id=token.pk if token is not None else None,
        ip=request_ip(request),
    )
    if token is None:
        update_session_auth_hash(request, user)
    return {"ok": True}


@router.get("/me/devices", response={200: list[DeviceOut], **ERRORS}, summary="My devices")
def me_devices(request: HttpRequest):
    token = getattr(request, "api_token", None)
    current = token.device_id if token is not None else None
    return [
        {
            "id": d.pk,
            "label": d.label,
            "user_agent": d.user_agent,
            "last_ip": d.last_ip,
            "first_seen_at": d.first_seen_at,
            "last_seen_at": d.last_seen_at,
            "active_tokens": d.active_tokens,
            "current": d.pk == current,
        }
        for d in selectors.user_devices(user=_user(request))
    ]


@router.delete(
    "/me/devices/{device_id}",
    response={204: None, **ERRORS},
    summary="Sign a device out (revokes its tokens and session)",
)
def me_device_revoke(request: HttpRequest, device_id: int = Path(..., ge=1, le=MAX_ID)):
    services.device_revoke(user=_user(request), device_id=device_id, ip=request_ip(request))
    return Status(204, None)


@router.get("/me/tokens", response={200: list[TokenMetaOut], **ERRORS}, summary="My live tokens")
def me_tokens(request: HttpRequest):
    return list(selectors.user_api_tokens(user=_user(request)))


@router.delete(
    "/me/tokens/{token_id}",
    response={204: None, **ERRORS},
    summary="Revoke a token (and the rest of its refresh family)",
)
def me_token_revoke(request: HttpRequest, token_id: int = Path(..., ge=1, le=MAX_ID)):
    services.api_token_revoke(user=_user(request), token_id=token_id, ip=request_ip(request))
    return Status(204, None)


@router.get("/me/logins", response={200: list[LoginEventOut], **ERRORS}, summary="My recent logins")
def me_logins(request: HttpRequest):
    return selectors.user_login_events(user=_user(request))


@router.post(
    "/me/kyc",
    response={201: KycOut, **ERRORS},
    summary="Real-name verification with name and mainland ID number",
)
@idempotent
def me_kyc_submit(request: HttpRequest, payload: KycIn):
    user = _user(request)
    services.kyc_submit(
        user=user, real_name=payload.real_name, id_number=payload.id_number, ip=request_ip(request)
    )
    return Status(201, selectors.kyc_status(user=user))


@router.get("/me/kyc", response={200: KycOut, **ERRORS}, summary="My real-name status (masked)")
def me_kyc(request: HttpRequest):
    return selectors.kyc_status(user=_user(request))


@router.post("/me/kyc/face", response={200: FaceOut, **ERRORS}, summary="Step-up face verification")
def me_face(request: HttpRequest, payload: FaceIn):
    result = services.face_verify(
        user=_user(request), liveness_token=payload.liveness_token, ip=request_ip(request)
    )
    return {"verified": result.verified, "score": result.score, "provider_ref": result.provider_ref}


@router.get(
    "/me/export",
    response={200: dict, **ERRORS},
    summary="Download everything the platform holds about me (JSON)",
)
def me_export(request: HttpRequest):
    user = _user(request)
    data = services.user_data_export(user=user, ip=request_ip(request))
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="yaji-export-{user.pk}.json"'
    return response


@router.post(
    "/me/delete",
    response={200: OkOut, **ERRORS},
    summary="Delete my account (erases personal data; cannot be undone)",
)
def me_delete(request: HttpRequest, payload: DeleteIn):
    user = _user(request)
    services.user_delete(user=user, password=payload.password, ip=request_ip(request))
    if getattr(request, "api_token", None) is None:
        django_logout(request)
    return {"ok": True}


@router.get(
    "/me/audit",
    response={200: list[AuditEntryOut], **ERRORS},
    summary="Audit entries by or about me, newest first (cursor: before_id)",
)
def me_audit(
    request: HttpRequest,
    before_id: int | None = Query(None, ge=1, le=MAX_ID),
    limit: int = Query(50, ge=1, le=200),
):
    return selectors.user_audit_entries(user=_user(request), before_id=before_id, limit=limit)


# --- roles (operators) -------------------------------------------------------------------
@router.post(
    "/roles", response={201: RoleAssignmentOut, **ERRORS}, summary="Grant a role (operators)"
)
def role_grant(request: HttpRequest, payload: RoleGrantIn):
    actor = _user(request)
    require_role(actor, Role.OPERATOR)  # before the lookup, so ids are not probed
    target = selectors.user_get(user_id=payload.user_id)
    assignment = services.role_grant(
        actor=actor, user=target, role=payload.role, scope=payload.scope, ip=request_ip(request)
    )
    return Status(201, assignment)


@router.delete(
    "/roles/{assignment_id}", response={204: None, **ERRORS}, summary="Revoke a role (operators)"
)
def role_revoke(request: HttpRequest, assignment_id: int = Path(..., ge=1, le=MAX_ID)):
    services.role_revoke(actor=_user(request), assignment_id=assignment_id, ip=request_ip(request))
    return Status(204, None)
