"""International addresses: validated free-form abroad, and shipping abroad only where a shop
has an international rate (otherwise ``shipping_unavailable``, nothing written)."""

from __future__ import annotations

import pytest

from yaji.catalog.tests.factories import verified_user
from yaji.trade import countries, services
from yaji.trade.errors import InvalidAddress, ShippingOptionUnavailable, ShippingUnavailable
from yaji.trade.models import Address, Checkout, Order, ShippingTemplate
from yaji.trade.templatetags.trade_tags import address_text
from yaji.trade.tests.factories import cart_with, listed, variant_of
from yaji.trade.tests.test_api import signed_in, with_key

pytestmark = pytest.mark.django_db

TOKYO = {
    "recipient": "Sato Hanako",
    "phone": "+81 90-1234-5678",
    "country": "JP",
    "region": "Tokyo",
    "city": "Shibuya-ku",
    "postal_code": "150-0002",
    "line": "2-21-1 Shibuya",
    "line2": "Hikarie 11F",
}


def test_an_address_abroad_is_stored_free_form_and_written_as_abroad() -> None:
    buyer = verified_user()
    address = services.address_create(user=buyer, **TOKYO)
    address.refresh_from_db()
    assert (address.country, address.region, address.city) == ("JP", "Tokyo", "Shibuya-ku")
    assert (address.postal_code, address.line2) == ("150-0002", "Hikarie 11F")
    assert address.abroad and address.district == ""
    assert address.place.startswith("Shibuya-ku, Tokyo 150-0002, ")
    text = address_text(services._address_snapshot(address))
    assert text.startswith("2-21-1 Shibuya, Hikarie 11F, Shibuya-ku, Tokyo 150-0002, ")


@pytest.mark.parametrize(
    ("overrides", "field", "reason"),
    [
        ({"country": "XX"}, "country", "unknown_country"),  # two letters, but not ISO 3166-1
        ({"country": "jp1"}, "country", "unknown_country"),
        ({"city": ""}, "city", "required_or_too_long"),
        ({"city": "x" * 61}, "city", "required_or_too_long"),
        ({"postal_code": ""}, "postal_code", "required"),  # Japan has postal codes
        ({"postal_code": "ABC-DEFG"}, "postal_code", "format"),
        ({"line": ""}, "line", "required_or_too_long"),
        ({"line2": "x" * 201}, "line2", "required_or_too_long"),
        ({"phone": "call me"}, "phone", "format"),
        ({"district": "渋谷"}, "district", "china_only"),
        ({"province": "Osaka"}, "region", "province_and_region_differ"),
        ({"country": "US", "region": "", "postal_code": "94103"}, "region", "required_or_too_long"),
        ({"country": "US", "region": "CA", "postal_code": "9410"}, "postal_code", "format"),
    ],
)
def test_a_bad_address_abroad_names_the_field_and_writes_nothing(
    overrides: dict[str, str], field: str, reason: str
) -> None:
    buyer = verified_user()
    with pytest.raises(InvalidAddress) as caught:
        services.address_create(user=buyer, **{**TOKYO, **overrides})
    assert caught.value.extra["field"] == field and caught.value.extra["reason"] == reason
    assert not Address.objects.filter(user=buyer).exists()


def test_where_there_are_no_postal_codes_none_is_asked_for() -> None:
    hong_kong = {**TOKYO, "country": "HK", "region": "", "city": "Central", "postal_code": ""}
    assert services.address_create(user=verified_user(), **hong_kong).country == "HK"


def test_a_chinese_address_keeps_its_division_rules_and_takes_no_abroad_fields() -> None:
    china = {"recipient": "林黛玉", "phone": "13812345678", "province": "江苏省", "city": "苏州市"}
    with pytest.raises(InvalidAddress) as caught:
        services.address_create(user=verified_user(), line="平江路", region="Jiangsu", **china)
    assert caught.value.extra == {"field": "region", "reason": "abroad_only"}
    assert services.address_create(user=verified_user(), line="平江路", **china).region == ""


def test_the_country_list_is_iso_3166_alpha_2() -> None:
    codes = [code for code, _name in countries.choices(abroad_only=False)]
    assert len(codes) == 249 and len(set(codes)) == 249
    assert {"CN", "JP", "US", "HK", "MO", "TW", "DE"} <= set(codes)
    assert countries.is_country("GB") and not countries.is_country("UK")
    assert "CN" not in {code for code, _name in countries.choices()}
    assert countries.country_name("JP", language="en") == "Japan"
    assert countries.country_name("JP", language="zh-hans") == "日本"


def test_shipping_abroad_uses_the_international_rate_or_is_unavailable() -> None:
    tea = listed(stock=10)
    fee = services.shipping_fee_fen
    with pytest.raises(ShippingUnavailable):  # no template: the default ships in China only
        fee(shop=tea.shop, weight_g=500, items_fen=100, option="standard", country="JP")
    ShippingTemplate.objects.create(
        shop=tea.shop,
        free_over_fen=100,
        white_glove_fen=50000,
        international_first_kg_fen=9000,
        international_extra_kg_fen=4000,
    )
    assert fee(shop=tea.shop, weight_g=2500, items_fen=10**6, option="standard", country="JP") == (
        9000 + 2 * 4000  # never free abroad: the threshold is a domestic promise
    )
    assert fee(shop=tea.shop, weight_g=500, items_fen=0, option="express", country="US") == 13500
    for option in ("white_glove", "scheduled"):
        with pytest.raises(ShippingOptionUnavailable):
            fee(shop=tea.shop, weight_g=500, items_fen=0, option=option, country="JP")


def test_checkout_to_a_shop_that_does_not_ship_abroad_is_refused_with_nothing_written() -> None:
    buyer = verified_user()
    api = signed_in(buyer)
    created = api.post("/addresses", TOKYO)
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["country"] == "JP" and body["region"] == "Tokyo" and body["postal_code"]
    tea = listed(stock=3)
    cart_with(buyer, (tea, 1))
    refused = with_key(api, "/checkouts", {"address_id": body["id"]})
    assert refused.status_code == 409 and refused.json()["code"] == "shipping_unavailable"
    assert refused.json()["extra"] == {"shop_id": tea.shop_id, "country": "JP"}
    assert not Checkout.objects.filter(buyer=buyer).exists()
    variant = variant_of(tea)
    variant.refresh_from_db()
    assert variant.stock == 3

    ShippingTemplate.objects.create(shop=tea.shop, international_first_kg_fen=8800)
    placed = with_key(api, "/checkouts", {"address_id": body["id"]})
    assert placed.status_code == 201, placed.json()
    order = Order.objects.get(buyer=buyer)
    assert order.shipping_fen == 8800 and order.address["country"] == "JP"
    assert order.address["line2"] == "Hikarie 11F"


def test_the_api_refuses_a_bad_country_with_a_stable_code() -> None:
    api = signed_in(verified_user())
    response = api.post("/addresses", {**TOKYO, "country": "ZZ"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_address"
    assert response.json()["extra"]["field"] == "country"
    too_long = api.post("/addresses", {**TOKYO, "country": "JPN"})
    assert too_long.status_code == 422
