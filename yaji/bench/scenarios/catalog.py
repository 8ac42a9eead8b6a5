"""``yaji bench catalog``: browsing and search at catalogue scale (default 100,000 products).

Seeding (not measured, only if absent): ``yaji demo-data --products N --catalogue-only`` tops
the listed catalogue up with bulk inserts and indexes it; with ``--keep-db`` the scratch
database keeps it for the next run.

Measured, in one run on the same server and database:

- search: every labelled query (``yaji/search/data/eval_queries.json``) through
  ``search_run`` with facets, as the search page runs it, in this process; p50/p95 of the
  server time (``search_p50_ms``, ``search_p95_ms``);
- SQL queries per page, in this process through the test client: a product page and a list
  page (category browse, newest first) at two page sizes — the list's count must not grow with
  the page size (an N+1 would; that is a violation);
- HTTP: product pages (``/products/<id>/`` of random listed products) and list pages
  (``/search/?category=…&sort=…&page=…``) with concurrent keep-alive clients;
- the ceiling: the same server's requests/s for a trivial endpoint that reads one row
  (``GET /api/v1/shops/<slug>``), so ``ratio`` = page throughput / ceiling.
"""

from __future__ import annotations

import random
import secrets
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.core.management import call_command
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rich.console import Console

from yaji.bench.database import BenchDatabase
from yaji.bench.drive import DriveResult, HttpCall, drive_http
from yaji.bench.results import CaseResult, case_result, percentile_ms
from yaji.bench.runner import BenchOptions, _advance, _progress, server_env
from yaji.bench.server import BenchServer
from yaji.catalog.models import Category, Product, Shop
from yaji.search.evaluation import queries_load
from yaji.search.models import SearchDocument
from yaji.search.selectors import SearchParams, search_run

CASES = ("product", "list")
PRODUCTS_DEFAULT = 100_000
SEARCH_REPEAT = 3
SORTS = ("newest", "price_asc", "sales", "relevance")
LIST_PAGE_SIZES = (12, 48)


@dataclass(frozen=True, slots=True)
class PageQueries:
    product: int  # a page-cache miss: the bench asks for random products, so most miss
    product_cached: int
    list_small: int
    list_large: int
    ceiling: int
    list_cold: int  # the first list page of a filter set counts its facets (then cached)


def catalogue_ensure(*, products: int, say: Callable[[str], None]) -> int:
    """Seed the bulk catalogue up to ``products`` listed products if fewer are there."""
    listed = Product.objects.filter(status=Product.Status.LISTED).count()
    indexed = SearchDocument.objects.count()
    if listed < products or indexed < listed:
        say(f"seeding the catalogue: {listed} listed, {indexed} indexed, {products} wanted…")
        call_command("demo_data", products=products, catalogue_only=True)
        connections.close_all()
    return Product.objects.filter(status=Product.Status.LISTED).count()


def search_timings(*, repeat: int = SEARCH_REPEAT) -> list[list[float]]:
    """Server time (ms) of every labelled query with facets, one list per pass: the first pass
    counts every facet (cold cache), later passes find the counts cached."""
    passes = []
    queries = queries_load()
    search_run(SearchParams(q="暖机"))  # load the analyser's dictionaries
    for _ in range(repeat):
        out = []
        for query in queries:
            started = time.perf_counter()
            search_run(SearchParams(q=query.q))
            out.append((time.perf_counter() - started) * 1000)
        passes.append(out)
    return passes


