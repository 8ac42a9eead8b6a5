"""Trade pages: cart (guests too), checkout, paying from the wallet, my orders, a shop's orders.

Each view validates its input, calls one trade service or selector, and renders; service errors
become messages on the page. Whatever a user may not see is a 404.
"""

from __future__ import annotations

import secrets

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yaji.accounts.models import Role
from yaji.accounts.permissions import has_role
from yaji.catalog import selectors as catalog_selectors
from yaji.catalog.models import Product
from yaji.catalog.uploads import private_storage
from yaji.core import clock
from yaji.core.errors import ApplicationError
from yaji.core.money import Money, format_money
from yaji.payments import selectors as payments_selectors
from yaji.trade import (
    aftersales,
    countries,
    divisions,
    flash,
    payment,
    reviews,
    selectors,
    services,
)
from yaji.trade.errors import InvalidShippingTemplate, ProductUnavailable
from yaji.trade.models import (
    AfterSale,
    AfterSaleStatus,
    Cart,
    FlashSale,
    OrderStatus,
    ShippingOption,
)
from yaji.trade.receivers import GUEST_CART_SESSION_KEY
from yaji.trade.refunds import order_refund_destinations

MAX_ID = 2**63 - 1


def _int(value: object, default: int = 0) -> int:
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) < 19 else default


def _cart_for_request(request: HttpRequest, *, create: bool) -> Cart | None:
    """The member's cart, or this browser's guest cart (a random token in the session)."""
    if request.user.is_authenticated:
        if create:
            return services.cart_get(user=request.user)  # type: ignore[arg-type]
        return selectors.cart_find(user=request.user)  # type: ignore[arg-type]
    token = request.session.get(GUEST_CART_SESSION_KEY)
    if not token:
        if not create:
            return None
        # Not the session key itself: Django rotates that at login, the token survives it.
        token = request.session[GUEST_CART_SESSION_KEY] = secrets.token_urlsafe(24)
    return (
        services.cart_get(session_key=token) if create else selectors.cart_find(session_key=token)
    )


@require_GET
def cart(request: HttpRequest) -> HttpResponse:
    view = selectors.cart_view(cart=_cart_for_request(request, create=False))
    return render(request, "trade/cart.html", {"view": view})


@require_POST
def cart_add(request: HttpRequest) -> HttpResponse:
    customisation = {
        key.removeprefix("custom_"): value
        for key, value in request.POST.items()
        if key.startswith("custom_") and value.strip()
    }
    try:
        services.cart_line_add(
            cart=_cart_for_request(request, create=True),  # type: ignore[arg-type]
            variant_id=_int(request.POST.get("variant_id")),
            quantity=_int(request.POST.get("quantity"), 1),
            customisation=customisation,
        )
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
        back = request.POST.get("next", "")
        return redirect(
            back if back.startswith("/") and not back.startswith("//") else "trade:cart"
        )
    messages.success(request, _("已加入购物车。"))
    return redirect("trade:cart")


@require_POST
def cart_line(request: HttpRequest, line_id: int) -> HttpResponse:
    current = _cart_for_request(request, create=False)
    if current is None:
        raise Http404
    try:
        if request.POST.get("action") == "remove":
            services.cart_line_remove(cart=current, line_id=min(line_id, MAX_ID))
        else:
            services.cart_line_update(
                cart=current,
                line_id=min(line_id, MAX_ID),
                quantity=_int(request.POST.get("quantity")),
            )
    except ApplicationError as exc:
        if exc.status == 404:
            raise Http404 from exc
        messages.error(request, str(exc.message))
    return redirect("trade:cart")


def _division_choices(form: object) -> dict[str, object]:
    """The province / city / district lists of the address form, for what is chosen so far."""
    get = getattr(form, "get", lambda _key, default="": default)
    province, city = str(get("province", ""))[:30], str(get("city", ""))[:30]
    return {
        "provinces": divisions.provinces(),
        "cities": divisions.cities(province),
        "districts": divisions.districts(province, city),
    }


