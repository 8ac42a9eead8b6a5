"""China's divisions: the shipped data, the address check, the HTMX options of the form."""

from __future__ import annotations

import pytest
from django.test import Client

from yaji.catalog.tests.factories import verified_user
from yaji.trade import divisions, services
from yaji.trade.errors import UnknownDivision
from yaji.trade.management.commands.trade_divisions_build import divisions_from_rows
from yaji.trade.models import Address
from yaji.trade.tests.test_api import ADDRESS, signed_in


def test_the_data_has_every_province_and_real_triples() -> None:
    assert len(divisions.provinces()) == 35
    assert "杭州市" in divisions.cities("浙江省") and "西湖区" in divisions.districts(
        "浙江省", "杭州市"
    )
    assert divisions.cities("北京市") == ("北京市",)  # municipalities: one city level
    assert "渝中区" in divisions.districts("重庆市", "重庆市")  # 500100 and 500200 merged
    assert "济源市" in divisions.cities("河南省")  # a county-level city under the province
    divisions.division_check(province="浙江省", city="杭州市", district="西湖区")
    divisions.division_check(province="广东省", city="东莞市")  # no district level


@pytest.mark.parametrize(
    ("province", "city", "district", "field"),
    [
        ("浙江", "杭州市", "", "province"),
        ("浙江省", "苏州市", "", "city"),  # 苏州 is in 江苏
        ("浙江省", "杭州市", "姑苏区", "district"),  # 姑苏区 is in 苏州
    ],
)
def test_a_triple_that_does_not_exist_is_refused(province, city, district, field) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UnknownDivision) as refused:
        divisions.division_check(province=province, city=city, district=district)
    assert refused.value.code == "unknown_division" and refused.value.extra == {"field": field}


def test_the_builder_merges_split_city_levels_and_keeps_county_level_cities() -> None:
    rows = [
        ("500000000000", "重庆市"),
        ("500100000000", "重庆市"),
        ("500101000000", "万州区"),
        ("500200000000", "重庆市"),
        ("500229000000", "城口县"),
        ("410000000000", "河南省"),
        ("419001000000", "济源市"),
    ]
    tree = {p[0]: {c[0]: [d[0] for d in c[2]] for c in p[2]} for p in divisions_from_rows(rows)}
    assert tree == {"重庆市": {"重庆市": ["万州区", "城口县"]}, "河南省": {"济源市": []}}


@pytest.mark.django_db
def test_an_address_that_does_not_exist_is_a_400_and_nothing_is_saved() -> None:
    user = verified_user()
    api = signed_in(user)
    response = api.post("/addresses", {**ADDRESS, "district": "朝阳区"})  # 朝阳区 is not in 杭州
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_division"
    assert response.json()["extra"] == {"field": "district"}
    assert not Address.objects.filter(user=user).exists()
    assert api.post("/addresses", ADDRESS).status_code == 201


@pytest.mark.django_db
def test_international_addresses_stay_free_form() -> None:
    address = services.address_create(
        user=verified_user(),
        recipient="Ada Lovelace",
        phone="+44 20 7946 0958",
        country="GB",
        city="London",
        postal_code="sw1y 4lg",  # required abroad since ADR 0040 (the UK has postal codes)
        line="12 St James's Square",
    )
    assert address.country == "GB" and address.province == ""
    assert address.postal_code == "SW1Y 4LG"


@pytest.mark.django_db
def test_the_form_loads_cities_then_districts() -> None:
    client = Client()
    cities = client.get("/addresses/divisions/", {"province": "浙江省"})
    assert cities.status_code == 200
    body = cities.content.decode()
    assert '<option value="杭州市">' in body and "西湖区" not in body
    assert 'hx-swap-oob="innerHTML"' in body  # the district list is emptied with it
    districts = client.get(
        "/addresses/divisions/", {"level": "district", "province": "浙江省", "city": "杭州市"}
    )
    assert '<option value="西湖区">' in districts.content.decode()
    unknown = client.get("/addresses/divisions/", {"province": "火星"})
    assert '<option value="">' in unknown.content.decode() and "市" not in unknown.content.decode()
