"""A real ``yaji serve`` subprocess on a free 127.0.0.1 port, always stopped afterwards.

The server runs in its own session (process group), so a Ctrl-C in the terminal reaches only
the benchmark, whose ``finally`` (and, as a last resort, ``atexit``) stops the server: SIGINT
(gunicorn's quick shutdown; granian's shutdown) to the master, then SIGKILL to the group we
started if it lingers. ``server`` picks ``yaji serve --server`` (gunicorn or granian, ADR 0052).
Output goes to a log file whose tail is shown when the server fails to come up.
"""

from __future__ import annotations

import atexit
import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.core.management.base import CommandError

from yaji.core.management.commands.serve import web_workers_default

HOST = "127.0.0.1"  # load tests never leave this machine
START_TIMEOUT_S = 240.0
# gunicorn kills a worker silent for longer than this; on a busy shared machine importing the
# app in a freshly forked worker alone can take more than serve's default of 30 s.
WORKER_TIMEOUT_S = 120
STOP_TIMEOUT_S = 15.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def default_workers() -> int:
    return web_workers_default()  # what `yaji serve` picks on PostgreSQL (ADR 0061)


class BenchServer:
    def __init__(
        self, *, env: dict[str, str], workers: int, threads: int, server: str = "gunicorn"
    ) -> None:
        self.env = env
        self.workers = workers
        self.threads = threads
        self.server = server
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = Path(tempfile.mkstemp(prefix="yaji-bench-server-", suffix=".log")[1])

    def start(self) -> None:
        self.port = free_port()
        command = [
            sys.executable,
            "-m",
            "yaji.cli",
            "serve",
            f"{HOST}:{self.port}",
            "--workers",
            str(self.workers),
            "--threads",
            str(self.threads),  # 1: gunicorn's sync worker class
            "--server",
            self.server,
            "--no-worker",  # no outbox relay or tasks competing for the CPU
            "--timeout",
            str(WORKER_TIMEOUT_S),
        ]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(  # noqa: S603  # our own interpreter and module
                command,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        atexit.register(self.stop)
        try:
            self._wait_healthy(self.process)
        except BaseException:  # Ctrl-C while starting included
            self.stop()
            raise

    def _wait_healthy(self, process: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise CommandError(f"the server exited early:\n{self.log_tail()}")
            if self._healthy():
                return
            time.sleep(0.2)
        raise CommandError(f"the server did not answer /healthz in time:\n{self.log_tail()}")

    def _healthy(self) -> bool:
        connection = http.client.HTTPConnection(HOST, self.port, timeout=2)
        try:
            connection.request("GET", "/healthz")
            return connection.getresponse().status == 200
        except OSError:
            return False
        finally:
            connection.close()

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        atexit.unregister(self.stop)
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=STOP_TIMEOUT_S)
        # Workers are in the group of the master we started (its own session): none may linger.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=STOP_TIMEOUT_S)

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no server log)"
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> BenchServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        with contextlib.suppress(OSError):
            self.log_path.unlink()
