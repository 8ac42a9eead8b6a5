"""What one grab costs the database over HTTP (token, idempotency, risk, the claim).

Budgets, not timings: a regression that adds round trips or commits to the hot path fails
here. Measured before this budget (docs/benchmarks.md): 45 statements and 4 commits for a
grab that got a share, 7–9 statements and 2 commits for "all taken" / "already claimed";
27 / 1 after ADR 0029, 25 / 1 after ADR 0042, 9 / 1 after ADR 0044 (of which only the slot
UPDATE, the claim's one write statement and the COMMIT hold the packet row), 7 / 1 after
ADR 0053 (risk control's reads ride in the packet's read).
"""

from __future__ import annotations

import uuid

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from yaji.payments.tests.factories import Api
from yaji.redpackets.models import RedPacket
from yaji.redpackets.tests.factories import funded_user, reconcile_ok

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("token_cache_off")]

CLAIM = "/red-packets/{}/claim"
POSTGRES = settings.IS_POSTGRES


def _commits(queries: list[dict]) -> int:
    return sum(1 for q in queries if q["sql"].strip().upper() == "COMMIT")


def grab(api: Api, packet_id: int, key: str | None = None):  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as ctx:
        response = api.post_json(
            CLAIM.format(packet_id), {}, headers={"Idempotency-Key": key or uuid.uuid4().hex}
        )
    return response, ctx.captured_queries


def _under_the_row_lock(queries: list[dict]) -> int:
    """Statements from the slot UPDATE (which locks the packet row) to the COMMIT, both
    included: what bounds a hot packet's throughput."""
    sqls = [q["sql"].strip() for q in queries]
    start = next(i for i, sql in enumerate(sqls) if sql.startswith("UPDATE redpackets_redpacket "))
    end = next(i for i, sql in enumerate(sqls) if sql.upper() == "COMMIT")
    return end - start + 1


def show(queries: list[dict]) -> str:
    return "\n".join(q["sql"][:120] for q in queries)


def test_statements_per_grab() -> None:
    sender = funded_user(10_000)
    packet_id = (
        Api(sender)
        .post_json("/red-packets", {"total_fen": 300, "count": 2}, headers={"Idempotency-Key": "s"})
        .json()["id"]
    )
    first, second, late = (Api(funded_user(1)) for _ in range(3))
    for api in (first, second, late):  # the token's hourly touch is not the grab's cost
        api.get("/me/red-packets/received")

    won, queries = grab(first, packet_id, key="grab-1")
    assert won.status_code == 200, won.content
    print("\n-- grab\n" + show(queries))
    assert _commits(queries) == 1, show(queries)
    if POSTGRES:
        # token, packet (+ claimed pre-check + account ids + risk control's reads), BEGIN,
        # risk decision with the key's reservation, slot, the claim's writes, COMMIT
        assert len(queries) == 7, show(queries)
        assert _under_the_row_lock(queries) == 3, show(queries)
    else:  # SQLite: the same writes through the ORM, one after another (one writer anyway)
        assert len(queries) <= 25, show(queries)

    last, queries = grab(second, packet_id)
    assert last.status_code == 200 and last.json()["finished"] is True
    assert _commits(queries) == 1, show(queries)
    if POSTGRES:
        assert len(queries) == 8, show(queries)  # + the luckiest (the finished event rides)
        assert _under_the_row_lock(queries) == 4, show(queries)
    else:
        assert len(queries) <= 28, show(queries)

    taken, queries = grab(late, packet_id)
    assert taken.status_code == 409 and taken.json()["code"] == "packet_finished"
    print("\n-- taken\n" + show(queries))
    assert len(queries) <= 3 and _commits(queries) == 0, show(queries)

    again, queries = grab(first, packet_id)
    assert again.status_code == 409 and again.json()["code"] == "packet_already_claimed"
    assert len(queries) <= 3 and _commits(queries) == 0, show(queries)

    replay, queries = grab(first, packet_id, key="grab-1")
    assert replay.status_code == 200 and replay.content == won.content
    assert replay["Idempotent-Replayed"] == "true"
    assert _commits(queries) == 0, show(queries)
    assert RedPacket.objects.get(pk=packet_id).claimed_count == 2
    reconcile_ok()


@pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL")
def test_the_gates_all_taken_costs_only_the_token() -> None:
    """ADR 0042: "all taken" from the Redis gate is answered without the idempotency key's
    look-up; "already claimed" still looks it up, so a retried success is replayed."""
    sender = funded_user(10_000)
    packet_id = (
        Api(sender)
        .post_json("/red-packets", {"total_fen": 100, "count": 1}, headers={"Idempotency-Key": "s"})
        .json()["id"]
    )
    winner, late = Api(funded_user(1)), Api(funded_user(1))
    for api in (winner, late):
        api.get("/me/red-packets/received")
    won, _queries = grab(winner, packet_id, key="w-1")
    assert won.status_code == 200 and won.json()["finished"] is True

    taken, queries = grab(late, packet_id)
    assert taken.status_code == 409 and taken.json()["code"] == "packet_finished"
    assert taken.json()["extra"] == {"gate": True}
    assert len(queries) == 1 and _commits(queries) == 0, show(queries)  # the token

    replay, queries = grab(winner, packet_id, key="w-1")
    assert replay.status_code == 200 and replay.content == won.content
    assert len(queries) == 2, show(queries)  # the token and the key's look-up
    again, _queries = grab(winner, packet_id)
    assert again.status_code == 409 and again.json()["code"] == "packet_already_claimed"
    reconcile_ok()


@pytest.mark.skipif(not POSTGRES, reason="the statement parts are PostgreSQL's")
def test_the_claims_write_statement_stays_in_psycopgs_parse_cache() -> None:
    """ADR 0053: psycopg caches the parse of a statement of at most 4096 bytes and 50
    parameters; above either, every grab re-parses its write statement (~0.2 ms of CPU)."""
    from psycopg import _queries

    from yaji.core import clock
    from yaji.core.idempotency import idempotency_complete_part_for, idempotency_json_response
    from yaji.core.sqlparts import sql_parts_statement
    from yaji.ledger.models import LedgerAccount
    from yaji.redpackets.services import claim_writes

    writes = claim_writes(
        packet_id=2**40,
        user_id=2**40,
        share_id=2**40,
        amount=100,
        finished=False,  # the last share adds its "finished" event: one grab in a packet
        escrow=LedgerAccount(pk=1, currency="CNY"),
        wallet=LedgerAccount(pk=2, currency="CNY"),
        device="d" * 32,
        ip="127.0.0.1",
        now=clock.now(),
        extra=idempotency_complete_part_for(  # the API's: the key's record, completed
            record_id=1, locked_at=clock.now(), response=idempotency_json_response({})
        ),
    )
    sql, params = sql_parts_statement(writes.parts, required=writes.ledger_index)
    assert len(params) <= _queries.MAX_CACHED_STATEMENT_PARAMS
    assert len(sql.encode()) <= _queries.MAX_CACHED_STATEMENT_LENGTH
