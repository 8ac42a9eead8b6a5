"""``yaji serve [ADDR:]PORT``: the platform under gunicorn (or granian, ``--server granian``,
ADR 0052), with the background worker embedded.

WSGI on purpose (ADR: ASGI measured 3–4x slower for Django here). Defaults:

* ``--workers``: 1 on SQLite (one writer at a time anyway, and one process keeps the embedded
  worker single), ``CPU cores + 1`` on PostgreSQL (ADR 0061: on 2 cores, 3 processes served
  every measured path faster than 5 — the database and the load share those cores);
* ``--threads``: 8 per worker (gthread; granian's blocking threads). On PostgreSQL,
  workers × (threads + 3 background threads) is kept below the server's ``max_connections``
  minus a reserve, lowering the thread count with a warning if needed, because every thread
  may hold a persistent connection;
* the background worker (outbox relay + tasks) starts inside every web process from gunicorn's
  ``post_worker_init`` hook — threads do not survive ``fork``, so it cannot start in the master.
  granian has no such hook: there it starts in the app loader, which granian calls once in each
  worker process after the fork, and stops when that process's server loop returns.
  Production runs ``yaji serve --no-worker`` and separate ``yaji worker`` processes.

With more than one worker process, Prometheus metrics are aggregated across processes through
``PROMETHEUS_MULTIPROC_DIR`` (a temporary directory unless set).
"""

from __future__ import annotations

import logging
import os
import re
import sys
import tempfile
from argparse import ArgumentParser
from functools import partial
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from gunicorn.app.base import BaseApplication

DEFAULT_ADDR = "127.0.0.1"
DEFAULT_PORT = 8000
# Connections kept free for migrations, psql, the admin's shell and other processes.
PG_CONNECTION_RESERVE = 10
# The embedded background worker's loops (outbox relay, tasks, periodic jobs): each thread may
# hold a persistent database connection of its own.
BACKGROUND_THREADS = 3
SERVERS = ("gunicorn", "granian")
# How long a stopping worker may finish its in-flight requests (gunicorn's graceful_timeout).
GRACEFUL_TIMEOUT_S = 30

logger = logging.getLogger(__name__)

_ADDRPORT = re.compile(r"^(?:(?P<addr>\[[0-9a-fA-F:]+\]|[A-Za-z0-9.\-]+):)?(?P<port>\d{1,5})$")


def parse_addrport(value: str) -> tuple[str, int]:
    match = _ADDRPORT.match(value)
    if not match or not 0 < int(match["port"]) < 65536:
        raise CommandError(f"{value!r} is not [ADDR:]PORT, e.g. 8000 or 0.0.0.0:8000")
    return (match["addr"] or DEFAULT_ADDR), int(match["port"])


class YajiGunicorn(BaseApplication):
    """gunicorn driven from Python, so ``yaji serve`` needs no config file."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return _application()


def _application() -> Any:
    from yaji.core.proxies import wsgi_application_build

    return wsgi_application_build()  # as yaji.wsgi.application


def _post_worker_init(worker: Any) -> None:
    from yaji.core.background import BackgroundWorker

    background = BackgroundWorker(worker_id=f"web-{os.getpid()}")
    background.start()
    worker.yaji_background = background


def _worker_exit(server: Any, worker: Any) -> None:
    _background_stop(getattr(worker, "yaji_background", None))


def _background_stop(background: Any) -> None:
    if background is not None:
        background.stop(timeout=10)
        logger.info("background worker stopped", extra={"worker_id": background.worker_id})


def _post_fork(server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # prometheus_client chose in-memory values when the master imported it; labelled
        # children are created on first use, so switching the value class here, before any
        # request, makes every request metric of this worker land in the shared directory.
        from prometheus_client import values

        values.ValueClass = values.MultiProcessValue()


def _child_exit(server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


# --- granian (ADR 0052) ------------------------------------------------------------------------
# What gunicorn's hooks do, done inside each granian worker process: granian calls the app
# loader once per worker after the fork, and the worker's server loop returns on SIGTERM/SIGINT.

_granian_background: Any = None


def _granian_load(embed: bool) -> Any:
    """granian's app loader, run once in each worker process before it serves."""
    global _granian_background
    from django.utils.log import configure_logging

    _post_fork(None, None)
    # granian ran its own logging dictConfig in the fresh worker, which closed the handlers
    # Django configured in the master: configure Django's again, so every access line still
    # goes to stderr as JSON (the bench counts fast answers from them).
    configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)
    app = _process_environment_hidden(_application())
    if embed:
        from yaji.core.background import BackgroundWorker

        _granian_background = BackgroundWorker(worker_id=f"web-{os.getpid()}")
        _granian_background.start()
    return app


