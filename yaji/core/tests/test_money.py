from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yaji.core.errors import ApplicationError, CurrencyMismatch, InvalidAmount, InvalidCurrency
from yaji.core.money import MAX_MINOR_UNITS, Money, format_money

amounts = st.integers(min_value=-(10**15), max_value=10**15)
ratio_lists = st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=40).filter(
    lambda ratios: sum(ratios) > 0
)


class TestConstruction:
    def test_rejects_unknown_and_lowercase_currency_codes(self) -> None:
        for code in ("XXX", "cny", "", "RMB"):
            with pytest.raises(InvalidCurrency) as raised:
                Money(100, code)
            assert raised.value.code == "invalid_currency"

    @pytest.mark.parametrize("amount", [True, False, 1.0, "100", None, 10**0.5])
    def test_rejects_non_int_amounts_including_bool(self, amount: object) -> None:
        with pytest.raises(InvalidAmount) as raised:
            Money(amount, "CNY")  # type: ignore[arg-type]  # the point of the test
        assert raised.value.code == "invalid_amount"

    def test_rejects_amounts_that_do_not_fit_a_bigint_column(self) -> None:
        Money(MAX_MINOR_UNITS, "CNY")
        with pytest.raises(InvalidAmount):
            Money(MAX_MINOR_UNITS + 1, "CNY")

    def test_errors_are_application_errors_with_the_platform_body(self) -> None:
        with pytest.raises(ApplicationError) as raised:
            Money(1, "CNY") + Money(1, "USD")
        body = raised.value.as_body()
        assert body["code"] == "currency_mismatch"
        assert body["extra"] == {"left": "CNY", "right": "USD"}
        assert raised.value.status == 400

    def test_is_frozen(self) -> None:
        money = Money(1, "CNY")
        with pytest.raises(AttributeError):
            money.amount = 2  # type: ignore[misc]  # the point of the test


class TestArithmetic:
    def test_add_sub_neg_within_one_currency(self) -> None:
        assert Money(150, "CNY") + Money(250, "CNY") == Money(400, "CNY")
        assert Money(150, "CNY") - Money(250, "CNY") == Money(-100, "CNY")
        assert -Money(150, "CNY") == Money(-150, "CNY")
        assert sum([Money(1, "CNY"), Money(2, "CNY")], Money.zero("CNY")) == Money(3, "CNY")

    def test_mixing_currencies_is_an_error_for_arithmetic_and_ordering(self) -> None:
        for operation in (
            lambda: Money(1, "CNY") + Money(1, "USD"),
            lambda: Money(1, "CNY") - Money(1, "USD"),
            lambda: Money(1, "CNY") < Money(1, "USD"),
            lambda: Money(1, "CNY") >= Money(1, "USD"),
        ):
            with pytest.raises(CurrencyMismatch):
                operation()
        # Equality across currencies is simply False, not an error: they are different values.
        assert Money(1, "CNY") != Money(1, "USD")

    def test_comparison(self) -> None:
        assert Money(1, "CNY") < Money(2, "CNY") <= Money(2, "CNY")
        assert Money(3, "CNY") > Money(2, "CNY") >= Money(2, "CNY")
        assert max(Money(5, "JPY"), Money(9, "JPY")) == Money(9, "JPY")

    def test_multiplication_only_by_int(self) -> None:
        assert Money(199, "CNY") * 3 == Money(597, "CNY")
        assert 3 * Money(199, "CNY") == Money(597, "CNY")
        for factor in (1.5, True, Money(2, "CNY")):
            with pytest.raises(TypeError):
                Money(199, "CNY") * factor  # type: ignore[operator]  # the point of the test

    def test_adding_a_plain_number_is_a_type_error(self) -> None:
        with pytest.raises(TypeError):
            Money(1, "CNY") + 1  # type: ignore[operator]  # the point of the test


class TestParse:
    @pytest.mark.parametrize(
        ("text", "currency", "amount"),
        [
            ("12.34", "CNY", 1234),
            ("12.3", "CNY", 1230),
            ("12", "CNY", 1200),
            ("0.01", "CNY", 1),
            ("-5.50", "USD", -550),
            ("007.10", "CNY", 710),
            ("1234", "JPY", 1234),
            ("1.234", "KWD", 1234),
        ],
    )
    def test_valid(self, text: str, currency: str, amount: int) -> None:
        assert Money.parse(text, currency) == Money(amount, currency)

    @pytest.mark.parametrize(
        ("text", "currency"),
        [
            ("12.345", "CNY"),  # more decimals than the currency has
            ("1.5", "JPY"),
            ("1.", "CNY"),
            (".5", "CNY"),
            ("1,234.00", "CNY"),
            (" 12", "CNY"),
            ("+12", "CNY"),
            ("1e3", "CNY"),
            ("１２", "CNY"),  # full-width digits
            ("١٢", "CNY"),  # Arabic-Indic digits
            ("NaN", "CNY"),
            ("", "CNY"),
        ],
    )
    def test_invalid(self, text: str, currency: str) -> None:
        with pytest.raises(InvalidAmount):
            Money.parse(text, currency)

    def test_rejects_floats_and_unknown_currency(self) -> None:
        with pytest.raises(InvalidAmount):
            Money.parse(12.34, "CNY")  # type: ignore[arg-type]  # the point of the test
        with pytest.raises(InvalidCurrency):
            Money.parse("12.34", "XYZ")

    @given(amount=amounts, currency=st.sampled_from(["CNY", "JPY", "KWD"]))
    def test_decimal_string_round_trips(self, amount: int, currency: str) -> None:
        money = Money(amount, currency)
        assert Money.parse(money.decimal_string(), currency) == money


