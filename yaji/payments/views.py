"""Wallet pages and the sandbox provider's hosted pay page.

Each view validates its input, calls one payments service or selector, and renders. Whatever a
user may not see is a 404, never a hint.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import segno
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yaji.accounts.models import Role
from yaji.accounts.permissions import has_role
from yaji.catalog import selectors as catalog_selectors
from yaji.core.errors import ApplicationError
from yaji.core.money import Money, format_money
from yaji.ledger import selectors as ledger_selectors
from yaji.ledger.reconciliation import reconciliation_run
from yaji.payments import selectors, services, withdrawals
from yaji.payments import shop_finance as shop_finance_service
from yaji.payments.commission import default_commission_bps
from yaji.payments.models import (
    CommissionRate,
    PaymentIntent,
    PayoutBatch,
    SandboxPaymentStatus,
    ShopTier,
)
from yaji.payments.providers.sandbox import sandbox_payer_decide, sandbox_payment_get
from yaji.payments.refunds import refunds_in_flight_totals

HISTORY_PAGE = 20


def _wallet_context(request: HttpRequest) -> dict:
    user = request.user
    cursor_raw = request.GET.get("cursor") or ""
    cursor = int(cursor_raw) if cursor_raw.isdigit() and len(cursor_raw) < 19 else None
    balance = selectors.wallet_balance(user=user)  # type: ignore[arg-type]
    page = selectors.wallet_entries(user=user, cursor=cursor, limit=HISTORY_PAGE)  # type: ignore[arg-type]
    intent: PaymentIntent | None = None
    if request.GET.get("intent"):
        try:
            intent = selectors.payment_intent_get_for_user(
                intent_id=request.GET["intent"],
                user=user,  # type: ignore[arg-type]
            )
        except ApplicationError:
            intent = None
    return {
        "balance": format_money(balance),
        "entries": [
            {
                "entry": entry,
                "amount": format_money(Money(entry.amount, entry.currency)),
                "balance_after": format_money(Money(entry.balance_after, entry.currency)),
            }
            for entry in page.entries
        ],
        "next_cursor": page.next_cursor,
        "intent": intent,
        "amount_value": "",
        "error": "",
        "cards": list(selectors.bank_cards_for_user(user=user)),  # type: ignore[arg-type]
        "withdrawals": [
            {"withdrawal": w, "amount": format_money(Money(w.amount_fen, w.currency))}
            for w in selectors.withdrawals_for_user(user=user, limit=HISTORY_PAGE)  # type: ignore[arg-type]
        ],
        "refunds": [
            {
                "refund": r,
                "amount": format_money(Money(r.amount_fen, r.currency)),
                "dest": selectors.refund_destination(r),
            }
            for r in selectors.refunds_for_user(user=user, limit=HISTORY_PAGE)  # type: ignore[arg-type]
        ],
        "withdraw_key": uuid.uuid4().hex,
        "card_error": "",
        "card_form": {},
        "withdraw_error": "",
        "withdraw_value": "",
    }


@login_required
@require_GET
def wallet(request: HttpRequest) -> HttpResponse:
    return render(request, "payments/wallet.html", _wallet_context(request))


@login_required
@require_POST
def wallet_topup(request: HttpRequest) -> HttpResponse:
    text = (request.POST.get("amount") or "").strip()
    try:
        amount = Money.parse(text, "CNY")
        intent = services.wallet_topup_create(user=request.user, amount_fen=amount.amount)  # type: ignore[arg-type]
    except ApplicationError as exc:
        context = _wallet_context(request)
        context.update(error=str(exc.message), amount_value=text[:20])
        return render(request, "payments/wallet.html", context, status=400)
    return redirect(intent.pay_url)


@login_required
@require_POST
def wallet_card_add(request: HttpRequest) -> HttpResponse:
    form = {
        "holder_name": (request.POST.get("holder_name") or "").strip()[:100],
        "card_number": (request.POST.get("card_number") or "").strip()[:40],
        "bank_name": (request.POST.get("bank_name") or "").strip()[:40],
    }
    try:
        withdrawals.bank_card_add(user=request.user, **form)  # type: ignore[arg-type]
    except ApplicationError as exc:
        context = _wallet_context(request)
        context.update(card_error=str(exc.message), card_form=form)
        return render(request, "payments/wallet.html", context, status=exc.status)
    return redirect("payments:wallet")


@login_required
@require_POST
def wallet_card_remove(request: HttpRequest, card_id: str) -> HttpResponse:
    try:
        withdrawals.bank_card_remove(user=request.user, card_id=card_id)  # type: ignore[arg-type]
    except ApplicationError as exc:
        raise Http404() from exc
    return redirect("payments:wallet")


@login_required
@require_POST
def wallet_withdraw(request: HttpRequest) -> HttpResponse:
    text = (request.POST.get("amount") or "").strip()
    key = (request.POST.get("idempotency_key") or "").strip()[:255]
    try:
        amount = Money.parse(text, "CNY")
        withdrawals.withdrawal_request(
            user=request.user,  # type: ignore[arg-type]
            card_id=request.POST.get("card_id") or "",
            amount_fen=amount.amount,
            request_key=key,
        )
    except ApplicationError as exc:
        context = _wallet_context(request)
        context.update(withdraw_error=str(exc.message), withdraw_value=text[:20])
        return render(request, "payments/wallet.html", context, status=exc.status)
    return redirect("payments:wallet")


@login_required
@require_GET
def intent_status(request: HttpRequest, intent_id: str) -> HttpResponse:
    try:
        intent = selectors.payment_intent_get_for_user(intent_id=intent_id, user=request.user)  # type: ignore[arg-type]
    except ApplicationError as exc:
        raise Http404() from exc
    response = render(request, "payments/partials/intent_status.html", {"intent": intent})
    if getattr(request, "htmx", False) and intent.is_final:
        # The payment settled while the page waited: reload once to show the new balance.
        response["HX-Refresh"] = "true"
    return response


@login_required
@require_GET
def intent_pay(request: HttpRequest, intent_id: str) -> HttpResponse:
    """Scan to pay: the provider's QR payload (WeChat Pay Native ``code_url``) as a QR code,
    with the status polling until the provider's notification arrives."""
    try:
        intent = selectors.payment_intent_get_for_user(intent_id=intent_id, user=request.user)  # type: ignore[arg-type]
    except ApplicationError as exc:
        raise Http404() from exc
    qr_svg = ""
    if intent.qr_payload and not intent.is_final:
        qr_svg = segno.make(intent.qr_payload, error="m").svg_inline(scale=5, title="QR")
    context = {
        "intent": intent,
        "amount": format_money(Money(intent.provider_amount_fen, intent.currency)),
        "qr_svg": qr_svg,
    }
    return render(request, "payments/intent_pay.html", context)


