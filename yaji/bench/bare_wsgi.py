"""The front-end ceiling on this machine: a trivial WSGI app under gunicorn (or granian) with the
settings ``yaji bench`` serves with (N sync workers, or gthread; granian: N workers × blocking
threads, HTTP/1 keep-alive — ADR 0052), driven by the bench's own HTTP client.

    python -m yaji.bench.bare_wsgi [--server gunicorn|granian] [--workers 5] [--threads 1]
        [--requests 5000] [--concurrency 64] [--client node]

Each request is a grab-shaped POST (bearer token, Idempotency-Key, JSON body) answered with a
fixed 409 of the size of a red packet's "all taken" — what no Python application behind the
same server and client can beat. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import signal
import socket
import time
from typing import Any

from yaji.bench.drive import HttpCall, drive_http, http_client_use
from yaji.bench.results import percentile_ms, rate
from yaji.bench.server import HOST, free_port

SERVERS = ("gunicorn", "granian")
START_TIMEOUT_S = 30.0

BODY = json.dumps(
    {"code": "packet_finished", "message": "All shares have been taken.", "extra": {"gate": True}}
).encode()


def bare_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    if length:
        environ["wsgi.input"].read(length)
    start_response(
        "409 Conflict",
        [("Content-Type", "application/json; charset=utf-8"), ("Content-Length", str(len(BODY)))],
    )
    return [BODY]


def _bare_loader() -> Any:
    return bare_app


def _serve_granian(port: int, workers: int, threads: int) -> None:
    # The options `yaji serve --server granian` uses, minus the app.
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings
    from granian.log import LogLevels
    from granian.server.mp import MPServer

    MPServer(
        target="yaji.bench.bare_wsgi:bare_app",
        address=HOST,
        port=port,
        interface=Interfaces.WSGI,
        workers=workers,
        blocking_threads=threads,
        http=HTTPModes.http1,
        http1_settings=HTTP1Settings(keep_alive=True),
        websockets=False,
        log_level=LogLevels.warning,
    ).serve(target_loader=_bare_loader, wrap_loader=False)


def _serve(port: int, workers: int, threads: int) -> None:
    from gunicorn.app.base import BaseApplication

    class Bare(BaseApplication):
        def load_config(self) -> None:
            options = {
                "bind": f"{HOST}:{port}",
                "workers": workers,
                "threads": threads,
                "worker_class": "gthread" if threads > 1 else "sync",
                "accesslog": None,
                "errorlog": "-",
                "loglevel": "warning",
                "control_socket_disable": True,
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return bare_app

    import sys

    sys.argv = [sys.argv[0]]
    Bare().run()


def _wait_listening(port: int, server: multiprocessing.Process) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if not server.is_alive():
            raise SystemExit("the server exited early")
        try:
            with socket.create_connection((HOST, port), timeout=1):
                pass
        except OSError:
            time.sleep(0.1)
            continue
        time.sleep(0.5)  # the first worker listens; give the others a moment to boot
        return
    raise SystemExit("the server did not listen in time")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", choices=SERVERS, default="gunicorn")
    parser.add_argument("--workers", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--client", default="auto")
    args = parser.parse_args()
    http_client_use(args.client)
    port = free_port()
    serve = _serve_granian if args.server == "granian" else _serve
    server = multiprocessing.Process(target=serve, args=(port, args.workers, args.threads))
    server.start()
    try:
        _wait_listening(port, server)
        calls = [
            HttpCall(
                "POST",
                "/api/v1/red-packets/1/claim",
                body=b"{}",
                headers={
                    "Authorization": "Bearer " + "x" * 43,
                    "Content-Type": "application/json",
                    "Idempotency-Key": f"bare-{i}",
                },
            )
            for i in range(args.requests)
        ]
        result = drive_http(
            port=port,
            calls=calls,
            concurrency=args.concurrency,
            deadline_s=60,
            on_done=lambda _n: None,
        )
        latencies = [o.latency_s for o in result.answered]
        print(
            json.dumps(
                {
                    "scenario": "bare-wsgi",
                    "server": args.server,
                    "workers": args.workers,
                    "threads": args.threads,
                    "requests": len(latencies),
                    "throughput_per_s": rate(result),
                    "p50_ms": percentile_ms(latencies, 50),
                    "p99_ms": percentile_ms(latencies, 99),
                    "statuses": sorted({o.status for o in result.answered}),
                    "client": result.client,
                }
            )
        )
    finally:
        if server.pid is not None:
            os.kill(server.pid, signal.SIGINT)
        server.join(timeout=10)


if __name__ == "__main__":
    main()
