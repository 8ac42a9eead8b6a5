"""The grab's fast answers (ADR 0043) against Django's, for the same request in the same state.

Each situation is asked twice: once through the fast path's WSGI layer (over a stand-in for
Django that records a fall-through), once through Django itself. Where the fast path answers,
status, body bytes and headers must equal Django's; everywhere else it must fall through.
Needs REDIS_URL (the gate and the token cache live there).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import redis
from django.conf import settings
from django.test import Client, RequestFactory

from yaji.accounts import services as accounts
from yaji.accounts.tests.factories import PASSWORD
from yaji.core import clock
from yaji.core.fastpath import FAST_ANSWERS, FastPath
from yaji.redpackets import gate as gate_module
from yaji.redpackets.gate import PacketGate
from yaji.redpackets.models import Audience, RedPacket
from yaji.redpackets.services import red_packet_claim, red_packet_send
from yaji.redpackets.tests.factories import UserFactory, funded_user, reconcile_ok
from yaji.risk.models import RiskReview, RuleCode
from yaji.testing.redis_commands import redis_commands_counted

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL"),
]

HOST = "testserver"


@pytest.fixture(autouse=True, params=["near", "redis"])
def token_source(request, settings) -> str:  # type: ignore[no-untyped-def]
    """Every situation twice: the token read from the process's near copies (ADR 0060; the
    subscription made before the test, so every entry it stores is copied), and from Redis."""
    from yaji.accounts.token_near import near_tokens
    from yaji.redpackets import fast as fast_module

    fast_module._drained.clear()
    near_tokens.close()
    settings.YAJI_AUTH_NEAR_CACHE = request.param == "near"
    if request.param == "near":
        from django.core.cache import cache

        from yaji.accounts.token_auth import _peek_conf_get

        near_tokens._retry_at = 0.0
        near_tokens.lookup("-", client=cache._cache.get_client(), channel=_peek_conf_get().channel)
        assert near_tokens._connection is not None, "subscribed"
    return str(request.param)


class Caller:
    """A signed-in client without cookies, whose token the cache has seen twice (as a grabber
    who opened the packet first)."""

    def __init__(self, user: Any = None) -> None:
        self.user = user or UserFactory()
        result = accounts.user_authenticate(
            identifier=self.user.email, password=PASSWORD, device_id="phone-1"
        )
        self.pair = accounts.api_token_issue(user=self.user, device=result.device)
        self.token = self.pair.access_token

    def warm(self) -> None:
        # Two sightings: the first learns the token's user, the second caches the entry.
        for _ in range(2):
            accounts.api_token_authenticate(raw_token=self.token)


def headers_for(token: str | None, *, key: str | None, lang: str | None) -> dict[str, str]:
    headers = {"HTTP_HOST": HOST}
    if token is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    if key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    if lang is not None:
        headers["HTTP_ACCEPT_LANGUAGE"] = lang
    return headers


def django(
    path: str,
    token: str | None,
    *,
    method: str = "POST",
    body: bytes = b"{}",
    key: str | None = "k-1",
    lang: str | None = None,
) -> Any:
    client = Client()  # no cookies
    headers = headers_for(token, key=key, lang=lang)
    if method == "GET":
        return client.get(path, **headers)
    return client.generic(method, path, body, content_type="application/json", **headers)


def fast(
    path: str,
    token: str | None,
    *,
    body: bytes = b"{}",
    key: str | None = "k-1",
    lang: str | None = None,
    extra: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes] | None:
    """The fast path's answer, or None when it handed the request to Django."""
    environ = (
        RequestFactory()
        .generic(
            "POST",
            path,
            body,
            content_type="application/json",
            **{**headers_for(token, key=key, lang=lang), **(extra or {})},
        )
        .environ
    )
    fell: list[bytes] = []

    def app(env: dict[str, Any], _start: Any) -> list[bytes]:
        length = int(env.get("CONTENT_LENGTH") or 0)
        fell.append(env["wsgi.input"].read(length))  # Django must still get the whole body
        return [b"django"]

    got: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        got["status"], got["headers"] = status, headers

    out = b"".join(FastPath(app)(environ, start_response))
    if fell:
        assert fell == [body] and out == b"django"
        return None
    return int(got["status"].split()[0]), dict(got["headers"]), out