@require_GET
def division_options(request: HttpRequest) -> HttpResponse:
    """HTMX: the ``<option>``s of the next level — a province's cities (and an emptied district
    list), or a city's districts."""
    province = request.GET.get("province", "")[:30]
    if request.GET.get("level") == "district":
        names = divisions.districts(province, request.GET.get("city", "")[:30])
        return render(request, "trade/partials/division_options.html", {"names": names})
    names = divisions.cities(province)
    return render(
        request, "trade/partials/division_options.html", {"names": names, "reset_district": True}
    )


def _checkout_context(request: HttpRequest, **extra: object) -> dict:
    user = request.user
    view = selectors.cart_view(cart=selectors.cart_find(user=user))  # type: ignore[arg-type]
    return {
        "view": view,
        "addresses": list(selectors.addresses_of(user=user)),  # type: ignore[arg-type]
        "shipping_options": ShippingOption.choices,
        "countries": countries.choices(),
        "balance": format_money(payments_selectors.wallet_balance(user=user)),  # type: ignore[arg-type]
        "form": request.POST,
        **_division_choices(request.POST),
        **extra,
    }


def _address_from_post(request: HttpRequest) -> int | None:
    """The chosen address, or the new one the form describes (created, made the default)."""
    post, user = request.POST, request.user
    if post.get("address_id") != "new":
        return _int(post.get("address_id")) or None
    if post.get("address_kind") == "abroad":
        address = services.address_create(
            user=user,  # type: ignore[arg-type]
            recipient=post.get("recipient", ""),
            phone=post.get("phone", ""),
            # An empty choice is not China: the form's abroad half was chosen.
            country=post.get("country", "") or "-",
            region=post.get("abroad_region", ""),
            city=post.get("abroad_city", ""),
            postal_code=post.get("abroad_postal_code", ""),
            line=post.get("abroad_line", ""),
            line2=post.get("abroad_line2", ""),
            is_default=True,
        )
    else:
        address = services.address_create(
            user=user,  # type: ignore[arg-type]
            recipient=post.get("recipient", ""),
            phone=post.get("phone", ""),
            province=post.get("province", ""),
            city=post.get("city", ""),
            district=post.get("district", ""),
            line=post.get("line", ""),
            is_default=True,
        )
    return address.pk


@login_required
@require_http_methods(["GET", "POST"])
def checkout(request: HttpRequest) -> HttpResponse:
    """Choose the address and shipping, then place the orders (one per shop)."""
    if request.method == "GET":
        return render(request, "trade/checkout.html", _checkout_context(request))
    post = request.POST
    user = request.user
    try:
        address_id = _address_from_post(request)
        options = {
            _int(key.removeprefix("shipping_")): value
            for key, value in post.items()
            if key.startswith("shipping_")
        }
        placed = services.checkout_place(
            buyer=user,  # type: ignore[arg-type]
            address_id=address_id,
            shipping_options=options,
            note=post.get("note", ""),
        )
    except ApplicationError as exc:
        context = _checkout_context(request, error=exc.message, error_code=exc.code)
        return render(request, "trade/checkout.html", context, status=exc.status)
    return redirect("trade:checkout_pay", checkout_id=placed.pk)


