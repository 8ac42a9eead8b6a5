"""Storefront pages. Each view validates a form, calls one accounts service or selector, and
renders; the rules themselves live in ``yaji.accounts``."""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yaji.accounts import selectors, services
from yaji.core.errors import ApplicationError, NotFound
from yaji.web.clientinfo import client_ip, client_user_agent, device_cookie_set, device_id_get
from yaji.web.forms import (
    AccountDeleteForm,
    KycForm,
    LoginCodeForm,
    LoginForm,
    PasswordChangeForm,
    PasswordResetForm,
    RegisterForm,
    SendCodeForm,
)


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "web/home.html")


# --- registration and login ----------------------------------------------------------------


def _code_send(request: HttpRequest, *, purpose: str) -> dict:
    """Send a code for ``purpose`` to the posted identifier; the status the page shows."""
    form = SendCodeForm(request.POST)
    if not form.is_valid():
        return {"error": " ".join(str(e) for e in form.errors.get("identifier", []))}
    try:
        sent = services.verification_code_send(
            target=form.cleaned_data["identifier"], purpose=purpose, ip=client_ip(request)
        )
    except ApplicationError as exc:
        return {"error": str(exc.message), "cooldown": exc.extra.get("retry_after")}
    return {"sent": sent, "cooldown": sent.resend_after_s}


@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("web:profile")
    form = RegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_register(
                identifier=form.cleaned_data["identifier"],
                code=form.cleaned_data["code"],
                password=form.cleaned_data["password"],
                display_name=form.cleaned_data["display_name"],
                language=get_language() or settings.LANGUAGE_CODE,
                ip=client_ip(request),
            )
        except ApplicationError as exc:
            form.add_application_error(exc)
        else:
            messages.success(request, _("注册成功，欢迎来到雅集！请登录。"))
            return redirect("web:login")
    return render(request, "web/account/register.html", {"form": form})


@require_POST
def register_code(request: HttpRequest) -> HttpResponse:
    """Send a registration code. HTMX gets the status fragment; a plain POST the whole page."""
    status = _code_send(request, purpose="register")
    if request.htmx:
        return render(request, "web/partials/code_status.html", {"status": status})
    page_form = RegisterForm(initial={"identifier": request.POST.get("identifier", "")})
    return render(request, "web/account/register.html", {"form": page_form, "status": status})


def _next_url(request: HttpRequest) -> str:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return ""
    return next_url


def _signed_in(request: HttpRequest, result: services.LoginResult, next_url: str) -> HttpResponse:
    """Open the site session for a checked login and bind it to the device."""
    auth_login(request, result.user)
    services.device_session_bind(device=result.device, session_key=request.session.session_key)
    response = redirect(next_url or resolve_url(settings.LOGIN_REDIRECT_URL))
    return device_cookie_set(request, response)


@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    next_url = _next_url(request)
    if request.user.is_authenticated:
        return redirect(next_url or settings.LOGIN_REDIRECT_URL)
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            result = services.user_authenticate(
                identifier=form.cleaned_data["identifier"],
                password=form.cleaned_data["password"],
                ip=client_ip(request),
                user_agent=client_user_agent(request),
                device_id=device_id_get(request),
            )
        except ApplicationError as exc:
            form.add_application_error(exc)
        else:
            return _signed_in(request, result, next_url)
    device_id_get(request)  # give the browser its device id before it signs in
    response = render(request, "web/account/login.html", {"form": form, "next": next_url})
    return device_cookie_set(request, response)


@require_http_methods(["GET", "POST"])
def login_code(request: HttpRequest) -> HttpResponse:
    """Sign in with a one-time code sent to the account's phone or e-mail, no password."""
    next_url = _next_url(request)
    if request.user.is_authenticated:
        return redirect(next_url or settings.LOGIN_REDIRECT_URL)
    form = LoginCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            result = services.user_authenticate_by_code(
                identifier=form.cleaned_data["identifier"],
                code=form.cleaned_data["code"],
                ip=client_ip(request),
                user_agent=client_user_agent(request),
                device_id=device_id_get(request),
            )
        except ApplicationError as exc:
            form.add_application_error(exc)
        else:
            return _signed_in(request, result, next_url)
    device_id_get(request)
    context = {"form": form, "next": next_url}
    response = render(request, "web/account/login_code.html", context)
    return device_cookie_set(request, response)


@require_POST
def login_code_send(request: HttpRequest) -> HttpResponse:
    """Send a login code. The answer is the same whether the account exists or not."""
    status = _code_send(request, purpose="login")
    if request.htmx:
        return render(request, "web/partials/code_status.html", {"status": status})
    page_form = LoginCodeForm(initial={"identifier": request.POST.get("identifier", "")})
    context = {"form": page_form, "status": status, "next": _next_url(request)}
    return render(request, "web/account/login_code.html", context)


