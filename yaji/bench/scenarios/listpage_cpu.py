"""The CPU of one list page that misses the page cache, through the whole WSGI stack, in-process
(no HTTP server, no load driver), against the ceiling endpoint of ``yaji bench catalog``.

``python -m yaji.bench.scenarios.listpage_cpu [--pages N] [--profile FILE] [--redis]``
sends the bench's list pages (``/search/?category=<root slug>&sort=<sort>&page=<1..5>``,
anonymous, ``Accept-Language: zh-hans``) and its ceiling (``GET /api/v1/shops/<slug>``, one row)
to ``yaji.wsgi.application`` as WSGI calls, on the catalogue ``DATABASE_URL`` names (PostgreSQL,
read only: nothing is written but the page cache), and prints the median and mean process CPU
time of each (timed in turns of 25 list pages and 25 ceiling calls, so that a loaded machine
slows both alike) and their ratio (ceiling CPU / list CPU: what the HTTP ratio of the bench
tends to when the server's CPU is what limits it), and the statements each sent (counted at
psycopg, in a pass of its own so the counting costs nothing in the timed pass).

Every list page is a page-cache miss, as nearly every one is in the bench (12 categories × 4
sorts × 5 pages over the server's processes): each path carries a parameter the page ignores
(``n=<i>``), which only makes its cache key new. The facet counts are warm (the bench's 300
requests ask for the same 12 filter sets). Without ``--redis`` the cache is the in-process one,
as the bench's server has it by default. ``--profile`` writes a cProfile (process time) of the
list pages, in a pass of their own after the timed ones (read it with ``python -m pstats``).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from yaji.bench.scenarios.redpackets_cpu import _grab, _statements_counted

WARM_PAGES = 40
BLOCK = 25
SORTS = ("newest", "price_asc", "sales", "relevance")  # catalog.SORTS (imported after setup)


def _environ(path: str) -> dict[str, Any]:
    """What gunicorn's sync worker hands the application for one of the bench's GETs."""
    path_info, _, query = path.partition("?")
    return {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path_info,
        "RAW_URI": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "40000",
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_ACCEPT_LANGUAGE": "zh-hans",
        "HTTP_CONNECTION": "keep-alive",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def _run(app: Callable[..., Any], paths: list[str], *, expect: str = "") -> list[float]:
    spent = []
    for path in paths:
        environ = _environ(path)
        started = time.process_time()
        status, body = _grab(app, environ)
        spent.append(time.process_time() - started)
        if not status.startswith("200"):
            raise SystemExit(f"GET {path} answered {status}: {body[:300]!r}")
        if expect and expect.encode() not in body:
            raise SystemExit(f"GET {path} has no {expect!r}")
    return spent


def _line(label: str, spent: list[float], statements: float) -> str:
    return (
        f"{label}: cpu_ms median={statistics.median(spent) * 1000:.2f} "
        f"p25={statistics.quantiles(spent, n=4)[0] * 1000:.2f} "
        f"mean={statistics.fmean(spent) * 1000:.2f} statements={statements:.2f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m yaji.bench.scenarios.listpage_cpu")
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--profile", default="")
    parser.add_argument("--redis", action="store_true", help="keep REDIS_URL (the cache)")
    args = parser.parse_args(argv)

    if not args.redis:
        os.environ.pop("REDIS_URL", None)  # as the bench's server by default
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yaji.settings")
    import django

    django.setup()
    from django.db import connection

    from yaji.catalog.models import Category, Shop
    from yaji.wsgi import application

    if connection.vendor != "postgresql":
        print("needs PostgreSQL (DATABASE_URL=postgres://...)", file=sys.stderr)
        return 2
    categories = list(Category.objects.filter(parent=None).values_list("slug", flat=True))
    shop_slug = Shop.objects.order_by("id").values_list("slug", flat=True).first()
    if not categories or not shop_slug:
        print("no catalogue here (yaji demo-data --products N --catalogue-only)", file=sys.stderr)
        return 2
    connection.close()  # the server's workers start without this process's connection

    rng = random.Random(20261203)
    serial = iter(range(10**9))

    def list_paths(n: int) -> list[str]:
        return [
            f"/search/?category={rng.choice(categories)}&sort={rng.choice(SORTS)}"
            f"&page={rng.randint(1, 5)}&n={next(serial)}"
            for _ in range(n)
        ]

    pages = args.pages
    ceiling = [f"/api/v1/shops/{shop_slug}"] * pages
    # Warm: imports, the analyser, every filter set's facet counts, the category tree.
    warm = [f"/search/?category={c}&sort={s}&n={next(serial)}" for c in categories for s in SORTS]
    _run(application, warm + list_paths(WARM_PAGES) + ceiling[:WARM_PAGES])
    with _statements_counted() as seen_list:
        _run(application, list_paths(pages), expect='data-testid="search-summary"')
    with _statements_counted() as seen_ceiling:
        _run(application, ceiling)
    # CPU time, not wall time: waiting for the database is not what the workers spend. In
    # turns of BLOCK list pages and BLOCK ceiling calls: a loaded machine slows both alike,
    # and each still runs warm, as in the bench's phases of one kind of request.
    spent_list, spent_ceiling = [], []
    timed = list_paths(pages)
    for start in range(0, pages, BLOCK):
        spent_list += _run(application, timed[start : start + BLOCK])
        spent_ceiling += _run(application, ceiling[start : start + BLOCK])
    if args.profile:  # a pass of its own: the profiler's cost is not in the numbers above
        profiler = cProfile.Profile(time.process_time)
        paths = list_paths(pages)
        profiler.enable()
        _run(application, paths)
        profiler.disable()
        profiler.dump_stats(args.profile)
    print(_line(f"list pages={pages} (misses)", spent_list, sum(seen_list.values()) / pages))
    print(_line("ceiling", spent_ceiling, sum(seen_ceiling.values()) / pages))
    print(
        "cpu ratio (ceiling / list, medians) = "
        f"{statistics.median(spent_ceiling) / statistics.median(spent_list):.3f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