def _process_environment_hidden(app: Any) -> Any:
    """``app`` without the server's process environment in its requests.

    granian starts every request's WSGI environ from a copy of ``os.environ``
    (``granian.wsgi._callback_wrapper``), so ``request.META`` would carry ``DATABASE_URL``,
    ``REDIS_URL`` and the rest, where Django's debug page and error reports would show them;
    gunicorn's environ holds only the request. The variables are dropped again per request
    (a few dozen dict look-ups); a request's own value under such a name, e.g. a header,
    differs from the inherited one and stays."""
    inherited = tuple(os.environ.items())

    def hidden(environ: dict[str, Any], start_response: Any) -> Any:
        for name, value in inherited:
            if environ.get(name) == value:
                del environ[name]
        return app(environ, start_response)

    return hidden


def _granian_wsgi_worker(*args: Any, **kwargs: Any) -> None:
    """granian's own WSGI worker, then what gunicorn's ``worker_exit`` and ``child_exit`` do."""
    from granian.server.mp import MPServer

    try:
        MPServer._spawn_wsgi_worker(*args, **kwargs)  # granian's default WSGI spawner
    finally:
        # Runs inside the worker: a forked multiprocessing child skips atexit handlers.
        _background_stop(_granian_background)
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess

            multiprocess.mark_process_dead(os.getpid())


def web_workers_default() -> int:
    """Web processes on PostgreSQL: one per core and one more to cover a process waiting on the
    database (ADR 0061; gunicorn's 2 × cores + 1 was slower on every measured path here)."""
    return (os.cpu_count() or 1) + 1


def _granian_run(*, addr: str, port: int, workers: int, threads: int, embed: bool) -> None:
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings
    from granian.log import LogLevels
    from granian.server.mp import MPServer

    server = MPServer(
        target="yaji.wsgi:application",  # only named in granian's logs: our loader builds the app
        address=addr.strip("[]"),
        port=port,
        interface=Interfaces.WSGI,
        workers=workers,
        # One Python thread per --threads, like gthread; kept for granian's longest idle time
        # so a thread (and its persistent database connection) is not rebuilt after a lull.
        blocking_threads=threads,
        blocking_threads_idle_timeout=600,
        http=HTTPModes.http1,
        http1_settings=HTTP1Settings(keep_alive=True),
        websockets=False,
        log_level=LogLevels.warning,
        log_access=False,  # RequestContextMiddleware and the fast path log every request
        # gunicorn replaces a crashed worker; so does granian with this (else it exits).
        respawn_failed_workers=True,
        workers_kill_timeout=GRACEFUL_TIMEOUT_S,
    )
    server.serve(
        spawn_target=_granian_wsgi_worker,
        target_loader=partial(_granian_load, embed),
        wrap_loader=False,
    )


def _postgres_max_connections() -> int | None:
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SHOW max_connections")
            row = cursor.fetchone()
        return int(row[0]) if row else None
    except Exception:  # unreachable database: gunicorn still starts, /readyz will say why
        return None


