"""The copyright main path in a real headless Chromium: a creator registers a design, opens
its certificate (with the printable PNG), downloads the JSON and checks it on the public
verification page; a tampered copy is refused. Screenshots land in ``test-artifacts/``."""

from __future__ import annotations

import json
import re

import pytest

from yaji.accounts.tests.factories import PASSWORD
from yaji.copyright.tests.factories import creator, design_work
from yaji.testing.browser import ARTIFACTS

pytestmark = pytest.mark.browser


def _shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


@pytest.mark.django_db(transaction=True)
def test_register_a_design_and_verify_its_certificate(live_server, browser) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    author = creator(email="wenyang@example.com", display_name="沈纹样")
    work = design_work(author, seed=41)
    base = live_server.url
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)

    page.goto(base + "/account/login/")
    page.get_by_label("手机号或邮箱").fill(author.email)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("form.form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/account/$"))

    page.goto(base + "/copyright/")
    page.get_by_label("选择已发布的作品").select_option(str(work.pk))
    page.get_by_role("button", name="登记到存证日志").click()
    page.wait_for_url(re.compile(r"/copyright/certificates/\d+/$"))
    expect(page.get_by_test_id("entry-index")).to_have_text("#0")
    page.locator("img.cr-cert-img").evaluate("img => img.decode()")
    _shot(page, "copyright-certificate.png")

    with page.expect_download() as download_info:
        page.get_by_test_id("download-json").click()
    document = json.loads(open(download_info.value.path()).read())  # noqa: SIM115
    assert document["entry"]["index"] == 0

    page.goto(base + "/copyright/verify/")
    page.get_by_label("或粘贴证书内容").fill(json.dumps(document))
    page.get_by_role("button", name="验证", exact=True).click()
    expect(page.get_by_test_id("verdict-ok")).to_be_visible()
    _shot(page, "copyright-verify-ok.png")

    document["entry"]["leaf"] = document["entry"]["leaf"].replace('"design"', '"image"')
    page.get_by_label("或粘贴证书内容").fill(json.dumps(document))
    page.get_by_role("button", name="验证", exact=True).click()
    expect(page.get_by_test_id("verdict-bad")).to_contain_text("篡改")
    context.close()


@pytest.mark.django_db(transaction=True)
def test_scan_a_passport_then_a_clone_and_a_forgery(live_server, browser) -> None:  # type: ignore[no-untyped-def]
    """A buyer's numbered fan: its QR opens the provenance trail, every step verified; the same
    QR scanned from a far city moments later shows the clone warning; a forged QR is refused."""
    from playwright.sync_api import expect

    from yaji.copyright.models import Passport
    from yaji.copyright.tests.test_passports import altered, bought, edition_bound

    ARTIFACTS.mkdir(exist_ok=True)
    product, _design = edition_bound()
    bought(product)
    passport = Passport.objects.get()
    base = live_server.url
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)

    page.goto(f"{base}/copyright/p/{passport.token}/?city=beijing")
    expect(page.get_by_test_id("passport-serial")).to_have_text(passport.serial)
    steps = page.get_by_test_id("trail-step")
    expect(steps).to_have_count(3)
    for i in range(3):
        expect(steps.nth(i)).to_have_attribute("data-status", "verified")
    _shot(page, "copyright-passport.png")

    page.goto(f"{base}/copyright/p/{passport.token}/?city=urumqi")
    expect(page.get_by_test_id("clone-warning")).to_contain_text("乌鲁木齐")
    _shot(page, "copyright-passport-clone.png")

    response = page.goto(f"{base}/copyright/p/{altered(passport.token)}/")
    assert response is not None and response.status == 422
    expect(page.get_by_test_id("passport-invalid")).to_be_visible()
    context.close()
