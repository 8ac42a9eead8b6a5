"""How a gift's amount is divided, in integer fen that always sum exactly (Money.allocate).

The platform keeps ``platform_percent`` (setting ``YAJI_GIFT_PLATFORM_PERCENT``, 30 by
default); the creator gets the rest. On a work that uses licensed content, the creator's part is
divided again with the rights holder by the partner split table (the partner's percentage).
Rounding (largest remainder) happens only inside ``allocate``.
"""

from __future__ import annotations

from dataclasses import dataclass

from yaji.core.money import Money


@dataclass(frozen=True, slots=True)
class GiftSplit:
    platform_fen: int
    creator_fen: int
    holder_fen: int


def gift_split(
    amount_fen: int, *, platform_percent: int, partner_percent: int | None, currency: str = "CNY"
) -> GiftSplit:
    if not 0 <= platform_percent <= 100:
        raise ValueError("platform_percent must be within 0–100")
    if partner_percent is not None and not 0 <= partner_percent <= 100:
        raise ValueError("partner_percent must be within 0–100")
    platform, creator_part = Money(amount_fen, currency).allocate(
        [platform_percent, 100 - platform_percent]
    )
    if partner_percent is None or creator_part.amount == 0:
        return GiftSplit(platform.amount, creator_part.amount, 0)
    holder, creator = creator_part.allocate([partner_percent, 100 - partner_percent])
    return GiftSplit(platform.amount, creator.amount, holder.amount)