def same_answer(path: str, token: str, *, lang: str | None = None) -> tuple[int, dict]:
    answered = fast(path, token, lang=lang)
    assert answered is not None, "the fast path fell through"
    status, headers, body = answered
    slow = django(path, token, lang=lang)
    assert status == slow.status_code
    assert body == slow.content  # byte for byte: same JSON, same translation
    slow_headers = dict(slow.headers.items())
    assert headers.pop("X-Request-ID") and slow_headers.pop("X-Request-ID")
    assert headers == slow_headers
    return status, json.loads(body)


def claim_path(packet_id: int) -> str:
    return f"/api/v1/red-packets/{packet_id}/claim"


def sold_out(*, audience: str = Audience.PUBLIC) -> tuple[int, Caller]:
    """A one-share packet, grabbed through the gate by a winner (who is returned)."""
    packet = red_packet_send(
        sender=funded_user(), total_fen=100, count=1, split_type="equal", audience=audience
    )
    winner = Caller()
    invite = packet.invite_token if audience != Audience.PUBLIC else None
    red_packet_claim(packet_id=packet.pk, user=winner.user, invite_token=invite)
    return packet.pk, winner


def fast_count(status: int) -> float:
    route = r"/api/v1/red-packets/(?P<packet_id>[0-9]{1,18})/claim"
    return FAST_ANSWERS.labels("POST", route, str(status))._value.get()


# --- the fast path answers, as Django would ---------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "message"),
    [(None, "手慢了，红包已被抢完。"), ("en-US,en;q=0.9", "Too slow — all shares are taken.")],
)
def test_all_taken_is_the_same_answer_in_both_languages(lang, message) -> None:  # type: ignore[no-untyped-def]
    packet_id, _winner = sold_out()
    loser = Caller()
    loser.warm()
    before = fast_count(409)
    status, body = same_answer(claim_path(packet_id), loser.token, lang=lang)
    assert status == 409
    assert body == {"code": "packet_finished", "message": message, "extra": {"gate": True}}
    assert fast_count(409) == before + 1
    reconcile_ok()  # the peek changed nothing in the gate


def test_expired_is_the_same_answer() -> None:
    packet = red_packet_send(sender=funded_user(), total_fen=200, count=2, split_type="equal")
    red_packet_claim(packet_id=packet.pk, user=UserFactory())  # builds the gate
    # The packet's 24 hours are over (the refund job has not run yet).
    past = clock.now() - timedelta(seconds=1)
    RedPacket.objects.filter(pk=packet.pk).update(expires_at=past)
    gate = gate_module.packet_gate()
    assert gate is not None
    gate.client.hset(gate.keys(packet.pk)[3], "exp", int(past.timestamp() * 1000))
    grabber = Caller()
    grabber.warm()
    status, body = same_answer(claim_path(packet.pk), grabber.token, lang="en")
    assert status == 410 and body["code"] == "packet_expired" and body["extra"] == {"gate": True}


def test_a_frozen_account_gets_what_django_gives_it() -> None:
    # Risk control runs after the gate on the slow path: "all taken" is the answer there too.
    # If the service ever asks risk control first, this test fails instead of the fast path
    # quietly answering differently.
    packet_id, _winner = sold_out()
    frozen = Caller()
    RiskReview.objects.create(user=frozen.user, rule=RuleCode.FAST_IN_FAST_OUT)
    frozen.warm()
    status, body = same_answer(claim_path(packet_id), frozen.token)
    assert status == 409 and body["code"] == "packet_finished"


# --- everything else goes to Django -----------------------------------------------------------


def test_undecided_grabs_fall_through() -> None:
    packet_id, winner = sold_out()
    winner.warm()
    # Already claimed: the API checks the idempotency record first (a retry replays a win).
    assert fast(claim_path(packet_id), winner.token) is None
    loser = Caller()
    loser.warm()
    path = claim_path(packet_id)
    assert fast(path, loser.token, key=None) is None  # Django: idempotency_key_required
    assert fast(path, loser.token, key=" bad") is None  # invalid_idempotency_key
    assert fast(path, loser.token, body=b"") is None
    assert fast(path, loser.token, body=b"[1]") is None  # ninja: 422
    assert fast(path, loser.token, body=b'{"lat": "north"}') is None
    assert fast(path, loser.token, body=b"{nope") is None  # ninja: 400
    assert fast(claim_path(packet_id + 1000), loser.token) is None  # no gate keys
    assert fast(path, loser.token, extra={"HTTP_COOKIE": "sessionid=x"}) is None
    assert fast(path, loser.token, extra={"HTTP_HOST": "evil.example"}) is None
    assert django(path, loser.token, key=None).json()["code"] == "idempotency_key_required"
    # …and the well-formed one is answered.
    assert fast(path, loser.token) is not None

    open_packet = red_packet_send(sender=funded_user(), total_fen=200, count=2, split_type="equal")
    red_packet_claim(packet_id=open_packet.pk, user=UserFactory())
    loser.warm()
    assert fast(claim_path(open_packet.pk), loser.token) is None  # a share is left