@login_required
@require_http_methods(["GET", "POST"])
def checkout_pay(request: HttpRequest, checkout_id: str) -> HttpResponse:
    user = request.user
    try:
        found = selectors.checkout_get(buyer=user, checkout_id=checkout_id)  # type: ignore[arg-type]
    except ApplicationError as exc:
        raise Http404 from exc
    error = ""
    if request.method == "POST":
        try:
            if request.POST.get("action") == "cancel":
                services.checkout_cancel(buyer=user, checkout_id=found.pk)  # type: ignore[arg-type]
                messages.info(request, _("订单已取消，库存已释放。"))
            elif request.POST.get("action") == "online":
                # Online through the provider's pay page, optionally with the wallet's balance
                # first; the provider's notification pays the orders (trade.payment).
                wallet_fen = 0
                if request.POST.get("use_wallet"):
                    balance = payments_selectors.wallet_balance(user=user)  # type: ignore[arg-type]
                    wallet_fen = max(0, min(balance.amount, found.total_fen - 1))
                intent = payment.checkout_payment_start(
                    buyer=user,  # type: ignore[arg-type]
                    checkout_id=found.pk,
                    wallet_amount_fen=wallet_fen,
                )
                return redirect(intent.pay_url)
            else:
                services.checkout_pay_with_wallet(buyer=user, checkout_id=found.pk)  # type: ignore[arg-type]
                messages.success(request, _("付款成功，货款由平台托管，确认收货后才结算给店铺。"))
                return redirect("trade:orders")
        except ApplicationError as exc:
            error = str(exc.message)
        found = selectors.checkout_get(buyer=user, checkout_id=checkout_id)  # type: ignore[arg-type]
    balance = payments_selectors.wallet_balance(user=user)  # type: ignore[arg-type]
    return render(
        request,
        "trade/checkout_pay.html",
        {
            "checkout": found,
            "balance": format_money(balance),
            "enough": balance.amount >= found.total_fen,
            "error": error,
            "wallet_url": reverse("payments:wallet"),
            "returned": bool(request.GET.get("returned")),
            "intents": payment.checkout_intents(checkout=found),
        },
        status=409 if error else 200,
    )