class TestFormat:
    @pytest.mark.parametrize(
        ("money", "locale", "text"),
        [
            (Money(123456, "CNY"), "zh-hans", "¥1,234.56"),
            (Money(123456, "CNY"), "en", "CN¥1,234.56"),
            (Money(123456, "USD"), "en", "US$1,234.56"),
            (Money(123456, "USD"), "zh-hans", "US$1,234.56"),
            (Money(-123456, "CNY"), "zh-hans", "-¥1,234.56"),
            (Money(-5, "CNY"), "en", "-CN¥0.05"),
            (Money(1234567, "JPY"), "en", "JP¥1,234,567"),
            (Money(0, "CNY"), "zh-hans", "¥0.00"),
            (Money(100000000, "HKD"), "zh_CN", "HK$1,000,000.00"),
            (Money(1234, "KWD"), "en-us", "KWD\u00a01.234"),
        ],
    )
    def test_per_locale(self, money: Money, locale: str, text: str) -> None:
        assert format_money(money, locale) == text

    def test_defaults_to_the_active_language(self) -> None:
        from django.utils import translation

        with translation.override("en"):
            assert format_money(Money(100, "CNY")) == "CN¥1.00"
        with translation.override("zh-hans"):
            assert format_money(Money(100, "CNY")) == "¥1.00"


class TestAllocate:
    def test_largest_remainder_with_earlier_parts_first_on_ties(self) -> None:
        assert [m.amount for m in Money(1000, "CNY").allocate([1, 1, 1])] == [334, 333, 333]
        assert [m.amount for m in Money(5, "CNY").allocate([1, 1, 1, 1])] == [2, 1, 1, 1]
        # 70/30 of 101: exact shares 70.7 and 30.3; the leftover fen goes to the larger remainder.
        assert [m.amount for m in Money(101, "CNY").allocate([70, 30])] == [71, 30]
        assert [m.amount for m in Money(-1000, "CNY").allocate([1, 1, 1])] == [-334, -333, -333]

    def test_zero_ratio_gets_nothing(self) -> None:
        assert [m.amount for m in Money(7, "CNY").allocate([0, 1, 0, 1])] == [0, 4, 0, 3]

    @pytest.mark.parametrize("ratios", [[], [0, 0], [1, -1], [1.5, 1], [True, 1]])
    def test_bad_ratios(self, ratios: list[object]) -> None:
        with pytest.raises((ValueError, InvalidAmount)):
            Money(100, "CNY").allocate(ratios)  # type: ignore[arg-type]  # the point of the test

    @given(amount=amounts, ratios=ratio_lists)
    def test_parts_sum_to_total_and_stay_within_one_unit_of_the_exact_share(
        self, amount: int, ratios: list[int]
    ) -> None:
        parts = Money(amount, "CNY").allocate(ratios)
        assert len(parts) == len(ratios)
        assert all(part.currency == "CNY" for part in parts)
        assert sum(part.amount for part in parts) == amount
        total = sum(ratios)
        for part, ratio in zip(parts, ratios, strict=True):
            exact = Fraction(amount * ratio, total)
            assert abs(part.amount - exact) < 1

    @given(amount=amounts, ratios=ratio_lists)
    def test_is_deterministic(self, amount: int, ratios: list[int]) -> None:
        assert Money(amount, "CNY").allocate(ratios) == Money(amount, "CNY").allocate(ratios)

    @given(amount=amounts, n=st.integers(min_value=1, max_value=500))
    def test_split_evenly_parts_differ_by_at_most_one(self, amount: int, n: int) -> None:
        parts = [part.amount for part in Money(amount, "JPY").split_evenly(n)]
        assert len(parts) == n
        assert sum(parts) == amount
        assert max(parts) - min(parts) <= 1
        # Larger magnitudes first: the order is part of the contract (stable receipts).
        assert [abs(p) for p in parts] == sorted((abs(p) for p in parts), reverse=True)

    def test_split_evenly_rejects_non_positive_n(self) -> None:
        for n in (0, -1):
            with pytest.raises(ValueError):
                Money(100, "CNY").split_evenly(n)