def _sign_out(request: HttpRequest) -> None:
    user, session_key = request.user, request.session.session_key or ""
    auth_logout(request)  # end the session first; the record follows
    if user.is_authenticated:
        services.user_logout(user=user, session_key=session_key, ip=client_ip(request))


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    _sign_out(request)
    messages.success(request, _("您已退出登录。"))
    return redirect(settings.LOGOUT_REDIRECT_URL)


@require_POST
def admin_logout(request: HttpRequest) -> HttpResponse:
    """The console's own sign-out button, recorded in the security log like the site's."""
    _sign_out(request)
    return redirect("admin:login")


# --- forgotten password --------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def password_reset(request: HttpRequest) -> HttpResponse:
    """Set a new password with a code sent to the account's phone or e-mail."""
    form = PasswordResetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.password_reset(
                identifier=form.cleaned_data["identifier"],
                code=form.cleaned_data["code"],
                new_password=form.cleaned_data["new_password"],
                ip=client_ip(request),
            )
        except ApplicationError as exc:
            form.add_application_error(exc)
        else:
            # Every session of the account died with the old password hash, this one too.
            if request.user.is_authenticated and request.user.pk == user.pk:
                auth_logout(request)
            messages.success(request, _("密码已重置，请用新密码登录。"))
            return redirect("web:login")
    return render(request, "web/account/password_reset.html", {"form": form})


@require_POST
def password_reset_code(request: HttpRequest) -> HttpResponse:
    """Send a password-reset code. The answer is the same whether the account exists or not."""
    status = _code_send(request, purpose="password_reset")
    if request.htmx:
        return render(request, "web/partials/code_status.html", {"status": status})
    page_form = PasswordResetForm(initial={"identifier": request.POST.get("identifier", "")})
    return render(request, "web/account/password_reset.html", {"form": page_form, "status": status})


# --- my account ----------------------------------------------------------------------------


@login_required
@require_GET
def profile(request: HttpRequest) -> HttpResponse:
    context = {
        "roles": selectors.user_roles(user=request.user),
        "kyc": selectors.kyc_status(user=request.user),
    }
    return render(request, "web/account/profile.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def kyc(request: HttpRequest) -> HttpResponse:
    form = KycForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.kyc_submit(
                user=request.user,
                real_name=form.cleaned_data["real_name"],
                id_number=form.cleaned_data["id_number"],
                ip=client_ip(request),
            )
        except ApplicationError as exc:
            form.add_application_error(exc)
        else:
            messages.success(request, _("实名认证已通过。"))
            return redirect("web:profile")
    context = {"form": form, "kyc": selectors.kyc_status(user=request.user)}
    return render(request, "web/account/kyc.html", context)


@login_required
@require_GET
def devices(request: HttpRequest) -> HttpResponse:
    context = {"devices": selectors.user_devices(user=request.user)}
    return render(request, "web/account/devices.html", context)


@login_required
@require_POST
def device_revoke(request: HttpRequest, device_id: int) -> HttpResponse:
    try:
        services.device_revoke(user=request.user, device_id=device_id, ip=client_ip(request))
    except NotFound as exc:
        raise Http404(str(exc.message)) from exc
    if request.htmx:
        return render(request, "web/partials/device_revoked.html")
    messages.success(request, _("已移除该设备，它需要重新登录。"))
    return redirect("web:devices")


@login_required
@require_http_methods(["GET", "POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.password_change(
                user=request.user,
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password"],
                ip=client_ip(request),
            )
        except ApplicationError as exc:
            form.add_application_error(exc)
        else:
            # Other sessions die with the old password hash; this browser stays signed in, under
            # a new session key, which its device must follow (for "this device" and revoking).
            old_key = request.session.session_key
            update_session_auth_hash(request, request.user)
            _device_session_follow(request, old_key=old_key)
            messages.success(request, _("密码已修改，其他设备需要用新密码重新登录。"))
            return redirect("web:profile")
    return render(request, "web/account/password_change.html", {"form": form})


def _device_session_follow(request: HttpRequest, *, old_key: str | None) -> None:
    if not old_key:
        return
    for device in selectors.user_devices(user=request.user):
        if device.session_key == old_key:
            services.device_session_bind(device=device, session_key=request.session.session_key)
            return


@login_required
@require_GET
def audit(request: HttpRequest) -> HttpResponse:
    context = {"entries": selectors.user_audit_entries(user=request.user)}
    return render(request, "web/account/audit.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def data_export(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return render(request, "web/account/data_export.html")
    data = services.user_data_export(user=request.user, ip=client_ip(request))
    body = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    filename = f"yaji-my-data-{timezone.localdate():%Y%m%d}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def account_delete(request: HttpRequest) -> HttpResponse:
    form = AccountDeleteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_delete(
                user=request.user, password=form.cleaned_data["password"], ip=client_ip(request)
            )
        except ApplicationError as exc:
            form.add_application_error(exc)
        else:
            auth_logout(request)
            messages.success(request, _("您的账户已注销。感谢曾与雅集同行。"))
            return redirect("web:home")
    return render(request, "web/account/delete.html", {"form": form})