def test_a_restricted_packet_falls_through() -> None:
    # The gate asks for an access check before it says "all taken" to a group packet.
    packet_id, _winner = sold_out(audience=Audience.GROUP)
    outsider = Caller()
    outsider.warm()
    assert fast(claim_path(packet_id), outsider.token) is None
    assert django(claim_path(packet_id), outsider.token).json()["code"] == "packet_forbidden"


def test_a_grab_in_flight_falls_through() -> None:
    packet = red_packet_send(sender=funded_user(), total_fen=100, count=1, split_type="equal")
    red_packet_claim(packet_id=packet.pk, user=UserFactory())
    gate = gate_module.packet_gate()
    assert gate is not None
    # A slot pending (admitted, its database claim not finished): "all taken" would be a guess.
    _left, _claimed, pending_key, _meta = gate.keys(packet.pk)
    gate.client.zadd(pending_key, {"424242": int(clock.now().timestamp() * 1000)})
    loser = Caller()
    loser.warm()
    assert fast(claim_path(packet.pk), loser.token) is None
    gate.client.zrem(pending_key, "424242")
    assert fast(claim_path(packet.pk), loser.token) is not None


def test_tokens_django_would_refuse_fall_through(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    packet_id, _winner = sold_out()
    path = claim_path(packet_id)
    assert fast(path, None) is None
    assert django(path, None).status_code == 401
    stranger = Caller()
    assert fast(path, stranger.token) is None  # never seen: not in the cache yet
    stranger.warm()
    assert fast(path, stranger.token) is not None
    assert fast(path, stranger.token.replace("yat_", "xyz_")) is None

    # Revoked (sign-out bumps the auth generation): Django's 401, not a fast 409.
    revoked = Caller()
    revoked.warm()
    token_row = accounts.api_token_authenticate(raw_token=revoked.token)
    accounts.api_token_revoke(user=revoked.user, token_id=token_row.pk)
    assert fast(path, revoked.token) is None
    assert django(path, revoked.token).status_code == 401

    # Expired since it was cached.
    later = stranger.pair.access_expires_at + timedelta(seconds=1)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert fast(path, stranger.token) is None
    assert django(path, stranger.token).status_code == 401


def test_a_touch_due_goes_to_django(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    packet_id, _winner = sold_out()
    loser = Caller()
    loser.warm()
    later = clock.now() + timedelta(seconds=61)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert fast(claim_path(packet_id), loser.token) is None  # Django records the use …
    assert django(claim_path(packet_id), loser.token).status_code == 409
    assert fast(claim_path(packet_id), loser.token) is not None  # … and the cache has it


def test_redis_down_fails_open(monkeypatch, token_source) -> None:  # type: ignore[no-untyped-def]
    if token_source == "near":
        pytest.skip("near copies without Redis: yaji/accounts/tests/test_token_near.py")
    packet_id, _winner = sold_out()
    loser = Caller()
    loser.warm()
    assert fast(claim_path(packet_id), loser.token) is not None
    from yaji.redpackets import fast as fast_module

    fast_module._drained.clear()  # the kept snapshot would answer without the gate
    down = PacketGate("redis://127.0.0.1:1/0")
    monkeypatch.setattr("yaji.redpackets.fast.packet_gate", lambda: down)
    assert fast(claim_path(packet_id), loser.token) is None
    monkeypatch.undo()

    from django.core.cache import cache

    dead = redis.Redis(port=1, socket_connect_timeout=0.2)
    monkeypatch.setattr(cache._cache, "get_client", lambda *a, **k: dead)
    assert fast(claim_path(packet_id), loser.token) is None


def test_redis_round_trips_per_fast_answer(monkeypatch, token_source) -> None:  # type: ignore[no-untyped-def]
    packet_id, _winner = sold_out()
    loser = Caller()
    loser.warm()
    sent = redis_commands_counted(monkeypatch)
    assert fast(claim_path(packet_id), loser.token) is not None  # may open its connection
    sent.clear()
    assert fast(claim_path(packet_id), loser.token) is not None
    if token_source == "near":
        # The token from the near copy, the drained packet from the kept snapshot.
        assert sent == []
    else:
        assert sent == [b"EVALSHA"]  # the token, its generation and the gate's peek at once
    other = Caller()
    other.warm()
    sent.clear()
    assert fast(claim_path(packet_id), other.token) is not None
    assert sent == ([] if token_source == "near" else [b"EVALSHA"])


def test_without_the_user_id_key_the_gate_is_read_apart() -> None:
    from django.core.cache import cache

    from yaji.accounts import token_auth

    packet_id, _winner = sold_out()
    loser = Caller()
    loser.warm()
    cache.delete(token_auth._user_key(token_auth.token_hash(loser.token)))  # expired first
    status, body = same_answer(claim_path(packet_id), loser.token)
    assert status == 409 and body["code"] == "packet_finished"


# --- drained packets from the kept snapshot (ADR 0060) ----------------------------------------


def test_the_snapshot_still_sends_a_drained_packets_claimants_to_django() -> None:
    from yaji.redpackets import fast as fast_module

    packet_id, winner = sold_out()
    loser = Caller()
    loser.warm()
    winner.warm()
    path = claim_path(packet_id)
    assert fast(path, loser.token) is not None  # "all taken": the snapshot is kept
    kept = fast_module._drained[packet_id]
    assert kept.claimants == {winner.user.pk} and not kept.finished
    assert fast(path, winner.token) is None  # a retry of a win: Django replays it
    status, body = same_answer(path, loser.token)
    assert status == 409 and body["code"] == "packet_finished"


def _expiring_soon(packet_id: int) -> Any:
    """The packet (and its gate) expire in two seconds; returns a time just past that."""
    soon = clock.now() + timedelta(seconds=2)
    RedPacket.objects.filter(pk=packet_id).update(expires_at=soon)
    gate = gate_module.packet_gate()
    assert gate is not None
    gate.client.hset(gate.keys(packet_id)[3], "exp", int(soon.timestamp() * 1000))
    return soon + timedelta(seconds=1)


def test_a_drained_packet_past_its_expiry_is_expired_not_all_taken(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    packet_id, _winner = sold_out()
    later = _expiring_soon(packet_id)
    loser = Caller()
    loser.warm()
    path = claim_path(packet_id)
    assert fast(path, loser.token) is not None  # snapshot kept, with the packet's expiry
    monkeypatch.setattr(clock, "now", lambda: later)
    status, body = same_answer(path, loser.token, lang="en")
    assert status == 410 and body["code"] == "packet_expired"


def test_a_finished_packet_is_all_taken_even_past_its_expiry(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from yaji.redpackets import fast as fast_module

    packet_id, _winner = sold_out()
    later = _expiring_soon(packet_id)
    gate = gate_module.packet_gate()
    assert gate is not None
    gate.client.hset(gate.keys(packet_id)[3], "done", "finished")  # as close() leaves it
    loser = Caller()
    loser.warm()
    assert fast(claim_path(packet_id), loser.token) is not None
    assert fast_module._drained[packet_id].finished
    monkeypatch.setattr(clock, "now", lambda: later)
    status, body = same_answer(claim_path(packet_id), loser.token)
    assert status == 409 and body["code"] == "packet_finished"


def test_the_snapshot_is_read_again_after_its_second(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from yaji.redpackets import fast as fast_module

    packet_id, _winner = sold_out()
    loser = Caller()
    loser.warm()
    path = claim_path(packet_id)
    assert fast(path, loser.token) is not None
    first = fast_module._drained[packet_id]
    assert fast(path, loser.token) is not None
    assert fast_module._drained[packet_id] is first  # within its second: kept
    now = fast_module.time.monotonic()
    monkeypatch.setattr(fast_module.time, "monotonic", lambda: now + fast_module.SNAPSHOT_S)
    assert fast(path, loser.token) is not None
    assert fast_module._drained[packet_id] is not first
