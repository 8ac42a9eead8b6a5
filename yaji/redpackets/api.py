"""The red packets API: send, look, grab, my sent and received packets."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.templatetags.static import static
from ninja import Query, Router, Status
from ninja.responses import codes_4xx

from yaji.accounts.auth import api_auth
from yaji.accounts.models import User
from yaji.community.errors import WorkNotFound
from yaji.core.idempotency import (
    idempotency_complete_part,
    idempotency_json_response,
    idempotency_reserve_part,
    idempotency_reserved,
    idempotent,
)
from yaji.core.sqlparts import SqlPart
from yaji.payments.models import PaymentIntent
from yaji.redpackets import gifts, payment_funding, selectors, services
from yaji.redpackets.errors import FundingInvalid, PacketExpired, PacketFinished, PacketNotFound
from yaji.redpackets.models import Audience, Funding, RedPacket
from yaji.redpackets.schemas import (
    ClaimIn,
    ClaimOut,
    ErrorOut,
    GiftOut,
    GiftReceivedOut,
    GiftSendIn,
    GiftSendOut,
    PacketDetailOut,
    PacketOut,
    ReceivedOut,
    SendIn,
    SendOut,
)
from yaji.risk.services import risk_device_fingerprint

router = Router(tags=["red packets"], auth=api_auth)

ERRORS = {codes_4xx: ErrorOut}
MAX_ID = 2**63 - 1


def _user(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined, return-value]


def _client(request: HttpRequest) -> dict:
    """What risk control sees of the client: a device fingerprint and the address."""
    return {
        "device": risk_device_fingerprint(request.headers.get("X-Device-Id", "")),
        "ip": request.META.get("REMOTE_ADDR") or None,
    }


def _packet(packet: RedPacket, user: User) -> dict:
    data = {
        field: getattr(packet, field)
        for field in (
            "id",
            "sender_id",
            "total_fen",
            "currency",
            "count",
            "split_type",
            "blessing",
            "work_id",
            "condition",
            "audience",
            "status",
            "claimed_count",
            "claimed_fen",
            "refunded_fen",
            "expires_at",
            "created_at",
            "radius_m",
            "funding",
            "pay_by",
        )
    }
    mine = packet.sender_id == user.pk and packet.audience == Audience.GROUP
    data["invite_token"] = packet.invite_token if mine else None
    return data


def _luckiest(luckiest: services.Luckiest | None) -> dict | None:
    if luckiest is None:
        return None
    return {"user_id": luckiest.user_id, "amount_fen": luckiest.amount_fen}


@router.post(
    "/red-packets",
    response={201: SendOut, **ERRORS},
    summary="Send a red packet, from my wallet or through a payment",
)
@idempotent(required=True)
def red_packet_send(request: HttpRequest, payload: SendIn):  # type: ignore[no-untyped-def]
    """``funding: "wallet"`` moves the total from the wallet now. ``funding: "payment"``
    creates the packet ``pending_payment`` and a payment intent (``payment.pay_url`` is the
    provider's pay page; with ``use_wallet`` the balance pays first): the packet goes live
    when the provider's signed notification arrives, and is cancelled if unpaid by
    ``pay_by``."""
    user = _user(request)
    fields = payload.dict()
    funding = fields.pop("funding")
    use_wallet = fields.pop("use_wallet")
    provider = fields.pop("provider")
    if funding == Funding.WALLET:
        packet = services.red_packet_send(sender=user, **fields, **_client(request))
        return Status(201, _packet(packet, user))
    if funding != Funding.PAYMENT:
        raise FundingInvalid(extra={"field": "funding", "allowed": list(Funding.values)})
    sent = payment_funding.red_packet_send_paid(
        sender=user, use_wallet=use_wallet, provider=provider, **fields, **_client(request)
    )
    data = _packet(sent.packet, user)
    data["payment"] = _payment(sent.intent, request)
    return Status(201, data)


def _payment(intent: PaymentIntent, request: HttpRequest) -> dict:
    return {
        "intent_id": str(intent.id),
        "status": intent.status,
        "amount_fen": intent.amount_fen,
        "wallet_amount_fen": intent.wallet_amount_fen,
        "provider_amount_fen": intent.provider_amount_fen,
        "provider": intent.provider,
        "pay_url": request.build_absolute_uri(intent.pay_url) if intent.pay_url else "",
        "expires_at": intent.expires_at,
    }


@router.post(
    "/red-packets/{packet_id}/cancel",
    response={200: PacketOut, **ERRORS},
    summary="Give up paying my pending red packet",
)
@idempotent(required=True)
def red_packet_cancel(request: HttpRequest, packet_id: int):  # type: ignore[no-untyped-def]
    """Only a ``pending_payment`` packet of mine; a payment that still arrives is refunded."""
    if not 1 <= packet_id <= MAX_ID:
        raise PacketNotFound()
    user = _user(request)
    packet = payment_funding.red_packet_cancel_unpaid(sender=user, packet_id=packet_id)
    return _packet(packet, user)


@router.get(
    "/red-packets/{packet_id}",
    response={200: PacketDetailOut, **ERRORS},
    summary="A red packet with its claims (group packets: with the invite token)",
)
def red_packet_detail(  # type: ignore[no-untyped-def]
    request: HttpRequest,
    packet_id: int,
    invite_token: str | None = Query(None, max_length=64),  # type: ignore[arg-type]
):
    user = _user(request)
    packet = selectors.red_packet_get_visible(
        packet_id=packet_id, user=user, invite_token=invite_token
    )
    data = _packet(packet, user)
    data["claims"] = [
        {
            "user_id": claim.user_id,
            "display_name": claim.user.display_name,
            "amount_fen": claim.amount_fen,
            "created_at": claim.created_at,
        }
        for claim in selectors.red_packet_claims(packet=packet)
    ]
    data["luckiest"] = _luckiest(services.red_packet_luckiest(packet))
    return data


@router.post(
    "/red-packets/{packet_id}/claim",
    response={200: ClaimOut, **ERRORS},
    summary="Grab a share of a red packet",
)
@idempotent(required=True, in_transaction=True)
def red_packet_claim(request: HttpRequest, packet_id: int, payload: ClaimIn):  # type: ignore[no-untyped-def]
    """A grab moves money or nothing: the answer of a grab that got a share is stored with the
    claim, in its transaction (a retry with the same key replays it); refusals ("all taken",
    "already claimed", ...) are not stored, so a retry after one asks again."""
    record = _KeyRecord(request)
    try:
        services.red_packet_claim(
            packet_id=packet_id,
            user=_user(request),
            invite_token=payload.invite_token,
            lat=payload.lat,
            lng=payload.lng,
            record=record,
            **_client(request),
        )
    except (PacketFinished, PacketExpired) as exc:
        if not exc.extra.get("gate"):
            raise
        # "All taken" / "expired" from the Redis gate (ADR 0042): answered here, without the
        # idempotency key's look-up that a raised refusal gets. No retry of a grab that
        # succeeded lands here: its user is in the gate's claimed set, checked first, so the
        # gate says "already claimed" (raised, looked up, replayed).
        response = idempotency_json_response(exc.as_body(), status=exc.status)
        # The access log (yaji.core.observability) records every request with its status;
        # django.request's WARNING for each 4xx would log each of a storm's thousands of
        # "all taken" twice. Django's log_response skips a response marked as logged.
        response._has_been_logged = True  # type: ignore[attr-defined]
        return response
    assert record.response is not None
    return record.response


class _KeyRecord:
    """The grab's idempotency record, written in the claim's transaction (ADR 0044): reserved
    before the packet row is locked, completed with the answer in the claim's last statement."""

    __slots__ = ("request", "response")

    def __init__(self, request: HttpRequest) -> None:
        self.request = request
        self.response: HttpResponse | None = None

    def reserve(self) -> SqlPart | None:
        return idempotency_reserve_part(self.request)

    def reserved(self, value: object) -> None:
        idempotency_reserved(self.request, value)  # type: ignore[arg-type]

    def complete(self, result: services.ClaimResult) -> SqlPart | None:
        self.response = idempotency_json_response(ClaimOut(**_claim_out(result)).model_dump())
        return idempotency_complete_part(self.request, self.response)


def _claim_out(result: services.ClaimResult) -> dict:
    return {
        "packet_id": result.packet_id,
        "amount_fen": result.amount_fen,
        "finished": result.finished,
        "luckiest": _luckiest(result.luckiest),
    }


@router.get("/me/red-packets/sent", response={200: list[PacketOut], **ERRORS})
def red_packets_sent(  # type: ignore[no-untyped-def]
    request: HttpRequest,
    limit: int = Query(50, ge=1, le=200),  # type: ignore[arg-type]
):
    user = _user(request)
    return [_packet(p, user) for p in selectors.red_packets_sent(user=user, limit=limit)]


@router.get("/me/red-packets/received", response={200: list[ReceivedOut], **ERRORS})
def red_packets_received(  # type: ignore[no-untyped-def]
    request: HttpRequest,
    limit: int = Query(50, ge=1, le=200),  # type: ignore[arg-type]
):
    return [
        {
            "packet_id": claim.packet_id,
            "sender_id": claim.packet.sender_id,
            "blessing": claim.packet.blessing,
            "amount_fen": claim.amount_fen,
            "created_at": claim.created_at,
        }
        for claim in selectors.red_packets_received(user=_user(request), limit=limit)
    ]


# --- gifts ------------------------------------------------------------------------------------


def _gift_send(record) -> dict:  # type: ignore[no-untyped-def]
    return {
        field: getattr(record, field)
        for field in (
            "id",
            "work_id",
            "creator_id",
            "sender_id",
            "gift_id",
            "quantity",
            "amount_fen",
            "platform_fen",
            "creator_fen",
            "holder_fen",
            "created_at",
        )
    }


@router.get("/gifts", response={200: list[GiftOut], **ERRORS}, auth=None, summary="Gift catalogue")
def gift_catalogue(request: HttpRequest):  # type: ignore[no-untyped-def]
    return [
        {
            "id": g.pk,
            "code": g.code,
            "name": g.name,
            "name_en": g.name_en,
            "price_fen": g.price_fen,
            "icon_url": static(g.icon),
        }
        for g in gifts.gift_catalogue()
    ]


@router.post(
    "/works/{work_id}/gifts",
    response={201: GiftSendOut, **ERRORS},
    summary="Send a gift to the creator of a work, from my wallet",
)
@idempotent(required=True)
def gift_send(request: HttpRequest, work_id: int, payload: GiftSendIn):  # type: ignore[no-untyped-def]
    if not 1 <= work_id <= MAX_ID:
        raise WorkNotFound()
    record = gifts.gift_send(
        sender=_user(request),
        work_id=work_id,
        gift_id=payload.gift_id,
        quantity=payload.quantity,
        **_client(request),
    )
    return Status(201, _gift_send(record))


@router.get("/me/gifts/received", response={200: list[GiftReceivedOut], **ERRORS})
def gifts_received(  # type: ignore[no-untyped-def]
    request: HttpRequest,
    limit: int = Query(50, ge=1, le=200),  # type: ignore[arg-type]
):
    return [_gift_send(r) for r in gifts.gifts_received(creator=_user(request), limit=limit)]
