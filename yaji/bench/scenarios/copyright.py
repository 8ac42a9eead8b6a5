"""``yaji bench copyright``: the copyright log on PostgreSQL — appends, proofs, look-ups.

One case, ``log``, one JSON line with QUALITY.md's keys plus ``appends_per_s``,
``proof_p99_ms`` and ``dup_lookup_p99_ms``:

1. **HTTP registrations** (``throughput_per_s``, ``p50_ms``, ``p99_ms``): ``requests`` creators'
   published design images (tiny random-pixel PNGs, seeded through ``work_publish``) are
   registered with ``POST /api/v1/copyright/registrations`` by ``concurrency`` clients — read
   and fingerprint the file, checks under the registration gate, the leaf sequenced into the
   pool, then integrated by whichever request holds the head lock (group commit, ADR 0028).
   **Ceiling**: the same database work as raw SQL on twin works — the gate's advisory lock,
   the exact-content check, the near-duplicate ``bit_count`` query, the registration and
   pending-leaf inserts in one transaction.
2. **Appends** (``appends_per_s``): ``APPEND_WRITERS`` threads sequence ``APPEND_LEAVES`` signed
   statements through ``services.log_enqueue`` (one durable transaction each, no lock) while one
   thread runs ``services.log_integrate`` until the pool is empty: leaves integrated into the
   tree per second, from the first enqueue to the last integration. ``integrate_per_s`` is the
   integrator alone.
3. **Proofs** (``proof_p99_ms``): the log is grown to ``PROOF_TREE_SIZE`` leaves with COPY (leaf
   rows and every complete-subtree node, computed here with the same compact range), then
   ``PROOF_SAMPLES`` inclusion proofs for random leaves at the full size through
   ``selectors.inclusion_proof`` (O(log n) stored nodes, two indexed queries), each verified
   against the root.
4. **Near-duplicate look-ups** (``dup_lookup_p99_ms``): ``DUP_IMAGES`` registered images (COPY,
   random 64-bit hashes, a few planted copies), then ``DUP_SAMPLES`` calls of
   ``selectors.near_duplicates_find``; every planted copy must be found.

Violations: an HTTP registration answered 201 but neither registered nor held for review; a
gap or duplicate in the leaf indexes; the head's size or root differing from the leaves;
leaves left pending; a proof that does not verify; a planted near-duplicate not found.
"""

from __future__ import annotations

import io
import random
import secrets
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import psycopg
from django.db import connection, connections
from psycopg.types.json import Jsonb
from rich.console import Console

from yaji.bench.database import BenchDatabase
from yaji.bench.drive import DriveResult, HttpCall, drive_http, drive_sql
from yaji.bench.results import CaseResult, case_result, percentile_ms
from yaji.bench.server import BenchServer
from yaji.core import clock

CASES = ("log",)
APPEND_WRITERS = 16
APPEND_PROCESSES = 4
APPEND_LEAVES = 20_000
PROOF_TREE_SIZE = 1_000_000
PROOF_SAMPLES = 2_000
DUP_IMAGES = 100_000
DUP_SAMPLES = 500
DUP_PLANTED = 20
COPY_CHUNK = 50_000
REGISTRATION_PATH = "/api/v1/copyright/registrations"


def _png(rng: random.Random) -> bytes:
    from PIL import Image

    image = Image.frombytes("RGB", (32, 32), bytes(rng.randrange(256) for _ in range(32 * 32 * 3)))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _works_seed(
    *, count: int, users: list[Any], tag: str, advance: Callable[[int], None]
) -> list[int]:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from yaji.accounts.models import Role, RoleAssignment, User
    from yaji.community.services import work_publish

    rng = random.Random(tag)
    creators = {u.id: User.objects.get(pk=u.id) for u in users}
    for user in creators.values():
        RoleAssignment.objects.get_or_create(user=user, role=Role.CREATOR)
    ids = []
    for i in range(count):
        owner = users[i % len(users)]
        work = work_publish(
            creator=creators[owner.id],
            title=f"压测纹样 {tag} {i}",
            kind="design",
            media=SimpleUploadedFile(f"d{i}.png", _png(rng), "image/png"),
        )
        ids.append(work.pk)
        advance(1)
    return ids


