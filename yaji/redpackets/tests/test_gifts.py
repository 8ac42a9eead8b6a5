from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yaji.community.tests.factories import audio_work
from yaji.core.errors import ApplicationError
from yaji.ledger.models import AccountKind, LedgerAccount
from yaji.ledger.selectors import user_wallet_balance
from yaji.payments.tests.factories import Api
from yaji.redpackets.gifts import gift_send
from yaji.redpackets.models import (
    Gift,
    GiftSend,
    PartnerKind,
    PartnerSplit,
    RightsHolder,
    WorkLicense,
)
from yaji.redpackets.revenue_split import gift_split
from yaji.redpackets.tests.factories import UserFactory, funded_user, reconcile_ok

pytestmark = pytest.mark.django_db


def code_of(fn, **kw) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(ApplicationError) as err:
        fn(**kw)
    return err.value.code


@pytest.mark.django_db(transaction=False)
@given(
    amount=st.integers(min_value=0, max_value=10**12),
    platform=st.integers(min_value=0, max_value=100),
    partner=st.none() | st.integers(min_value=0, max_value=100),
)
def test_split_sums_exactly(amount: int, platform: int, partner: int | None) -> None:
    split = gift_split(amount, platform_percent=platform, partner_percent=partner)
    assert split.platform_fen + split.creator_fen + split.holder_fen == amount
    assert min(split.platform_fen, split.creator_fen, split.holder_fen) >= 0
    # Each part is within one fen of its exact share.
    assert abs(split.platform_fen * 100 - amount * platform) < 100
    if partner is None:
        assert split.holder_fen == 0


def test_seed_split_table_and_catalogue() -> None:
    assert dict(PartnerSplit.objects.values_list("kind", "partner_percent")) == {
        "content_owner": 60,
        "hardware": 30,
        "carrier": 25,
    }
    prices = list(Gift.objects.filter(active=True).values_list("price_fen", flat=True))
    assert prices and min(prices) >= 500 and max(prices) <= 50_000


def test_gift_to_creator_platform_keeps_30_percent() -> None:
    work = audio_work()
    fan = funded_user(10_000)
    rose = Gift.objects.get(code="rose")  # 5 yuan
    record = gift_send(sender=fan, work_id=work.pk, gift_id=rose.pk, quantity=3)
    assert (record.amount_fen, record.platform_fen, record.creator_fen) == (1_500, 450, 1_050)
    assert user_wallet_balance(fan).amount == 8_500
    assert user_wallet_balance(work.creator).amount == 1_050
    platform = LedgerAccount.objects.get(kind=AccountKind.PLATFORM_REVENUE, owner__isnull=True)
    assert platform.balance == 450
    reconcile_ok()


def test_licensed_work_shares_the_creators_part(settings) -> None:  # type: ignore[no-untyped-def]
    settings.YAJI_GIFT_PLATFORM_PERCENT = 25
    work = audio_work()
    label = RightsHolder.objects.create(
        name="某唱片公司", split=PartnerSplit.objects.get(kind=PartnerKind.CONTENT_OWNER)
    )
    WorkLicense.objects.create(work=work, holder=label)
    cake = Gift.objects.get(code="cake")  # 20 yuan
    record = gift_send(sender=funded_user(10_000), work_id=work.pk, gift_id=cake.pk)
    # 2,000 fen: platform 25 % = 500; creator's part 1,500 → holder 60 % = 900, creator 600.
    assert (record.platform_fen, record.holder_fen, record.creator_fen) == (500, 900, 600)
    holder_account = LedgerAccount.objects.get(
        kind=AccountKind.CREATOR_ROYALTY, owner_ref=f"rights_holder:{label.pk}"
    )
    assert holder_account.balance == 900
    assert user_wallet_balance(work.creator).amount == 600
    reconcile_ok()


def test_bad_gifts_move_nothing() -> None:
    work = audio_work()
    fan = funded_user(600)
    rose = Gift.objects.get(code="rose")
    cake = Gift.objects.get(code="cake")
    assert code_of(gift_send, sender=fan, work_id=work.pk, gift_id=cake.pk) == (
        "insufficient_funds"
    )
    assert code_of(gift_send, sender=fan, work_id=work.pk, gift_id=999_999) == "gift_not_found"
    assert (
        code_of(gift_send, sender=fan, work_id=work.pk, gift_id=rose.pk, quantity=0)
        == "gift_invalid"
    )
    assert code_of(gift_send, sender=fan, work_id=999_999, gift_id=rose.pk) == "work_not_found"
    assert (
        code_of(gift_send, sender=work.creator, work_id=work.pk, gift_id=rose.pk) == "gift_to_self"
    )
    assert not GiftSend.objects.exists()
    assert user_wallet_balance(fan).amount == 600


def test_api_catalogue_send_with_idempotency_and_received() -> None:
    work = audio_work()
    catalogue = Api().get("/gifts")
    assert catalogue.status_code == 200
    rose = next(g for g in catalogue.json() if g["code"] == "rose")
    assert rose["icon_url"].endswith("redpackets/gifts/rose.svg")
    fan = Api(funded_user(10_000))
    path = f"/works/{work.pk}/gifts"
    missing = fan.post_json(path, {"gift_id": rose["id"]})
    assert missing.status_code == 400 and missing.json()["code"] == "idempotency_key_required"
    key = {"Idempotency-Key": uuid.uuid4().hex}
    sent = fan.post_json(path, {"gift_id": rose["id"], "quantity": 2}, headers=key)
    assert sent.status_code == 201, sent.content
    again = fan.post_json(path, {"gift_id": rose["id"], "quantity": 2}, headers=key)
    assert again.json() == sent.json() and GiftSend.objects.count() == 1
    assert sent.json()["creator_fen"] == 700
    received = Api(work.creator).get("/me/gifts/received").json()
    assert [r["id"] for r in received] == [sent.json()["id"]]
    unknown = fan.post_json(
        "/works/999999/gifts", {"gift_id": rose["id"]}, headers={"Idempotency-Key": "x1"}
    )
    assert unknown.status_code == 404 and unknown.json()["code"] == "work_not_found"
    reconcile_ok()


def test_gift_on_someone_elses_work_pays_that_creator_only() -> None:
    work = audio_work()
    bystander = UserFactory()
    gift_send(sender=funded_user(), work_id=work.pk, gift_id=Gift.objects.get(code="mic").pk)
    assert user_wallet_balance(bystander).amount == 0
    assert user_wallet_balance(work.creator).amount == 700
