"""A buyer's customisation of a made-to-order piece: validation and the price it adds.

Pure functions over a product whose ``customisation_options`` are loaded (prefetched or not):
the product page's quote, the API and trade (at order time) all use these, so one rule decides.

``choices`` maps an option id (int or its string) to the buyer's text: the engraving text, or
the chosen value's ``value_zh`` for a choice option.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

from yaji.catalog.errors import CustomisationTextTooLong, InvalidCustomisation
from yaji.catalog.models import CustomisationOption, Product
from yaji.core.money import Money

CURRENCY = "CNY"


def _engraving_text(value: str, option: CustomisationOption) -> str:
    # NFC so a decomposed character counts once; control characters are never engravable.
    text = unicodedata.normalize("NFC", value).strip()
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in text):
        raise InvalidCustomisation(extra={"option_id": option.pk, "reason": "characters"})
    if len(text) > (option.max_length or 0):
        raise CustomisationTextTooLong(
            extra={"option_id": option.pk, "max_length": option.max_length, "length": len(text)}
        )
    return text


def customisation_validate(*, product: Product, choices: Mapping[Any, Any]) -> dict[int, str]:
    """The buyer's selections, checked and normalised: ``{option_id: value}``.

    Engraving text over its limit raises ``customisation_text_too_long``; an unknown option or
    choice value, a missing required option, or control characters ``invalid_customisation``.
    """
    options = {option.pk: option for option in product.customisation_options.all()}
    selections: dict[int, str] = {}
    for key, value in (choices or {}).items():
        try:
            option_id = int(key)
        except (TypeError, ValueError):
            option_id = -1
        if option_id not in options or not isinstance(value, str):
            raise InvalidCustomisation(extra={"unknown_options": [str(key)[:20]]})
        selections[option_id] = value
    clean: dict[int, str] = {}
    for option_id, option in options.items():
        value = (selections.get(option_id) or "").strip()
        if not value:
            if option.required:
                raise InvalidCustomisation(extra={"option_id": option_id, "reason": "required"})
            continue
        if option.kind == CustomisationOption.Kind.ENGRAVING:
            clean[option_id] = _engraving_text(value, option)
        else:
            if not any(c.get("value_zh") == value for c in option.choices):
                raise InvalidCustomisation(extra={"option_id": option_id, "value": value[:40]})
            clean[option_id] = value
    return clean


def customisation_price(*, product: Product, choices: Mapping[Any, Any]) -> Money:
    """What the buyer's customisation adds to the unit price (may be negative), validated."""
    clean = customisation_validate(product=product, choices=choices)
    delta = 0
    for option in product.customisation_options.all():
        if option.kind != CustomisationOption.Kind.CHOICE or option.pk not in clean:
            continue
        choice = next(c for c in option.choices if c.get("value_zh") == clean[option.pk])
        delta += int(choice.get("price_delta_fen", 0))
    return Money(delta, CURRENCY)
