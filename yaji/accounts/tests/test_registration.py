"""Verification codes and registration by mobile number or e-mail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection

from yaji.accounts import services
from yaji.accounts.errors import (
    CodeExpired,
    CodeInvalid,
    IdentifierTaken,
    InvalidIdentifier,
    WeakPassword,
)
from yaji.accounts.identifiers import identifier_parse
from yaji.accounts.models import AuditEntry, Role, User, VerificationCode
from yaji.accounts.notifications import last_code_for, sent_messages
from yaji.accounts.tests.factories import PASSWORD
from yaji.core.errors import RateLimited

pytestmark = pytest.mark.django_db


class TestIdentifiers:
    @pytest.mark.parametrize(
        "raw, kind, value",
        [
            ("13812345678", "phone", "13812345678"),
            ("+86 138-1234-5678", "phone", "13812345678"),
            ("8613812345678", "phone", "13812345678"),
            ("  Lin.DaiYu@Example.COM ", "email", "lin.daiyu@example.com"),
        ],
    )
    def test_normalised(self, raw: str, kind: str, value: str) -> None:
        ident = identifier_parse(raw)
        assert (ident.kind, ident.value) == (kind, value)

    @pytest.mark.parametrize("raw", ["12812345678", "1381234567", "138123456789", "abc", "a@", ""])
    def test_rejected(self, raw: str) -> None:
        with pytest.raises(InvalidIdentifier):
            identifier_parse(raw)


class TestCodes:
    def test_code_is_six_digits_sent_and_stored_only_hashed(self) -> None:
        sent = services.verification_code_send(target="13812345678", purpose="register")
        assert sent.target_masked == "138****5678" and sent.channel == "sms"
        code = last_code_for("13812345678")
        assert code is not None and len(code) == 6 and code.isdigit()
        row = VerificationCode.objects.get()
        assert code not in row.code_hash and len(row.code_hash) == 64
        assert row.expires_at - row.created_at == pytest.approx(
            timedelta(minutes=10), abs=timedelta(seconds=2)
        )
        assert sent_messages()[-1].channel == "sms"

    def test_one_per_minute_per_target(self) -> None:
        services.verification_code_send(target="a@example.com")
        with pytest.raises(RateLimited) as err:
            services.verification_code_send(target="A@example.com")  # same target, other case
        assert err.value.extra["retry_after"] <= 60
        services.verification_code_send(target="b@example.com")  # another target is fine

    def test_ten_per_day_per_target(self, monkeypatch) -> None:  # type: ignore[no-untyped-def]
        monkeypatch.setattr(services, "CODE_LIMIT_PER_TARGET_MINUTE", 100)
        for _ in range(10):
            services.verification_code_send(target="c@example.com")
        with pytest.raises(RateLimited):
            services.verification_code_send(target="c@example.com")

    def test_per_ip_limit(self, monkeypatch) -> None:  # type: ignore[no-untyped-def]
        monkeypatch.setattr(services, "CODE_LIMIT_PER_IP_HOUR", 3)
        for n in range(3):
            services.verification_code_send(target=f"ip{n}@example.com", ip="10.1.1.1")
        with pytest.raises(RateLimited):
            services.verification_code_send(target="ip9@example.com", ip="10.1.1.1")
        services.verification_code_send(target="ip9@example.com", ip="10.1.1.2")

    def test_register_code_for_a_taken_identifier_is_refused(self, user) -> None:  # type: ignore[no-untyped-def]
        with pytest.raises(IdentifierTaken):
            services.verification_code_send(target="138 1234 5678")

    def test_password_reset_code_for_unknown_account_looks_the_same_but_sends_nothing(self) -> None:
        sent = services.verification_code_send(target="ghost@example.com", purpose="password_reset")
        assert sent.target_masked == "g***@example.com"
        assert last_code_for("ghost@example.com") is None


class TestRegister:
    def test_register_by_phone_stores_it_encrypted_with_blind_index(
        self, register, settings
    ) -> None:  # type: ignore[no-untyped-def]
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
        user = register("13987654321", display_name="黛玉")
        assert user.phone == "13987654321" and user.email is None
        assert user.check_password(PASSWORD)
        assert user.password.startswith("argon2")
        with connection.cursor() as cursor:
            cursor.execute("SELECT phone, phone_index FROM accounts_user WHERE id = %s", [user.pk])
            raw_phone, raw_index = cursor.fetchone()
        assert "13987654321" not in raw_phone and "4321" not in raw_phone
        assert "13987654321" not in raw_index
        assert list(user.role_assignments.values_list("role", flat=True)) == [Role.BUYER]
        assert AuditEntry.objects.filter(action="register", target_user=user).exists()

    def test_register_by_email(self, register) -> None:  # type: ignore[no-untyped-def]
        user = register("Bao.Yu@Example.com", language="en")
        assert user.email == "bao.yu@example.com" and user.language == "en"

    def test_code_is_single_use_and_identifier_unique(self, register) -> None:  # type: ignore[no-untyped-def]
        register("13711112222")
        with pytest.raises(IdentifierTaken):
            services.user_register(identifier="+8613711112222", code="000000", password=PASSWORD)
        assert User.objects.count() == 1

    def test_wrong_code_then_five_strikes_invalidates_it(self) -> None:
        services.verification_code_send(target="x@example.com")
        code = last_code_for("x@example.com")
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        for left in (4, 3, 2, 1, 0):
            with pytest.raises(CodeInvalid) as err:
                services.user_register(identifier="x@example.com", code=wrong, password=PASSWORD)
            assert err.value.extra["attempts_left"] == left
        with pytest.raises(CodeInvalid):  # even the right code is dead now
            services.user_register(identifier="x@example.com", code=code, password=PASSWORD)
        assert not User.objects.exists()

    def test_expired_code(self) -> None:
        services.verification_code_send(target="y@example.com")
        code = last_code_for("y@example.com")
        VerificationCode.objects.update(
            expires_at=VerificationCode.objects.get().created_at - timedelta(seconds=1)
        )
        with pytest.raises(CodeExpired):
            services.user_register(identifier="y@example.com", code=code, password=PASSWORD)

    def test_code_for_another_target_does_not_work(self) -> None:
        services.verification_code_send(target="p@example.com")
        code = last_code_for("p@example.com")
        with pytest.raises(CodeInvalid):
            services.user_register(identifier="q@example.com", code=code, password=PASSWORD)

    def test_weak_password_is_refused_before_the_code_is_spent(self) -> None:
        services.verification_code_send(target="w@example.com")
        code = last_code_for("w@example.com")
        with pytest.raises(WeakPassword) as err:
            services.user_register(identifier="w@example.com", code=code, password="12345678")
        assert err.value.extra["reasons"]
        user = services.user_register(identifier="w@example.com", code=code, password=PASSWORD)
        assert user.pk