def _queries_of(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    if response.status_code != 200:
        raise RuntimeError(f"GET {path} answered {response.status_code}")
    return len(captured)


def pages_queries(
    *, product_id: int, other_product_id: int, category: str, shop_slug: str
) -> PageQueries:
    client = Client(HTTP_HOST="127.0.0.1")
    client.get(f"/products/{product_id}/")  # the first request warms caches
    cold = _queries_of(client, f"/search/?category={category}&sort=newest")
    return PageQueries(
        list_cold=cold,
        # A product not asked for yet misses the page cache, as most bench requests do.
        product=_queries_of(client, f"/products/{other_product_id}/"),
        product_cached=_queries_of(client, f"/products/{product_id}/"),
        list_small=_queries_of(
            client, f"/search/?category={category}&sort=newest&page_size={LIST_PAGE_SIZES[0]}"
        ),
        list_large=_queries_of(
            client, f"/search/?category={category}&sort=newest&page_size={LIST_PAGE_SIZES[1]}"
        ),
        ceiling=_queries_of(client, f"/api/v1/shops/{shop_slug}"),
    )


def _calls(paths: list[str]) -> list[HttpCall]:
    return [HttpCall(method="GET", path=p, headers={"Accept-Language": "zh-hans"}) for p in paths]


def catalog_bench(
    *,
    names: list[str],
    options: BenchOptions,
    database: BenchDatabase,
    console: Console,
    emit: Callable[[CaseResult], None],
    products: int,
) -> list[CaseResult]:
    total = catalogue_ensure(products=products, say=console.log)
    rng = random.Random(20261201)
    ids = list(Product.objects.filter(status=Product.Status.LISTED).values_list("id", flat=True))
    categories = list(Category.objects.filter(parent=None).values_list("slug", flat=True))
    shop_slug = Shop.objects.order_by("id").values_list("slug", flat=True).first() or ""

    console.log(f"search: {len(queries_load())} labelled queries × {SEARCH_REPEAT} over {total}")
    passes = search_timings()
    times = [t for one in passes for t in one]
    search = {
        "search_p50_ms": round(statistics.median(times), 1),
        "search_p95_ms": percentile_ms([t / 1000 for t in times], 95),
        "search_cold_p50_ms": round(statistics.median(passes[0]), 1),
        "search_cold_p95_ms": percentile_ms([t / 1000 for t in passes[0]], 95),
        "search_queries": len(times),
    }
    counts = pages_queries(
        product_id=ids[0], other_product_id=ids[-1], category=categories[0], shop_slug=shop_slug
    )
    console.log(f"search {search}; queries per page {counts}")
    connections.close_all()

    n = options.requests
    product_paths = [f"/products/{rng.choice(ids)}/" for _ in range(n)]
    list_paths = [
        f"/search/?category={rng.choice(categories)}&sort={rng.choice(SORTS)}"
        f"&page={rng.randint(1, 5)}"
        for _ in range(n)
    ]
    ceiling_paths = [f"/api/v1/shops/{shop_slug}"] * n
    tag = secrets.token_hex(4)
    server = BenchServer(
        env=server_env(database=database, redis=options.redis, tag=tag),
        workers=options.server_workers,
        threads=options.server_threads,
        server=options.server,
    )
    results: list[CaseResult] = []
    with server, _progress(console) as progress:
        console.log(f"catalog: server on 127.0.0.1:{server.port}, database {database.name}")

        def drive(label: str, paths: list[str]) -> DriveResult:
            return drive_http(
                port=server.port,
                calls=_calls(paths),
                concurrency=options.concurrency,
                deadline_s=options.duration_s,
                on_done=_advance(progress, label, len(paths)),
            )

        # Warm every worker (imports, jieba) before anything is measured.
        drive("warm-up", (product_paths[:50] + list_paths[:50]))
        for run in range(1, options.repeat + 1):
            ceiling = drive(f"ceiling #{run}", ceiling_paths)
            for name in names:
                paths = product_paths if name == "product" else list_paths
                http = drive(f"HTTP {name} #{run}", paths)
                per_page = counts.product if name == "product" else counts.list_large
                violations = []
                if name == "list" and counts.list_small != counts.list_large:
                    violations.append(
                        f"list page queries grow with the page size: {counts.list_small} at "
                        f"{LIST_PAGE_SIZES[0]}, {counts.list_large} at {LIST_PAGE_SIZES[1]}"
                    )
                errors = [o for o in http.answered if o.status != 200]
                if errors:
                    violations.append(f"{len(errors)} pages did not answer 200")
                result = case_result(
                    scenario=f"catalog-{name}",
                    run=run,
                    http=http,
                    ceiling=ceiling,
                    expected=frozenset({200}),
                    violations=violations,
                    concurrency=options.concurrency,
                    ceiling_connections=options.concurrency,
                    server_workers=options.server_workers,
                    server_threads=options.server_threads,
                    redis=options.redis,
                    server=options.server,
                )
                result.extra = {
                    **search,
                    "queries_per_page": per_page,
                    "queries_per_product_page_cached": counts.product_cached,
                    "queries_per_list_page": {
                        str(LIST_PAGE_SIZES[0]): counts.list_small,
                        str(LIST_PAGE_SIZES[1]): counts.list_large,
                    },
                    "queries_per_list_page_cold": counts.list_cold,
                    "ceiling_queries": counts.ceiling,
                    "products": total,
                }
                results.append(result)
                emit(result)
    return results
