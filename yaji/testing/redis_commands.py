"""Counting the commands a test's code sends to Redis."""

from __future__ import annotations

from typing import Any

import pytest
from redis.connection import AbstractConnection


def redis_commands_counted(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The name of every command sent from now on, on any connection (redis-py's pool or a
    connection of the code's own, ADR 0059): RESP's first bulk string, in order."""
    sent: list[bytes] = []
    real = AbstractConnection.send_packed_command

    def counting(self: Any, command: Any, *args: Any, **kwargs: Any) -> Any:
        packed = b"".join(command) if isinstance(command, list | tuple) else command
        sent.append(packed.split(b"\r\n")[2])
        return real(self, command, *args, **kwargs)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counting)
    return sent
