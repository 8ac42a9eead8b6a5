"""PIPL: personal-data export and account deletion that keeps the row."""

from __future__ import annotations

import json

import pytest
from django.db import connection

from yaji.accounts import services
from yaji.accounts.errors import InvalidCredentials, TokenInvalid
from yaji.accounts.models import (
    ApiToken,
    AuditEntry,
    Device,
    LoginEvent,
    RealNameVerification,
    RoleAssignment,
    User,
)
from yaji.accounts.tests.factories import PASSWORD, UserFactory, valid_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def busy_user(user):  # type: ignore[no-untyped-def]
    result = services.user_authenticate(
        identifier=user.email, password=PASSWORD, ip="203.0.113.1", user_agent="UA", device_id="d1"
    )
    pair = services.api_token_issue(user=user, device=result.device)
    services.kyc_submit(user=user, real_name="林黛玉", id_number=valid_id(), ip="203.0.113.1")
    RoleAssignment.objects.create(user=user, role="creator")
    return user, pair


class TestExport:
    def test_export_has_everything_unmasked_and_is_audited(self, busy_user) -> None:  # type: ignore[no-untyped-def]
        user, _pair = busy_user
        data = services.user_data_export(user=user, ip="203.0.113.1")
        json.dumps(data)  # serialisable as is
        assert data["profile"]["phone"] == "13812345678"
        assert data["profile"]["email"] == "daiyu@example.com"
        assert data["real_name_verifications"][0]["id_number"] == valid_id()
        assert data["devices"][0]["last_ip"] == "203.0.113.1"
        assert {t["kind"] for t in data["api_tokens"]} == {"access", "refresh"}
        assert all("token_hash" not in t for t in data["api_tokens"])
        assert [r["role"] for r in data["roles"]] == ["creator"]
        assert {e["action"] for e in data["audit_entries"]} >= {
            "login",
            "kyc_submit",
            "data_export",
        }
        assert data["login_events"][0]["success"] is True

    def test_export_holds_only_the_users_own_data(self, busy_user) -> None:  # type: ignore[no-untyped-def]
        other = UserFactory()
        data = services.user_data_export(user=other)
        assert data["devices"] == [] and data["real_name_verifications"] == []
        assert {e["action"] for e in data["audit_entries"]} == {"data_export"}


class TestDelete:
    def test_wrong_password_changes_nothing(self, busy_user) -> None:  # type: ignore[no-untyped-def]
        user, _ = busy_user
        with pytest.raises(InvalidCredentials):
            services.user_delete(user=user, password="wrong")
        user.refresh_from_db()
        assert user.is_active and user.email

    def test_erases_personal_data_keeps_the_row_and_blocks_login(self, busy_user) -> None:  # type: ignore[no-untyped-def]
        user, pair = busy_user
        pk = user.pk
        services.user_delete(user=user, password=PASSWORD, ip="203.0.113.1")

        row = User.objects.get(pk=pk)
        assert row.deleted_at is not None and not row.is_active and not row.has_usable_password()
        assert row.email is None and row.phone is None and row.phone_index is None
        assert row.display_name == "" and row.birth_date is None
        assert not Device.objects.filter(user_id=pk).exists()
        assert not ApiToken.objects.filter(user_id=pk).exists()
        assert not RoleAssignment.objects.filter(user_id=pk).exists()
        assert LoginEvent.objects.filter(user_id=pk).exists()
        assert not LoginEvent.objects.filter(user_id=pk, ip__isnull=False).exists()
        kyc = RealNameVerification.objects.get(user_id=pk)
        assert kyc.status == "erased" and kyc.real_name == "" and kyc.id_number == ""
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM accounts_realnameverification WHERE user_id = %s", [pk])
            assert valid_id() not in str(cursor.fetchall())
            cursor.execute("SELECT * FROM accounts_user WHERE id = %s", [pk])
            raw_user = str(cursor.fetchall())
        assert "daiyu" not in raw_user and "v1:" not in raw_user
        assert AuditEntry.objects.filter(action="account_delete", target_user_id=pk).exists()
        assert not AuditEntry.objects.filter(target_user_id=pk, ip__isnull=False).exists()

        with pytest.raises(InvalidCredentials):
            services.user_authenticate(identifier="daiyu@example.com", password=PASSWORD)
        with pytest.raises(InvalidCredentials):
            services.user_authenticate(identifier="13812345678", password=PASSWORD)
        with pytest.raises(TokenInvalid):
            services.api_token_authenticate(raw_token=pair.access_token)

    def test_identifiers_and_id_are_free_again(self, busy_user, register) -> None:  # type: ignore[no-untyped-def]
        user, _ = busy_user
        services.user_delete(user=user, password=PASSWORD)
        newcomer = register("daiyu@example.com")
        assert (
            services.kyc_submit(user=newcomer, real_name="林黛玉", id_number=valid_id()).status
            == "verified"
        )
