"""Pages: listen-and-grab on the play page, gifts from it, my packets, share card, analytics."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from yaji.accounts.tests.factories import operator
from yaji.community.tests.factories import audio_work
from yaji.ledger.selectors import user_wallet_balance
from yaji.redpackets.models import Gift, GiftSend, RedPacketClaim
from yaji.redpackets.services import red_packet_claim, red_packet_send
from yaji.redpackets.tests.factories import UserFactory, completed_play, funded_user, reconcile_ok

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def grab_button(html: str) -> str:
    match = re.search(r"<button[^>]*data-grab-button[^>]*>", html)
    assert match, html[-3000:]
    return match.group(0)


def test_listen_and_grab_on_the_play_page() -> None:
    work = audio_work()
    packet = red_packet_send(
        sender=funded_user(),
        total_fen=200,
        count=2,
        split_type="equal",
        blessing="听完就抢",
        work_id=work.pk,
        condition="listened_full",
    )
    fan = UserFactory()
    client = logged_in(fan)
    page = client.get(f"/works/{work.pk}/").content.decode()
    assert "听完就抢" in page and "listen_grab.js" in page
    assert "disabled" in grab_button(page)  # locked until the play completes
    # A grab before the play completed is refused by the server too.
    early = client.post(
        f"/red-packets/{packet.pk}/grab/", {"compact": "1"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "请先完整听完作品再抢红包" in early
    completed_play(user=fan, work=work)
    page = client.get(f"/works/{work.pk}/").content.decode()
    assert "disabled" not in grab_button(page)
    grabbed = client.post(
        f"/red-packets/{packet.pk}/grab/", {"compact": "1"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "您抢到了" in grabbed
    assert RedPacketClaim.objects.filter(packet=packet, user=fan).exists()
    reconcile_ok()


def test_gift_from_the_play_page_sends_once_per_nonce() -> None:
    work = audio_work()
    fan = funded_user(10_000)
    client = logged_in(fan)
    page = client.get(f"/works/{work.pk}/").content.decode()
    assert "redpackets/gifts/rose" in page
    rose = Gift.objects.get(code="rose")
    form = {"gift_id": rose.pk, "nonce": "n-1"}
    first = client.post(f"/works/{work.pk}/gifts/send/", form, HTTP_HX_REQUEST="true")
    again = client.post(f"/works/{work.pk}/gifts/send/", form, HTTP_HX_REQUEST="true")
    assert "已送出" in first.content.decode()
    assert "已经送出" in again.content.decode()
    assert GiftSend.objects.count() == 1
    assert user_wallet_balance(work.creator).amount == 350
    # The creator sees no gift buttons on their own work.
    own = logged_in(work.creator).get(f"/works/{work.pk}/").content.decode()
    assert "gifts/send" not in own
    reconcile_ok()


def test_my_packets_and_share_card() -> None:
    sender = funded_user()
    packet = red_packet_send(
        sender=sender, total_fen=300, count=3, split_type="equal", blessing="新春快乐"
    )
    group = red_packet_send(
        sender=sender, total_fen=100, count=1, split_type="equal", audience="group"
    )
    fan = UserFactory()
    red_packet_claim(packet_id=packet.pk, user=fan)
    mine = logged_in(sender).get("/me/red-packets/").content.decode()
    assert "新春快乐" in mine and f"/red-packets/{group.pk}/card/?t=" in mine
    received = logged_in(fan).get("/me/red-packets/").content.decode()
    assert "新春快乐" in received and "¥1.00" in received
    assert Client().get("/me/red-packets/").status_code == 302  # login first
    card = Client().get(f"/red-packets/{packet.pk}/card/")
    assert card.status_code == 200 and "去抢红包" in card.content.decode()
    assert Client().get(f"/red-packets/{group.pk}/card/").status_code == 404
    with_token = Client().get(f"/red-packets/{group.pk}/card/?t={group.invite_token}")
    assert with_token.status_code == 200 and group.invite_token in with_token.content.decode()


def test_analytics_for_operators_only() -> None:
    packet = red_packet_send(sender=funded_user(), total_fen=300, count=3, split_type="equal")
    red_packet_claim(packet_id=packet.pk, user=UserFactory())
    assert logged_in(UserFactory()).get("/ops/red-packets/analytics/").status_code == 404
    page = logged_in(operator()).get("/ops/red-packets/analytics/?days=1")
    assert page.status_code == 200
    body = page.content.decode()
    assert body.count("<tr>") == 25  # header + 24 hours
    assert "¥3.00" in body and "¥1.00" in body


def test_my_packets_page_has_no_n_plus_one(django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    fan = UserFactory()
    client = logged_in(fan)

    def grab_one() -> None:
        packet = red_packet_send(sender=funded_user(), total_fen=100, count=1, split_type="equal")
        red_packet_claim(packet_id=packet.pk, user=fan)

    grab_one()
    client.get("/me/red-packets/")  # warm the session
    with django_assert_max_num_queries(12) as one:
        client.get("/me/red-packets/")
    for _ in range(5):
        grab_one()
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert client.get("/me/red-packets/").status_code == 200
