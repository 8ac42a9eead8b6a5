"""The race helper counts every outcome, including the ones that are bugs."""

from yaji.accounts.errors import TokenInvalid
from yaji.testing.races import race


def test_race_counts_application_errors_and_unexpected_exceptions() -> None:
    def work(i: int) -> None:
        if i % 3 == 1:
            raise TokenInvalid()
        if i % 3 == 2:
            raise ValueError("a bug")

    outcomes = race(6, work)

    assert outcomes == {"ok": 2, TokenInvalid.code: 2, "unexpected:ValueError": 2}
    assert "ValueError: a bug" in race.last_unexpected
