"""Suspending and reinstating a shop from the admin goes through the services (audit entry,
search index event); the status is not editable as a field."""

from __future__ import annotations

import pytest
from django.test import Client

from yaji.accounts.models import AuditEntry
from yaji.catalog.models import Shop
from yaji.catalog.tests.factories import reviewer_user, shop_open

pytestmark = pytest.mark.django_db


def _admin(user) -> Client:  # type: ignore[no-untyped-def]
    user.is_staff = True
    user.is_superuser = True  # every admin permission; the services still check the role
    user.save(update_fields=["is_staff", "is_superuser"])
    client = Client()
    client.force_login(user)
    return client


def test_admin_suspends_with_a_reason_and_reinstates() -> None:
    reviewer = reviewer_user()
    shop = shop_open(reviewer=reviewer, name_zh="婉清苏绣坊", shop_type="heritage_workshop")
    client = _admin(reviewer)
    url = "/admin/catalog/shop/"

    # without a reason nothing changes and the admin says why
    response = client.post(
        url, {"action": "suspend", "_selected_action": [shop.pk], "reason": ""}, follow=True
    )
    assert response.status_code == 200
    shop.refresh_from_db()
    assert shop.status == Shop.Status.ACTIVE

    client.post(url, {"action": "suspend", "_selected_action": [shop.pk], "reason": "资质到期"})
    shop.refresh_from_db()
    assert shop.status == Shop.Status.SUSPENDED
    entry = AuditEntry.objects.filter(action="shop_suspend", target_id=shop.pk).get()
    assert entry.metadata["reason"] == "资质到期"

    client.post(url, {"action": "reinstate", "_selected_action": [shop.pk]})
    shop.refresh_from_db()
    assert shop.status == Shop.Status.ACTIVE
    assert AuditEntry.objects.filter(action="shop_reinstate", target_id=shop.pk).exists()

    # the change form does not offer the status as a field
    form = client.get(f"{url}{shop.pk}/change/")
    assert form.status_code == 200 and b'name="status"' not in form.content
