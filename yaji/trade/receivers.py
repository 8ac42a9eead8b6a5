"""Signal receivers: the guest cart joins the member's cart when they sign in on the site."""

from __future__ import annotations

from typing import Any

from yaji.trade.services import cart_merge

# Django rotates the session key at login; the guest key is remembered here first.
GUEST_CART_SESSION_KEY = "trade_guest_cart"


def cart_merge_on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is None or not hasattr(request, "session"):
        return
    guest_key = request.session.get(GUEST_CART_SESSION_KEY)
    if guest_key:
        cart_merge(user=user, session_key=guest_key)
        request.session.pop(GUEST_CART_SESSION_KEY, None)