@require_http_methods(["GET", "POST"])
def sandbox_pay(request: HttpRequest, reference: str) -> HttpResponse:
    """The sandbox provider's hosted pay page (anyone holding the link may pay, like a QR)."""
    payment = sandbox_payment_get(reference=reference)
    if payment is None:
        raise Http404()
    error = ""
    if request.method == "POST":
        try:
            payment = sandbox_payer_decide(
                reference=reference, paid=request.POST.get("action") == "pay"
            )
        except ApplicationError as exc:
            error = str(exc.message)
        else:
            target = payment.return_url
            if target and url_has_allowed_host_and_scheme(target, allowed_hosts=None):
                return redirect(target)
            payment.refresh_from_db()
    context = {
        "payment": payment,
        "amount": format_money(Money(payment.amount_fen, payment.currency)),
        "is_pending": payment.status == SandboxPaymentStatus.PENDING,
        "error": error,
    }
    return render(request, "payments/sandbox_pay.html", context, status=409 if error else 200)


# --- shop finance (shop owners and managers) and operator finance (finance, operators) --------


def _month_bounds(raw: str) -> tuple[datetime, datetime, str]:
    """``YYYY-MM`` (default: this month, local time) → [start, end) as aware datetimes."""
    today = timezone.localdate()
    year, month = today.year, today.month
    well_formed = len(raw) == 7 and raw[4] == "-" and raw[:4].isdigit() and raw[5:].isdigit()
    if well_formed and 2000 <= int(raw[:4]) <= 2100 and 1 <= int(raw[5:]) <= 12:
        year, month = int(raw[:4]), int(raw[5:])
    tz = timezone.get_current_timezone()
    start = datetime(year, month, 1, tzinfo=tz)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=tz)
    return start, end, f"{year:04d}-{month:02d}"


