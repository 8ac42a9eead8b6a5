"""The front-end ceiling on this machine: a trivial WSGI app under gunicorn with the settings
``yaji bench`` serves with (N sync workers, or gthread), driven by the bench's own HTTP client.

    python -m yaji.bench.bare_wsgi [--workers 5] [--threads 1] [--requests 5000]
        [--concurrency 64] [--client node]

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
import time
from typing import Any

from yaji.bench.drive import HttpCall, drive_http, http_client_use
from yaji.bench.results import percentile_ms, rate
from yaji.bench.server import HOST, free_port

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--client", default="auto")
    args = parser.parse_args()
    http_client_use(args.client)
    port = free_port()
    server = multiprocessing.Process(target=_serve, args=(port, args.workers, args.threads))
    server.start()
    try:
        time.sleep(2.0)  # gunicorn binds and forks its workers
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
