"""Run a scenario's cases: seed, drive HTTP, drive the raw-SQL ceiling, check, report.

Per case run, in this order on the same machine and database: seeding (services, in this
process), the HTTP load against the ``yaji serve`` subprocess, the ceiling with the same
number of concurrent database sessions the server can hold (``min(concurrency, workers ×
threads)``: the application can never have more transactions in flight than that), then the
scenario's checks and the project's reconciliation (``reconciliation_run``). Violations are
scenario check failures plus every reconciliation discrepancy or crashed check.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.db import connections
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from yaji.bench.cases import CasePlan
from yaji.bench.database import BenchDatabase
from yaji.bench.drive import drive_http, drive_sql
from yaji.bench.results import CaseResult, case_result
from yaji.bench.seeding import risk_load_generator_allow, users_seed
from yaji.bench.server import BenchServer
from yaji.ledger.reconciliation import reconciliation_run

WARM_DEADLINE_FACTOR = 3  # the warm-up may take up to 3 × --duration


@dataclass(frozen=True, slots=True)
class BenchOptions:
    requests: int
    concurrency: int
    duration_s: float
    repeat: int
    server_workers: int
    server_threads: int
    redis: bool
    server: str = "gunicorn"  # `yaji serve --server` (ADR 0052)


def server_env(
    *, database: BenchDatabase, redis: bool, tag: str, probes: bool = False
) -> dict[str, str]:
    env = dict(os.environ)
    if probes:
        env["YAJI_BENCH_PROBES"] = "1"  # the request-path scenario's endpoints
    else:
        env.pop("YAJI_BENCH_PROBES", None)
    env["DATABASE_URL"] = database.url
    # The driver stands for the reverse proxy in front of the site: each user's requests carry
    # the user's own address (BenchUser.headers), as nginx would forward it (ADR 0062).
    env["YAJI_TRUSTED_PROXIES"] = "127.0.0.1"
    if redis:
        env["REDIS_URL"] = str(settings.REDIS_URL)
    else:
        env.pop("REDIS_URL", None)
    # Gate and cache keys of this run never meet a previous run's (packet ids restart at 1 in a
    # fresh scratch database).
    env["YAJI_CACHE_PREFIX"] = _cache_prefix(tag)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # `yaji serve` makes a fresh one
    return env


def _cache_prefix(tag: str) -> str:
    return f"{os.environ.get('YAJI_CACHE_PREFIX', 'yaji')}-bench-{tag}"


@contextmanager
def _this_process_redis(*, redis: bool, tag: str) -> Iterator[None]:
    """Seeding (``red_packet_send`` initialises the Redis gate on commit) must see the same
    Redis, under the same key prefix, as the server — or none at all. Synthetic senders are
    verified by the sandbox identity provider, never by a real one."""
    from django.test import override_settings

    if not redis:
        with override_settings(REDIS_URL=None, YAJI_KYC_PROVIDER="sandbox"):
            yield
        return
    caches = {"default": {**settings.CACHES["default"], "KEY_PREFIX": _cache_prefix(tag)}}
    with override_settings(CACHES=caches, YAJI_KYC_PROVIDER="sandbox"):
        yield


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description:<28}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def _advance(progress: Progress, description: str, total: int) -> Callable[[int], None]:
    task = progress.add_task(description, total=total)
    return lambda n: progress.advance(task, n)


def violations_of_reconciliation() -> list[str]:
    found = []
    for result in reconciliation_run():
        if result.error:
            found.append(f"reconcile {result.name}: {result.error}")
        found += [
            f"reconcile {result.name}: {d.subject} expected {d.expected}, got {d.actual}"
            for d in result.discrepancies
        ]
    return found


def bench_run(
    *,
    scenario: str,
    plans: list[CasePlan],
    options: BenchOptions,
    database: BenchDatabase,
    console: Console,
    emit: Callable[[CaseResult], None],
) -> list[CaseResult]:
    tag = secrets.token_hex(4)
    suffix = "+redis" if options.redis else ""
    ceiling_connections = min(options.concurrency, options.server_workers * options.server_threads)
    results: list[CaseResult] = []
    server = BenchServer(
        env=server_env(
            database=database, redis=options.redis, tag=tag, probes=scenario == "request-path"
        ),
        workers=options.server_workers,
        threads=options.server_threads,
        server=options.server,
    )
    with _this_process_redis(redis=options.redis, tag=tag), _progress(console) as progress:
        risk_load_generator_allow()
        users_needed = max(plan.users_needed for plan in plans)
        users = users_seed(
            count=users_needed,
            tag=tag,
            advance=_advance(progress, "seed users", users_needed),
        )
        connections.close_all()  # the server forks nothing of ours, but keep the slate clean
        with server:
            console.log(
                f"{scenario}: server on 127.0.0.1:{server.port} "
                f"({options.server}, {options.server_workers} workers × "
                f"{options.server_threads} thread(s)), "
                f"database {database.name}"
            )
            for plan in plans:
                for run in range(1, options.repeat + 1):
                    label = f"{plan.name}{suffix} #{run}"
                    case = plan.prepare(
                        users,
                        f"{tag}-{plan.name}-{run}",
                        _advance(progress, f"seed {label}", plan.seed_steps),
                    )
                    if case.warm_calls:
                        drive_http(
                            port=server.port,
                            calls=case.warm_calls,
                            concurrency=max(options.concurrency, options.server_workers),
                            # Unmeasured, but a warm-up cut short leaves the measured calls
                            # cold.
                            deadline_s=options.duration_s * WARM_DEADLINE_FACTOR,
                            on_done=lambda _n: None,
                        )
                    if case.drain_calls:
                        drained = drive_http(
                            port=server.port,
                            calls=case.drain_calls,
                            concurrency=options.concurrency,
                            deadline_s=options.duration_s,
                            on_done=_advance(progress, f"drain {label}", len(case.drain_calls)),
                        )
                        if case.drained is not None:
                            case.drained(drained)
                    if case.warm_local is not None:
                        started = time.monotonic()
                        case.warm_local()
                        connections.close_all()
                        console.log(
                            f"{label}: local warm-up took {time.monotonic() - started:.1f} s"
                        )
                    http = drive_http(
                        port=server.port,
                        calls=case.calls,
                        concurrency=options.concurrency,
                        deadline_s=options.duration_s,
                        on_done=_advance(progress, f"HTTP {label}", len(case.calls)),
                    )
                    if case.ceiling_calls is not None:
                        ceiling = drive_http(
                            port=server.port,
                            calls=case.ceiling_calls,
                            concurrency=options.concurrency,
                            deadline_s=options.duration_s,
                            on_done=_advance(
                                progress, f"HTTP ceiling {label}", len(case.ceiling_calls)
                            ),
                        )
                    else:
                        ceiling = drive_sql(
                            conninfo=database.conninfo,
                            count=case.ceiling_count,
                            transaction=case.ceiling_transaction,
                            concurrency=ceiling_connections,
                            deadline_s=options.duration_s,
                            on_done=_advance(progress, f"raw SQL {label}", case.ceiling_count),
                        )
                    violations = case.check(http, ceiling) + violations_of_reconciliation()
                    result = case_result(
                        scenario=f"{plan.name}{suffix}",
                        run=run,
                        http=http,
                        ceiling=ceiling,
                        expected=case.expected,
                        violations=violations,
                        concurrency=options.concurrency,
                        ceiling_connections=ceiling_connections,
                        server_workers=options.server_workers,
                        server_threads=options.server_threads,
                        redis=options.redis,
                        server=options.server,
                    )
                    result.extra = dict(case.extra)
                    if case.server_measure is not None:
                        result.extra.update(case.server_measure(server.log_path))
                    results.append(result)
                    emit(result)
    return results
