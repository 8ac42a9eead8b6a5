"""Red packet pages: the packet (claim list, luckiest, grab by HTMX), the share card, my sent
and received packets, gifts from a work's play page, and the operators' hourly analytics."""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from yaji.accounts.permissions import is_operator
from yaji.core.errors import ApplicationError
from yaji.core.money import Money, format_money
from yaji.payments import selectors as payments_selectors
from yaji.redpackets import charts, gifts, payment_funding, selectors, services
from yaji.redpackets.errors import PacketForbidden, PacketNotFound
from yaji.redpackets.forms import SendForm
from yaji.redpackets.models import Audience, Condition, Funding, PacketStatus, RedPacket
from yaji.risk import selectors as risk_selectors


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


def _payment_context(request: HttpRequest, packet: RedPacket) -> dict:
    """The sender's view of a packet waiting for its payment: where to pay, and whether they
    just came back from the pay page (the notification may still be on its way)."""
    if packet.funding != Funding.PAYMENT or packet.sender_id != request.user.pk:
        return {}
    intents = payment_funding.red_packet_intents(packet=packet)
    open_intent = next(
        (i for i in intents if i.status in ("requires_payment", "processing") and i.pay_url),
        None,
    )
    return {
        "pay_url": open_intent.pay_url if open_intent else "",
        "returned": request.GET.get("returned") == "1",
        "intents": intents,
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
    context = {**_context(request, packet, token), **_payment_context(request, packet)}
    return render(request, "redpackets/packet.html", context)


@login_required
def packet_send(request: HttpRequest) -> HttpResponse:
    """The send form: from the wallet, or online (the provider's pay page; the wallet's
    balance first if asked). The form's nonce makes a double submit send once."""
    user = request.user
    initial = {"nonce": secrets.token_urlsafe(16), "work": _int(request.GET.get("work")) or None}
    form = SendForm(request.POST or None, initial=initial)
    error = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        nonce_key = f"rpsend:{user.pk}:{data['nonce']}"
        if not cache.add(nonce_key, 1, timeout=86400):
            return redirect("redpackets:mine")
        fields = {
            "sender": user,
            "total_fen": form.total_fen(),
            "count": data["count"],
            "split_type": data["split_type"],
            "blessing": data["blessing"],
            "audience": data["audience"],
            "work_id": data["work"],
            "condition": (
                Condition.LISTENED_FULL
                if data["work"] and data["listened_full"]
                else Condition.NONE
            ),
            "ip": request.META.get("REMOTE_ADDR") or None,
        }
        if data["audience"] == Audience.CITY:
            fields.update(lat=data["lat"], lng=data["lng"], radius_m=form.radius_m())
        try:
            if data["funding"] == Funding.PAYMENT:
                sent = payment_funding.red_packet_send_paid(use_wallet=data["use_wallet"], **fields)
                if sent.packet.status == PacketStatus.PENDING_PAYMENT and sent.intent.pay_url:
                    return redirect(sent.intent.pay_url)
                packet = sent.packet
            else:
                packet = services.red_packet_send(**fields)
        except ApplicationError as exc:
            cache.delete(nonce_key)
            error = str(exc.message)
        else:
            url = reverse("redpackets:packet", kwargs={"packet_id": packet.pk})
            if packet.invite_token:
                url += "?" + urlencode({"t": packet.invite_token})
            return redirect(url)
    return render(
        request,
        "redpackets/send.html",
        {
            "form": form,
            "error": error,
            "balance": format_money(payments_selectors.wallet_balance(user=user)),  # type: ignore[arg-type]
        },
    )


@login_required
@require_POST
def packet_grab(request: HttpRequest, packet_id: int) -> HttpResponse:
    token = request.POST.get("t", "")[:64]
    error = None
    try:
        services.red_packet_claim(
            packet_id=packet_id,
            user=request.user,  # type: ignore[arg-type]
            invite_token=token,
            ip=request.META.get("REMOTE_ADDR") or None,
        )
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
    if request.POST.get("compact"):
        return render(request, "redpackets/partials/grab_result.html", context)
    template = (
        "redpackets/_packet_body.html"
        if request.headers.get("HX-Request")
        else "redpackets/packet.html"
    )
    return render(request, template, context, status=200)


# --- "listen and grab" on the work page, gifts from the page --------------------------------


@login_required
@require_POST
def gift_send_view(request: HttpRequest, work_id: int) -> HttpResponse:
    """A gift from the play page (HTMX). The form's nonce makes a double submit send once."""
    nonce = request.POST.get("nonce", "")[:80]
    message, ok = "", False
    if not nonce or not cache.add(f"giftnonce:{request.user.pk}:{nonce}", 1, timeout=86400):
        message = str(_("这份礼物已经送出。"))
    else:
        try:
            record = gifts.gift_send(
                sender=request.user,  # type: ignore[arg-type]
                work_id=work_id,
                gift_id=_int(request.POST.get("gift_id")),
                quantity=1,
                ip=request.META.get("REMOTE_ADDR") or None,
            )
            ok = True
            message = str(
                _("已送出%(gift)s（%(amount)s）。")
                % {
                    "gift": record.gift.name,
                    "amount": format_money(Money(record.amount_fen, record.currency)),
                }
            )
        except ApplicationError as exc:
            cache.delete(f"giftnonce:{request.user.pk}:{nonce}")
            message = str(exc.message)
    return render(request, "redpackets/partials/gift_result.html", {"message": message, "ok": ok})


def _int(value: object) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return 0


# --- my packets, share card -------------------------------------------------------------------


@login_required
@require_GET
def my_packets(request: HttpRequest) -> HttpResponse:
    user = request.user
    sent = [
        (p, format_money(Money(p.total_fen, p.currency)))
        for p in selectors.red_packets_sent(user=user, limit=50)  # type: ignore[arg-type]
    ]
    received = [
        (c, format_money(Money(c.amount_fen, c.packet.currency)))
        for c in selectors.red_packets_received(user=user, limit=50)  # type: ignore[arg-type]
    ]
    return render(request, "redpackets/my_packets.html", {"sent": sent, "received": received})


@require_GET
def packet_card(request: HttpRequest, packet_id: int) -> HttpResponse:
    """A share card: blessing, sender, total and the link (group packets keep their token)."""
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
    link = reverse("redpackets:packet", kwargs={"packet_id": packet.pk})
    if token:
        link += "?" + urlencode({"t": token})
    return render(
        request,
        "redpackets/card.html",
        {
            "packet": packet,
            "total": format_money(Money(packet.total_fen, packet.currency)),
            "link": request.build_absolute_uri(link),
        },
    )


# --- operators: sends and grabs per hour ------------------------------------------------------


LATENCY_LABELS = (
    "0–10 秒",
    "10–60 秒",
    "1–5 分钟",
    "5–30 分钟",
    "30 分钟–2 小时",
    "2–24 小时",
    "24 小时以上",
)


def _amount_labels(edges: tuple[int, ...]) -> list[str]:
    out = []
    for i, lo in enumerate(edges):
        if i + 1 < len(edges):
            out.append(
                f"{format_money(Money(lo, 'CNY'))}–{format_money(Money(edges[i + 1] - 1, 'CNY'))}"
            )
        else:
            out.append(f"≥ {format_money(Money(lo, 'CNY'))}")
    return out


@login_required
@require_GET
def analytics(request: HttpRequest) -> HttpResponse:
    if not (request.user.is_superuser or is_operator(request.user)):
        raise Http404()
    days = max(1, min(_int(request.GET.get("days", 7)) or 7, 90))
    dash = selectors.red_packet_dashboard(days=days)
    rows = [
        {
            "hour": r.hour,
            "sent_n": r.sent_n,
            "sent": format_money(Money(r.sent_fen, "CNY")),
            "claimed_n": r.claimed_n,
            "claimed": format_money(Money(r.claimed_fen, "CNY")),
        }
        for r in dash.hours
    ]
    hourly_chart = charts.grouped_bars(
        title=_("每小时发出与抢到"),
        labels=[f"{r.hour:02d}" for r in dash.hours],
        series=[
            (_("发出"), [r.sent_n for r in dash.hours]),
            (_("抢到"), [r.claimed_n for r in dash.hours]),
        ],
    )
    amount_labels = _amount_labels(dash.packet_totals.edges)
    amount_chart = charts.grouped_bars(
        title=_("金额分布"),
        labels=amount_labels,
        series=[
            (_("红包总额"), dash.packet_totals.counts),
            (_("抢到的份额"), dash.claim_shares.counts),
        ],
    )
    latency_labels = [_(label) for label in LATENCY_LABELS]
    latency_chart = charts.grouped_bars(
        title=_("领取耗时"),
        labels=latency_labels,
        series=[(_("领取次数"), dash.latency.histogram.counts)],
    )
    percentiles = []
    for p in (50, 90, 99):
        bucket = dash.latency.percentile_bucket(p)
        if bucket is not None:
            percentiles.append((f"p{p}", latency_labels[bucket]))
    risk_rows = [
        (
            f"{risk_selectors.risk_rule_label(rule)} · {risk_selectors.risk_outcome_label(outcome)}",
            n,
            str(n),
        )
        for rule, outcome, n in dash.risk_by_rule
    ]
    gift_rows = [
        (name, fen, f"{format_money(Money(fen, 'CNY'))} · {n}") for name, fen, n in dash.gift_top
    ]
    return render(
        request,
        "redpackets/analytics.html",
        {
            "days": days,
            "rows": rows,
            "hourly_chart": hourly_chart,
            "amount_chart": amount_chart,
            "latency_chart": latency_chart,
            "latency": dash.latency,
            "percentiles": percentiles,
            "risk_chart": charts.horizontal_bars(
                title=_("风控决策（按规则）"), rows=risk_rows, colour=2
            )
            if risk_rows
            else None,
            "gift_chart": charts.horizontal_bars(
                title=_("礼物收入最高的创作者"), rows=gift_rows, colour=3
            )
            if gift_rows
            else None,
        },
    )