@login_required
@require_GET
def orders(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status") or None
    if status and status not in OrderStatus.values:
        status = None
    page = selectors.orders_of_buyer(
        buyer=request.user,  # type: ignore[arg-type]
        status=status,
        cursor=request.GET.get("cursor") or None,
    )
    return render(
        request,
        "trade/orders.html",
        {"page": page, "status": status, "statuses": OrderStatus.choices},
    )


@login_required
@require_http_methods(["GET", "POST"])
def order_detail(request: HttpRequest, number: str) -> HttpResponse:
    user = request.user
    try:
        order = selectors.order_get_for_buyer(buyer=user, number=number[:32])  # type: ignore[arg-type]
    except ApplicationError as exc:
        raise Http404 from exc
    if request.method == "POST":
        try:
            if request.POST.get("action") == "refund":
                services.order_refund_before_shipment(
                    buyer=user,  # type: ignore[arg-type]
                    order_id=order.pk,
                    reason=request.POST.get("reason", ""),
                )
                messages.success(request, _("已申请退款，按原支付方式退回。"))
            elif request.POST.get("action") == "confirm":
                services.order_confirm_receipt(buyer=user, order_id=order.pk)  # type: ignore[arg-type]
                messages.success(request, _("已确认收货，感谢支持手艺人。"))
            elif request.POST.get("action") == "download":
                link = services.order_download_link(
                    buyer=user,  # type: ignore[arg-type]
                    order_id=order.pk,
                    line_id=_int(request.POST.get("line_id")),
                )
                return redirect(link.url)
            elif request.POST.get("action") == "after_sale":
                amount = request.POST.get("amount", "").strip()
                aftersales.after_sale_request(
                    buyer=user,  # type: ignore[arg-type]
                    order_id=order.pk,
                    kind=request.POST.get("kind", ""),
                    reason=request.POST.get("reason", ""),
                    amount_fen=Money.parse(amount, "CNY").amount if amount else None,
                    photos=request.FILES.getlist("photos"),
                )
                messages.success(request, _("售后申请已提交，等待店铺处理。"))
            elif request.POST.get("action") == "return":
                aftersales.after_sale_return_ship(
                    buyer=user,  # type: ignore[arg-type]
                    after_sale_id=_int(request.POST.get("after_sale_id")),
                    carrier=request.POST.get("carrier", ""),
                    tracking_number=request.POST.get("tracking_number", ""),
                )
                messages.success(request, _("已登记退货物流。"))
            elif request.POST.get("action") == "escalate":
                aftersales.after_sale_escalate(
                    buyer=user,  # type: ignore[arg-type]
                    after_sale_id=_int(request.POST.get("after_sale_id")),
                )
                messages.success(request, _("已申请平台介入，运营会在 72 小时内处理。"))
            elif request.POST.get("action") == "review":
                reviews.review_create(
                    buyer=user,  # type: ignore[arg-type]
                    order_id=order.pk,
                    product_id=_int(request.POST.get("product_id")),
                    rating=_int(request.POST.get("rating")),
                    text=request.POST.get("text", ""),
                    photos=request.FILES.getlist("photos"),
                )
                messages.success(request, _("评价已发布，谢谢分享。"))
        except ApplicationError as exc:
            messages.error(request, str(exc.message))
        return redirect("trade:order_detail", number=order.number)
    reviewed = set(order.reviews.values_list("product_id", flat=True))
    to_review = [line for line in order.lines.all() if line.product_id not in reviewed]
    context = {
        "order": order,
        "to_review": to_review,
        "after_sales": list(order.after_sales.order_by("-created_at")),
        "after_sale_open": aftersales.after_sale_open_for(order),
        "refunds": order_refund_destinations(order),
    }
    return render(request, "trade/order_detail.html", context)


@login_required
@require_GET
def shop_orders(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        shop = catalog_selectors.shop_get_managed(user=request.user, slug=slug)
    except ApplicationError as exc:
        raise Http404 from exc
    status = request.GET.get("status") or None
    if status and status not in OrderStatus.values:
        status = None
    page = selectors.orders_of_shop(
        user=request.user,  # type: ignore[arg-type]
        shop=shop,
        status=status,
        cursor=request.GET.get("cursor") or None,
    )
    return render(
        request,
        "trade/shop_orders.html",
        {"shop": shop, "page": page, "status": status, "statuses": OrderStatus.choices},
    )


@login_required
@require_POST
def shop_order_ship(request: HttpRequest, order_id: int) -> HttpResponse:
    try:
        order = selectors.order_get_for_shop(user=request.user, order_id=min(order_id, MAX_ID))  # type: ignore[arg-type]
    except ApplicationError as exc:
        raise Http404 from exc
    try:
        services.order_ship(
            actor=request.user,  # type: ignore[arg-type]
            order_id=order.pk,
            carrier=request.POST.get("carrier", ""),
            tracking_number=request.POST.get("tracking_number", ""),
        )
        messages.success(request, _("订单 %(number)s 已发货。") % {"number": order.number})
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
    return redirect("trade:shop_orders", slug=order.shop.slug)


@login_required
@require_POST
def shop_after_sale(request: HttpRequest, after_sale_id: int) -> HttpResponse:
    """The shop approves, rejects or confirms the return of an after-sales request."""
    actor, after_sale_id = request.user, min(after_sale_id, MAX_ID)
    action = request.POST.get("action")
    try:
        if action == "approve":
            done = aftersales.after_sale_approve(actor=actor, after_sale_id=after_sale_id)  # type: ignore[arg-type]
        elif action == "reject":
            done = aftersales.after_sale_reject(
                actor=actor,  # type: ignore[arg-type]
                after_sale_id=after_sale_id,
                note=request.POST.get("note", ""),
            )
        elif action == "receive":
            done = aftersales.after_sale_receive(actor=actor, after_sale_id=after_sale_id)  # type: ignore[arg-type]
        else:
            raise Http404
    except ApplicationError as exc:
        if exc.status == 404:
            raise Http404 from exc
        messages.error(request, str(exc.message))
        back = AfterSale.objects.filter(pk=after_sale_id).values_list(
            "order__shop__slug", flat=True
        )
        return redirect("trade:shop_orders", slug=next(iter(back)))
    messages.success(request, _("售后已更新：%(status)s") % {"status": done.get_status_display()})
    return redirect("trade:shop_orders", slug=done.order.shop.slug)


@login_required
@require_http_methods(["GET", "POST"])
def disputes(request: HttpRequest) -> HttpResponse:
    """Operators arbitrate disputed after-sales requests, oldest first."""
    if not has_role(request.user, Role.OPERATOR):
        raise Http404
    if request.method == "POST":
        try:
            aftersales.after_sale_decide(
                operator=request.user,  # type: ignore[arg-type]
                after_sale_id=_int(request.POST.get("after_sale_id")),
                refund=request.POST.get("decision") == "refund",
                note=request.POST.get("note", ""),
            )
            messages.success(request, _("裁决已生效。"))
        except ApplicationError as exc:
            messages.error(request, str(exc.message))
        return redirect("trade:disputes")
    open_disputes = (
        AfterSale.objects.filter(status=AfterSaleStatus.DISPUTED)
        .select_related("order", "order__shop", "buyer")
        .prefetch_related("photos")
        .order_by("updated_at")
    )
    return render(request, "trade/disputes.html", {"disputes": open_disputes})


@login_required
@require_GET
def after_sale_photo(request: HttpRequest, photo_id: int) -> FileResponse:
    """A photo of an after-sales request: its buyer, the shop and operators; anyone else 404."""
    try:
        photo = aftersales.after_sale_photo_get(user=request.user, photo_id=min(photo_id, MAX_ID))  # type: ignore[arg-type]
        handle = private_storage.open(photo.file.name, "rb")
    except (ApplicationError, FileNotFoundError) as exc:
        raise Http404 from exc
    response = FileResponse(handle, content_type="image/webp")  # re-encoded at upload
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


# --- flash sales: the sale page with its buy-now button (ADR 0045) ----------------------------


def _flash_sale_or_404(sale_id: int) -> FlashSale:
    sale = (
        FlashSale.objects.select_related("variant__product__shop")
        .filter(pk=min(sale_id, MAX_ID), variant__product__status=Product.Status.LISTED)
        .first()
    )
    if sale is None:
        raise Http404
    return sale


def _flash_state(sale: FlashSale) -> str:
    now = clock.now()
    if now < sale.starts_at:
        return "upcoming"
    if now >= sale.ends_at:
        return "ended"
    return "sold_out" if sale.stock <= 0 else "running"


def _flash_refusal(sale: FlashSale, exc: ApplicationError) -> str:
    """What the buyer reads when buy-now is refused: the sale's own words for its refusals."""
    if exc.code == "flash_sale_sold_out":
        return _("手慢了，本场秒杀已抢光。有人取消订单时会重新放出库存。")
    if exc.code == "per_buyer_limit_exceeded":
        return _("每人限购 %(limit)s 件，你已抢到 %(bought)s 件。") % {
            "limit": exc.extra.get("limit", sale.per_user_limit),
            "bought": exc.extra.get("bought", 0),
        }
    if exc.code == "product_unavailable":
        state = _flash_state(sale)
        if state == "upcoming":
            return _("秒杀尚未开始，开始时间：%(at)s。") % {
                "at": date_format(localtime(sale.starts_at), "Y-m-d H:i")
            }
        if state == "ended":
            return _("本场秒杀已结束。")
    return str(exc.message)


@require_GET
def flash_sales(request: HttpRequest) -> HttpResponse:
    return render(request, "trade/flash_sales.html", {"sales": flash.flash_sales_upcoming()})


@require_http_methods(["GET", "POST"])
def flash_sale(request: HttpRequest, sale_id: int) -> HttpResponse:
    """A flash sale: price, units left, window, the per-buyer limit, and 立即抢购 for a signed-in
    buyer with the address choice. Refusals (sold out, over the limit, not started, ended) are
    said on the page, with the API's status."""
    sale = _flash_sale_or_404(sale_id)
    error, status = "", 200
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        try:
            state = _flash_state(sale)
            if state in ("upcoming", "ended"):  # said before an address is created
                raise ProductUnavailable(extra={"flash_sale_id": sale.pk})
            placement = services.flash_sale_buy(
                buyer=request.user,  # type: ignore[arg-type]
                sale_id=sale.pk,
                quantity=_int(request.POST.get("quantity"), 1),
                address_id=_address_from_post(request),
                shipping_option=request.POST.get("shipping_option", ShippingOption.STANDARD),
                note=request.POST.get("note", ""),
            )
        except ApplicationError as exc:
            error, status = _flash_refusal(sale, exc), exc.status
            sale = _flash_sale_or_404(sale_id)  # the units left now
        else:
            messages.success(request, _("抢到了！请在 30 分钟内付款。"))
            return redirect("trade:checkout_pay", checkout_id=placement.checkout.pk)
    user = request.user
    context = {
        "sale": sale,
        "product": sale.variant.product,
        "state": _flash_state(sale),
        "error": error,
        "addresses": list(selectors.addresses_of(user=user)) if user.is_authenticated else [],  # type: ignore[arg-type]
        "shipping_options": [
            (value, label)
            for value, label in ShippingOption.choices
            if value in services.FLASH_BUY_OPTIONS
        ],
        "countries": countries.choices(),
        "form": request.POST,
        "quantities": range(1, sale.per_user_limit + 1),
        **_division_choices(request.POST),
    }
    return render(request, "trade/flash_sale.html", context, status=status)


# --- a shop's shipping template (domestic and international rates) ----------------------------

SHIPPING_YUAN_FIELDS = (
    "first_kg_fen",
    "extra_kg_fen",
    "free_over_fen",
    "remote_extra_fen",
    "white_glove_fen",
    "international_first_kg_fen",
    "international_extra_kg_fen",
)


@login_required
@require_http_methods(["GET", "POST"])
def shop_shipping(request: HttpRequest, slug: str) -> HttpResponse:
    """The shop's shipping template: amounts in yuan on the page, fen in the service."""
    try:
        shop = catalog_selectors.shop_get_managed(user=request.user, slug=slug)
    except ApplicationError as exc:
        raise Http404 from exc
    error, status = "", 200
    if request.method == "POST":
        post = request.POST
        try:
            services.shipping_template_update(
                actor=request.user,  # type: ignore[arg-type]
                shop=shop,
                remote_regions=post.getlist("remote_regions"),
                **{
                    name: _yuan_to_fen(post.get(name, ""), field=name)
                    for name in SHIPPING_YUAN_FIELDS
                },
            )
        except ApplicationError as exc:
            error, status = str(exc.message), exc.status
        else:
            messages.success(request, _("运费模板已保存。"))
            return redirect("trade:shop_shipping", slug=shop.slug)
    template = selectors.shipping_template_of(shop=shop)
    values = {
        name: request.POST.get(name) if error else _fen_to_yuan(getattr(template, name))
        for name in SHIPPING_YUAN_FIELDS
    }
    remote = request.POST.getlist("remote_regions") if error else template.remote_regions
    return render(
        request,
        "trade/shop_shipping.html",
        {
            "shop": shop,
            "values": values,
            "remote": remote,
            "provinces": divisions.provinces(),
            "error": error,
        },
        status=status,
    )


def _fen_to_yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def _yuan_to_fen(text: str, *, field: str) -> int:
    """``12``, ``12.5`` or ``12.50`` yuan → 1250 fen; empty is 0; anything else is refused."""
    text = (text or "").strip()
    if not text:
        return 0
    whole, _dot, part = text.partition(".")
    if not whole.isdigit() or len(whole) > 7 or (part and not (part.isdigit() and len(part) <= 2)):
        raise InvalidShippingTemplate(extra={"field": field})
    return int(whole) * 100 + int((part + "00")[:2])
