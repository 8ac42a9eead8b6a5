"""`yaji serve` and `yaji worker` as real processes on a fresh SQLite database."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.core.management.base import CommandError

from yaji.core.management.commands import serve
from yaji.core.management.commands.serve import _process_environment_hidden, parse_addrport


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


@pytest.mark.parametrize(
    ("embed", "expected"),
    [
        # 60 - 10 reserved = 50 connections for 5 workers: 10 each, 3 of them the background
        # worker's loops (outbox, tasks, periodic) when it is embedded.
        (True, 7),
        (False, 8),  # 5 × 8 = 40 fit
    ],
)
def test_threads_are_capped_below_max_connections(
    monkeypatch: pytest.MonkeyPatch, embed: bool, expected: int
) -> None:
    monkeypatch.setattr(serve, "_postgres_max_connections", lambda: 60)
    command = serve.Command()
    assert command._cap_threads(workers=5, threads=8, embed=embed) == expected


def test_granian_requests_do_not_carry_the_process_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://yaji:secret@db/yaji")
    monkeypatch.setenv("HTTP_X_SAMPLE", "from the environment")
    seen: dict[str, object] = {}

    def app(environ: dict, start_response: object) -> list[bytes]:
        seen.update(environ)
        return [b""]

    hidden = _process_environment_hidden(app)
    # What granian hands the app: its copy of os.environ, then the request's own scope.
    environ = {**os.environ, "PATH_INFO": "/healthz", "HTTP_X_SAMPLE": "from the request"}
    hidden(environ, lambda *a: None)
    assert "DATABASE_URL" not in seen
    assert seen["HTTP_X_SAMPLE"] == "from the request"
    assert seen["PATH_INFO"] == "/healthz"


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


@pytest.fixture(scope="module")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated database per module (migrating takes most of a test's time); copy it."""
    data_dir = tmp_path_factory.mktemp("migrated")
    subprocess.run(
        _yaji("migrate", "--noinput"), env=_env(data_dir), check=True, capture_output=True
    )
    return data_dir / "yaji.sqlite3"


def _stop(process: subprocess.Popen[bytes], timeout: float = 45) -> int:
    # Longer than `yaji serve`'s 30 s graceful timeout: on a loaded machine a clean stop can
    # take most of it, and only a stop that never comes is a failure.
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        raise


def _first_answer(server: subprocess.Popen, url: str, *, deadline: float) -> int:
    """The status of ``url`` once the server listens (it must not exit before)."""
    while True:
        try:
            status, _body = _get(url)
            return status
        except OSError:
            assert server.poll() is None, server.stdout.read().decode()  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.2)


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
        status = _first_answer(server, f"{base}/healthz", deadline=deadline)
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


def test_worker_stops_gracefully_on_sigterm(tmp_path: Path, migrated_sqlite: Path) -> None:
    env = _env(tmp_path)
    shutil.copy(migrated_sqlite, tmp_path / "yaji.sqlite3")
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


_PUBLISH = (
    "from django.db import transaction\n"
    "from yaji.core.outbox import outbox_publish\n"
    "with transaction.atomic():\n"
    "    outbox_publish(topic='test.granian', payload={'n': 1})\n"
)


def _outbox_statuses(database: Path) -> list[str]:
    with sqlite3.connect(database) as db:
        return [row[0] for row in db.execute("SELECT status FROM core_outboxevent")]


def test_serve_under_granian_answers_relays_the_outbox_and_stops_cleanly(
    tmp_path: Path, migrated_sqlite: Path
) -> None:
    env = _env(tmp_path)
    env["YAJI_LOG_LEVEL"] = "INFO"  # the background worker's start and stop lines
    shutil.copy(migrated_sqlite, tmp_path / "yaji.sqlite3")
    # An event nobody subscribes to: the embedded relay marks it delivered.
    subprocess.run(_yaji("shell", "-c", _PUBLISH), env=env, check=True, capture_output=True)
    assert _outbox_statuses(tmp_path / "yaji.sqlite3") == ["pending"]
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        _yaji("serve", f"127.0.0.1:{port}", "--server", "granian", "--threads", "2"),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        status = _first_answer(server, f"{base}/readyz", deadline=deadline)
        assert status == 200
        while _outbox_statuses(tmp_path / "yaji.sqlite3") != ["delivered"]:
            assert time.monotonic() < deadline, "the embedded worker did not relay the event"
            time.sleep(0.2)
        status, body = _get(f"{base}/metrics")
        assert status == 200
        assert b'yaji_http_requests_total{method="GET",route="readyz",status="200"} 1.0' in body
    finally:
        code = _stop(server)
    output = server.stdout.read().decode()  # type: ignore[union-attr]
    assert code == 0, output
    assert "granian, SQLite" in output
    assert "background worker started" in output
    assert "background worker stopped" in output
    # Django's logging survives granian's own: the access line is Django's.
    assert "yaji.access" in output
    assert "GET /readyz 200" in output
