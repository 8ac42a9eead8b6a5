"""The site's send form: from the wallet or online (ADR 0042), bilingual, double submit safe."""

from __future__ import annotations

import pytest
from django.test import Client

from yaji.payments.models import PaymentIntent
from yaji.redpackets.models import Funding, PacketStatus, RedPacket
from yaji.redpackets.tests.factories import funded_user, reconcile_ok

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _sandbox(settings) -> None:  # type: ignore[no-untyped-def]
    settings.YAJI_SANDBOX_PAY_SECRET = "test-sandbox-secret"
    settings.YAJI_PAYMENT_PROVIDER = "sandbox"


def logged_in(user, language: str = "zh-hans") -> Client:  # type: ignore[no-untyped-def]
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def form(**overrides: str) -> dict:
    data = {
        "total_yuan": "6.66",
        "count": "3",
        "split_type": "lucky",
        "blessing": "",
        "audience": "public",
        "funding": "wallet",
        "nonce": "n-1",
    }
    data.update(overrides)
    return data


def test_the_form_offers_wallet_or_online_payment_in_both_languages() -> None:
    user = funded_user(100)
    zh = logged_in(user).get("/red-packets/new/")
    assert zh.status_code == 200
    html = zh.content.decode()
    assert "钱包" in html and "在线支付" in html and "¥1.00" in html
    en = logged_in(user, "en").get("/red-packets/new/").content.decode()
    assert "Wallet" in en and "Pay with" in en and "Send a red packet" in en
    assert Client().get("/red-packets/new/").status_code == 302  # login first


def test_from_the_wallet_it_goes_live_and_a_double_submit_sends_once() -> None:
    sender = funded_user(10_000)
    client = logged_in(sender)
    first = client.post("/red-packets/new/", form())
    packet = RedPacket.objects.get(sender=sender)
    assert first.status_code == 302 and first["Location"] == f"/red-packets/{packet.pk}/"
    assert packet.status == PacketStatus.ACTIVE and packet.funding == Funding.WALLET
    assert packet.total_fen == 666
    again = client.post("/red-packets/new/", form())
    assert again.status_code == 302
    assert RedPacket.objects.filter(sender=sender).count() == 1
    reconcile_ok()


def test_online_it_sends_the_sender_to_the_pay_page_for_the_shortfall() -> None:
    sender = funded_user(166, verified=True)
    response = logged_in(sender).post("/red-packets/new/", form(funding="payment", use_wallet="on"))
    packet = RedPacket.objects.get(sender=sender)
    intent = PaymentIntent.objects.get(payer=sender)
    assert response.status_code == 302 and response["Location"] == intent.pay_url
    assert packet.status == PacketStatus.PENDING_PAYMENT
    assert (intent.wallet_amount_fen, intent.provider_amount_fen) == (166, 500)
    page = logged_in(sender).get(f"/red-packets/{packet.pk}/").content.decode()
    assert "待支付" in page and intent.pay_url in page
    reconcile_ok()


def test_a_refusal_is_shown_in_the_users_language_and_nothing_is_sent() -> None:
    sender = funded_user(100)
    zh = logged_in(sender).post("/red-packets/new/", form())
    assert zh.status_code == 200 and "余额不足" in zh.content.decode()
    en = logged_in(sender, "en").post("/red-packets/new/", form(nonce="n-2"))
    assert "nsufficient" in en.content.decode()
    bad = logged_in(sender).post("/red-packets/new/", form(total_yuan="0", nonce="n-3"))
    assert bad.status_code == 200 and "errorlist" in bad.content.decode()
    assert not RedPacket.objects.filter(sender=sender).exists()


def test_a_same_city_packet_from_the_form_with_a_typed_location() -> None:
    from yaji.redpackets.geo import geohash_encode
    from yaji.redpackets.services import red_packet_claim
    from yaji.redpackets.tests.factories import UserFactory

    sender = funded_user(10_000)
    client = logged_in(sender)
    html = client.get("/red-packets/new/").content.decode()
    assert 'value="city"' in html and "使用我的位置" in html
    sent = client.post(
        "/red-packets/new/",
        form(audience="city", lat="31.23040", lng="121.47370", radius_km="3", nonce="c-1"),
    )
    packet = RedPacket.objects.get(sender=sender)
    assert sent.status_code == 302 and packet.audience == "city"
    assert packet.radius_m == 3_000 and packet.geohash == geohash_encode(31.2304, 121.4737)
    # nearby grabs, 20 km away does not
    assert red_packet_claim(packet_id=packet.pk, user=UserFactory(), lat=31.235, lng=121.48)
    from yaji.redpackets.errors import OutOfRadius

    with pytest.raises(OutOfRadius):
        red_packet_claim(packet_id=packet.pk, user=UserFactory(), lat=31.40, lng=121.47)
    reconcile_ok()


def test_a_same_city_packet_without_a_location_is_refused_and_nothing_is_sent() -> None:
    sender = funded_user(10_000)
    client = logged_in(sender)
    page = client.post("/red-packets/new/", form(audience="city", nonce="c-2"))
    assert page.status_code == 200
    assert "同城红包需要您的位置" in page.content.decode()
    out = client.post(
        "/red-packets/new/", form(audience="city", lat="95", lng="121.4", nonce="c-3")
    )
    assert out.status_code == 200
    assert not RedPacket.objects.filter(sender=sender).exists()
