"""Gifts (虚拟礼物) to creators on their works, funded from the sender's wallet.

One durable transaction per gift: the :class:`GiftSend` row with its split and one balanced
ledger transaction (sender's wallet → platform revenue + creator's wallet [+ rights holder]).
Risk control (``gift.send``) decides before, outside the money transaction; the creator's
``gift.receive`` activity feeds the fast-in-fast-out rule.

Reads (catalogue, gifts received) are here too, next to the one write, as ``gift_*`` selectors.
"""

from __future__ import annotations

from collections import defaultdict

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet

from yaji.accounts.models import User
from yaji.community.selectors import work_get
from yaji.core.money import Money
from yaji.core.outbox import outbox_publish
from yaji.ledger.models import AccountKind, LedgerAccount
from yaji.ledger.services import Posting, account_for, ledger_post, wallet_account_for_user
from yaji.redpackets.errors import GiftInvalid, GiftNotFound, GiftToSelf
from yaji.redpackets.models import Gift, GiftSend, RightsHolder, WorkLicense
from yaji.redpackets.revenue_split import gift_split
from yaji.risk.services import risk_activity_record, risk_check

CURRENCY = "CNY"
MAX_QUANTITY = 99
LEDGER_KIND_GIFT = "gift.send"
TOPIC_GIFT_SENT = "gifts.sent"
RISK_GIFT_SEND = "gift.send"
RISK_GIFT_RECEIVE = "gift.receive"


def gift_platform_percent() -> int:
    return int(getattr(settings, "YAJI_GIFT_PLATFORM_PERCENT", 30))


def _holder_account(holder: RightsHolder) -> LedgerAccount:
    if holder.user_id is not None:
        return wallet_account_for_user(user=holder.user, currency=CURRENCY)
    return account_for(
        kind=AccountKind.CREATOR_ROYALTY, owner_ref=f"rights_holder:{holder.pk}", currency=CURRENCY
    )


def gift_send(
    *,
    sender: User,
    work_id: int,
    gift_id: int,
    quantity: int = 1,
    device: str = "",
    ip: str | None = None,
) -> GiftSend:
    """Send ``quantity`` × gift to the creator of ``work_id``. Codes: gift_not_found,
    gift_invalid, gift_to_self, work_not_found, insufficient_funds, risk control's."""
    if (
        not isinstance(quantity, int)
        or isinstance(quantity, bool)
        or not 1 <= quantity <= MAX_QUANTITY
    ):
        raise GiftInvalid(extra={"field": "quantity", "min": 1, "max": MAX_QUANTITY})
    gift = Gift.objects.filter(pk=gift_id, active=True).first()
    if gift is None:
        raise GiftNotFound()
    work = work_get(work_id=work_id)
    if work.creator_id == sender.pk:
        raise GiftToSelf()
    license_ = (
        WorkLicense.objects.select_related("holder__split", "holder__user")
        .filter(work=work)
        .first()
    )
    holder = license_.holder if license_ else None
    amount = gift.price_fen * quantity
    platform_percent = gift_platform_percent()
    partner_percent = holder.split.partner_percent if holder else None
    split = gift_split(amount, platform_percent=platform_percent, partner_percent=partner_percent)
    risk_check(user=sender, action=RISK_GIFT_SEND, amount_fen=amount, device=device, ip=ip)

    with transaction.atomic(durable=True):
        record = GiftSend.objects.create(
            sender=sender,
            creator=work.creator,
            work=work,
            gift=gift,
            quantity=quantity,
            amount_fen=amount,
            currency=CURRENCY,
            platform_fen=split.platform_fen,
            creator_fen=split.creator_fen,
            holder_fen=split.holder_fen,
            holder=holder,
            platform_percent=platform_percent,
            partner_percent=partner_percent or 0,
        )
        # Net by account (the rights holder may be the creator's own wallet).
        lines: dict[int, int] = defaultdict(int)
        accounts: dict[int, LedgerAccount] = {}
        for account, fen in (
            (wallet_account_for_user(user=sender, currency=CURRENCY), -amount),
            (account_for(kind=AccountKind.PLATFORM_REVENUE, currency=CURRENCY), split.platform_fen),
            (wallet_account_for_user(user=work.creator, currency=CURRENCY), split.creator_fen),
            *(((_holder_account(holder), split.holder_fen),) if holder else ()),
        ):
            accounts[account.pk] = account
            lines[account.pk] += fen
        ledger_post(
            kind=LEDGER_KIND_GIFT,
            postings=[
                Posting(accounts[pk], Money(fen, CURRENCY)) for pk, fen in lines.items() if fen
            ],
            reference=f"gift:{record.pk}",
            description=f"gift {gift.code} ×{quantity} on work {work.pk}",
            metadata={"work_id": work.pk, "gift": gift.code, "quantity": quantity},
        )
        risk_activity_record(
            user=sender,
            action=RISK_GIFT_SEND,
            amount_fen=amount,
            device=device,
            ip=ip,
            reference=f"gift:{record.pk}",
        )
        risk_activity_record(
            user=work.creator,
            action=RISK_GIFT_RECEIVE,
            amount_fen=split.creator_fen,
            reference=f"gift:{record.pk}",
        )
        outbox_publish(
            topic=TOPIC_GIFT_SENT,
            payload={
                "gift_send_id": record.pk,
                "work_id": work.pk,
                "creator_id": work.creator_id,
                "sender_id": sender.pk,
                "amount_fen": amount,
            },
            key=str(work.pk),
        )
    return record


# --- reads ------------------------------------------------------------------------------------


def gift_catalogue() -> QuerySet[Gift]:
    return Gift.objects.filter(active=True).order_by("sort_order", "price_fen", "pk")


def gifts_received(*, creator: User, limit: int = 50) -> QuerySet[GiftSend]:
    return (
        GiftSend.objects.filter(creator=creator)
        .select_related("gift", "sender", "work")
        .order_by("-created_at", "-pk")[:limit]
    )


def gifts_on_work(*, work_id: int, limit: int = 20) -> QuerySet[GiftSend]:
    return (
        GiftSend.objects.filter(work_id=work_id)
        .select_related("gift", "sender")
        .order_by("-created_at", "-pk")[:limit]
    )