# --- the raw-SQL ceiling of one registration's database work ----------------------------------

GATE = "SELECT pg_advisory_xact_lock(%s)"
SAME_CONTENT = (
    "SELECT id FROM copyright_registration WHERE content_sha256 = %s AND status <> 'refused'"
)
REG_INSERT = (
    "INSERT INTO copyright_registration (work_id, registrant_id, author_did, content_sha256, "
    "dhash, dhash_mirror, phash, phash_mirror, status, refused_reason, created_at, updated_at) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 'sequenced', '', now(), now()) RETURNING id"
)
PENDING_INSERT = (
    "INSERT INTO copyright_pendingleaf (leaf, registration_id, created_at) VALUES (%s, %s, now())"
)


def _ceiling_transaction(twins: list[dict[str, Any]]) -> Callable[[psycopg.Connection, int], bool]:
    from yaji.copyright.selectors import _NEAR_SQL
    from yaji.copyright.services import REGISTRATION_GATE_LOCK

    def run(conn: psycopg.Connection, i: int) -> bool:
        twin = twins[i]
        with conn.cursor() as cur:
            cur.execute(GATE, [REGISTRATION_GATE_LOCK])
            cur.execute(SAME_CONTENT, [twin["sha"]])
            if cur.fetchone() is not None:
                conn.rollback()
                return False
            cur.execute(
                _NEAR_SQL,
                {
                    "d": twin["d"],
                    "p": twin["p"],
                    "statuses": ["registered", "sequenced"],
                    "exclude": twin["user"],
                    "max": 36,
                    "limit": 5,
                },
            )
            cur.fetchall()
            cur.execute(
                REG_INSERT,
                [
                    twin["work"],
                    twin["user"],
                    twin["did"],
                    twin["sha"],
                    twin["d"],
                    twin["dm"],
                    twin["p"],
                    twin["pm"],
                ],
            )
            row = cur.fetchone()
            assert row is not None
            cur.execute(PENDING_INSERT, [twin["leaf"], row[0]])
        conn.commit()
        return True

    return run


def _twins(work_ids: list[int]) -> list[dict[str, Any]]:
    """What the service computes before its transaction, done here for the ceiling's works."""
    import hashlib

    from yaji.community.models import Work
    from yaji.copyright import services, signing
    from yaji.copyright.perceptual import fingerprint, hex64, to_signed
    from yaji.copyright.statements import statement_build

    twins = []
    for work in Work.objects.filter(pk__in=work_ids).select_related("creator").order_by("pk"):
        with work.media.open("rb") as handle:
            data = handle.read()
        fp = fingerprint(data)
        key = services.creator_key_ensure(user=work.creator)
        sha = hashlib.sha256(data).hexdigest()
        leaf = statement_build(
            key=services._creator_private_key(key),
            work_id=work.pk,
            work_kind=work.kind,
            content_sha256=sha,
            hashes={
                "dhash": hex64(fp.dhash),
                "dhash_mirror": hex64(fp.dhash_mirror),
                "phash": hex64(fp.phash),
                "phash_mirror": hex64(fp.phash_mirror),
            },
            time=signing.timestamp_format(clock.now()),
        )
        twins.append(
            {
                "work": work.pk,
                "user": work.creator_id,
                "did": key.did,
                "sha": sha,
                "d": to_signed(fp.dhash),
                "dm": to_signed(fp.dhash_mirror),
                "p": to_signed(fp.phash),
                "pm": to_signed(fp.phash_mirror),
                "leaf": leaf.decode("ascii"),
            }
        )
    return twins


# --- appends through the sequencer ------------------------------------------------------------


