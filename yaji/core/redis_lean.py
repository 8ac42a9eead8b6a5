"""A Lua script called with EVALSHA on a connection of its own, packed by hand (ADR 0059).

redis-py's ``Script.__call__`` goes through ``Redis.execute_command``: it encodes every
argument, takes a connection from the pool and gives it back, and runs the client's
observability hooks — ~100 µs of Python per call on this machine, more than the round trip
itself. The fast path (ADR 0043) makes exactly one Redis call per answer, the same script
every time, so it sends that call here instead: the command packed with one ``bytes.join``
and written to a connection this thread keeps for itself (made from the client's own pool
settings: host, password, db, TLS, protocol and timeouts as configured), the reply read by
the connection's own parser — so the values are exactly what ``Script.__call__`` returns.

Errors are redis-py's: a connection or timeout error drops the connection (the next call
reconnects) and is raised; ``NOSCRIPT`` (a restarted or flushed Redis) loads the script
through the client and retries once, as ``Script.__call__`` does. Only for read-only,
single-reply calls: nothing is pipelined, and a reply is read before the next call is sent.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence
from typing import Any

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError
from redis.exceptions import TimeoutError as RedisTimeoutError


def _arg(value: str | bytes | int) -> bytes:
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, bytes):
        return value
    if isinstance(value, int) and not isinstance(value, bool):  # redis-py refuses a bool too
        return b"%d" % value
    raise TypeError(f"not a Redis argument: {type(value).__name__}")


def evalsha_packed(sha: bytes, keys: Sequence[Any], args: Sequence[Any]) -> bytes:
    """``EVALSHA sha len(keys) *keys *args`` as RESP: the bytes redis-py's packer sends."""
    numkeys = b"%d" % len(keys)
    values = [_arg(v) for v in (*keys, *args)]
    head = b"*%d\r\n$7\r\nEVALSHA\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (
        len(values) + 3,
        len(sha),
        sha,
        len(numkeys),
        numkeys,
    )
    return head + b"".join(b"$%d\r\n%s\r\n" % (len(v), v) for v in values)


class LeanScript:
    """``source`` callable like ``client.register_script(source)(keys, args, client)``."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.sha = hashlib.sha1(source.encode()).hexdigest().encode()  # noqa: S324  # Redis's name
        self._local = threading.local()

    def _connection(self, client: Redis) -> Any:
        pool = client.connection_pool
        pid = os.getpid()
        held = getattr(self._local, "held", None)
        if held is None or held[0] is not pool or held[1] != pid:
            # Not taken from the pool (it would count it as in use for ever): a connection of
            # the same class with the same settings, for this thread only — and this process
            # (a forked worker must not share its parent's socket, as redis-py's pool ensures).
            held = (pool, pid, pool.connection_class(**dict(pool.connection_kwargs)))
            self._local.held = held
        return held[2]

    def __call__(self, *, keys: Sequence[Any], args: Sequence[Any], client: Redis) -> Any:
        connection = self._connection(client)
        try:
            return self._call(connection, keys, args)
        except NoScriptError:
            client.script_load(self.source)
            return self._call(connection, keys, args)

    def _call(self, connection: Any, keys: Sequence[Any], args: Sequence[Any]) -> Any:
        try:
            connection.send_packed_command(
                [evalsha_packed(self.sha, keys, args)], check_health=False
            )
            return connection.read_response()
        except (RedisConnectionError, RedisTimeoutError, OSError):
            connection.disconnect()  # a reply half read must not be read by the next call
            raise
