"""The bearer-token cache (ADR 0036): hits skip the database, and every revocation or change of
the user row takes effect on the very next request.

Each test first warms the cache (a token's first request learns its user, the second stores
the entry) and proves the third is a hit (no SQL at all), so a rejection afterwards can only
come from the invalidation — without it the hit would still answer with the stale row.
Runs on the configured cache: Redis with REDIS_URL, else the in-process one.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction

from yaji.accounts import services, token_auth
from yaji.accounts.errors import TokenInvalid
from yaji.accounts.models import ApiToken, User
from yaji.accounts.tests.factories import PASSWORD
from yaji.core import clock

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _cache_on(settings) -> None:  # type: ignore[no-untyped-def]
    settings.YAJI_AUTH_CACHE = "on"


@pytest.fixture
def signed_in(user):  # type: ignore[no-untyped-def]
    result = services.user_authenticate(
        identifier=user.email, password=PASSWORD, device_id="phone-1"
    )
    return result.device, services.api_token_issue(user=user, device=result.device)


def _warm(raw: str, django_assert_num_queries) -> ApiToken:  # type: ignore[no-untyped-def]
    services.api_token_authenticate(raw_token=raw)  # learns the user (and touches the token)
    services.api_token_authenticate(raw_token=raw)  # stores the entry
    with django_assert_num_queries(0):
        return services.api_token_authenticate(raw_token=raw)


class TestHits:
    def test_a_hit_is_the_same_user_without_sql(self, signed_in, user, django_assert_num_queries):  # type: ignore[no-untyped-def]
        _device, pair = signed_in
        token = _warm(pair.access_token, django_assert_num_queries)
        assert token.user == user and token.user.email == user.email
        assert token.device_id == _device.pk and token.pk
        assert token.user.is_authenticated and token.user.is_active
        # Deferred on the request path, still there when asked for.
        assert token.user.phone == "13812345678"
        assert token.user.check_password(PASSWORD)

    def test_the_touch_is_one_statement_a_minute(
        self, signed_in, django_assert_num_queries, monkeypatch
    ):  # type: ignore[no-untyped-def]
        device, pair = signed_in
        _warm(pair.access_token, django_assert_num_queries)
        later = clock.now() + timedelta(seconds=61)
        monkeypatch.setattr(clock, "now", lambda: later)
        expected = 1 if connection.vendor == "postgresql" else 2
        with django_assert_num_queries(expected):
            services.api_token_authenticate(raw_token=pair.access_token)
        with django_assert_num_queries(0):
            services.api_token_authenticate(raw_token=pair.access_token)
        assert ApiToken.objects.get(kind="access").last_used_at == later
        device.refresh_from_db()
        assert device.last_seen_at == later

    def test_an_expired_token_is_refused_even_from_the_cache(
        self, signed_in, django_assert_num_queries, monkeypatch
    ):  # type: ignore[no-untyped-def]
        _device, pair = signed_in
        _warm(pair.access_token, django_assert_num_queries)
        later = pair.access_expires_at + timedelta(seconds=1)
        monkeypatch.setattr(clock, "now", lambda: later)
        with pytest.raises(TokenInvalid):
            services.api_token_authenticate(raw_token=pair.access_token)


class TestInvalidation:
    def test_logout_revocation_is_immediate(self, signed_in, user, django_assert_num_queries):  # type: ignore[no-untyped-def]
        _device, pair = signed_in
        token = _warm(pair.access_token, django_assert_num_queries)
        services.api_token_revoke(user=user, token_id=token.pk)
        with pytest.raises(TokenInvalid):
            services.api_token_authenticate(raw_token=pair.access_token)

    def test_a_rotated_access_token_is_refused(self, signed_in, django_assert_num_queries):  # type: ignore[no-untyped-def]
        _device, pair = signed_in
        _warm(pair.access_token, django_assert_num_queries)
        new = services.api_token_refresh(refresh_token=pair.refresh_token)
        with pytest.raises(TokenInvalid):
            services.api_token_authenticate(raw_token=pair.access_token)
        assert services.api_token_authenticate(raw_token=new.access_token)

    def test_a_deactivated_user_is_refused(self, signed_in, user, django_assert_num_queries):  # type: ignore[no-untyped-def]
        _device, pair = signed_in
        _warm(pair.access_token, django_assert_num_queries)
        user.is_active = False
        user.save(update_fields=["is_active"])  # what the admin console does
        with pytest.raises(TokenInvalid):
            services.api_token_authenticate(raw_token=pair.access_token)

    def test_a_password_change_signs_out_the_other_devices(
        self, signed_in, user, django_assert_num_queries
    ):  # type: ignore[no-untyped-def]
        _device, pair = signed_in
        other_device = services.user_authenticate(
            identifier=user.email, password=PASSWORD, device_id="tablet"
        ).device
        other = services.api_token_issue(user=user, device=other_device)
        kept = _warm(pair.access_token, django_assert_num_queries)
        _warm(other.access_token, django_assert_num_queries)
        services.password_change(
            user=user, old_password=PASSWORD, new_password="Xin-mima-2026!", keep_token_id=kept.pk
        )
        with pytest.raises(TokenInvalid):
            services.api_token_authenticate(raw_token=other.access_token)
        assert services.api_token_authenticate(raw_token=pair.access_token).user == user

    def test_a_device_sign_out_is_immediate(self, signed_in, user, django_assert_num_queries):  # type: ignore[no-untyped-def]
        device, pair = signed_in
        _warm(pair.access_token, django_assert_num_queries)
        services.device_revoke(user=user, device_id=device.pk)
        with pytest.raises(TokenInvalid):
            services.api_token_authenticate(raw_token=pair.access_token)

    def test_a_deleted_account_is_refused(self, signed_in, user, django_assert_num_queries):  # type: ignore[no-untyped-def]
        _device, pair = signed_in
        _warm(pair.access_token, django_assert_num_queries)
        User.objects.filter(pk=user.pk).delete()
        with pytest.raises(TokenInvalid):
            services.api_token_authenticate(raw_token=pair.access_token)

    def test_the_cached_user_is_never_stale(self, signed_in, user, django_assert_num_queries):  # type: ignore[no-untyped-def]
        _device, pair = signed_in
        _warm(pair.access_token, django_assert_num_queries)
        services.user_profile_update(user=user, display_name="林黛玉")
        token = services.api_token_authenticate(raw_token=pair.access_token)
        assert token.user.display_name == "林黛玉"

    def test_a_revocation_racing_a_miss_never_leaves_a_live_entry(
        self, signed_in, user, django_assert_num_queries, monkeypatch
    ):  # type: ignore[no-untyped-def]
        # The dangerous order: a request reads the still-valid row, the revocation commits,
        # then the request stores its entry. The entry carries the generation read before the
        # row, which the revocation has moved on, so it never counts.
        _device, pair = signed_in
        services.api_token_authenticate(raw_token=pair.access_token)  # learns the user
        token_id = ApiToken.objects.get(kind="access").pk
        real_read = token_auth._row_read

        def read_then_revoke(hashed: str, **kw):  # type: ignore[no-untyped-def]
            row = real_read(hashed, **kw)
            services.api_token_revoke(user=user, token_id=token_id)
            return row

        monkeypatch.setattr(token_auth, "_row_read", read_then_revoke)
        services.api_token_authenticate(raw_token=pair.access_token)  # answered from the old row
        monkeypatch.setattr(token_auth, "_row_read", real_read)
        with pytest.raises(TokenInvalid):
            services.api_token_authenticate(raw_token=pair.access_token)

    def test_a_rolled_back_revocation_changes_nothing(
        self, signed_in, user, django_assert_num_queries
    ):  # type: ignore[no-untyped-def]
        _device, pair = signed_in
        token = _warm(pair.access_token, django_assert_num_queries)
        with pytest.raises(RuntimeError), transaction.atomic():
            services.api_token_revoke(user=user, token_id=token.pk)
            raise RuntimeError("rolled back")
        assert services.api_token_authenticate(raw_token=pair.access_token).user == user


class TestWithoutCache:
    def test_off_means_a_database_read_every_time(
        self, settings, signed_in, django_assert_num_queries
    ):  # type: ignore[no-untyped-def]
        settings.YAJI_AUTH_CACHE = "off"
        _device, pair = signed_in
        services.api_token_authenticate(raw_token=pair.access_token)
        with django_assert_num_queries(1):
            services.api_token_authenticate(raw_token=pair.access_token)

    def test_the_read_touches_when_due_and_only_a_live_token(
        self, settings, signed_in, user, django_assert_num_queries, monkeypatch
    ):  # type: ignore[no-untyped-def]
        # ADR 0053: on PostgreSQL the read carries the touch (one statement); SQLite touches
        # with its own statements. Either way: only a live token, at most once a minute.
        settings.YAJI_AUTH_CACHE = "off"
        device, pair = signed_in
        first = clock.now()
        monkeypatch.setattr(clock, "now", lambda: first)
        touching = 1 if connection.vendor == "postgresql" else 3
        with django_assert_num_queries(touching):
            token = services.api_token_authenticate(raw_token=pair.access_token)
        assert token.last_used_at == first
        stored = ApiToken.objects.get(kind="access")
        device.refresh_from_db()
        assert stored.last_used_at == first and device.last_seen_at == first
        within = first + timedelta(seconds=30)
        monkeypatch.setattr(clock, "now", lambda: within)
        with django_assert_num_queries(1):
            assert (
                services.api_token_authenticate(raw_token=pair.access_token).last_used_at == first
            )
        assert ApiToken.objects.get(kind="access").last_used_at == first
        later = first + timedelta(seconds=61)
        monkeypatch.setattr(clock, "now", lambda: later)
        User.objects.filter(pk=user.pk).update(is_active=False)  # no signal: the row alone
        with pytest.raises(TokenInvalid):
            services.api_token_authenticate(raw_token=pair.access_token)
        User.objects.filter(pk=user.pk).update(is_active=True)
        ApiToken.objects.filter(pk=stored.pk).update(revoked_at=first)
        with pytest.raises(TokenInvalid):
            services.api_token_authenticate(raw_token=pair.access_token)
        ApiToken.objects.filter(pk=stored.pk).update(revoked_at=None, expires_at=later)
        with pytest.raises(TokenInvalid):
            services.api_token_authenticate(raw_token=pair.access_token)
        assert ApiToken.objects.get(kind="access").last_used_at == first  # none of them touched
        device.refresh_from_db()
        assert device.last_seen_at == first
        ApiToken.objects.filter(pk=stored.pk).update(expires_at=later + timedelta(minutes=5))
        assert services.api_token_authenticate(raw_token=pair.access_token).last_used_at == later
        device.refresh_from_db()
        assert ApiToken.objects.get(kind="access").last_used_at == later == device.last_seen_at

    def test_auto_follows_redis(self, settings) -> None:  # type: ignore[no-untyped-def]
        settings.YAJI_AUTH_CACHE = "auto"
        settings.REDIS_URL = None
        assert not token_auth.cache_enabled()
        settings.REDIS_URL = "redis://127.0.0.1:6379/1"
        assert token_auth.cache_enabled()
