"""``yaji bench request-path``: the fixed cost of one API request, layer by layer (ADR 0036).

The probe endpoints (``yaji.bench.probes``, mounted by ``YAJI_BENCH_PROBES=1``) do the least
database work each layer allows, so the differences between the cases are the request path:

- ``anon``: ``GET /api/v1/bench/probes/<id>`` — middleware, routing, ninja, one indexed row;
- ``bearer``: ``GET /api/v1/bench/probes/<id>/authed`` — the same plus bearer authentication
  (100 users' tokens in turn, so tokens repeat as a real client's do);
- ``write``: ``POST /api/v1/bench/probes`` with ``Idempotency-Key`` — bearer, classic
  ``@idempotent`` (key claimed and committed, one insert, response stored and committed);
- ``write-atomic``: ``POST /api/v1/bench/probes-atomic`` — the same insert under
  ``@idempotent(in_transaction=True)``: the record is written in the insert's transaction.

Ceiling (raw SQL, same run): the same rows read or written by psycopg — the probe read; the
token look-up plus the probe read; the token look-up plus one transaction inserting the probe
and its completed idempotency record (the least a correct idempotent write must do).

Every case first sends ``WARM_CALLS`` unmeasured authenticated reads, so no case pays for the
workers' cold start (imports, first connections, caches) — before this the first case did.

Checks: reads answered the probe asked for; every 201 of a write case is one probe row and one
completed idempotency record under its key, and no other row was written.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import psycopg

from yaji.bench.cases import Advance, CasePlan, PreparedCase
from yaji.bench.drive import DriveResult, HttpCall
from yaji.bench.models import Probe
from yaji.bench.seeding import BenchUser
from yaji.core import clock
from yaji.core.models import IdempotencyRecord

CASES = ("anon", "bearer", "write", "write-atomic")
USERS = 100
PROBES = 10
WARM_CALLS = 200

PROBE_READ = "SELECT id, label FROM bench_probe WHERE id = %s"
TOKEN_READ = (
    "SELECT t.id, t.device_id, t.expires_at, t.revoked_at, t.last_used_at, u.id, u.is_active "  # noqa: S105 - SQL, not a secret
    "FROM accounts_apitoken t JOIN accounts_user u ON u.id = t.user_id "
    "WHERE t.token_hash = %s AND t.kind = 'access'"
)
PROBE_INSERT = (
    "INSERT INTO bench_probe (label, created_at, updated_at) VALUES (%s, now(), now()) RETURNING id"
)
RECORD_INSERT = (
    "INSERT INTO core_idempotencyrecord (scope, key, method, path, request_hash, state, "
    "locked_at, expires_at, response_status, response_body, response_content_type, "
    "created_at, updated_at) VALUES (%s, %s, 'POST', %s, %s, 'completed', now(), %s, 201, %s, "
    "'application/json; charset=utf-8', now(), now())"
)


def _probes(tag: str) -> list[int]:
    return [Probe.objects.create(label=f"{tag}-{i}").pk for i in range(PROBES)]


def _warm_calls(users: list[BenchUser], probes: list[int]) -> list[HttpCall]:
    """Reads that touch what every case's request touches (routing, ninja, the token look-up,
    the probe table) without writing anything a case's checks count."""
    return [
        HttpCall(
            method="GET",
            path=f"/api/v1/bench/probes/{probes[i % len(probes)]}/authed",
            headers=users[i % len(users)].headers,
        )
        for i in range(WARM_CALLS)
    ]


def _token_hash(user: BenchUser) -> str:
    return hashlib.sha256(user.token.encode()).hexdigest()


def _read_check(http: DriveResult, want: list[int]) -> list[str]:
    found = []
    for i, outcome in enumerate(http.outcomes):
        if outcome is None or outcome.status != 200:
            continue
        if json.loads(outcome.body).get("id") != want[i]:
            found.append(f"request {i} answered another probe than {want[i]}")
            break
    return found


