"""The operators' dashboard in a real headless Chromium: the inline SVG charts render (no
script, no CDN) and a screenshot is kept."""

from __future__ import annotations

import re

import pytest

from yaji.accounts.models import Role
from yaji.accounts.tests.factories import PASSWORD, RoleAssignmentFactory, UserFactory
from yaji.redpackets.tests.test_dashboard import seed
from yaji.testing.browser import ARTIFACTS

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True)
def test_dashboard_charts_render(live_server, browser) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    seed()
    ops = UserFactory(email="ops@example.com", display_name="运营小李")
    RoleAssignmentFactory(user=ops, role=Role.OPERATOR)
    context = browser.new_context(locale="zh-CN", viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)  # a shared, busy machine
    page.goto(live_server.url + "/account/login/")
    page.get_by_label("手机号或邮箱").fill(ops.email)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("form.form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/account/$"))

    page.goto(f"{live_server.url}/ops/red-packets/analytics/?days=7")
    expect(page.locator("svg.rp-svg")).to_have_count(3)
    expect(page.locator('[data-chart="hourly"] svg rect').first).to_be_visible()
    box = page.locator('[data-chart="hourly"] svg').bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 50
    page.screenshot(path=str(ARTIFACTS / "redpackets-dashboard.png"), full_page=True)
    context.close()
