"""EncryptedTextField on real accounts columns: raw storage, lookups, key rotation."""

from __future__ import annotations

import base64

import pytest
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.db import connection

from yaji.accounts.models import User
from yaji.core import encryption

KEY_A = base64.b64encode(b"a" * 32).decode()
KEY_B = base64.b64encode(b"b" * 32).decode()


def raw_column(table: str, column: str, pk: int) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


@pytest.mark.django_db
class TestEncryptedTextField:
    def test_raw_column_holds_no_plaintext_and_model_reads_plaintext(self) -> None:
        user = User.objects.create_user(email="f@example.com", password="x", phone="13812345678")
        raw = raw_column("accounts_user", "phone", user.pk)
        assert raw is not None and raw.startswith(f"v1:{encryption.keyring().active_kid}:")
        assert "13812345678" not in raw and "5678" not in raw
        assert User.objects.get(pk=user.pk).phone == "13812345678"

    def test_equality_lookups_are_refused(self) -> None:
        with pytest.raises(FieldError, match="blind index"):
            list(User.objects.filter(phone="13812345678"))
        assert not User.objects.filter(phone__isnull=False).exists()

    def test_reencrypt_command_moves_rows_to_the_active_key(self, settings) -> None:  # type: ignore[no-untyped-def]
        settings.YAJI_ENCRYPTION_KEYS = f"old:{KEY_A}"
        user = User.objects.create_user(email="r@example.com", password="x", phone="13912345678")
        assert raw_column("accounts_user", "phone", user.pk).startswith("v1:old:")

        settings.YAJI_ENCRYPTION_KEYS = f"new:{KEY_B},old:{KEY_A}"
        assert User.objects.get(pk=user.pk).phone == "13912345678"  # old key still reads
        call_command("reencrypt")
        assert raw_column("accounts_user", "phone", user.pk).startswith("v1:new:")

        settings.YAJI_ENCRYPTION_KEYS = f"new:{KEY_B}"  # the old key can now be dropped
        assert User.objects.get(pk=user.pk).phone == "13912345678"