def _read_plan(name: str, requests: int, *, authed: bool) -> CasePlan:
    def prepare(users: list[BenchUser], tag: str, advance: Advance) -> PreparedCase:
        probes = _probes(tag)
        advance(1)
        want = [probes[i % PROBES] for i in range(requests)]
        suffix = "/authed" if authed else ""
        calls = [
            HttpCall(
                method="GET",
                path=f"/api/v1/bench/probes/{want[i]}{suffix}",
                headers=users[i % len(users)].headers if authed else {},
            )
            for i in range(requests)
        ]
        hashes = [_token_hash(u) for u in users]

        def ceiling(conn: psycopg.Connection, i: int) -> bool:
            with conn.cursor() as cur:
                if authed:
                    cur.execute(TOKEN_READ, [hashes[i % len(hashes)]])
                    if cur.fetchone() is None:
                        return False
                cur.execute(PROBE_READ, [want[i]])
                return cur.fetchone() is not None

        return PreparedCase(
            calls=calls,
            expected=frozenset({200}),
            ceiling_count=requests,
            ceiling_transaction=ceiling,
            check=lambda http, _ceiling: _read_check(http, want),
            extra={"endpoint": f"GET /api/v1/bench/probes/{{id}}{suffix}"},
            warm_calls=_warm_calls(users, probes),
        )

    return CasePlan(name=name, users_needed=min(requests, USERS), seed_steps=1, prepare=prepare)


def _write_plan(name: str, requests: int, *, path: str) -> CasePlan:
    def prepare(users: list[BenchUser], tag: str, advance: Advance) -> PreparedCase:
        probes = _probes(tag)
        keys = [f"{tag}-{i}" for i in range(requests)]
        label = f"{tag}-w"
        body = json.dumps({"label": label}).encode()
        calls = [
            HttpCall(
                method="POST",
                path=path,
                body=body,
                headers={
                    "Content-Type": "application/json",
                    "Idempotency-Key": keys[i],
                    **users[i % len(users)].headers,
                },
            )
            for i in range(requests)
        ]
        advance(1)
        hashes = [_token_hash(u) for u in users]
        ceiling_label = f"{tag}-ceiling"
        expires = clock.now() + timedelta(hours=24)

        def ceiling(conn: psycopg.Connection, i: int) -> bool:
            with conn.cursor() as cur:
                cur.execute(TOKEN_READ, [hashes[i % len(hashes)]])
                token = cur.fetchone()
                if token is None:
                    return False
                cur.execute(PROBE_INSERT, [ceiling_label])
                row = cur.fetchone()
                assert row is not None
                answer = json.dumps({"id": row[0], "label": ceiling_label}).encode()
                cur.execute(
                    RECORD_INSERT,
                    [
                        f"user:{token[5]}",
                        f"{tag}-ceiling-{i}",
                        path,
                        hashlib.sha256(body).hexdigest(),
                        expires,
                        answer,
                    ],
                )
            conn.commit()
            return True

        def check(http: DriveResult, _ceiling: DriveResult) -> list[str]:
            created = sum(1 for o in http.answered if o.status == 201)
            found = []
            rows = Probe.objects.filter(label=label).count()
            if rows != created:
                found.append(f"{created} answers 201, {rows} probe rows written")
            records = IdempotencyRecord.objects.filter(
                key__in=keys, state=IdempotencyRecord.State.COMPLETED, response_status=201
            ).count()
            if records != created:
                found.append(f"{created} answers 201, {records} completed idempotency records")
            return found

        return PreparedCase(
            calls=calls,
            expected=frozenset({201}),
            ceiling_count=requests,
            ceiling_transaction=ceiling,
            check=check,
            extra={"endpoint": f"POST {path}"},
            warm_calls=_warm_calls(users, probes),
        )

    return CasePlan(name=name, users_needed=min(requests, USERS), seed_steps=1, prepare=prepare)


def requestpath_cases(*, requests: int, names: list[str]) -> list[CasePlan]:
    plans = {
        "anon": lambda: _read_plan("anon", requests, authed=False),
        "bearer": lambda: _read_plan("bearer", requests, authed=True),
        "write": lambda: _write_plan("write", requests, path="/api/v1/bench/probes"),
        "write-atomic": lambda: _write_plan(
            "write-atomic", requests, path="/api/v1/bench/probes-atomic"
        ),
    }
    return [plans[name]() for name in CASES if name in names]
