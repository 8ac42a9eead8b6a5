"""Money as an integer number of minor units (fen, cents) of one currency.

Every amount on the platform is a :class:`Money`: an ``int`` of minor units plus an ISO 4217
code. There are no floats anywhere: input text is parsed digit by digit (:meth:`Money.parse`),
splitting is integer arithmetic (:meth:`Money.allocate`), and display is integer formatting
(:func:`format_money`). Rounding happens in exactly one place, ``allocate``, and it never
creates or loses a minor unit.

>>> [part.amount for part in Money.parse("10.00", "CNY").allocate([1, 1, 1])]
[334, 333, 333]
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils import translation

from yaji.core.errors import CurrencyMismatch, InvalidAmount, InvalidCurrency

# ISO 4217 minor-unit exponents of the currencies the platform knows. A code outside this
# table is rejected rather than guessed, because a wrong exponent is a 100x pricing error.
CURRENCY_EXPONENTS: dict[str, int] = {
    "CNY": 2,
    "HKD": 2,
    "MOP": 2,
    "TWD": 2,
    "USD": 2,
    "EUR": 2,
    "GBP": 2,
    "SGD": 2,
    "AUD": 2,
    "CAD": 2,
    "JPY": 0,
    "KRW": 0,
    "KWD": 3,
}

# Amounts are stored in signed 64-bit columns; refusing bigger values here keeps an overflow
# from surfacing later as a database error in the middle of a money movement.
MAX_MINOR_UNITS = 2**63 - 1

# Symbols per display language (CLDR-like). English writes CN¥/US$ because a bare ¥ or $ is
# ambiguous to an international reader; Chinese readers take a bare ¥ as renminbi.
_SYMBOLS: dict[str, dict[str, str]] = {
    "zh": {
        "CNY": "¥",
        "HKD": "HK$",
        "MOP": "MOP$",
        "TWD": "NT$",
        "USD": "US$",
        "EUR": "€",
        "GBP": "£",
        "SGD": "S$",
        "AUD": "A$",
        "CAD": "CA$",
        "JPY": "JP¥",
        "KRW": "￦",
    },
    "en": {
        "CNY": "CN¥",
        "HKD": "HK$",
        "MOP": "MOP$",
        "TWD": "NT$",
        "USD": "US$",
        "EUR": "€",
        "GBP": "£",
        "SGD": "S$",
        "AUD": "A$",
        "CAD": "CA$",
        "JPY": "JP¥",
        "KRW": "₩",
    },
}

# ASCII digits only: ``\d`` would also accept Arabic-Indic or full-width digits.
_DECIMAL = re.compile(r"(-?)([0-9]+)(?:\.([0-9]+))?", re.ASCII)


def _require_int(value: object, *, what: str) -> int:
    # bool is an int subclass; True fen is always a bug, never an amount.
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidAmount(
            extra={"reason": f"{what} must be an int", "type": type(value).__name__}
        )
    return value


@dataclass(frozen=True, slots=True)
class Money:
    amount: int
    currency: str

    def __post_init__(self) -> None:
        _require_int(self.amount, what="amount")
        if not isinstance(self.currency, str) or self.currency not in CURRENCY_EXPONENTS:
            raise InvalidCurrency(extra={"currency": str(self.currency)})
        if abs(self.amount) > MAX_MINOR_UNITS:
            raise InvalidAmount(extra={"reason": "amount out of range"})

    # --- construction ---------------------------------------------------------------------

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def parse(cls, text: str, currency: str) -> Money:
        """Parse a plain decimal string such as ``"12.34"`` or ``"-5"`` into minor units.

        Strict on purpose: no grouping separators, signs other than a leading ``-``, spaces,
        exponents, or more decimals than the currency has (``"0.001"`` CNY is an error, not a
        silent rounding).
        """
        if currency not in CURRENCY_EXPONENTS:
            raise InvalidCurrency(extra={"currency": str(currency)})
        if not isinstance(text, str):
            raise InvalidAmount(extra={"reason": "amount must be a decimal string"})
        match = _DECIMAL.fullmatch(text)
        if match is None:
            raise InvalidAmount(extra={"reason": "not a plain decimal number", "value": text[:40]})
        sign, whole, fraction = match.groups()
        exponent = CURRENCY_EXPONENTS[currency]
        fraction = fraction or ""
        if len(fraction) > exponent:
            raise InvalidAmount(
                extra={"reason": "too many decimal places", "max_decimals": exponent}
            )
        if len(whole) > 30:
            raise InvalidAmount(extra={"reason": "amount out of range"})
        minor = int(whole) * 10**exponent + int(fraction.ljust(exponent, "0") or "0")
        return cls(-minor if sign else minor, currency)

    # --- properties -----------------------------------------------------------------------

    @property
    def exponent(self) -> int:
        return CURRENCY_EXPONENTS[self.currency]

    def decimal_string(self) -> str:
        """Plain ``-1234.56`` form, the inverse of :meth:`parse`."""
        whole, fraction = divmod(abs(self.amount), 10**self.exponent)
        sign = "-" if self.amount < 0 else ""
        if self.exponent == 0:
            return f"{sign}{whole}"
        return f"{sign}{whole}.{fraction:0{self.exponent}d}"

    def __str__(self) -> str:
        return f"{self.decimal_string()} {self.currency}"

    # --- arithmetic within one currency ---------------------------------------------------

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(extra={"left": self.currency, "right": other.currency})

    def __add__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __abs__(self) -> Money:
        return Money(abs(self.amount), self.currency)

    def __mul__(self, factor: object) -> Money:
        # Only integer factors: a price times a quantity. Percentages go through allocate()
        # so that the rounding rule stays in one place.
        if isinstance(factor, bool) or not isinstance(factor, int):
            return NotImplemented
        return Money(self.amount * factor, self.currency)

    __rmul__ = __mul__

    def _compare(self, other: object) -> tuple[int, int] | None:
        if not isinstance(other, Money):
            return None
        self._same_currency(other)
        return self.amount, other.amount

    def __lt__(self, other: object) -> bool:
        pair = self._compare(other)
        return NotImplemented if pair is None else pair[0] < pair[1]

    def __le__(self, other: object) -> bool:
        pair = self._compare(other)
        return NotImplemented if pair is None else pair[0] <= pair[1]

    def __gt__(self, other: object) -> bool:
        pair = self._compare(other)
        return NotImplemented if pair is None else pair[0] > pair[1]

    def __ge__(self, other: object) -> bool:
        pair = self._compare(other)
        return NotImplemented if pair is None else pair[0] >= pair[1]

    def __bool__(self) -> bool:
        return self.amount != 0

    # --- splitting ------------------------------------------------------------------------

    def allocate(self, ratios: Sequence[int]) -> list[Money]:
        """Split into parts proportional to non-negative integer ``ratios``.

        Largest-remainder method: every part first gets the floor of its exact share; the
        minor units left over go one each to the parts with the largest remainders, earlier
        parts first on ties. The parts always sum to ``self`` and each differs from its exact
        share by less than one minor unit. A negative amount is split like its absolute value
        and negated, so refunds mirror charges.
        """
        if not ratios:
            raise ValueError("allocate() needs at least one ratio")
        for ratio in ratios:
            _require_int(ratio, what="ratio")
            if ratio < 0:
                raise ValueError("allocate() ratios must be >= 0")
        total_ratio = sum(ratios)
        if total_ratio == 0:
            raise ValueError("allocate() needs at least one positive ratio")

        magnitude = abs(self.amount)
        shares = [divmod(magnitude * ratio, total_ratio) for ratio in ratios]
        parts = [floor for floor, _remainder in shares]
        leftover = magnitude - sum(parts)
        # leftover < number of parts with a non-zero remainder, so zero ratios never get a unit.
        order = sorted(range(len(ratios)), key=lambda index: (-shares[index][1], index))
        for index in order[:leftover]:
            parts[index] += 1
        sign = -1 if self.amount < 0 else 1
        return [Money(sign * part, self.currency) for part in parts]

    def split_evenly(self, n: int) -> list[Money]:
        """``n`` parts that differ by at most one minor unit, larger parts first."""
        _require_int(n, what="n")
        if n < 1:
            raise ValueError("split_evenly() needs n >= 1")
        return self.allocate([1] * n)


def _display_language(locale: str | None) -> str:
    code = (locale or translation.get_language() or "zh-hans").lower().replace("_", "-")
    return "zh" if code.split("-")[0] == "zh" else "en"


def format_money(money: Money, locale: str | None = None) -> str:
    """Human display with symbol and thousands separators: ``¥1,234.56``, ``-US$3.00``.

    ``locale`` is a language code (``zh-hans``, ``en``, ``en-us`` ...); by default the active
    Django language. Unknown currencies for a language fall back to ``CODE 1,234.56``.
    """
    symbol = _SYMBOLS[_display_language(locale)].get(money.currency)
    whole, fraction = divmod(abs(money.amount), 10**money.exponent)
    number = f"{whole:,}"
    if money.exponent:
        number += f".{fraction:0{money.exponent}d}"
    sign = "-" if money.amount < 0 else ""
    if symbol is None:
        return f"{sign}{money.currency}\u00a0{number}"
    return f"{sign}{symbol}{number}"
