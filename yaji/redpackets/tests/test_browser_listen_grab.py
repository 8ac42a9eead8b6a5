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
