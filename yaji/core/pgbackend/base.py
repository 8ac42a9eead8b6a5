"""Django's PostgreSQL backend, its per-request health check (``CONN_HEALTH_CHECKS``) made cheap.

Django runs ``SELECT 1`` on a reused connection at each request's first query: one round trip
per request, on the grab about a tenth of the statements it sends (ADR 0053). What that check
finds in practice is a connection the server has ended — a restart, ``pg_terminate_backend``,
an idle timeout, a pooler closing it — and in each case the server's last words (an error
message, then the end of the stream) are already waiting on the socket. So the socket is polled
first, without waiting: nothing to read, libpq's status OK and no transaction open means the
connection is as usable as ``SELECT 1`` would find it, and the check is done. Anything waiting
on the socket (or any doubt) runs Django's own check, which closes a dead connection so the
request opens a new one. The checks after an error (``errors_occurred``) stay Django's.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base
from psycopg import pq


def connection_quiet(connection: object) -> bool:
    """The psycopg connection is open, idle, and the server has sent nothing since."""
    try:
        if connection.closed or connection.pgconn.status != pq.ConnStatus.OK:  # type: ignore[attr-defined]
            return False
        if connection.pgconn.transaction_status != pq.TransactionStatus.IDLE:  # type: ignore[attr-defined]
            return False
        readable, _w, _x = select.select([connection.fileno()], [], [], 0)  # type: ignore[attr-defined]
    except (OSError, ValueError):
        return False
    return not readable


class DatabaseWrapper(base.DatabaseWrapper):
    def close_if_health_check_failed(self) -> None:
        if (
            self.connection is not None
            and self.health_check_enabled
            and not self.health_check_done
            and not self.pool
            and connection_quiet(self.connection)
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()
