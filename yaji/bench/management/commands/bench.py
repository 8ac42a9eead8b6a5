"""``yaji bench <scenario>``: measure a hot path over HTTP against its raw-SQL ceiling.

    yaji bench redpackets                      # hot, spread, sold-out; 2,000 grabs each
    yaji bench redpackets --case hot --requests 10000 --concurrency 64 --repeat 3 --json
    yaji bench ledger --json                   # wallet top-ups settled by provider notifications
    yaji bench flashsale --requests 5000       # buyers storm one variant on flash sale
    yaji bench catalog --keep-db               # 100k products: search, product and list pages
    yaji bench copyright --json                # registrations, appends, proofs at 1M, look-ups
    yaji bench feed --concurrency 8            # following feed and post page, 100k posts
    yaji bench request-path --requests 600     # one request's fixed cost: anon, bearer, writes

Needs PostgreSQL (``DATABASE_URL=postgres://…``). Starts ``yaji serve`` on a free 127.0.0.1
port in a scratch database ``<name>_run`` (see ``--keep-db`` / ``--in-place``), seeds through
the app's services, drives it with concurrent keep-alive clients, measures the same database
work as raw SQL in the same run, and checks the invariants. ``--json`` prints one JSON object
per case run per line on stdout (progress and the table then go to stderr). Exits 1 when any
case has violations. Details: docs/benchmarks.md, ADR 0018.
"""

from __future__ import annotations

import signal
import sys
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console

from yaji.bench.cases import CasePlan
from yaji.bench.database import bench_database, require_postgres
from yaji.bench.drive import HTTP_CLIENTS, http_client_use
from yaji.bench.results import CaseResult, summary_table
from yaji.bench.runner import BenchOptions, bench_run
from yaji.bench.scenarios import (
    catalog,
    copyright,
    feed,
    flashsale,
    ledger,
    redpackets,
    requestpath,
)
from yaji.bench.server import default_workers
from yaji.core.management.commands.serve import SERVERS

SCENARIOS: dict[str, tuple[str, ...]] = {
    "redpackets": redpackets.CASES,
    "ledger": ledger.CASES,
    "flashsale": flashsale.CASES,
    "catalog": catalog.CASES,
    "copyright": copyright.CASES,
    "feed": feed.CASES,
    "request-path": requestpath.CASES,
}
MAX_REQUESTS = 50_000
MAX_CONCURRENCY = 256
MAX_DURATION_S = 600.0
MAX_REPEAT = 10
TABLE_WIDTH = 120


def _plans(scenario: str, *, requests: int, names: list[str]) -> list[CasePlan]:
    if scenario == "redpackets":
        return redpackets.redpackets_cases(requests=requests, names=names)
    if scenario == "flashsale":
        return flashsale.flashsale_cases(requests=requests, names=names)
    if scenario == "feed":
        return feed.feed_cases(requests=requests, names=names)
    if scenario == "request-path":
        return requestpath.requestpath_cases(requests=requests, names=names)
    return ledger.ledger_cases(requests=requests, names=names)


def _copyright(bench: BenchOptions, database: Any, console: Console, emit: Any) -> Any:
    import secrets

    from yaji.bench.runner import _this_process_redis, server_env

    tag = secrets.token_hex(4)
    with _this_process_redis(redis=False, tag=tag):
        return copyright.copyright_run(
            options=bench,
            database=database,
            console=console,
            emit=emit,
            server_env=server_env(database=database, redis=False, tag=tag),
            tag=tag,
        )


