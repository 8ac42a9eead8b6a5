"""The bench's servers as real processes: ``yaji serve --server granian`` through BenchServer,
the bare-WSGI ceiling under each server, and the server name in every JSON line (ADR 0052)."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from yaji.bench.drive import DriveResult, Outcome
from yaji.bench.results import case_result
from yaji.bench.server import HOST, BenchServer


def test_json_line_names_the_server() -> None:
    answered = DriveResult(outcomes=[Outcome(409, 0.001)], wall_s=0.1, timed_out=False)
    result = case_result(
        scenario="sold-out+redis",
        run=1,
        http=answered,
        ceiling=answered,
        expected=frozenset({409}),
        violations=[],
        concurrency=1,
        ceiling_connections=1,
        server_workers=1,
        server_threads=1,
        redis=True,
        server="granian",
    )
    assert json.loads(result.as_json())["server"] == "granian"


def test_bench_server_runs_yaji_serve_under_granian(tmp_path: Path) -> None:
    env = dict(os.environ)
    env.update(YAJI_DATA_DIR=str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    env.pop("REDIS_URL", None)
    server = BenchServer(env=env, workers=1, threads=2, server="granian")
    with server:  # start() waits for /healthz
        process = server.process
        connection = http.client.HTTPConnection(HOST, server.port, timeout=10)
        connection.request("GET", "/healthz")
        assert connection.getresponse().status == 200
        connection.close()
        assert "granian, SQLite, 1 worker(s) × 2 thread(s)" in server.log_tail()
    assert process is not None
    assert process.returncode == 0  # SIGINT: a clean granian shutdown, not the SIGKILL fallback


@pytest.mark.parametrize("server", ["gunicorn", "granian"])
def test_bare_wsgi_ceiling_runs_under_each_server(server: str) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "yaji.bench.bare_wsgi",
            "--server",
            server,
            "--workers",
            "1",
            "--threads",
            "2",
            "--requests",
            "100",
            "--concurrency",
            "4",
            "--client",
            "python",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    line = json.loads(done.stdout.strip().splitlines()[-1])
    assert line["server"] == server
    assert line["requests"] == 100
    assert line["statuses"] == [409]
