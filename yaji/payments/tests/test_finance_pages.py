"""Shop finance and operator finance pages: who may see them, what they show (ADR 0032)."""

from __future__ import annotations

import pytest
from django.test import Client

from yaji.accounts.models import Role
from yaji.accounts.services import role_grant
from yaji.accounts.tests.factories import UserFactory
from yaji.catalog.tests.factories import shop_open
from yaji.payments.models import CommissionRate, ShopPayout

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def test_shop_finance_is_for_the_shops_managers_only() -> None:
    shop = shop_open()
    page = client_for(shop.owner).get(f"/shops/{shop.slug}/finance/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="shop-statement"' in html and "¥0.00" in html
    assert 'data-testid="statement-balanced"' in html
    assert client_for(UserFactory()).get(f"/shops/{shop.slug}/finance/").status_code == 404
    assert Client().get(f"/shops/{shop.slug}/finance/").status_code == 302  # to login
    # a month that is not a month falls back to this one
    assert (
        client_for(shop.owner).get(f"/shops/{shop.slug}/finance/?month=2026-13").status_code == 200
    )


def test_shop_finance_in_english() -> None:
    shop = shop_open()
    client = client_for(shop.owner)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = client.get(f"/shops/{shop.slug}/finance/").content.decode()
    assert "Shop finance" in html and "Commission" in html


def test_operator_finance_for_finance_and_operators() -> None:
    root = UserFactory(is_superuser=True, is_staff=True)
    finance, operator, buyer = UserFactory(), UserFactory(), UserFactory()
    role_grant(actor=root, user=finance, role=Role.FINANCE)
    role_grant(actor=root, user=operator, role=Role.OPERATOR)
    CommissionRate.objects.create(bps=450)

    assert client_for(buyer).get("/finance/").status_code == 404
    page = client_for(operator).get("/finance/")
    assert page.status_code == 200
    assert 'data-testid="commission-rates"' in page.content.decode()
    assert "450" in page.content.decode()
    assert 'data-testid="run-payout"' not in page.content.decode()  # operators do not pay out
    assert client_for(operator).post("/finance/", {"action": "payout"}).status_code == 404

    report = client_for(finance).post("/finance/", {"action": "reconcile"})
    assert report.status_code == 200
    assert 'data-testid="reconcile-ok"' in report.content.decode()
    batch = client_for(finance).post("/finance/", {"action": "payout"})
    assert batch.status_code == 200 and 'data-testid="payout-batch"' in batch.content.decode()
    assert not ShopPayout.objects.exists()  # nothing owed yet
