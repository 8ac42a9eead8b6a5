"""Listen and grab in a real headless Chromium: the grab button of a "listen to the end" packet
stays locked until the player shows the verified completion, then grabs by HTMX."""

from __future__ import annotations

import re

import pytest

from yaji.accounts.tests.factories import PASSWORD, UserFactory
from yaji.community.tests.factories import audio_work
from yaji.redpackets.models import RedPacketClaim
from yaji.redpackets.services import red_packet_send
from yaji.redpackets.tests.factories import completed_play, funded_user
from yaji.testing.browser import ARTIFACTS

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True)
def test_grab_unlocks_when_the_play_completes(live_server, browser) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    work = audio_work()
    packet = red_packet_send(
        sender=funded_user(),
        total_fen=888,
        count=2,
        split_type="lucky",
        blessing="听完这首就抢",
        work_id=work.pk,
        condition="listened_full",
    )
    fan = UserFactory(email="fan@example.com", display_name="听众小王")
    context = browser.new_context(locale="zh-CN", viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)  # a shared, busy machine
    page.goto(live_server.url + "/account/login/")
    page.get_by_label("手机号或邮箱").fill(fan.email)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("form.form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/account/$"))

    page.goto(f"{live_server.url}/works/{work.pk}/")
    button = page.locator("[data-grab-button]")
    expect(page.get_by_text("听完这首就抢")).to_be_visible()
    expect(button).to_be_disabled()
    # The server records the completed play; the player then shows its answer.
    completed_play(user=fan, work=work)
    page.evaluate("document.querySelector('[data-complete]').hidden = false")
    expect(button).to_be_enabled()
    button.click()
    expect(page.get_by_text("您抢到了")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "redpackets-listen-grab.png"), full_page=True)
    assert RedPacketClaim.objects.filter(packet=packet, user=fan).exists()
    context.close()


@pytest.mark.django_db(transaction=True)
def test_send_a_packet_paid_on_the_sandbox_pay_page(live_server, browser, settings) -> None:  # type: ignore[no-untyped-def]
    """The send form's 在线支付: the sandbox's hosted pay page, back to the packet, live once
    the signed notification arrives (ADR 0042)."""
    from playwright.sync_api import expect

    from yaji.payments.tests.factories import relay_all
    from yaji.redpackets.models import PacketStatus, RedPacket

    settings.YAJI_SANDBOX_PAY_DUPLICATE_RATE = 0.0
    ARTIFACTS.mkdir(exist_ok=True)
    sender = funded_user(0, verified=True)
    context = browser.new_context(locale="zh-CN", viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(live_server.url + "/account/login/")
    page.get_by_label("手机号或邮箱").fill(sender.email)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("form.form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/account/$"))

    page.goto(f"{live_server.url}/me/red-packets/")
    page.get_by_test_id("send-link").click()
    page.get_by_label("总金额（元）").fill("8.88")
    page.get_by_label("红包个数").fill("3")
    page.get_by_label("祝福语").fill("扫码付款的红包")
    page.get_by_label("在线支付", exact=True).check()
    page.get_by_test_id("send-submit").click()

    expect(page).to_have_url(re.compile(r"/pay/sandbox/"))
    expect(page.get_by_test_id("pay-amount")).to_contain_text("8.88")
    packet = RedPacket.objects.get(sender=sender)
    assert packet.status == PacketStatus.PENDING_PAYMENT
    page.get_by_role("button", name="支付 Pay").click()
    expect(page).to_have_url(re.compile(rf"/red-packets/{packet.pk}/\?returned=1"))
    expect(page.get_by_test_id("pay-confirming")).to_be_visible()
    expect(page.get_by_test_id("packet-status")).to_contain_text("待支付")

    relay_all()  # the provider's signed notification arrives
    page.reload()
    expect(page.get_by_test_id("packet-status")).to_contain_text("进行中")
    expect(page.get_by_role("button", name="抢红包")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "redpackets-paid-online.png"), full_page=True)
    packet.refresh_from_db()
    assert packet.status == PacketStatus.ACTIVE
    context.close()


@pytest.mark.django_db(transaction=True)
def test_send_a_same_city_packet_with_the_browsers_location(live_server, browser) -> None:  # type: ignore[no-untyped-def]
    """同城 in the send form: the location fields appear, "使用我的位置" fills them from the
    browser's geolocation (granted to the page here), the packet is sent for that cell."""
    from playwright.sync_api import expect

    from yaji.redpackets.geo import geohash_encode
    from yaji.redpackets.models import RedPacket

    ARTIFACTS.mkdir(exist_ok=True)
    sender = funded_user(10_000)
    context = browser.new_context(
        locale="zh-CN",
        viewport={"width": 1100, "height": 1000},
        geolocation={"latitude": 39.90420, "longitude": 116.40740},
        permissions=["geolocation"],
    )
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(live_server.url + "/account/login/")
    page.get_by_label("手机号或邮箱").fill(sender.email)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("form.form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/account/$"))

    page.goto(f"{live_server.url}/red-packets/new/")
    city = page.get_by_test_id("send-city")
    expect(city).to_be_hidden()
    page.get_by_label("总金额（元）").fill("3.00")
    page.get_by_label("红包个数").fill("3")
    page.get_by_label("发给谁").select_option("city")
    expect(city).to_be_visible()
    page.get_by_test_id("send-locate").click()
    expect(page.get_by_label("纬度")).to_have_value("39.90420")
    expect(page.get_by_label("经度")).to_have_value("116.40740")
    page.get_by_label("范围").select_option("10")
    page.screenshot(path=str(ARTIFACTS / "redpackets-send-city.png"), full_page=True)
    page.get_by_test_id("send-submit").click()
    expect(page).to_have_url(re.compile(r"/red-packets/\d+/$"))
    packet = RedPacket.objects.get(sender=sender)
    assert packet.audience == "city" and packet.radius_m == 10_000
    assert packet.geohash == geohash_encode(39.9042, 116.4074)
    context.close()