def _yuan(fen: int) -> str:
    return format_money(Money(fen, "CNY"))


@login_required
@require_GET
def shop_finance(request: HttpRequest, slug: str) -> HttpResponse:
    """A shop's balance, its statement for one month, the orders settled, and its payouts."""
    try:
        shop = catalog_selectors.shop_get_managed(user=request.user, slug=slug)
    except ApplicationError as exc:
        raise Http404 from exc
    start, end, month = _month_bounds(request.GET.get("month") or "")
    statement = shop_finance_service.shop_statement(shop_id=shop.pk, start=start, end=end)
    balance = ledger_selectors.account_balance(
        shop_finance_service.shop_payable_account(shop_id=shop.pk)
    )
    previous = (start - timedelta(days=1)).strftime("%Y-%m")
    return render(
        request,
        "payments/shop_finance.html",
        {
            "shop": shop,
            "month": month,
            "previous_month": previous,
            "next_month": end.strftime("%Y-%m"),
            "balance": format_money(balance),
            "statement": statement,
            "rows": [
                (_("结算订单数"), str(statement.orders), "orders"),
                (_("托管金额"), _yuan(statement.gross_fen), "gross"),
                (_("结算时退给买家"), _yuan(statement.refunded_fen), "refunded"),
                (_("平台佣金"), _yuan(statement.commission_fen), "commission"),
                (_("版税"), _yuan(statement.royalty_fen), "royalty"),
                (_("结算所得"), _yuan(statement.settled_net_fen), "settled-net"),
                (_("结算后追回"), _yuan(statement.clawback_fen), "clawback"),
                (_("本期净额"), _yuan(statement.net_fen), "net"),
                (_("打款"), _yuan(statement.payouts_fen), "payouts"),
                (_("打款失败退回"), _yuan(statement.returned_fen), "returned"),
                (_("期初余额"), _yuan(statement.opening_fen), "opening"),
                (_("期末余额"), _yuan(statement.closing_fen), "closing"),
            ],
            "settlements": shop_finance_service.shop_settlements(
                shop_id=shop.pk, start=start, end=end
            ),
            "payouts": shop_finance_service.shop_payouts(shop_id=shop.pk),
            "in_flight": [
                {"refund": r, "dest": selectors.refund_destination(r)}
                for r in selectors.refunds_in_flight_for_shop(shop_id=shop.pk)
            ],
        },
    )


def _finance_staff(user: object) -> bool:
    return has_role(user, Role.FINANCE) or has_role(user, Role.OPERATOR)


@login_required
@require_http_methods(["GET", "POST"])
def operator_finance(request: HttpRequest) -> HttpResponse:
    """Finance and operators: the reconciliation report (run on demand), commission rates and
    shop tiers (edited in the admin), payout batches (finance only)."""
    user = request.user
    if not _finance_staff(user):
        raise Http404
    results = None
    batch = None
    error = ""
    if request.method == "POST" and request.POST.get("action") == "reconcile":
        results = reconciliation_run()
    elif request.method == "POST" and request.POST.get("action") == "payout":
        if not has_role(user, Role.FINANCE):
            raise Http404
        try:
            batch = shop_finance_service.payout_batch_create(actor=user)  # type: ignore[arg-type]
        except ApplicationError as exc:
            error = str(exc.message)
    return render(
        request,
        "payments/finance.html",
        {
            "results": results,
            "failed": [r for r in results or [] if not r.ok],
            "batch": batch,
            "error": error,
            "can_pay_out": has_role(user, Role.FINANCE),
            "default_bps": default_commission_bps(),
            "rates": CommissionRate.objects.select_related("category", "tier").order_by(
                "category__slug", "tier__code"
            ),
            "tiers": ShopTier.objects.annotate(shop_count=Count("shops")).order_by("code"),
            "batches": PayoutBatch.objects.order_by("-created_at")[:10],
            "in_flight": selectors.refunds_in_flight(),
            "in_flight_total": _yuan(refunds_in_flight_totals().get("CNY", 0)),
        },
    )
