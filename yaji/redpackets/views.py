"""The red packet page: blessing, amount, claim list, luckiest, and a grab button (HTMX)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from yaji.core.errors import ApplicationError
from yaji.core.money import Money, format_money
from yaji.redpackets import selectors, services
from yaji.redpackets.errors import PacketForbidden, PacketNotFound
from yaji.redpackets.models import RedPacket


def _context(request: HttpRequest, packet: RedPacket, token: str) -> dict:
    claims = list(selectors.red_packet_claims(packet=packet))
    user = request.user
    mine = next((c for c in claims if user.is_authenticated and c.user_id == user.pk), None)
    luckiest = services.red_packet_luckiest(packet)
    return {
        "packet": packet,
        "token": token,
        "total": format_money(Money(packet.total_fen, packet.currency)),
        "claims": [(c, format_money(Money(c.amount_fen, packet.currency))) for c in claims],
        "luckiest": luckiest,
        "luckiest_amount": (
            format_money(Money(luckiest.amount_fen, packet.currency)) if luckiest else ""
        ),
        "mine": format_money(Money(mine.amount_fen, packet.currency)) if mine else None,
    }


@require_GET
def packet_page(request: HttpRequest, packet_id: int) -> HttpResponse:
    token = request.GET.get("t", "")[:64]
    user = request.user if request.user.is_authenticated else None
    try:
        packet = selectors.red_packet_get_visible(
            packet_id=packet_id,
            user=user,  # type: ignore[arg-type]
            invite_token=token,
        )
    except (PacketNotFound, PacketForbidden) as exc:
        raise Http404(str(exc.message)) from exc
    return render(request, "redpackets/packet.html", _context(request, packet, token))


@login_required
@require_POST
def packet_grab(request: HttpRequest, packet_id: int) -> HttpResponse:
    token = request.POST.get("t", "")[:64]
    error = None
    try:
        services.red_packet_claim(packet_id=packet_id, user=request.user, invite_token=token)  # type: ignore[arg-type]
    except ApplicationError as exc:
        error = str(exc.message)
    try:
        packet = selectors.red_packet_get_visible(
            packet_id=packet_id,
            user=request.user,  # type: ignore[arg-type]
            invite_token=token,
        )
    except (PacketNotFound, PacketForbidden) as exc:
        raise Http404(str(exc.message)) from exc
    context = {**_context(request, packet, token), "error": error}
    template = (
        "redpackets/_packet_body.html"
        if request.headers.get("HX-Request")
        else "redpackets/packet.html"
    )
    return render(request, template, context, status=200)
