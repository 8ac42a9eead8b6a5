"""Password and one-time-code login: identifiers, lockout, per-IP limit, devices and login events; logout."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import authenticate

from yaji.accounts import services
from yaji.accounts.errors import AccountLocked, CodeInvalid, InvalidCredentials
from yaji.accounts.models import AuditEntry, Device, LoginEvent
from yaji.accounts.tests.factories import PASSWORD, UserFactory
from yaji.core.errors import RateLimited

pytestmark = pytest.mark.django_db
CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/130.0 Safari/537.36"


def login(identifier: str, password: str = PASSWORD, **kw):  # type: ignore[no-untyped-def]
    return services.user_authenticate(identifier=identifier, password=password, **kw)


class TestLogin:
    def test_by_email_or_phone(self, user) -> None:  # type: ignore[no-untyped-def]
        assert login("DAIYU@example.com").user == user
        assert login("+86 138 1234 5678").user == user

    def test_success_records_device_event_and_audit(self, user) -> None:  # type: ignore[no-untyped-def]
        result = login(user.email, ip="203.0.113.5", user_agent=CHROME, device_id="app-1")
        device = result.device
        assert device.user == user and device.last_ip == "203.0.113.5"
        assert device.label == "Chrome · Windows"
        event = LoginEvent.objects.get()
        assert event.success and event.device == device and event.ip == "203.0.113.5"
        assert AuditEntry.objects.filter(action="login", actor=user).exists()
        user.refresh_from_db()
        assert user.last_login is not None

    def test_same_device_id_is_one_device_across_logins(self, user) -> None:  # type: ignore[no-untyped-def]
        first = login(user.email, device_id="app-1", user_agent=CHROME).device
        again = login(
            user.email, device_id="app-1", user_agent="changed UA", ip="198.51.100.1"
        ).device
        other = login(user.email, device_id="app-2").device
        assert first.pk == again.pk != other.pk
        again.refresh_from_db()
        assert again.last_ip == "198.51.100.1" and again.last_seen_at >= first.last_seen_at

    def test_without_device_id_the_user_agent_identifies_the_browser(self, user) -> None:  # type: ignore[no-untyped-def]
        assert (
            login(user.email, user_agent=CHROME).device
            == login(user.email, user_agent=CHROME).device
        )
        assert Device.objects.count() == 1

    @pytest.mark.parametrize("identifier", ["daiyu@example.com", "nobody@example.com", "not an id"])
    def test_failure_is_recorded_and_generic(self, user, identifier: str) -> None:  # type: ignore[no-untyped-def]
        with pytest.raises(InvalidCredentials) as err:
            login(identifier, "wrong-password", ip="203.0.113.9")
        assert err.value.code == "invalid_credentials"
        event = LoginEvent.objects.get()
        assert not event.success and event.ip == "203.0.113.9"

    def test_five_failures_lock_the_account_for_fifteen_minutes(self, user, monkeypatch) -> None:  # type: ignore[no-untyped-def]
        for left in (4, 3, 2, 1):
            with pytest.raises(InvalidCredentials) as err:
                login(user.email, "wrong")
            assert err.value.extra["attempts_left"] == left
        with pytest.raises(AccountLocked) as err:
            login(user.email, "wrong")
        assert 14 * 60 < err.value.extra["retry_after"] <= 15 * 60 + 1
        # Locked by the account, not the spelling: the phone number is locked too, even with
        # the right password.
        with pytest.raises(AccountLocked):
            login("13812345678")
        assert AuditEntry.objects.filter(action="login_failed", target_user=user).count() == 5

        # Fifteen minutes later the lock is gone.
        LoginEvent.objects.update(
            created_at=LoginEvent.objects.latest("id").created_at - timedelta(minutes=16)
        )
        assert login(user.email).user == user

    def test_success_resets_the_failure_count(self, user) -> None:  # type: ignore[no-untyped-def]
        for _ in range(4):
            with pytest.raises(InvalidCredentials):
                login(user.email, "wrong")
        login(user.email)
        with pytest.raises(InvalidCredentials) as err:
            login(user.email, "wrong")
        assert err.value.extra["attempts_left"] == 4

    def test_per_ip_limit(self, monkeypatch) -> None:  # type: ignore[no-untyped-def]
        monkeypatch.setattr(services, "LOGIN_LIMIT_PER_IP", 3)
        for n in range(3):
            with pytest.raises(InvalidCredentials):
                login(f"u{n}@example.com", "x", ip="192.0.2.7")
        with pytest.raises(RateLimited):
            login("u9@example.com", "x", ip="192.0.2.7")

    def test_inactive_user_cannot_log_in(self) -> None:
        user = UserFactory(is_active=False)
        with pytest.raises(InvalidCredentials):
            login(user.email)


class TestLogout:
    def test_records_the_logout_and_unbinds_the_session(self, user) -> None:  # type: ignore[no-untyped-def]
        device = login(user.email, user_agent=CHROME).device
        services.device_session_bind(device=device, session_key="s" * 32)
        services.user_logout(user=user, session_key="s" * 32, ip="203.0.113.5")
        entry = AuditEntry.objects.get(action="logout")
        assert entry.actor == user and entry.target_user == user and entry.ip == "203.0.113.5"
        assert (entry.target_type, entry.target_id) == ("device", str(device.pk))
        device.refresh_from_db()
        assert device.session_key == "" and device.revoked_at is None  # still a known device

    def test_without_a_session_only_records(self, user) -> None:  # type: ignore[no-untyped-def]
        services.user_logout(user=user)
        entry = AuditEntry.objects.get(action="logout")
        assert entry.target_type == "" and entry.ip is None and entry.metadata == {"session": False}

    def test_leaves_other_devices_and_other_users_alone(self, user) -> None:  # type: ignore[no-untyped-def]
        mine = login(user.email, device_id="a").device
        other_user = UserFactory()
        theirs = login(other_user.email, device_id="b").device
        services.device_session_bind(device=mine, session_key="mine")
        services.device_session_bind(device=theirs, session_key="theirs")
        services.user_logout(user=user, session_key="theirs")  # not this user's session
        theirs.refresh_from_db()
        mine.refresh_from_db()
        assert (mine.session_key, theirs.session_key) == ("mine", "theirs")
        assert AuditEntry.objects.get(action="logout").target_type == ""


class TestIdentifierBackend:
    def test_django_authenticate_with_email_or_phone(self, user, rf) -> None:  # type: ignore[no-untyped-def]
        request = rf.post("/admin/login/", HTTP_USER_AGENT=CHROME)
        assert authenticate(request, username="13812345678", password=PASSWORD) == user
        assert request.login_device.user == user
        assert authenticate(request, username=user.email, password="nope") is None
        assert LoginEvent.objects.filter(success=False).count() == 1

    def test_admin_login_page_accepts_phone(self, client) -> None:  # type: ignore[no-untyped-def]
        UserFactory(email="boss@example.com", phone="13600000000", is_staff=True, is_superuser=True)
        response = client.post(
            "/admin/login/?next=/admin/",
            {"username": "13600000000", "password": PASSWORD, "next": "/admin/"},
        )
        assert response.status_code == 302 and response["Location"] == "/admin/"


class TestLoginByCode:
    """One-time code instead of a password: purpose "login", the code's own attempt limit."""

    def _code(self, target: str) -> str:
        from yaji.accounts.notifications import last_code_for

        services.verification_code_send(target=target, purpose="login")
        code = last_code_for(target)
        assert code is not None
        return code

    def test_a_sent_code_signs_in_once_and_is_audited(self, user) -> None:  # type: ignore[no-untyped-def]
        # given a login code sent to the account's phone
        code = self._code("13812345678")
        # when it is used
        result = services.user_authenticate_by_code(
            identifier="+86 138 1234 5678", code=code, ip="203.0.113.5", device_id="app-1"
        )
        # then the user is in, on a recorded device, with the method in the audit log
        assert result.user == user and result.device.user == user
        entry = AuditEntry.objects.get(action="login", actor=user)
        assert entry.metadata["method"] == "code"
        assert LoginEvent.objects.get(user=user, success=True).reason == "code"
        # and the same code never works twice
        with pytest.raises(CodeInvalid):
            services.user_authenticate_by_code(identifier=user.email, code=code)

    def test_wrong_codes_are_counted_and_then_the_code_is_dead(self, user) -> None:  # type: ignore[no-untyped-def]
        code = self._code(user.email)
        wrong = "000000" if code != "000000" else "111111"
        for left in (4, 3, 2, 1, 0):
            with pytest.raises(CodeInvalid) as err:
                services.user_authenticate_by_code(identifier=user.email, code=wrong)
            assert err.value.extra["attempts_left"] == left
        with pytest.raises(CodeInvalid):
            services.user_authenticate_by_code(identifier=user.email, code=code)
        assert not LoginEvent.objects.filter(success=True).exists()

    def test_unknown_accounts_get_no_code_and_the_same_answers(self) -> None:
        from yaji.accounts.notifications import last_code_for

        sent = services.verification_code_send(target="ghost@example.com", purpose="login")
        assert sent.target_masked and last_code_for("ghost@example.com") is None
        with pytest.raises(CodeInvalid):
            services.user_authenticate_by_code(identifier="ghost@example.com", code="123456")

    def test_a_password_reset_code_does_not_sign_in(self, user) -> None:  # type: ignore[no-untyped-def]
        from yaji.accounts.notifications import last_code_for

        services.verification_code_send(target=user.email, purpose="password_reset")
        with pytest.raises(CodeInvalid):
            services.user_authenticate_by_code(
                identifier=user.email, code=last_code_for(user.email) or ""
            )
