"""The storefront in a real headless Chromium: register with a code, log in, verify a real
name, see the profile, switch to English; log out, reset a forgotten password, log in with
the new one and find this browser among the devices. Screenshots land in ``test-artifacts/``."""

from __future__ import annotations

import re
from datetime import date

import pytest

from yaji.accounts.notifications import last_code_for
from yaji.testing.browser import ARTIFACTS

PASSWORD = "墨香-Ink-2025!"

pytestmark = pytest.mark.browser


def gb11643_id_number(*, region: str, birth: date, sequence: str) -> str:
    """An 18-character resident ID with its ISO 7064 MOD 11-2 check character (GB 11643)."""
    first17 = f"{region}{birth:%Y%m%d}{sequence}"
    weights = [2 ** (17 - i) % 11 for i in range(17)]  # 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2
    total = sum(int(digit) * weight for digit, weight in zip(first17, weights, strict=True))
    return first17 + "10X98765432"[total % 11]


def test_gb11643_check_character() -> None:
    # The worked example of GB 11643-1999.
    assert gb11643_id_number(region="110105", birth=date(1949, 12, 31), sequence="002")[-1] == "X"


@pytest.mark.django_db(transaction=True)
def test_register_login_kyc_profile_and_english(live_server, browser) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.set_default_timeout(15_000)
    email = "wenxin@example.com"

    page.goto(live_server.url + "/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("雅集")
    page.screenshot(path=str(ARTIFACTS / "home-zh.png"), full_page=True)

    # Register: the "send code" button posts over HTMX and swaps in a status with a cool-down.
    page.get_by_role("link", name="注册").first.click()
    page.get_by_label("手机号或邮箱").fill(email)
    page.get_by_role("button", name="获取验证码").click()
    expect(page.locator("#code-status")).to_contain_text("验证码已发送至 w***@example.com")
    expect(page.locator("[data-send-code]")).to_be_disabled()
    code = last_code_for(email)
    assert code, "the memory sink got no code"
    page.get_by_label("验证码").fill(code)
    page.get_by_label("昵称").fill("文心")
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_label("确认密码").fill(PASSWORD)
    page.screenshot(path=str(ARTIFACTS / "register-zh.png"), full_page=True)
    page.locator("form.form button.btn-primary[type=submit]").click()

    # Log in.
    expect(page).to_have_url(re.compile(r"/account/login/$"))
    expect(page.locator(".messages")).to_contain_text("注册成功")
    page.get_by_label("手机号或邮箱").fill(email)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("form.form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/account/$"))
    expect(page.get_by_test_id("kyc-badge")).to_have_text("未实名认证")

    # Real-name verification with a checksum-valid ID number.
    page.get_by_role("link", name="实名认证").first.click()
    page.get_by_label("真实姓名").fill("李清照")
    page.get_by_label("居民身份证号码").fill(
        gb11643_id_number(region="370102", birth=date(1984, 3, 13), sequence="124")
    )
    page.screenshot(path=str(ARTIFACTS / "kyc-zh.png"), full_page=True)
    page.get_by_role("button", name="提交认证").click()
    expect(page).to_have_url(re.compile(r"/account/$"))
    expect(page.get_by_test_id("kyc-badge")).to_have_text("已实名认证")
    expect(page.locator(".facts")).to_contain_text("*清照")
    page.screenshot(path=str(ARTIFACTS / "profile-zh.png"), full_page=True)

    page.get_by_role("link", name="登录设备").first.click()
    expect(page.locator("table")).to_contain_text("本设备")
    page.screenshot(path=str(ARTIFACTS / "devices-zh.png"), full_page=True)
    page.go_back()

    # Switch the language: the same page comes back in English.
    page.get_by_role("button", name="English").click()
    expect(page).to_have_url(re.compile(r"/account/$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_test_id("kyc-badge")).to_have_text("Verified")
    expect(page.get_by_role("heading", level=1)).to_have_text("Account overview")
    page.screenshot(path=str(ARTIFACTS / "profile-en.png"), full_page=True)

    # Small screens get a menu button that opens the navigation.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + "/")
    nav_toggle = page.locator("[data-nav-toggle]")
    expect(nav_toggle).to_be_visible()
    nav_toggle.click()
    expect(nav_toggle).to_have_attribute("aria-expanded", "true")
    page.screenshot(path=str(ARTIFACTS / "home-en-mobile.png"), full_page=False)
    context.close()


@pytest.mark.django_db(transaction=True)
def test_logout_forgotten_password_and_devices(live_server, browser, make_user) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    email, new_password = "yunshan@example.com", "云山-Brush-2026"
    make_user(email=email, display_name="云山", password=PASSWORD)
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.set_default_timeout(15_000)

    def sign_in(password: str) -> None:
        page.get_by_label("手机号或邮箱").fill(email)
        page.locator("#id_password").fill(password)
        page.locator("form.form button[type=submit]").click()

    page.goto(live_server.url + "/account/login/")
    sign_in(PASSWORD)
    expect(page).to_have_url(re.compile(r"/account/$"))

    # Log out from the account menu.
    page.locator(".account-menu summary").click()
    page.get_by_role("button", name="退出登录").click()
    expect(page).to_have_url(live_server.url + "/")
    expect(page.locator(".messages")).to_contain_text("您已退出登录")

    # Forgot the password: the login page links to the reset, which sends a code over HTMX.
    page.get_by_role("link", name="登录").first.click()
    page.get_by_role("link", name="忘记密码？").click()
    expect(page).to_have_url(re.compile(r"/account/password/reset/$"))
    page.get_by_label("手机号或邮箱").fill(email)
    page.get_by_role("button", name="获取验证码").click()
    expect(page.locator("#code-status")).to_contain_text("验证码已发送至 y***@example.com")
    expect(page.locator("[data-send-code]")).to_be_disabled()
    code = last_code_for(email)
    assert code, "the memory sink got no reset code"
    page.get_by_label("验证码").fill(code)
    page.locator("#id_new_password").fill(new_password)
    page.get_by_label("确认新密码").fill(new_password)
    page.screenshot(path=str(ARTIFACTS / "password-reset-zh.png"), full_page=True)
    page.get_by_role("button", name="重设密码").click()
    expect(page).to_have_url(re.compile(r"/account/login/$"))
    expect(page.locator(".messages")).to_contain_text("密码已重置")

    # The old password is gone; the new one works.
    sign_in(PASSWORD)
    expect(page.locator(".form-errors, .errorlist").first).to_contain_text("账号或密码错误")
    sign_in(new_password)
    expect(page).to_have_url(re.compile(r"/account/$"))

    # Same browser, same device: one row, marked as this one, bound to the new session.
    page.goto(live_server.url + "/account/devices/")
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("table")).to_contain_text("本设备")

    # The security log tells the whole story, newest first.
    page.goto(live_server.url + "/account/audit/")
    expect(page.locator("tbody td:nth-child(2)")).to_have_text(
        ["登录", "登录失败", "重置密码", "退出", "登录", "注册"]
    )
    context.close()
