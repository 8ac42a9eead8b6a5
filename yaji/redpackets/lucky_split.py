"""Splitting a packet's total into shares, in integer fen, at send time.

Lucky (拼手气) uses the double-mean rule: each draw but the last is a uniform integer in
``[1, 2 × remaining / remaining_count − 1]`` (floored), clipped so every later share can still get
at least 1 fen; the last share takes the rest. So every share is ≥ 1 fen, no share is above twice
the mean of what remained when it was drawn, and the shares sum exactly to the total.
Equal splits use :meth:`Money.split_evenly` (parts differ by at most 1 fen).
"""

from __future__ import annotations

import random

from yaji.core.money import Money
from yaji.redpackets.errors import PacketAmountTooSmall, PacketCountInvalid

MAX_COUNT = 200


def _validate(total_fen: int, count: int) -> None:
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_COUNT:
        raise PacketCountInvalid(extra={"count": str(count), "max": MAX_COUNT})
    if not isinstance(total_fen, int) or isinstance(total_fen, bool) or total_fen < count:
        raise PacketAmountTooSmall(extra={"total_fen": str(total_fen), "count": count})


def lucky_split(total_fen: int, count: int, *, rng: random.Random | None = None) -> list[int]:
    """``count`` shares of ``total_fen`` by the double-mean rule, in draw order."""
    _validate(total_fen, count)
    rng = rng or random.SystemRandom()
    shares: list[int] = []
    remaining = total_fen
    for left in range(count, 1, -1):
        upper = (2 * remaining) // left - 1  # ≥ 1 because remaining ≥ left
        upper = min(upper, remaining - (left - 1))  # every later share keeps ≥ 1 fen
        share = rng.randint(1, upper)
        shares.append(share)
        remaining -= share
    shares.append(remaining)
    return shares


def equal_split(total_fen: int, count: int, *, currency: str = "CNY") -> list[int]:
    """``count`` shares differing by at most 1 fen, larger first."""
    _validate(total_fen, count)
    return [part.amount for part in Money(total_fen, currency).split_evenly(count)]
