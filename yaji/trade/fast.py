"""Buy-now refusals answered before Django (the core's fast path, ADR 0045).

``flash_sale_orders_fast`` reads the Redis flash gate (read only, one script) and answers what
``POST /api/v1/flash-sales/{id}/orders`` would answer anyway, without Django's URL resolution,
middleware, authentication look-up or ninja:

- ``409 flash_sale_sold_out`` when every unit of a running sale is on a committed order and
  nothing is in flight — the answer the API gives before authentication (ADR 0040), so it holds
  for any plausible ``Idempotency-Key``;
- ``409 per_buyer_limit_exceeded`` (same ``extra`` as the placement) when the buyer's committed
  orders already reach the sale's limit — only for a well-formed key and a payload the API would
  accept, since the API answers a malformed one with 400 / 422 first.

Everything else falls through to Django (``None``): no Redis, no gate state for the sale, a sale
not running, units left, a placement of the buyer in flight, a key whose placement succeeded
(its 201 is replayed by the idempotency layer), a missing or malformed key. Nothing is written.
"""

from __future__ import annotations

import hashlib
import re

from pydantic import ValidationError
from redis.exceptions import RedisError

from yaji.core import clock
from yaji.core.errors import ApplicationError
from yaji.core.fastpath import FastRequest, fast_route
from yaji.trade.errors import FlashSaleSoldOut, PerBuyerLimitExceeded
from yaji.trade.gate import flash_gate
from yaji.trade.schemas import FlashBuyIn

ROUTE = r"/api/v1/flash-sales/(?P<sale_id>\d+)/orders"
IDEMPOTENCY_HEADER = "idempotency-key"
# The idempotency layer's key rule (yaji.core.idempotency): 1–255 printable ASCII, no edge
# spaces. A key it would refuse must reach it, to hear its 400.
_KEY = re.compile(r"^[!-~](?:[ -~]{0,253}[!-~])?$")


def flash_sale_orders_fast(request: FastRequest) -> ApplicationError | None:
    """The gate's definitive refusal of this buy-now, or None to let Django answer."""
    raw_id = request.params.get("sale_id", "")
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None or not _KEY.match(key) or not raw_id.isdigit() or len(raw_id) >= 19:
        return None
    gate = flash_gate()
    if gate is None:
        return None
    sale_id = int(raw_id)
    quantity = _quantity(request.body)
    try:
        peek = gate.peek(
            sale_id=sale_id,
            now=clock.now(),
            user_id=request.user_id if quantity is not None else None,
            units=quantity or 1,
            key_digest=hashlib.sha256(key.encode()).hexdigest(),
        )
    except RedisError:
        return None
    if peek.verdict == "sold_out":
        return FlashSaleSoldOut(extra={"flash_sale_id": sale_id})
    if peek.verdict == "over_limit":
        return PerBuyerLimitExceeded(
            extra={"flash_sale_id": sale_id, "limit": peek.limit, "bought": peek.bought}
        )
    return None


def _quantity(body: bytes) -> int | None:
    """The payload's quantity if the API would accept the payload, else None."""
    if not body:
        return None
    try:
        return FlashBuyIn.model_validate_json(body).quantity
    except ValidationError:
        return None


def fast_routes_register() -> None:
    """Register the handler with the core's fast path (ADR 0043); from TradeConfig.ready()."""
    fast_route("POST", ROUTE)(flash_sale_orders_fast)