def _terminate(signum: int, frame: Any) -> None:
    # A SIGTERM becomes the same unwinding as Ctrl-C: the server subprocess is stopped and the
    # scratch database dropped by the ``finally`` blocks on the way out.
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = "Benchmark a scenario over HTTP on PostgreSQL against its raw-SQL ceiling."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("scenario", choices=sorted(SCENARIOS))
        parser.add_argument(
            "--case",
            action="append",
            dest="cases",
            help="Run only this case (repeatable). redpackets: hot, spread, sold-out; "
            "ledger: topup, transfer; flashsale: storm, storm-cart; catalog: product, list; "
            "feed: following, post; request-path: anon, bearer, write, write-atomic.",
        )
        parser.add_argument("--requests", type=int, default=2000, help="HTTP requests per case.")
        parser.add_argument("--concurrency", type=int, default=64, help="Concurrent clients.")
        parser.add_argument(
            "--duration",
            type=float,
            default=120.0,
            help="Cap in seconds per drive (HTTP, ceiling): no new request starts after it.",
        )
        parser.add_argument("--repeat", type=int, default=1, help="Runs per case (medians).")
        parser.add_argument("--json", action="store_true", help="One JSON line per case run.")
        parser.add_argument(
            "--keep-db",
            action="store_true",
            help="Keep the scratch database <name>_run afterwards (and reuse it next time).",
        )
        parser.add_argument(
            "--in-place",
            action="store_true",
            help="Use DATABASE_URL's database itself (migrated, disposable), no scratch copy.",
        )
        parser.add_argument(
            "--products",
            type=int,
            default=catalog.PRODUCTS_DEFAULT,
            help="catalog: listed products to seed (if absent) before measuring.",
        )
        parser.add_argument(
            "--redis", action="store_true", help="Give the server REDIS_URL (the claim gate)."
        )
        parser.add_argument(
            "--server-workers",
            type=int,
            default=default_workers(),
            help="Server worker processes (default: what `yaji serve` uses on PostgreSQL).",
        )
        parser.add_argument(
            "--client",
            choices=HTTP_CLIENTS,
            default="auto",
            help="HTTP load generator: node (raw sockets, the default where Node.js is "
            "installed) or python (http.client threads). ADR 0048.",
        )
        parser.add_argument(
            "--server-threads",
            type=int,
            default=1,
            help="Threads per worker; 1 = gunicorn's sync worker class.",
        )
        parser.add_argument(
            "--server",
            choices=SERVERS,
            default="gunicorn",
            help="The HTTP server `yaji serve` runs: gunicorn or granian (ADR 0052).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        require_postgres()
        try:
            http_client_use(options["client"])
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        scenario = options["scenario"]
        names = options["cases"] or list(SCENARIOS[scenario])
        unknown = sorted(set(names) - set(SCENARIOS[scenario]))
        if unknown:
            raise CommandError(
                f"unknown case(s) for {scenario}: {', '.join(unknown)} "
                f"(choose from {', '.join(SCENARIOS[scenario])})"
            )
        bench = BenchOptions(
            requests=options["requests"],
            concurrency=options["concurrency"],
            duration_s=options["duration"],
            repeat=options["repeat"],
            server_workers=options["server_workers"],
            server_threads=options["server_threads"],
            redis=options["redis"],
            server=options["server"],
        )
        self._validate(bench)
        from django.conf import settings

        if bench.redis and not settings.REDIS_URL:
            raise CommandError("--redis needs REDIS_URL in the environment")

        as_json = options["json"]
        # Progress on stderr; with --json stdout carries only the JSON lines.
        console = Console(stderr=True, highlight=False)

        def emit(result: CaseResult) -> None:
            if as_json:
                self.stdout.write(result.as_json())
                self.stdout.flush()

        previous = signal.signal(signal.SIGTERM, _terminate)
        try:
            with bench_database(
                in_place=options["in_place"], keep=options["keep_db"], say=console.log
            ) as database:
                if scenario == "catalog":
                    results = catalog.catalog_bench(
                        names=names,
                        options=bench,
                        database=database,
                        console=console,
                        emit=emit,
                        products=options["products"],
                    )
                elif scenario == "copyright":
                    results = _copyright(bench, database, console, emit)
                else:
                    results = bench_run(
                        scenario=scenario,
                        plans=_plans(scenario, requests=bench.requests, names=names),
                        options=bench,
                        database=database,
                        console=console,
                        emit=emit,
                    )
        except KeyboardInterrupt:
            raise CommandError("interrupted; the server was stopped") from None
        finally:
            signal.signal(signal.SIGTERM, previous)

        # Piped or redirected output still gets the whole table (rich assumes 80 columns).
        width = None if sys.stdout.isatty() else TABLE_WIDTH
        table_console = (
            Console(stderr=True, highlight=False, width=width)
            if as_json
            else Console(highlight=False, width=width)
        )
        table_console.print(summary_table(results))
        bad = [r for r in results if r.violations]
        for result in bad:
            for detail in result.violation_details[:10]:
                table_console.print(f"[red]violation[/red] {result.scenario}: {detail}")
        if bad:
            raise CommandError(f"{len(bad)} case run(s) broke invariants")

    def _validate(self, bench: BenchOptions) -> None:
        if not 1 <= bench.requests <= MAX_REQUESTS:
            raise CommandError(f"--requests must be 1–{MAX_REQUESTS}")
        if not 1 <= bench.concurrency <= MAX_CONCURRENCY:
            raise CommandError(f"--concurrency must be 1–{MAX_CONCURRENCY}")
        if not 0 < bench.duration_s <= MAX_DURATION_S:
            raise CommandError(f"--duration must be in (0, {MAX_DURATION_S:.0f}] seconds")
        if not 1 <= bench.repeat <= MAX_REPEAT:
            raise CommandError(f"--repeat must be 1–{MAX_REPEAT}")
        if bench.server_workers < 1 or bench.server_threads < 1:
            raise CommandError("--server-workers and --server-threads must be at least 1")
