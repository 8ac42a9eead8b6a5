"""The admin shows identifiers masked and keeps the audit log read-only."""

from __future__ import annotations

import pytest

from yaji.accounts import services
from yaji.accounts.models import AppendOnlyError, AuditEntry, RoleAssignment
from yaji.accounts.tests.factories import UserFactory, valid_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):  # type: ignore[no-untyped-def]
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_user_pages_show_masked_phone_and_kyc(admin_client, user) -> None:  # type: ignore[no-untyped-def]
    services.kyc_submit(user=user, real_name="林黛玉", id_number=valid_id())
    listing = admin_client.get("/admin/accounts/user/").content.decode()
    assert "138****5678" in listing and "13812345678" not in listing
    detail = admin_client.get(f"/admin/accounts/user/{user.pk}/change/").content.decode()
    assert "138****5678" in detail and "13812345678" not in detail
    found = admin_client.get("/admin/accounts/user/?q=13812345678").content.decode()
    assert "138****5678" in found  # searchable through the blind index
    kyc = admin_client.get("/admin/accounts/realnameverification/").content.decode()
    assert valid_id() not in kyc and "1101**********" in kyc and "林黛玉" not in kyc


def test_audit_log_is_read_only(admin_client, user) -> None:  # type: ignore[no-untyped-def]
    entry = services.audit_entry_record(action="login", actor=user, target_user=user)
    assert admin_client.get("/admin/accounts/auditentry/").status_code == 200
    assert admin_client.get("/admin/accounts/auditentry/add/").status_code == 403
    assert (
        admin_client.post(
            f"/admin/accounts/auditentry/{entry.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    entry.action = "tampered"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    assert AuditEntry.objects.get(pk=entry.pk).action == "login"


def test_role_grant_through_admin_is_audited(admin_client, user) -> None:  # type: ignore[no-untyped-def]
    response = admin_client.post(
        "/admin/accounts/roleassignment/add/", {"user": user.pk, "role": "creator", "scope": ""}
    )
    assert response.status_code == 302
    assert RoleAssignment.objects.filter(user=user, role="creator").exists()
    assert AuditEntry.objects.filter(action="role_grant", target_user=user).exists()
