"""Storefront views through Django's test client: the pages call the accounts services,
show their errors on the form, and leave nothing half-written behind."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.template.loader import render_to_string
from django.test import Client

from yaji.accounts import selectors
from yaji.accounts.kyc import id_number_make
from yaji.accounts.models import AuditEntry, Device, RealNameVerification
from yaji.accounts.notifications import last_code_for, sent_messages
from yaji.web.clientinfo import DEVICE_COOKIE
from yaji.web.tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

User = get_user_model()
UA = "Mozilla/5.0 (X11; Linux x86_64) Chrome/130 TestBrowser"
PROTECTED = [
    "/account/",
    "/account/kyc/",
    "/account/devices/",
    "/account/password/",
    "/account/audit/",
    "/account/export/",
    "/account/delete/",
]


def page(response) -> str:  # type: ignore[no-untyped-def]
    return response.content.decode()


# --- shell -----------------------------------------------------------------------------------


def test_home_is_branded_and_self_hosted(client: Client) -> None:
    response = client.get("/")
    html = page(response)
    assert response.status_code == 200
    assert "雅集" in html and "宋代美学" in html and "非遗手作" in html
    assert "/static/django_htmx/htmx" in html  # htmx is served by the site itself
    assert "https://" not in html and "http://" not in html.replace('xmlns="http://', "")
    assert 'action="/i18n/setlang/"' in html


def test_anonymous_header_offers_login_and_register(client: Client) -> None:
    html = page(client.get("/"))
    assert 'href="/account/login/"' in html and 'href="/account/register/"' in html


def test_404_uses_the_brand_page(client: Client) -> None:
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "此页已随云去" in page(response)


def test_500_template_renders_without_a_request() -> None:
    html = render_to_string("500.html")
    assert "墨迹未干" in html and "/static/web/yaji.css" in html


@pytest.mark.parametrize("url", PROTECTED)
def test_account_pages_require_login(client: Client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/account/login/?next={url}"


# --- registration ----------------------------------------------------------------------------


def test_send_code_over_htmx_swaps_in_a_status(client: Client) -> None:
    response = client.post(
        "/account/register/code/", {"identifier": "qingci@example.com"}, HTTP_HX_REQUEST="true"
    )
    html = page(response)
    assert response.status_code == 200
    assert 'id="code-status"' in html and "<html" not in html
    assert "q***@example.com" in html and 'data-cooldown="60"' in html
    assert last_code_for("qingci@example.com")


def test_send_code_twice_in_a_minute_shows_the_rate_limit(client: Client) -> None:
    client.post("/account/register/code/", {"identifier": "13812345678"}, HTTP_HX_REQUEST="true")
    response = client.post(
        "/account/register/code/", {"identifier": "13812345678"}, HTTP_HX_REQUEST="true"
    )
    html = page(response)
    assert "操作过于频繁" in html and "data-cooldown=" in html
    assert len(sent_messages()) == 1


def test_send_code_rejects_a_bad_identifier_and_sends_nothing(client: Client) -> None:
    response = client.post(
        "/account/register/code/", {"identifier": "not-a-phone"}, HTTP_HX_REQUEST="true"
    )
    assert "请输入有效的中国大陆手机号或电子邮箱" in page(response)
    assert sent_messages() == []


def test_send_code_without_javascript_renders_the_whole_page(client: Client) -> None:
    response = client.post("/account/register/code/", {"identifier": "moyun@example.com"})
    html = page(response)
    assert "<html" in html and "m***@example.com" in html
    assert 'value="moyun@example.com"' in html


def test_register_with_a_wrong_code_writes_nothing(client: Client) -> None:
    client.post(
        "/account/register/code/", {"identifier": "zhu@example.com"}, HTTP_HX_REQUEST="true"
    )
    response = client.post(
        "/account/register/",
        {
            "identifier": "zhu@example.com",
            "code": "000000" if last_code_for("zhu@example.com") != "000000" else "111111",
            "display_name": "朱砂",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
        },
    )
    assert response.status_code == 200
    assert "验证码错误或已失效" in page(response)
    assert not User.objects.filter(email="zhu@example.com").exists()


def test_register_with_mismatched_passwords_writes_nothing(client: Client) -> None:
    response = client.post(
        "/account/register/",
        {
            "identifier": "zhu@example.com",
            "code": "123456",
            "password": PASSWORD,
            "password_confirm": PASSWORD + "x",
        },
    )
    assert "两次输入的密码不一致" in page(response)
    assert User.objects.count() == 0


def test_register_with_a_weak_password_explains_why(client: Client) -> None:
    client.post(
        "/account/register/code/", {"identifier": "zhu@example.com"}, HTTP_HX_REQUEST="true"
    )
    response = client.post(
        "/account/register/",
        {
            "identifier": "zhu@example.com",
            "code": last_code_for("zhu@example.com"),
            "password": "12345678",
            "password_confirm": "12345678",
        },
    )
    html = page(response)
    assert "密码强度不够" in html
    assert User.objects.count() == 0


def test_register_then_log_in(client: Client) -> None:
    client.post("/account/register/code/", {"identifier": "13912345678"}, HTTP_HX_REQUEST="true")
    response = client.post(
        "/account/register/",
        {
            "identifier": "139 1234 5678",
            "code": last_code_for("13912345678"),
            "display_name": "听雨",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
        },
    )
    assert response.status_code == 302 and response["Location"] == "/account/login/"
    user = User.objects.get(display_name="听雨")
    assert user.phone == "13912345678"
    response = client.post("/account/login/", {"identifier": "13912345678", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/account/"


# --- login and logout ------------------------------------------------------------------------


def test_login_page_gives_the_browser_a_device_id(client: Client) -> None:
    response = client.get("/account/login/")
    assert response.status_code == 200
    cookie = response.cookies[DEVICE_COOKIE]
    assert len(cookie.value) >= 16 and cookie["httponly"]


def test_login_with_a_wrong_password_shows_a_form_error(client: Client, user) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/account/login/", {"identifier": user.email, "password": "wrong-pass"})
    assert response.status_code == 200
    assert "账号或密码错误" in page(response)
    assert "_auth_user_id" not in client.session


def test_login_lockout_is_shown_as_a_form_error(client: Client, user) -> None:  # type: ignore[no-untyped-def]
    for _ in range(5):
        client.post("/account/login/", {"identifier": user.email, "password": "wrong-pass"})
    response = client.post("/account/login/", {"identifier": user.email, "password": PASSWORD})
    assert "账号已暂时锁定" in page(response)
    assert "_auth_user_id" not in client.session


def test_login_records_the_device_and_binds_the_session(client: Client, user) -> None:  # type: ignore[no-untyped-def]
    client.get("/account/login/")
    device_cookie = client.cookies[DEVICE_COOKIE].value
    response = client.post(
        "/account/login/",
        {"identifier": user.email.upper(), "password": PASSWORD},
        HTTP_USER_AGENT=UA,
        REMOTE_ADDR="203.0.113.9",
    )
    assert response.status_code == 302 and response["Location"] == "/account/"
    assert int(client.session["_auth_user_id"]) == user.pk
    device = Device.objects.get(user=user)
    assert device.user_agent == UA and device.last_ip == "203.0.113.9"
    assert device.session_key == client.session.session_key
    assert client.cookies[DEVICE_COOKIE].value == device_cookie  # the same browser, kept


def test_login_follows_a_safe_next_and_ignores_an_unsafe_one(client: Client, user) -> None:  # type: ignore[no-untyped-def]
    data = {"identifier": user.email, "password": PASSWORD}
    response = client.post("/account/login/?next=/account/kyc/", {**data, "next": "/account/kyc/"})
    assert response["Location"] == "/account/kyc/"
    client.post("/account/logout/")
    response = client.post("/account/login/", {**data, "next": "https://evil.example/"})
    assert response["Location"] == "/account/"


def test_login_with_a_code_instead_of_a_password(client: Client, user) -> None:  # type: ignore[no-untyped-def]
    # given the login page offers the code option
    assert "/account/login/code/" in page(client.get("/account/login/"))
    # when a code is requested (HTMX) and typed in
    sent = client.post(
        "/account/login/code/send/", {"identifier": user.email}, HTTP_HX_REQUEST="true"
    )
    assert sent.status_code == 200 and "code-status" in page(sent)
    code = last_code_for(user.email)
    response = client.post(
        "/account/login/code/",
        {"identifier": user.email, "code": code, "next": "/account/devices/"},
    )
    # then the user is signed in on a recorded device and sent where they were going
    assert response.status_code == 302 and response["Location"] == "/account/devices/"
    assert client.session["_auth_user_id"] == str(user.pk)
    assert Device.objects.get(user=user).session_key == client.session.session_key


def test_a_wrong_login_code_is_a_form_error(client: Client, user) -> None:  # type: ignore[no-untyped-def]
    client.post("/account/login/code/send/", {"identifier": user.email})
    response = client.post("/account/login/code/", {"identifier": user.email, "code": "99999x"})
    assert response.status_code == 200
    assert "验证码" in page(response) and "_auth_user_id" not in client.session


def test_logout_needs_post(signed_in: Client) -> None:
    assert signed_in.get("/account/logout/").status_code == 405
    response = signed_in.post("/account/logout/")
    assert response.status_code == 302 and response["Location"] == "/"
    assert "_auth_user_id" not in signed_in.session


def test_logout_is_in_the_security_log_and_frees_the_device(signed_in: Client, user) -> None:  # type: ignore[no-untyped-def]
    device = Device.objects.get(user=user)
    assert device.session_key
    signed_in.post("/account/logout/", REMOTE_ADDR="203.0.113.7")
    entry = AuditEntry.objects.get(action="logout")
    assert entry.actor == user and entry.ip == "203.0.113.7"
    assert entry.target_id == str(device.pk)
    device.refresh_from_db()
    assert device.session_key == "" and device.revoked_at is None


def test_signing_out_of_the_console_is_in_the_security_log(client: Client) -> None:
    # given an operator signed in to the admin console
    operator = get_user_model().objects.create_superuser(
        email="console@example.com", password=PASSWORD
    )
    client.force_login(operator)
    # when they press the console's sign-out button
    response = client.post("/admin/logout/", REMOTE_ADDR="203.0.113.9")
    # then the session ends, they land on the console login, and the log has it
    assert response.status_code == 302 and response["Location"] == "/admin/login/"
    assert "_auth_user_id" not in client.session
    entry = AuditEntry.objects.get(action="logout")
    assert entry.actor == operator and entry.ip == "203.0.113.9"
    assert client.get("/admin/logout/").status_code == 405


def test_logout_when_signed_out_records_nothing(client: Client) -> None:
    response = client.post("/account/logout/")
    assert response.status_code == 302
    assert not AuditEntry.objects.filter(action="logout").exists()


# --- forgotten password ----------------------------------------------------------------------

NEW_PASSWORD = "新的-Brush-2026"


def _reset(client: Client, email: str, code: str, password: str = NEW_PASSWORD, confirm=None):  # type: ignore[no-untyped-def]
    return client.post(
        "/account/password/reset/",
        {
            "identifier": email,
            "code": code,
            "new_password": password,
            "new_password_confirm": password if confirm is None else confirm,
        },
    )


def _reset_code(client: Client, email: str):  # type: ignore[no-untyped-def]
    return client.post(
        "/account/password/reset/code/", {"identifier": email}, HTTP_HX_REQUEST="true"
    )


def _wrong(code: str | None) -> str:
    return "000000" if code != "000000" else "111111"


def test_login_page_links_to_the_password_reset(client: Client) -> None:
    assert 'href="/account/password/reset/"' in page(client.get("/account/login/"))
    html = page(client.get("/account/password/reset/"))
    assert "找回密码" in html and 'hx-post="/account/password/reset/code/"' in html


def test_reset_code_over_htmx(client: Client, user) -> None:  # type: ignore[no-untyped-def]
    response = _reset_code(client, user.email)
    html = page(response)
    assert response.status_code == 200 and "<html" not in html
    assert "l***@example.com" in html and 'data-cooldown="60"' in html
    assert sent_messages()[-1].template == "verification_code.password_reset"


def test_reset_code_for_an_unknown_account_looks_the_same_and_sends_nothing(
    client: Client,
) -> None:
    html = page(_reset_code(client, "nobody@example.com"))
    assert "n***@example.com" in html and 'data-cooldown="60"' in html
    assert sent_messages() == []


def test_reset_code_twice_in_a_minute_shows_the_rate_limit(client: Client, user) -> None:  # type: ignore[no-untyped-def]
    _reset_code(client, user.email)
    html = page(_reset_code(client, user.email))
    assert "操作过于频繁" in html and "data-cooldown=" in html
    assert len(sent_messages()) == 1


def test_reset_code_without_javascript_renders_the_whole_page(client: Client, user) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/account/password/reset/code/", {"identifier": user.email})
    html = page(response)
    assert "<html" in html and "l***@example.com" in html
    assert f'value="{user.email}"' in html


def test_reset_with_a_wrong_code_shows_the_error_and_changes_nothing(client: Client, user) -> None:  # type: ignore[no-untyped-def]
    _reset_code(client, user.email)
    code = last_code_for(user.email)
    response = _reset(client, user.email, _wrong(code))
    assert response.status_code == 200
    assert "验证码错误或已失效" in page(response)
    user.refresh_from_db()
    assert user.check_password(PASSWORD) and not user.check_password(NEW_PASSWORD)
    assert not AuditEntry.objects.filter(action="password_reset").exists()
    # The real code still works afterwards (one wrong guess does not burn it).
    assert _reset(client, user.email, code).status_code == 302


def test_reset_with_mismatched_passwords_changes_nothing(client: Client, user) -> None:  # type: ignore[no-untyped-def]
    _reset_code(client, user.email)
    response = _reset(client, user.email, last_code_for(user.email), confirm="other-Brush-2026")
    assert "两次输入的密码不一致" in page(response)
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_reset_with_a_weak_password_explains_why(client: Client, user) -> None:  # type: ignore[no-untyped-def]
    _reset_code(client, user.email)
    response = _reset(client, user.email, last_code_for(user.email), password="12345678")
    assert "密码强度不够" in page(response)
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_reset_then_log_in_with_the_new_password_only(client: Client, user) -> None:  # type: ignore[no-untyped-def]
    _reset_code(client, user.email)
    response = _reset(client, user.email, last_code_for(user.email))
    assert response.status_code == 302 and response["Location"] == "/account/login/"
    assert "密码已重置" in page(client.get("/account/login/"))
    old = client.post("/account/login/", {"identifier": user.email, "password": PASSWORD})
    assert "账号或密码错误" in page(old)
    new = client.post("/account/login/", {"identifier": user.email, "password": NEW_PASSWORD})
    assert new.status_code == 302 and new["Location"] == "/account/"
    assert AuditEntry.objects.filter(action="password_reset", target_user=user).exists()


def test_reset_signs_out_the_other_browsers(signed_in: Client, user) -> None:  # type: ignore[no-untyped-def]
    elsewhere = Client()
    _reset_code(elsewhere, user.email)
    _reset(elsewhere, user.email, last_code_for(user.email))
    assert signed_in.get("/account/").status_code == 302


# --- profile and KYC -------------------------------------------------------------------------


def test_profile_shows_masked_contacts_roles_and_kyc(signed_in: Client, user) -> None:  # type: ignore[no-untyped-def]
    html = page(signed_in.get("/account/"))
    assert "兰亭" in html and "l***@example.com" in html and "lanting@example.com" not in html
    assert "买家" in html and "未实名认证" in html


def test_kyc_with_an_invalid_id_number_writes_nothing(signed_in: Client, user) -> None:  # type: ignore[no-untyped-def]
    response = signed_in.post(
        "/account/kyc/", {"real_name": "王羲之", "id_number": "110101199003071230"}
    )
    assert response.status_code == 200
    assert "身份证号码无效" in page(response)
    assert not RealNameVerification.objects.filter(user=user).exists()


def test_kyc_rejection_shows_the_reason(signed_in: Client, user) -> None:  # type: ignore[no-untyped-def]
    number = id_number_make(seq="000")  # the sandbox says: name does not match
    response = signed_in.post("/account/kyc/", {"real_name": "王羲之", "id_number": number})
    html = page(response)
    assert "实名认证未通过" in html and "姓名与身份证号码不一致" in html
    assert selectors.kyc_status(user=user).status == "rejected"


def test_kyc_success_shows_verified_on_the_profile(signed_in: Client, user) -> None:  # type: ignore[no-untyped-def]
    response = signed_in.post(
        "/account/kyc/", {"real_name": "王羲之", "id_number": id_number_make(seq="123")}
    )
    assert response.status_code == 302 and response["Location"] == "/account/"
    html = page(signed_in.get("/account/"))
    assert "已实名认证" in html and "*羲之" in html and "未成年" not in html
    assert "王羲之" not in html
    kyc_page = page(signed_in.get("/account/kyc/"))
    assert "已完成实名认证" in kyc_page and '<form class="form"' not in kyc_page


def test_a_minor_gets_the_minor_badge(signed_in: Client) -> None:
    today = date.today()
    birth = date(today.year - 12, 1, 1)
    signed_in.post(
        "/account/kyc/", {"real_name": "谢道韫", "id_number": id_number_make(birth=birth)}
    )
    assert "未成年" in page(signed_in.get("/account/"))


# --- devices ---------------------------------------------------------------------------------


def _second_device(user) -> Device:  # type: ignore[no-untyped-def]
    other_browser = Client()
    other_browser.post(
        "/account/login/",
        {"identifier": user.email, "password": PASSWORD},
        HTTP_USER_AGENT="Mozilla/5.0 (iPhone) Mobile Safari",
    )
    return Device.objects.get(user=user, user_agent__contains="iPhone")


def test_devices_lists_mine_and_marks_this_one(signed_in: Client, user) -> None:  # type: ignore[no-untyped-def]
    _second_device(user)
    html = page(signed_in.get("/account/devices/"))
    assert "iPhone" in html and "TestBrowser" in html and "本设备" in html


def test_revoke_my_other_device_over_htmx(signed_in: Client, user) -> None:  # type: ignore[no-untyped-def]
    device = _second_device(user)
    response = signed_in.post(f"/account/devices/{device.pk}/revoke/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "已移除该设备" in page(response) and "<html" not in page(response)
    device.refresh_from_db()
    assert device.revoked_at is not None
    assert "iPhone" not in page(signed_in.get("/account/devices/"))


def test_someone_elses_device_cannot_be_revoked(signed_in: Client, make_user) -> None:  # type: ignore[no-untyped-def]
    stranger = make_user(email="stranger@example.com")
    device = _second_device(stranger)
    response = signed_in.post(f"/account/devices/{device.pk}/revoke/", HTTP_HX_REQUEST="true")
    assert response.status_code == 404
    device.refresh_from_db()
    assert device.revoked_at is None


def test_device_revoke_needs_post(signed_in: Client, user) -> None:  # type: ignore[no-untyped-def]
    device = _second_device(user)
    assert signed_in.get(f"/account/devices/{device.pk}/revoke/").status_code == 405


# --- password, audit, export, delete ---------------------------------------------------------


def test_password_change_with_a_wrong_current_password(signed_in: Client, user) -> None:  # type: ignore[no-untyped-def]
    response = signed_in.post(
        "/account/password/",
        {
            "old_password": "nope-nope",
            "new_password": "新的-Brush-2026",
            "new_password_confirm": "新的-Brush-2026",
        },
    )
    assert "当前密码不正确" in page(response)
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_password_change_mismatch_writes_nothing(signed_in: Client, user) -> None:  # type: ignore[no-untyped-def]
    response = signed_in.post(
        "/account/password/",
        {
            "old_password": PASSWORD,
            "new_password": "新的-Brush-2026",
            "new_password_confirm": "other-Brush-2026",
        },
    )
    assert "两次输入的密码不一致" in page(response)
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_password_change_keeps_this_browser_signed_in(signed_in: Client, user) -> None:  # type: ignore[no-untyped-def]
    new = "新的-Brush-2026"
    response = signed_in.post(
        "/account/password/",
        {"old_password": PASSWORD, "new_password": new, "new_password_confirm": new},
    )
    assert response.status_code == 302
    assert signed_in.get("/account/").status_code == 200
    user.refresh_from_db()
    assert user.check_password(new)
    # The session key changed; the device follows it, so it is still "this device".
    device = Device.objects.get(user=user)
    assert device.session_key == signed_in.session.session_key
    assert "本设备" in page(signed_in.get("/account/devices/"))


def test_audit_lists_my_sensitive_actions(signed_in: Client) -> None:
    html = page(signed_in.get("/account/audit/"))
    assert "注册" in html and "登录" in html


def test_data_export_downloads_json(signed_in: Client, user) -> None:  # type: ignore[no-untyped-def]
    assert "下载我的数据" in page(signed_in.get("/account/export/"))
    response = signed_in.post("/account/export/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"].startswith('attachment; filename="yaji-my-data-')
    data = json.loads(response.content)
    assert data["profile"]["email"] == user.email
    assert AuditEntry.objects.filter(target_user=user, action="data_export").exists()


def test_delete_with_a_wrong_password_keeps_the_account(signed_in: Client, user) -> None:  # type: ignore[no-untyped-def]
    response = signed_in.post("/account/delete/", {"password": "wrong-pass", "confirm": "on"})
    assert "密码不正确" in page(response)
    user.refresh_from_db()
    assert user.deleted_at is None


def test_delete_needs_the_confirmation(signed_in: Client, user) -> None:  # type: ignore[no-untyped-def]
    response = signed_in.post("/account/delete/", {"password": PASSWORD})
    assert response.status_code == 200 and 'class="errorlist"' in page(response)
    user.refresh_from_db()
    assert user.deleted_at is None


def test_delete_erases_and_signs_out(signed_in: Client, user) -> None:  # type: ignore[no-untyped-def]
    response = signed_in.post("/account/delete/", {"password": PASSWORD, "confirm": "on"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert "_auth_user_id" not in signed_in.session
    user.refresh_from_db()
    assert user.deleted_at is not None and user.email is None
    response = signed_in.post(
        "/account/login/", {"identifier": "lanting@example.com", "password": PASSWORD}
    )
    assert "账号或密码错误" in page(response)


# --- admin console branding ------------------------------------------------------------------


def test_admin_login_page_shows_the_brand(client: Client) -> None:
    html = page(client.get("/admin/login/"))
    assert '<a href="/admin/">雅集运营后台 · Yaji Console</a>' in html
    assert "| 雅集运营后台</title>" in html
    assert "/static/web/admin.css" in html and "Django" not in html


def test_admin_index_title_and_english_brand(client: Client, make_user) -> None:  # type: ignore[no-untyped-def]
    boss = make_user(email="boss@example.com")
    boss.is_staff = boss.is_superuser = True
    boss.save(update_fields=["is_staff", "is_superuser"])
    client.force_login(boss)
    assert "运营概览" in page(client.get("/admin/"))
    client.post("/i18n/setlang/", {"language": "en", "next": "/admin/"})
    html = page(client.get("/admin/"))
    assert "Yaji Console · 雅集运营后台" in html and "Operations overview" in html


# --- CSRF and language -----------------------------------------------------------------------


def test_csrf_is_enforced_on_posts(user) -> None:  # type: ignore[no-untyped-def]
    browser = Client(enforce_csrf_checks=True)
    data = {"identifier": user.email, "password": PASSWORD}
    assert browser.post("/account/login/", data).status_code == 403
    assert (
        browser.post("/account/register/code/", {"identifier": "a@example.com"}).status_code == 403
    )
    browser.get("/account/login/")
    token = browser.cookies["csrftoken"].value
    response = browser.post("/account/login/", {**data, "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert browser.post("/account/logout/").status_code == 403  # still needs the token


def test_language_switch_shows_english(client: Client) -> None:
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/account/login/"})
    assert response.status_code == 302 and response["Location"] == "/account/login/"
    assert client.cookies["django_language"].value == "en"
    html = page(client.get("/account/login/"))
    assert '<html lang="en">' in html
    assert "Sign in" in html and "Phone or e-mail" in html
    assert "登录雅集" not in html


def test_english_error_messages_come_from_the_services(client: Client, user) -> None:  # type: ignore[no-untyped-def]
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    response = client.post("/account/login/", {"identifier": user.email, "password": "wrong-pass"})
    assert "Incorrect account or password." in page(response)
