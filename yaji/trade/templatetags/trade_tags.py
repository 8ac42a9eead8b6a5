"""Trade pieces other pages include: the buy box and reviews on the product page, the cart link."""

from __future__ import annotations

from typing import Any

from django import template

from yaji.trade import reviews
from yaji.trade.countries import country_name
from yaji.trade.models import CartLine
from yaji.trade.receivers import GUEST_CART_SESSION_KEY

register = template.Library()


@register.inclusion_tag("trade/partials/product_reviews.html")
def product_reviews(product: Any) -> dict[str, Any]:
    return {
        "reviews": reviews.reviews_of_product(product=product),
        "rating": reviews.product_rating(product=product),
    }


@register.simple_tag(takes_context=True)
def cart_count(context: template.Context) -> int:
    """How many items are in this visitor's cart (member or guest), for the header."""
    request = context.get("request")
    if request is None:
        return 0
    lines = CartLine.objects.none()
    if request.user.is_authenticated:
        lines = CartLine.objects.filter(cart__user=request.user)
    elif hasattr(request, "session") and request.session.get(GUEST_CART_SESSION_KEY):
        lines = CartLine.objects.filter(cart__session_key=request.session[GUEST_CART_SESSION_KEY])
    return sum(lines.values_list("quantity", flat=True))


@register.filter
def address_text(snapshot: dict[str, str] | None) -> str:
    """An order's address snapshot as a courier reads it: China from province down to the
    street, abroad from the street up to the country."""
    if not snapshot:
        return ""
    country = snapshot.get("country", "CN") or "CN"
    if country == "CN":
        parts = [snapshot.get(key, "") for key in ("province", "city", "district", "line")]
        return " ".join(part for part in parts if part)
    place = " ".join(
        p for p in (snapshot.get("province", ""), snapshot.get("postal_code", "")) if p
    )
    parts = [
        snapshot.get("line", ""),
        snapshot.get("line2", ""),
        snapshot.get("city", ""),
        place,
        country_name(country),
    ]
    return ", ".join(part for part in parts if part)
