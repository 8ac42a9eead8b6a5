"""`yaji serve` and `yaji worker` as real processes on a fresh SQLite database."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.core.management.base import CommandError

from yaji.core.management.commands.serve import parse_addrport


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("8000", ("127.0.0.1", 8000)),
        ("0.0.0.0:9000", ("0.0.0.0", 9000)),  # noqa: S104  # parsing only
        ("localhost:80", ("localhost", 80)),
        ("[::1]:8080", ("[::1]", 8080)),
    ],
)
def test_parse_addrport(value: str, expected: tuple[str, int]) -> None:
    assert parse_addrport(value) == expected


@pytest.mark.parametrize("value", ["", "abc", "70000", "1.2.3.4:", ":80", "0"])
def test_parse_addrport_rejects(value: str) -> None:
    with pytest.raises(CommandError):
        parse_addrport(value)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _env(data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        YAJI_DATA_DIR=str(data_dir),
        DATABASE_URL=f"sqlite:///{data_dir / 'yaji.sqlite3'}",
        YAJI_LOG_LEVEL="WARNING",
    )
    env.pop("REDIS_URL", None)
    return env


def _yaji(*args: str) -> list[str]:
    return [sys.executable, "-m", "yaji.cli", *args]


def _stop(process: subprocess.Popen[bytes], timeout: float = 45) -> int:
    # Longer than `yaji serve`'s 30 s graceful timeout: on a loaded machine a clean stop can
    # take most of it, and only a stop that never comes is a failure.
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        raise


def test_serve_answers_health_ready_metrics_and_openapi(tmp_path: Path) -> None:
    env = _env(tmp_path)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        _yaji("serve", f"127.0.0.1:{port}", "--threads", "4"),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, _body = _get(f"{base}/healthz")
                break
            except OSError:
                assert server.poll() is None, server.stdout.read().decode()  # type: ignore[union-attr]
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        assert status == 200

        # A fresh database: alive, but not ready until migrated.
        status, body = _get(f"{base}/readyz")
        assert status == 503
        migrations = json.loads(body)["checks"]["migrations"]
        assert migrations["ok"] is False
        assert migrations["pending_count"] >= len(migrations["pending"]) > 0
        assert all(name.count(".") == 1 for name in migrations["pending"])

        subprocess.run(_yaji("migrate", "--noinput"), env=env, check=True, capture_output=True)

        status, body = _get(f"{base}/readyz")
        assert status == 200, body
        status, body = _get(f"{base}/api/v1/openapi.json")
        assert status == 200
        assert json.loads(body)["openapi"].startswith("3.")
        status, body = _get(f"{base}/metrics")
        assert status == 200
        assert b'yaji_http_requests_total{method="GET",route="readyz",status="503"} 1.0' in body
        assert b'route="api/v1/openapi.json"' in body
    finally:
        code = _stop(server)
    output = server.stdout.read().decode()  # type: ignore[union-attr]
    assert code == 0, output
    assert f"{base}/admin/" in output
    assert f"{base}/api/v1/docs" in output


def test_worker_stops_gracefully_on_sigterm(tmp_path: Path) -> None:
    env = _env(tmp_path)
    subprocess.run(_yaji("migrate", "--noinput"), env=env, check=True, capture_output=True)
    worker = subprocess.Popen(
        _yaji("worker", "--interval", "0.2"),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert worker.stdout is not None
    first_line = worker.stdout.readline().decode()
    assert "running" in first_line
    started = time.monotonic()
    code = _stop(worker)
    output = worker.stdout.read().decode()
    assert code == 0, output
    assert "stopped" in output
    assert time.monotonic() - started < 10
