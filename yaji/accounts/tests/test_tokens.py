"""API tokens: hashing, expiry, refresh rotation with reuse detection, revocation."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone

from yaji.accounts import services
from yaji.accounts.errors import NotFound, TokenInvalid, TokenReused
from yaji.accounts.models import ApiToken, AuditEntry
from yaji.accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def session(user):  # type: ignore[no-untyped-def]
    result = services.user_authenticate(
        identifier=user.email, password="Yaji-墨香-2026!", device_id="phone-1"
    )
    return result, services.api_token_issue(user=user, device=result.device)


class TestTokens:
    def test_only_hashes_are_stored(self, session) -> None:  # type: ignore[no-untyped-def]
        _result, pair = session
        hashes = set(ApiToken.objects.values_list("token_hash", flat=True))
        assert hashes == {
            hashlib.sha256(pair.access_token.encode()).hexdigest(),
            hashlib.sha256(pair.refresh_token.encode()).hexdigest(),
        }
        access = ApiToken.objects.get(kind="access")
        refresh = ApiToken.objects.get(kind="refresh")
        assert access.expires_at - access.created_at == pytest.approx(
            timedelta(hours=1), abs=timedelta(seconds=5)
        )
        assert refresh.expires_at - refresh.created_at == pytest.approx(
            timedelta(days=30), abs=timedelta(seconds=5)
        )

    def test_access_token_authenticates_until_it_expires(self, session, user) -> None:  # type: ignore[no-untyped-def]
        _result, pair = session
        token = services.api_token_authenticate(raw_token=pair.access_token)
        assert token.user == user and token.last_used_at is not None
        with pytest.raises(TokenInvalid):
            services.api_token_authenticate(raw_token=pair.refresh_token)  # wrong kind
        ApiToken.objects.filter(kind="access").update(expires_at=token.created_at)
        with pytest.raises(TokenInvalid):
            services.api_token_authenticate(raw_token=pair.access_token)

    def test_refresh_rotates_and_the_old_pair_stops_working(self, session) -> None:  # type: ignore[no-untyped-def]
        _result, pair = session
        new = services.api_token_refresh(refresh_token=pair.refresh_token)
        assert new.family == pair.family and new.refresh_token != pair.refresh_token
        assert services.api_token_authenticate(raw_token=new.access_token)
        with pytest.raises(TokenInvalid):
            services.api_token_authenticate(raw_token=pair.access_token)

    def test_reusing_a_refresh_token_revokes_the_whole_family(self, session, user) -> None:  # type: ignore[no-untyped-def]
        _result, pair = session
        new = services.api_token_refresh(refresh_token=pair.refresh_token)
        with pytest.raises(TokenReused):
            services.api_token_refresh(
                refresh_token=pair.refresh_token
            )  # the thief (or victim) replays
        with pytest.raises(TokenInvalid):
            services.api_token_authenticate(raw_token=new.access_token)
        with pytest.raises(TokenInvalid):
            services.api_token_refresh(refresh_token=new.refresh_token)
        assert not ApiToken.objects.filter(revoked_at__isnull=True).exists()
        assert AuditEntry.objects.filter(action="token_reuse", target_user=user).exists()

    def test_other_families_survive_reuse_detection(self, session, user) -> None:  # type: ignore[no-untyped-def]
        result, pair = session
        other = services.api_token_issue(user=user, device=result.device)
        services.api_token_refresh(refresh_token=pair.refresh_token)
        with pytest.raises(TokenReused):
            services.api_token_refresh(refresh_token=pair.refresh_token)
        assert services.api_token_authenticate(raw_token=other.access_token)

    def test_garbage_refresh_token(self) -> None:
        with pytest.raises(TokenInvalid):
            services.api_token_refresh(refresh_token="yrt_nope")

    def test_revoke_is_owner_only(self, session, user) -> None:  # type: ignore[no-untyped-def]
        _result, pair = session
        token = ApiToken.objects.get(kind="access")
        with pytest.raises(NotFound):
            services.api_token_revoke(user=UserFactory(), token_id=token.pk)
        services.api_token_revoke(user=user, token_id=token.pk)
        with pytest.raises(TokenInvalid):
            services.api_token_refresh(refresh_token=pair.refresh_token)

    def test_device_revoke_ends_its_tokens(self, session, user) -> None:  # type: ignore[no-untyped-def]
        result, pair = session
        with pytest.raises(NotFound):
            services.device_revoke(user=UserFactory(), device_id=result.device.pk)
        services.device_revoke(user=user, device_id=result.device.pk)
        with pytest.raises(TokenInvalid):
            services.api_token_authenticate(raw_token=pair.access_token)
        assert AuditEntry.objects.filter(action="device_revoke").exists()

    def test_password_change_revokes_other_tokens_but_keeps_the_current(
        self, session, user
    ) -> None:  # type: ignore[no-untyped-def]
        _result, pair = session
        other_device = services.user_authenticate(
            identifier=user.email, password="Yaji-墨香-2026!", device_id="laptop"
        ).device
        other = services.api_token_issue(user=user, device=other_device)
        current = services.api_token_authenticate(raw_token=pair.access_token)
        services.password_change(
            user=user,
            old_password="Yaji-墨香-2026!",
            new_password="新密码-Longer-42",
            keep_token_id=current.pk,
        )
        assert services.api_token_authenticate(raw_token=pair.access_token)
        with pytest.raises(TokenInvalid):
            services.api_token_authenticate(raw_token=other.access_token)


def test_purge_drops_long_expired_credentials(session) -> None:  # type: ignore[no-untyped-def]
    from io import StringIO

    from django.core.management import call_command

    from yaji.accounts.models import VerificationCode

    services.verification_code_send(target="old@example.com")
    ApiToken.objects.filter(kind="access").update(expires_at=timezone.now() - timedelta(days=8))
    VerificationCode.objects.update(expires_at=timezone.now() - timedelta(days=8))
    out = StringIO()
    call_command("accounts_purge", stdout=out)
    assert "verification_codes: 1 deleted" in out.getvalue()
    assert list(ApiToken.objects.values_list("kind", flat=True)) == ["refresh"]
