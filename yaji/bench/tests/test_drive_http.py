"""Both HTTP load generators (ADR 0048) against a small real server on 127.0.0.1: every answer
lands at its own call's index with its exact status and body, whatever the framing
(Content-Length, chunked, ``Connection: close``), and a dead port is an error, not a hang."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from yaji.bench import drive
from yaji.bench.drive import HttpCall, drive_http, http_client_use
from yaji.bench.server import free_port

CLIENTS = [
    "python",
    pytest.param(
        "node",
        marks=pytest.mark.skipif(shutil.which("node") is None, reason="Node.js not installed"),
    ),
]


class _Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive unless told otherwise

    def log_message(self, *_args: object) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        answer = f"{self.path}|{body.decode()}|{self.headers.get('X-Tag', '')}".encode()
        kind = self.path.split("/")[1]
        if kind == "chunked":
            self.send_response(201)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (answer, b"-tail"):
                self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
            return
        self.send_response(409 if kind == "refuse" else 200)
        self.send_header("Content-Length", str(len(answer)))
        if kind == "close":
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(answer)

    do_GET = do_POST


@pytest.fixture
def echo_port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def _restore_choice() -> Iterator[None]:
    yield
    http_client_use("auto")


def _expected(i: int) -> tuple[int, bytes]:
    kind = ("plain", "chunked", "close", "refuse")[i % 4]
    body = f"/{kind}/{i}|b{i}|t{i}".encode()
    status = {"plain": 200, "chunked": 201, "close": 200, "refuse": 409}[kind]
    return status, body + (b"-tail" if kind == "chunked" else b"")


@pytest.mark.parametrize("client", CLIENTS)
def test_every_answer_lands_at_its_own_index(client: str, echo_port: int) -> None:
    http_client_use(client)
    calls = [
        HttpCall(
            method="POST",
            path=f"/{('plain', 'chunked', 'close', 'refuse')[i % 4]}/{i}",
            body=f"b{i}".encode(),
            headers={"X-Tag": f"t{i}", "Content-Type": "text/plain"},
        )
        for i in range(400)
    ]
    progress: list[int] = []

    result = drive_http(
        port=echo_port, calls=calls, concurrency=8, deadline_s=60, on_done=progress.append
    )

    assert result.client == client
    assert not result.timed_out
    assert sum(progress) == len(calls)
    for i, outcome in enumerate(result.outcomes):
        assert outcome is not None, i
        assert (outcome.status, outcome.body) == _expected(i), i
        assert outcome.latency_s > 0


@pytest.mark.parametrize("client", CLIENTS)
def test_nobody_listening_is_an_error_outcome(client: str) -> None:
    http_client_use(client)
    calls = [HttpCall(method="GET", path="/plain/1")] * 3

    result = drive_http(
        port=free_port(), calls=calls, concurrency=2, deadline_s=10, on_done=lambda _n: None
    )

    assert [o.status if o else None for o in result.outcomes] == [0, 0, 0]
    assert all(o.error for o in result.answered)


def test_signed_calls_always_use_the_python_client(echo_port: int) -> None:
    if shutil.which("node") is not None:
        http_client_use("node")
    calls = [HttpCall(method="POST", path="/plain/0", body=b"b0", sign=lambda _b: {"X-Tag": "t0"})]

    result = drive_http(
        port=echo_port, calls=calls, concurrency=1, deadline_s=10, on_done=lambda _n: None
    )

    assert result.client == "python"
    assert result.outcomes[0] is not None and result.outcomes[0].body == b"/plain/0|b0|t0"


def test_unknown_client_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown HTTP client"):
        http_client_use("curl")
    assert drive._http_client_choice == "auto"
