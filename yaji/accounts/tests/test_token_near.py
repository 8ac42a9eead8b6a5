"""Near copies of the Redis token entries (ADR 0060): every process holds them, Redis pub/sub
keeps them current, and a revocation reaches them before the next request.

Each test subscribes a process's copies first (``near``; ``other`` stands for a second worker
process with its own subscription), warms a token (its second sighting stores and announces
the entry), and proves the copy answers without Redis — so a refusal afterwards can only come
from the message that retired it. Needs REDIS_URL.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache

from yaji.accounts import services, token_auth, token_near
from yaji.accounts.tests.factories import PASSWORD, UserFactory
from yaji.accounts.token_near import NearTokens, near_tokens
from yaji.core import clock
from yaji.testing.redis_commands import redis_commands_counted

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL"),
]


def _client() -> Any:
    return cache._cache.get_client()


def _channel() -> str:
    return token_auth._peek_conf_get().channel


def _subscribed(copies: NearTokens) -> NearTokens:
    copies._retry_at = 0.0
    copies.lookup("-", client=_client(), channel=_channel())
    assert copies._connection is not None
    return copies


@pytest.fixture
def near(settings):  # type: ignore[no-untyped-def]
    settings.YAJI_AUTH_NEAR_CACHE = True
    near_tokens.close()
    yield _subscribed(near_tokens)
    near_tokens.close()


@pytest.fixture
def other():  # type: ignore[no-untyped-def]
    copies = _subscribed(NearTokens())
    yield copies
    copies.close()


class Grabber:
    def __init__(self, user: Any = None) -> None:
        self.user = user or UserFactory()
        result = services.user_authenticate(
            identifier=self.user.email, password=PASSWORD, device_id="phone-1"
        )
        self.pair = services.api_token_issue(user=self.user, device=result.device)
        self.token = self.pair.access_token
        self.hashed = token_auth.token_hash(self.token)

    def warm(self) -> None:
        for _ in range(2):  # learns the user, then stores (and announces) the entry
            services.api_token_authenticate(raw_token=self.token)

    def peek(self) -> int | None:
        return token_auth.token_cached_user_id(self.token, clock.now())


def _has(copies: NearTokens, hashed: str) -> bool:
    return copies.lookup(hashed, client=_client(), channel=_channel()) is not None


def _soon(condition: Callable[[], bool], within_s: float = 2.0) -> bool:
    """``condition`` holds now or once the messages in flight have arrived. Another process
    hears a change after its trip through Redis and the kernel (µs here, more under load): a
    look-up made the instant the change returned may not have it yet (ADR 0060)."""
    deadline = time.monotonic() + within_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.001)
    return True


@pytest.fixture
def redis_commands(monkeypatch):  # type: ignore[no-untyped-def]
    return redis_commands_counted(monkeypatch)


def test_a_stored_entry_reaches_every_process_and_answers_without_redis(
    near, other, redis_commands
) -> None:  # type: ignore[no-untyped-def]
    grabber = Grabber()
    grabber.warm()
    assert _has(near, grabber.hashed)  # this process's own store, at once
    assert _soon(lambda: _has(other, grabber.hashed))
    redis_commands.clear()
    assert grabber.peek() == grabber.user.pk
    assert redis_commands == []  # the copy, not Redis


def test_a_revocation_reaches_every_copy_before_the_next_request(near, other) -> None:  # type: ignore[no-untyped-def]
    grabber = Grabber()
    grabber.warm()
    assert grabber.peek() == grabber.user.pk
    token_row = services.api_token_authenticate(raw_token=grabber.token)
    services.api_token_revoke(user=grabber.user, token_id=token_row.pk)
    # No wait here: the process that revoked applied its own message.
    assert grabber.peek() is None
    assert not _has(near, grabber.hashed)
    assert _soon(lambda: not _has(other, grabber.hashed))


def test_a_user_row_saved_retires_that_users_copies_only(near, other) -> None:  # type: ignore[no-untyped-def]
    grabber, bystander = Grabber(), Grabber()
    grabber.warm()
    bystander.warm()
    grabber.user.is_active = False
    grabber.user.save()  # the signal bumps the generation
    assert grabber.peek() is None
    assert _soon(lambda: not _has(other, grabber.hashed))
    assert bystander.peek() == bystander.user.pk and _has(other, bystander.hashed)


def test_an_entry_whose_generation_is_gone_is_not_announced(near) -> None:  # type: ignore[no-untyped-def]
    grabber = Grabber()
    services.api_token_authenticate(raw_token=grabber.token)
    generation = token_auth._generation_current(grabber.user.pk)
    token, row = token_auth._read_valid(grabber.hashed, clock.now())
    token_auth.auth_generation_bump(user_ids=[grabber.user.pk])  # a revocation in between
    stale = token_auth._Entry(generation, grabber.user.pk, row)
    token_auth._entry_store(grabber.hashed, stale, token, clock.now())
    assert not _has(near, grabber.hashed)  # stored in Redis (dead there too), never copied
    assert grabber.peek() is None


def test_a_store_announced_before_an_applied_bump_is_dead() -> None:
    copies = NearTokens()
    copies._apply(token_near.bump_message(generations={7: "new"}, hashes=[]))
    copies._apply(token_near.store_head(hashed="h", user_id=7, ttl_s=30, generation="old") + b"x")
    assert "h" not in copies._copies
    copies._apply(token_near.store_head(hashed="h", user_id=7, ttl_s=30, generation="new") + b"x")
    assert copies._copies["h"].raw == b"x"
    copies._apply(token_near.bump_message(generations={}, hashes=["h"]))
    assert copies._copies == {} and copies._by_user == {}


def test_a_lost_subscription_drops_every_copy_until_resubscribed(near, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    grabber = Grabber()
    grabber.warm()
    assert _has(near, grabber.hashed)
    _client().client_kill_filter(_type="pubsub")  # Redis drops every subscriber
    # A message sent while disconnected could be lost: nothing is trusted, Redis answers.
    assert _soon(lambda: not _has(near, grabber.hashed))
    assert near._copies == {}
    assert grabber.peek() == grabber.user.pk  # from Redis, as before ADR 0060
    monkeypatch.setattr(token_near, "RESUBSCRIBE_AFTER_S", 0.0)
    near._retry_at = 0.0
    _has(near, "-")  # resubscribes
    assert near._connection is not None
    later = Grabber()
    later.warm()
    assert _has(near, later.hashed)


def test_a_cleared_cache_drops_every_copy(near) -> None:  # type: ignore[no-untyped-def]
    grabber = Grabber()
    grabber.warm()
    cache.clear()
    assert _soon(lambda: not _has(near, grabber.hashed))
    assert grabber.peek() is None  # no entry anywhere: Django reads the database


def test_a_copy_lives_no_longer_than_its_entry(near, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    grabber = Grabber()
    grabber.warm()
    assert _has(near, grabber.hashed)
    deadline = near._copies[grabber.hashed].deadline
    assert deadline <= token_near.time.monotonic() + token_auth.ENTRY_TTL_S
    monkeypatch.setattr(token_near.time, "monotonic", lambda: deadline + 0.001)
    assert not _has(near, grabber.hashed)


def test_a_forked_child_does_not_read_its_parents_subscription(near, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    grabber = Grabber()
    grabber.warm()
    parent = near._connection
    monkeypatch.setattr(token_near.os, "getpid", lambda: -1)
    assert not _has(near, grabber.hashed)  # a child starts without copies
    assert near._connection is not parent


def test_off_reads_redis(settings, near, redis_commands) -> None:  # type: ignore[no-untyped-def]
    grabber = Grabber()
    grabber.warm()
    settings.YAJI_AUTH_NEAR_CACHE = False
    redis_commands.clear()
    assert grabber.peek() == grabber.user.pk
    assert redis_commands == [b"EVALSHA"]


def test_another_cache_is_subscribed_afresh(near) -> None:  # type: ignore[no-untyped-def]
    grabber = Grabber()
    grabber.warm()
    assert _has(near, grabber.hashed)
    # The cache's settings changed (a new client, another prefix): its events are elsewhere.
    assert near.lookup(grabber.hashed, client=_client(), channel=_channel() + "-other") is None
    assert near._copies == {}


def test_a_cache_on_another_database_is_not_heard(near) -> None:  # type: ignore[no-untyped-def]
    from yaji.core.cache import CLEARED

    grabber = Grabber()
    grabber.warm()
    assert _has(near, grabber.hashed)
    # Pub/sub channels are per server: the database number keeps two caches apart (xdist
    # workers, two deployments on one Redis).
    db = _client().connection_pool.connection_kwargs.get("db", 0)
    assert _channel().endswith(f"events:{db}")
    _client().publish(_channel()[: -len(str(db))] + str(db + 1), CLEARED)
    assert _has(near, grabber.hashed)


def test_a_process_reads_its_own_changes_before_their_echo(near, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(near, "_drain", lambda: None)  # nothing comes back from Redis
    grabber = Grabber()
    grabber.warm()
    assert _has(near, grabber.hashed)  # its own store
    token_row = services.api_token_authenticate(raw_token=grabber.token)
    services.api_token_revoke(user=grabber.user, token_id=token_row.pk)
    assert not _has(near, grabber.hashed)  # its own revocation
    assert grabber.peek() is None


def test_an_unannounced_store_is_not_copied_here(near) -> None:  # type: ignore[no-untyped-def]
    grabber = Grabber()
    services.api_token_authenticate(raw_token=grabber.token)
    generation = token_auth._generation_current(grabber.user.pk)
    token, row = token_auth._read_valid(grabber.hashed, clock.now())
    token_auth.auth_generation_bump(user_ids=[grabber.user.pk])
    stale = token_auth._Entry(generation, grabber.user.pk, row)
    near._generations.clear()  # even a process that never heard the bump
    token_auth._entry_store(grabber.hashed, stale, token, clock.now())
    assert not _has(near, grabber.hashed)  # the script said "not announced"
