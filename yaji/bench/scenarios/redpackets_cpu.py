"""The CPU of one grab through the whole WSGI stack, in-process (no HTTP server, no load driver).

``python -m yaji.bench.scenarios.redpackets_cpu [--grabs N] [--shares S] [--profile FILE]``
seeds N fresh users and packets of S shares (10: the ``spread`` case's packets, 200: ``hot``'s)
in the database ``DATABASE_URL`` names (PostgreSQL; rows are added, nothing is dropped), then
sends each user's grab — the very request of ``yaji bench redpackets`` (``POST
/api/v1/red-packets/<id>/claim``, bearer token, ``Idempotency-Key``, body ``{}``) — to
``yaji.wsgi.application`` as a WSGI call and prints the median and mean process CPU time per
grab and the statements and round trips it sent (counted at psycopg: every ``execute`` and
every ``BEGIN``/``COMMIT``/``ROLLBACK``/``SAVEPOINT``). ``--profile`` writes a cProfile of the
timed grabs (read it with ``python -m pstats``).

The database's own CPU is printed apart (``db_cpu_ms``: the mean CPU of the connection's
PostgreSQL backend per timed grab, read from ``/proc/<pid>/stat``, so only when the server runs
on this machine; else ``-``): the bench's 2 cores run the server workers, the PostgreSQL
backends and the load driver, so both halves count.
The statements are counted in a pass of their own, so the counting costs nothing in the timed
pass. The checks of the bench are not repeated; every grab must answer 200.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

WARM_GRABS = 20
TAG_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


def _environ(*, packet_id: int, token: str, address: str, key: str) -> dict[str, Any]:
    """What gunicorn's sync worker hands the application for the bench's grab, which came
    through the bench's trusted proxy (ADR 0062) from the user's own ``address``."""
    body = b"{}"
    return {
        "REQUEST_METHOD": "POST",
        "SCRIPT_NAME": "",
        "PATH_INFO": f"/api/v1/red-packets/{packet_id}/claim",
        "RAW_URI": f"/api/v1/red-packets/{packet_id}/claim",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "40000",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_AUTHORIZATION": f"Bearer {token}",
        "HTTP_X_FORWARDED_FOR": address,
        "HTTP_IDEMPOTENCY_KEY": key,
        "HTTP_CONNECTION": "close",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


@contextmanager
def _statements_counted() -> Iterator[Counter[str]]:
    """Every statement psycopg sends (cursor ``execute``) and every transaction command
    (``BEGIN``, ``COMMIT``, ...), by their first word."""
    import psycopg

    seen: Counter[str] = Counter()
    execute = psycopg.Cursor.execute
    command = psycopg.Connection._exec_command

    def counted_execute(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        text = query if isinstance(query, str) else str(query)
        seen[text.split(None, 1)[0].upper()] += 1
        return execute(self, query, *args, **kwargs)

    def counted_command(self: Any, cmd: Any, *args: Any, **kwargs: Any) -> Any:
        text = cmd.decode() if isinstance(cmd, bytes) else str(cmd)
        seen[text.split(None, 1)[0].upper()] += 1
        return command(self, cmd, *args, **kwargs)

    psycopg.Cursor.execute = counted_execute  # type: ignore[method-assign]
    psycopg.Connection._exec_command = counted_command  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        psycopg.Cursor.execute = execute  # type: ignore[method-assign]
        psycopg.Connection._exec_command = command  # type: ignore[method-assign]


def _grab(app: Callable[..., Any], environ: dict[str, Any]) -> tuple[str, bytes]:
    status: list[str] = []

    def start_response(line: str, _headers: list[Any], _exc: Any = None) -> Callable[..., Any]:
        status.append(line)
        return lambda _data: None

    result = app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()  # request_finished: Django's per-request connection bookkeeping
    return status[0], body


def _backend_cpu(pid: int | None) -> float | None:
    """CPU seconds (user + system) the PostgreSQL backend ``pid`` has used, if it runs here."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m yaji.bench.scenarios.redpackets_cpu")
    parser.add_argument("--grabs", type=int, default=400)
    parser.add_argument("--shares", type=int, default=10)
    parser.add_argument("--profile", default="")
    parser.add_argument(
        "--sold-out",
        action="store_true",
        help="time 'all taken' answers of one drained packet (the fast path; needs REDIS_URL)",
    )
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yaji.settings")
    os.environ["YAJI_TRUSTED_PROXIES"] = "127.0.0.1"  # as the HTTP bench's server (runner.py)
    import django

    django.setup()
    from django.db import connection

    from yaji.accounts.services import api_token_authenticate
    from yaji.bench.scenarios.redpackets import _send_packets
    from yaji.bench.seeding import risk_load_generator_allow, users_seed
    from yaji.wsgi import application

    if connection.vendor != "postgresql":
        print("needs PostgreSQL (DATABASE_URL=postgres://...)", file=sys.stderr)
        return 2
    risk_load_generator_allow()
    tag = "cpu" + "".join(TAG_ALPHABET[b % 36] for b in os.urandom(6))
    grabs = args.grabs
    total = WARM_GRABS + 2 * grabs  # warm-up, counted pass, timed pass
    if args.sold_out:
        total += args.shares  # the drainers
    users = users_seed(count=total, tag=tag, advance=lambda _n: None)
    packets_n = 1 if args.sold_out else -(-total // args.shares)
    per_set = -(-packets_n // 5)
    senders = users_seed(count=per_set, tag=f"{tag}-s", advance=lambda _n: None, verified=True)
    packets = _send_packets(
        senders=senders, shares=[args.shares] * packets_n, advance=lambda _n: None
    )
    if args.sold_out:
        # One packet, drained by its first ``shares`` users; everyone else gets "all taken".
        drainers, users = users[: args.shares], users[args.shares :]
        for i, u in enumerate(drainers):
            status, body = _grab(
                application,
                _environ(
                    packet_id=packets[0].id, token=u.token, address=u.address, key=f"{tag}-d{i}"
                ),
            )
            if not status.startswith("200"):
                raise SystemExit(f"drain grab answered {status}: {body[:300]!r}")
        for _ in range(2):  # the bench's warm-up: each token seen twice (ADR 0059)
            for u in users:
                api_token_authenticate(raw_token=u.token)
    expected = "409" if args.sold_out else "200"
    calls = [
        _environ(
            packet_id=packets[0 if args.sold_out else i // args.shares].id,
            token=u.token,
            address=u.address,
            key=f"{tag}-{i}",
        )
        for i, u in enumerate(users)
    ]
    connection.close()  # the server's workers start without this process's seeding connection

    def run(batch: list[dict[str, Any]]) -> list[float]:
        spent = []
        for environ in batch:
            started = time.process_time()
            status, body = _grab(application, environ)
            spent.append(time.process_time() - started)
            if not status.startswith(expected):
                raise SystemExit(f"grab answered {status}: {body[:300]!r}")
        return spent

    run(calls[:WARM_GRABS])
    counted = calls[WARM_GRABS : WARM_GRABS + grabs]
    with _statements_counted() as seen:
        run(counted)
    timed = calls[WARM_GRABS + grabs :]
    # CPU time, not wall time: waiting for the database is not what the workers spend.
    profiler = cProfile.Profile(time.process_time) if args.profile else None
    if profiler is not None:
        profiler.enable()
    backend = connection.connection.info.backend_pid if connection.connection else None
    db_before = _backend_cpu(backend)
    spent = run(timed)
    db_after = _backend_cpu(backend)
    if connection.connection is None or connection.connection.info.backend_pid != backend:
        db_after = None  # the connection was replaced: its backend's CPU is not the grabs'
    db_ms = (
        f"{(db_after - db_before) * 1000 / len(timed):.2f}"
        if db_before is not None and db_after is not None
        else "-"
    )
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(args.profile)
    per = {word: n / grabs for word, n in sorted(seen.items())}
    print(
        f"grabs={grabs} shares/packet={args.shares} "
        f"cpu_ms median={statistics.median(spent) * 1000:.2f} "
        f"p25={statistics.quantiles(spent, n=4)[0] * 1000:.2f} "
        f"mean={statistics.fmean(spent) * 1000:.2f} db_cpu_ms={db_ms} "
        f"statements/grab={sum(seen.values()) / grabs:.2f} "
        + " ".join(f"{word}={n:.2f}" for word, n in per.items())
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
