from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yaji.core.errors import ApplicationError
from yaji.redpackets.lucky_split import MAX_COUNT, equal_split, lucky_split


@st.composite
def totals_and_counts(draw):  # type: ignore[no-untyped-def]
    count = draw(st.integers(min_value=1, max_value=MAX_COUNT))
    total = draw(st.integers(min_value=count, max_value=5_000_000))
    return total, count


@given(totals_and_counts(), st.integers(min_value=0, max_value=2**32))
def test_lucky_split_properties(tc: tuple[int, int], seed: int) -> None:
    total, count = tc
    shares = lucky_split(total, count, rng=random.Random(seed))
    assert len(shares) == count
    assert sum(shares) == total
    assert all(share >= 1 for share in shares)
    remaining = total
    for drawn, share in enumerate(shares):
        left = count - drawn
        assert share * left <= 2 * remaining  # share ≤ 2 × mean of what remained
        remaining -= share


@given(totals_and_counts())
def test_equal_split_properties(tc: tuple[int, int]) -> None:
    total, count = tc
    shares = equal_split(total, count)
    assert sum(shares) == total and len(shares) == count
    assert max(shares) - min(shares) <= 1 and min(shares) >= 1


def test_same_seed_same_shares() -> None:
    assert lucky_split(10_000, 10, rng=random.Random(7)) == lucky_split(
        10_000, 10, rng=random.Random(7)
    )


def test_one_fen_each_is_the_only_split() -> None:
    assert lucky_split(5, 5, rng=random.Random(1)) == [1] * 5


@pytest.mark.parametrize(
    ("total", "count", "code"),
    [
        (100, 0, "packet_count_invalid"),
        (100, -1, "packet_count_invalid"),
        (10_000, MAX_COUNT + 1, "packet_count_invalid"),
        (4, 5, "packet_amount_too_small"),
        (0, 1, "packet_amount_too_small"),
        (-5, 1, "packet_amount_too_small"),
    ],
)
@pytest.mark.parametrize("split", [lucky_split, equal_split])
def test_invalid_input_has_stable_codes(total: int, count: int, code: str, split) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ApplicationError) as err:
        split(total, count)
    assert err.value.code == code
