"""The fast path's hand-packed EVALSHA (ADR 0059) answers what redis-py's Script answers, and
survives what a real Redis does to a client: a flushed script cache, a killed connection, a
timeout, a fork."""

from __future__ import annotations

import os
import socket
import threading

import pytest
import redis
from django.conf import settings
from redis.connection import Connection

from yaji.core.redis_lean import LeanScript, evalsha_packed

pytestmark = pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL")

SOURCE = """
local v = redis.call('GET', KEYS[1])
if not v then return false end
return {v, ARGV[1], tonumber(ARGV[2]) + 1, false}
"""


@pytest.fixture
def client():
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete("lean:k")
    yield client
    client.delete("lean:k")
    client.close()


@pytest.mark.parametrize(
    ("keys", "args"),
    [([], []), (["a", b"b"], ["x", 5, b"\x00\r\n", "中文"]), (["k"], [-12, ""])],
)
def test_packed_like_redis_py(keys, args):
    sha = b"f" * 40
    assert evalsha_packed(sha, keys, args) == b"".join(
        Connection().pack_command("EVALSHA", sha, len(keys), *keys, *args)
    )


@pytest.mark.parametrize("bad", [True, 1.5, None])
def test_refuses_what_redis_py_refuses(bad):
    with pytest.raises(TypeError):
        evalsha_packed(b"f" * 40, [], [bad])


@pytest.mark.parametrize("value", [None, b"hello"])
def test_answers_what_redis_py_script_answers(client, value):
    if value is not None:
        client.set("lean:k", value)
    lean = LeanScript(SOURCE)
    reference = client.register_script(SOURCE)
    args = ["arg", 41]
    assert lean(keys=["lean:k"], args=args, client=client) == reference(
        keys=["lean:k"], args=args, client=client
    )


def test_loads_the_script_again_after_a_flush(client):
    client.set("lean:k", "v")
    lean = LeanScript(SOURCE)
    client.script_flush()
    assert lean(keys=["lean:k"], args=["a", 1], client=client)[0] == b"v"
    assert client.script_exists(lean.sha.decode()) == [True]


def test_a_killed_connection_raises_once_then_reconnects(client):
    client.set("lean:k", "v")
    lean = LeanScript(SOURCE)
    assert lean(keys=["lean:k"], args=["a", 1], client=client)[0] == b"v"
    own = lean._connection(client)
    client.client_kill_filter(_id=_client_id(client, own))
    with pytest.raises((redis.ConnectionError, ConnectionError)):
        lean(keys=["lean:k"], args=["a", 1], client=client)
    assert lean(keys=["lean:k"], args=["a", 1], client=client)[0] == b"v"


def _client_id(client: redis.Redis, own: Connection) -> int:
    port = own._sock.getsockname()[1]
    for entry in client.client_list():
        if entry["addr"].endswith(f":{port}"):
            return int(entry["id"])
    raise AssertionError("the lean connection is not in CLIENT LIST")


def test_a_silent_redis_times_out():
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    silent = redis.Redis(
        port=listener.getsockname()[1], socket_timeout=0.2, socket_connect_timeout=0.2
    )
    raised: list[BaseException] = []

    def call() -> None:
        try:
            LeanScript(SOURCE)(keys=["k"], args=["a", 1], client=silent)
        except BaseException as exc:  # recorded for the assertion below
            raised.append(exc)

    caller = threading.Thread(target=call, daemon=True)
    caller.start()
    caller.join(5)
    listener.close()
    assert not caller.is_alive(), "a silent Redis hung the call"
    assert raised and isinstance(raised[0], redis.RedisError)


def test_one_connection_per_thread_and_per_process(client, monkeypatch):
    lean = LeanScript(SOURCE)
    mine = lean._connection(client)
    assert lean._connection(client) is mine
    other: list[Connection] = []
    thread = threading.Thread(target=lambda: other.append(lean._connection(client)))
    thread.start()
    thread.join()
    assert other[0] is not mine
    real_pid = os.getpid()
    monkeypatch.setattr(os, "getpid", lambda: real_pid + 1)  # as in a forked worker
    assert lean._connection(client) is not mine