def appends_measure(*, leaves: int, writers: int) -> dict[str, float]:
    """Writers sequence signed statements into the pool while one integrator appends them."""
    from yaji.copyright import services, signing
    from yaji.copyright.models import PendingLeaf
    from yaji.copyright.statements import statement_build

    key = signing.Ed25519PrivateKey.generate()
    now = signing.timestamp_format(clock.now())
    statements = [
        statement_build(
            key=key,
            work_id=10**12 + i,
            work_kind="design",
            content_sha256=secrets.token_hex(32),
            hashes={},
            time=now,
        )
        for i in range(leaves)
    ]
    services.log_integrate_all()  # start from an empty pool
    done_writing = threading.Event()
    integrated = [0]
    integrate_busy = [0.0]

    def write(part: list[bytes]) -> None:
        try:
            for leaf in part:
                services.log_enqueue(leaf=leaf)  # autocommit: one transaction each
        finally:
            connections.close_all()

    def integrate() -> None:
        try:
            while True:
                t0 = time.perf_counter()
                n = services.log_integrate()
                if n:
                    integrate_busy[0] += time.perf_counter() - t0
                integrated[0] += n
                if not n:
                    if done_writing.is_set() and not PendingLeaf.objects.exists():
                        return
                    time.sleep(0.005)
        finally:
            connections.close_all()

    # Writers are processes (threads each): one Python process's GIL would cap them first.
    import multiprocessing

    connections.close_all()
    context = multiprocessing.get_context("fork")
    parts = [statements[i::writers] for i in range(writers)]
    per_process = max(1, writers // APPEND_PROCESSES)

    def process_main(chunk: list[list[bytes]]) -> None:
        threads = [threading.Thread(target=write, args=(part,)) for part in chunk]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    start = time.perf_counter()
    processes = [
        context.Process(target=process_main, args=(parts[i : i + per_process],))
        for i in range(0, writers, per_process)
    ]
    for process in processes:  # forked before this process opens a connection again
        process.start()
    integrator = threading.Thread(target=integrate)
    integrator.start()
    for process in processes:
        process.join()
    if any(p.exitcode for p in processes):
        raise RuntimeError("an append writer process failed")
    enqueue_s = time.perf_counter() - start
    done_writing.set()
    integrator.join()
    wall = time.perf_counter() - start
    return {
        "appends_per_s": round(integrated[0] / wall, 1),
        "enqueue_per_s": round(leaves / enqueue_s, 1),
        "integrate_per_s": round(integrated[0] / integrate_busy[0], 1) if integrate_busy[0] else 0,
        "appends": integrated[0],
    }


# --- growing the log with COPY, and proofs ----------------------------------------------------


def log_grow(*, to_size: int, say: Callable[[str], None]) -> None:
    """Append synthetic leaves with COPY until the tree has ``to_size`` leaves (bench data
    only: ``{"type":"bench"}`` leaves are not statements, and ``yaji verify-log`` would say so)."""
    from yaji.copyright import merkle
    from yaji.copyright.models import LogHead

    services_head = LogHead.objects.get(pk=1)
    edge = merkle.CompactRange(services_head.size, (bytes.fromhex(h) for h in services_head.edge))
    if edge.size >= to_size:
        return
    start = time.perf_counter()
    connection.ensure_connection()
    raw = connection.connection  # the psycopg connection of Django's default alias
    while edge.size < to_size:
        end = min(to_size, edge.size + COPY_CHUNK)
        entries = io.StringIO()
        nodes = io.StringIO()
        for index in range(edge.size, end):
            leaf = f'{{"i":{index},"type":"bench","v":1}}'
            digest = merkle.leaf_hash(leaf.encode())
            entries.write(f"{index}\t{leaf}\t{digest.hex()}\t2026-12-01 00:00:00+00\n")
            for level, i, h in edge.append(digest):
                nodes.write(f"{level}\t{i}\t{h.hex()}\t2026-12-01 00:00:00+00\n")
        with raw.cursor() as cur:
            with cur.copy(
                "COPY copyright_logentry (index, leaf, leaf_hash, created_at) FROM STDIN"
            ) as copy:
                copy.write(entries.getvalue())
            with cur.copy(
                "COPY copyright_lognode (level, index, hash, created_at) FROM STDIN"
            ) as copy:
                copy.write(nodes.getvalue())
            cur.execute(
                "UPDATE copyright_loghead SET size = %s, edge = %s, updated_at = now() WHERE id = 1",
                [edge.size, Jsonb([h.hex() for h in edge.hashes])],
            )
        raw.commit()
        say(f"log grown to {edge.size:,} leaves ({time.perf_counter() - start:.0f} s)")
    with raw.cursor() as cur:  # what autovacuum does after a bulk insert
        cur.execute("VACUUM ANALYZE copyright_logentry")
        cur.execute("VACUUM ANALYZE copyright_lognode")


def proofs_measure(*, samples: int) -> tuple[list[float], int, int]:
    from yaji.copyright import merkle, selectors
    from yaji.copyright.models import LogEntry, LogHead

    head = LogHead.objects.get(pk=1)
    size = head.size
    root = merkle.CompactRange(size, (bytes.fromhex(h) for h in head.edge)).root()
    rng = random.Random(7)
    indexes = [rng.randrange(size) for _ in range(samples)]
    hashes = dict(LogEntry.objects.filter(index__in=indexes).values_list("index", "leaf_hash"))
    latencies: list[float] = []
    failed = 0
    for index in indexes:
        t0 = time.perf_counter()
        proof = selectors.inclusion_proof(index=index, size=size)
        latencies.append(time.perf_counter() - t0)
        if not merkle.verify_inclusion(bytes.fromhex(hashes[index]), index, size, proof, root):
            failed += 1
    return latencies, failed, size


# --- near-duplicate look-ups at scale ---------------------------------------------------------


def images_grow(*, to_count: int, say: Callable[[str], None]) -> list[tuple[int, int, int]]:
    """Registered images up to ``to_count`` (works and registrations by INSERT … SELECT, each
    registration on one of the grown log's leaves); returns planted (work id, dhash, phash)."""
    from yaji.copyright.models import LogEntry, Registration

    have = Registration.objects.filter(status="registered", dhash__isnull=False).count()
    missing = to_count - have
    if missing <= 0:
        return []
    template = Registration.objects.filter(status="registered").select_related("work").first()
    if template is None:
        raise RuntimeError("no registration to copy the shape of")
    start = time.perf_counter()
    # COPY gave the synthetic leaves consecutive ids; registrations take the first ones.
    first_free = (
        LogEntry.objects.filter(leaf__startswith='{"i":')
        .order_by("id")
        .values_list("id", flat=True)
        .first()
    )
    connection.ensure_connection()
    raw = connection.connection
    with raw.cursor() as cur:
        cur.execute(
            "CREATE TEMP TABLE bench_images AS "
            "SELECT g, (floor(random() * 18446744073709551616) - 9223372036854775808)::numeric"
            "::bigint AS d, "
            "(floor(random() * 18446744073709551616) - 9223372036854775808)::numeric::bigint AS p "
            "FROM generate_series(1, %s) AS g",
            [missing],
        )
        cur.execute(
            "INSERT INTO community_work (creator_id, kind, title, description, tags, media, "
            "media_format, media_size, duration_ms, cover, status, published_at, created_at, "
            "updated_at) SELECT creator_id, kind, title || ' #' || g, '', '[]', media, "
            "media_format, media_size, 0, '', status, now(), now(), now() FROM community_work, "
            "bench_images WHERE community_work.id = %s ORDER BY g",
            [template.work_id],
        )
        cur.execute(
            "INSERT INTO copyright_registration (work_id, registrant_id, author_did, "
            "content_sha256, dhash, dhash_mirror, phash, phash_mirror, status, refused_reason, "
            "entry_id, created_at, updated_at) "
            "SELECT w.id, w.creator_id, %s, encode(sha256(('bench' || w.id)::bytea), 'hex'), "
            "b.d, b.d # 4660, b.p, b.p # 22136, 'registered', '', %s + b.g - 1, now(), now() "
            "FROM bench_images b JOIN community_work w ON w.title = %s || ' #' || b.g",
            [template.author_did, first_free, template.work.title],
        )
        cur.execute(
            "SELECT w.id, b.d, b.p FROM bench_images b JOIN community_work w "
            "ON w.title = %s || ' #' || b.g ORDER BY b.g LIMIT %s",
            [template.work.title, DUP_PLANTED],
        )
        planted = [(int(w), int(d), int(p)) for w, d, p in cur.fetchall()]
    raw.commit()
    with raw.cursor() as cur:  # what autovacuum does after a bulk insert (visibility map)
        cur.execute("VACUUM ANALYZE copyright_registration")
    say(f"{to_count:,} registered images ({time.perf_counter() - start:.0f} s)")
    return planted


def lookups_measure(
    *, samples: int, planted: list[tuple[int, int, int]]
) -> tuple[list[float], int]:
    from yaji.copyright import selectors
    from yaji.copyright.perceptual import Fingerprint, from_signed

    rng = random.Random(11)
    latencies: list[float] = []
    missed = 0
    for i in range(samples):
        if i < len(planted):  # a copy: a few bits off the planted image, must be found
            work_id, d, p = planted[i]
            flips = sum(1 << b for b in rng.sample(range(64), 6))
            fp = Fingerprint(
                from_signed(d) ^ flips, 0, from_signed(p) ^ (flips << 1 & (2**64 - 1)), 0
            )
        else:
            work_id = 0
            fp = Fingerprint(rng.getrandbits(64), 0, rng.getrandbits(64), 0)
        t0 = time.perf_counter()
        found = selectors.near_duplicates_find(fingerprint=fp)
        latencies.append(time.perf_counter() - t0)
        if work_id and work_id not in {r.work_id for r, _d in found}:
            missed += 1
    return latencies, missed


# --- invariants --------------------------------------------------------------------------------


def log_checks() -> list[str]:
    from yaji.copyright import merkle
    from yaji.copyright.models import LogHead, PendingLeaf

    found = []
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*), coalesce(max(index), -1), count(DISTINCT index) FROM copyright_logentry"
        )
        count, top, distinct = cur.fetchone()
    head = LogHead.objects.get(pk=1)
    if not (count == top + 1 == distinct == head.size):
        found.append(f"log not gapless: {count} rows, max index {top}, head size {head.size}")
    if PendingLeaf.objects.exists():
        found.append(f"{PendingLeaf.objects.count()} leaves left pending")
    from yaji.copyright import selectors

    stored_root = selectors.tree_root(size=head.size)
    edge_root = merkle.CompactRange(head.size, (bytes.fromhex(h) for h in head.edge)).root()
    if stored_root != edge_root:
        found.append("root from the stored nodes differs from the head's right edge")
    return found


