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

It also offers :meth:`DatabaseWrapper.prepared_cursor` (ADR 0058): a cursor whose statements
are bound server-side and prepared on the connection, for the few hot statements that are the
same text request after request (the grab's token read, packet read and transaction). Django's
own cursors stay client-side bound and unprepared (its default, which keeps poolers working and
every ORM query as it was); see :func:`yaji.core.prepared.prepared_cursor`.
"""

from __future__ import annotations

import select
from typing import Any

from django.db.backends.postgresql import base
from psycopg import DataError, pq


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


ONLY_WHEN_ASKED = 2**31 - 1  # a prepare threshold no statement's count reaches


class PreparedCursor(base.ServerBindingCursor):  # type: ignore[misc,name-defined]  # psycopg 3 only
    """Server-side binding (``$n`` parameters) and every statement prepared: PostgreSQL parses
    and plans a statement's text once per connection, then only binds and executes it (after
    five runs its plan may become the generic one, planned no more). psycopg keeps the last 100
    statements prepared per connection and deallocates older ones."""

    def execute(
        self, query: Any, params: Any = None, *, prepare: bool | None = None, **kw: Any
    ) -> Any:
        return super().execute(query, params, prepare=True if prepare is None else prepare, **kw)


class DatabaseOperations(base.DatabaseOperations):  # type: ignore[misc,name-defined]
    def last_executed_query(self, cursor: Any, sql: str, params: Any) -> str | None:
        """A prepared statement's text as Django's client-side cursors log theirs (the values
        inlined), for query logs and ``CaptureQueriesContext``; composed only when logged."""
        if isinstance(cursor, PreparedCursor):
            try:
                return self.compose_sql(sql, params)
            except DataError:
                return sql
        return super().last_executed_query(cursor, sql, params)


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
    _prepared_next = False

    def prepared_cursor(self) -> Any:
        """Like :meth:`cursor` (health check, error wrapping, query logging, the connection's
        time zone), but a :class:`PreparedCursor`."""
        self._prepared_next = True
        try:
            return self._cursor()
        finally:
            self._prepared_next = False

    def create_cursor(self, name: str | None = None) -> Any:
        if name is None and self._prepared_next:
            # Django's own cursor set-up, with this class as the connection's cursor factory.
            if self.connection.prepare_threshold is None:
                # Django's "never prepare" (psycopg ignores ``prepare=True`` under it); this
                # threshold prepares only what a PreparedCursor asks for: Django's cursors are
                # client-side bound, which psycopg never prepares.
                self.connection.prepare_threshold = ONLY_WHEN_ASKED
            factory = self.connection.cursor_factory
            self.connection.cursor_factory = PreparedCursor
            try:
                return super().create_cursor(name)
            finally:
                self.connection.cursor_factory = factory
        return super().create_cursor(name)

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