class Command(BaseCommand):
    help = "Serve Yaji over HTTP with gunicorn or granian (WSGI), embedding the background worker."
    # The URLconf (checked by the system checks) loads in each worker after fork instead.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("addrport", nargs="?", default=str(DEFAULT_PORT), help="[ADDR:]PORT")
        parser.add_argument("--workers", type=int, default=None, help="Web processes.")
        parser.add_argument("--threads", type=int, default=8, help="Threads per web process.")
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="Do not embed the background worker (run `yaji worker` separately).",
        )
        parser.add_argument(
            "--timeout",
            type=int,
            default=30,
            help="gunicorn only: kill a worker silent for this many seconds.",
        )
        parser.add_argument(
            "--server",
            choices=SERVERS,
            default="gunicorn",
            help="HTTP server: gunicorn (default) or granian (Rust, keep-alive; ADR 0052).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        addr, port = parse_addrport(options["addrport"])
        workers = options["workers"] or (web_workers_default() if settings.IS_POSTGRES else 1)
        threads = options["threads"]
        if workers < 1 or threads < 1:
            raise CommandError("--workers and --threads must be at least 1")
        embed = not options["no_worker"]

        if settings.IS_POSTGRES:
            threads = self._cap_threads(workers=workers, threads=threads, embed=embed)
        # Forked workers must not share the master's database socket.
        connections.close_all()

        if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="yaji-metrics-")

        server = options["server"]
        self._banner(
            addr=addr, port=port, workers=workers, threads=threads, embed=embed, server=server
        )
        if server == "granian":
            _granian_run(addr=addr, port=port, workers=workers, threads=threads, embed=embed)
            return

        bind = f"{addr}:{port}"
        gunicorn_options: dict[str, Any] = {
            "bind": bind,
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread" if threads > 1 else "sync",
            "timeout": options["timeout"],
            "graceful_timeout": GRACEFUL_TIMEOUT_S,
            "proc_name": "yaji",
            "accesslog": None,  # RequestContextMiddleware logs every request with its id
            "errorlog": "-",
            # gunicorn's control socket has one default path per user, so two servers on one
            # machine would fight over it; nothing here uses it.
            "control_socket_disable": True,
            "post_fork": _post_fork,
            "child_exit": _child_exit,
        }
        if embed:
            gunicorn_options["post_worker_init"] = _post_worker_init
            gunicorn_options["worker_exit"] = _worker_exit

        # gunicorn parses sys.argv in BaseApplication; give it nothing of ours to misread.
        sys.argv = [sys.argv[0]]
        YajiGunicorn(gunicorn_options).run()

    def _cap_threads(self, *, workers: int, threads: int, embed: bool) -> int:
        limit = _postgres_max_connections()
        if limit is None:
            return threads
        per_worker_extra = BACKGROUND_THREADS if embed else 0
        budget = limit - PG_CONNECTION_RESERVE
        needed = workers * (threads + per_worker_extra)
        if needed <= budget:
            return threads
        capped = budget // workers - per_worker_extra
        if capped < 1:
            raise CommandError(
                f"{workers} workers need more than PostgreSQL's max_connections={limit}; "
                "use fewer --workers"
            )
        self.stderr.write(
            f"warning: {workers}×{threads} threads would exceed max_connections={limit}; "
            f"using {capped} threads per worker"
        )
        return capped

    def _banner(
        self, *, addr: str, port: int, workers: int, threads: int, embed: bool, server: str
    ) -> None:
        host = "127.0.0.1" if addr in {"0.0.0.0", "[::]"} else addr  # noqa: S104  # display only
        base = f"http://{host}:{port}"
        database = "PostgreSQL" if settings.IS_POSTGRES else "SQLite"
        worker = "embedded" if embed else "off (run `yaji worker`)"
        self.stdout.write(
            "\n".join(
                [
                    "",
                    f"  Yaji 雅集 is serving on {base}/",
                    f"    storefront   {base}/",
                    f"    admin        {base}/admin/",
                    f"    API docs     {base}/api/v1/docs",
                    f"    health       {base}/healthz  {base}/readyz  {base}/metrics",
                    f"  {server}, {database}, {workers} worker(s) × {threads} thread(s), "
                    f"background worker {worker}. Ctrl+C to stop.",
                    "",
                ]
            )
        )
        self.stdout.flush()