def _registration_checks(http: DriveResult, work_ids: list[int]) -> list[str]:
    from yaji.copyright.models import Registration

    found = []
    answered = sum(1 for o in http.answered if o.status == 201)
    states = dict(
        Registration.objects.filter(work_id__in=work_ids).values_list("work_id", "status")
    )
    bad = [w for w, s in states.items() if s not in ("registered", "pending_review")]
    if bad:
        found.append(f"{len(bad)} registrations answered but neither in the log nor in review")
    if len(states) != answered:
        found.append(f"{answered} answered 201, {len(states)} registrations recorded")
    return found


# --- the run ----------------------------------------------------------------------------------


def copyright_run(
    *,
    options: Any,
    database: BenchDatabase,
    console: Console,
    emit: Callable[[CaseResult], None],
    server_env: dict[str, str],
    tag: str,
) -> list[CaseResult]:
    from yaji.bench.seeding import risk_load_generator_allow, users_seed
    from yaji.copyright import services

    say = console.log
    noop: Callable[[int], None] = lambda n: None  # noqa: E731
    risk_load_generator_allow()
    users = users_seed(count=min(200, options.requests), tag=tag, advance=noop)
    say(f"seeding {2 * options.requests} works…")
    work_ids = _works_seed(count=options.requests, users=users, tag=tag, advance=noop)
    twin_ids = _works_seed(count=options.requests, users=users, tag=tag + "-twin", advance=noop)
    twins = _twins(twin_ids)
    by_work_user = {}
    from yaji.community.models import Work

    for pk, creator in Work.objects.filter(pk__in=work_ids).values_list("pk", "creator_id"):
        by_work_user[pk] = creator
    tokens = {u.id: u.token for u in users}
    calls = [
        HttpCall(
            method="POST",
            path=REGISTRATION_PATH,
            body=f'{{"work_id": {pk}}}'.encode(),
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {tokens[by_work_user[pk]]}",
                "Idempotency-Key": str(uuid.uuid4()),
            },
        )
        for pk in work_ids
    ]
    connections.close_all()
    ceiling_connections = min(options.concurrency, options.server_workers * options.server_threads)
    server = BenchServer(
        env=server_env,
        workers=options.server_workers,
        threads=options.server_threads,
        server=options.server,
    )
    with server:
        say(f"copyright: server on 127.0.0.1:{server.port}, database {database.name}")
        http = drive_http(
            port=server.port,
            calls=calls,
            concurrency=options.concurrency,
            deadline_s=options.duration_s,
            on_done=noop,
        )
    ceiling = drive_sql(
        conninfo=database.conninfo,
        count=len(twins),
        transaction=_ceiling_transaction(twins),
        concurrency=ceiling_connections,
        deadline_s=options.duration_s,
        on_done=noop,
    )
    services.log_integrate_all()  # the ceiling's pending leaves join the tree (not measured)
    violations = _registration_checks(http, work_ids)
    say("appends through the sequencer…")
    appends = appends_measure(leaves=APPEND_LEAVES, writers=APPEND_WRITERS)
    violations += log_checks()
    say(f"growing the log to {PROOF_TREE_SIZE:,} leaves with COPY…")
    log_grow(to_size=PROOF_TREE_SIZE, say=say)
    proof_latencies, proof_failed, size = proofs_measure(samples=PROOF_SAMPLES)
    if proof_failed:
        violations.append(f"{proof_failed} inclusion proofs did not verify")
    planted = images_grow(to_count=DUP_IMAGES, say=say)
    dup_latencies, missed = lookups_measure(samples=DUP_SAMPLES, planted=planted)
    if missed:
        violations.append(f"{missed} planted near-duplicates not found")
    violations += log_checks()
    result = case_result(
        scenario="log",
        run=1,
        http=http,
        ceiling=ceiling,
        expected=frozenset({201}),
        violations=violations,
        concurrency=options.concurrency,
        ceiling_connections=ceiling_connections,
        server_workers=options.server_workers,
        server_threads=options.server_threads,
        redis=False,
        server=options.server,
    )
    result.extra = {
        **appends,
        "append_writers": APPEND_WRITERS,
        "proof_tree_size": size,
        "proof_samples": len(proof_latencies),
        "proof_p50_ms": percentile_ms(proof_latencies, 50),
        "proof_p99_ms": percentile_ms(proof_latencies, 99),
        "dup_images": DUP_IMAGES,
        "dup_samples": len(dup_latencies),
        "dup_lookup_p50_ms": percentile_ms(dup_latencies, 50),
        "dup_lookup_p99_ms": percentile_ms(dup_latencies, 99),
        "dup_lookup_mean_ms": round(statistics.mean(dup_latencies) * 1000, 2),
    }
    emit(result)
    return [result]
