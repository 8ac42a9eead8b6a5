"""Prepared statements for the few hottest raw statements (ADR 0058).

Django binds parameters client-side and never prepares (``prepare_threshold=None``), so
PostgreSQL parses and plans every statement it receives. For the red-packet grab that planning
was about a third of the database's CPU per grab: its five raw statements (token read, packet
read, decision + key reservation, slot, writes) are long ``WITH`` / subquery statements, sent
with the same text thousands of times. :func:`prepared_cursor` gives those callers a cursor that
binds server-side and prepares, as the bench's raw-SQL ceiling's plain psycopg connections
always did; everything else keeps Django's cursor.

A statement run through it must bind server-side: every ``%s`` is a typed parameter
(``$n``), so one PostgreSQL cannot type on its own (``SELECT %s`` alone, ``%s IS NULL``
without context) fails instead of being inlined. Behind a transaction-mode pooler,
prepared statements need one that tracks them (PgBouncer ≥ 1.21 with
``max_prepared_statements``); ``YAJI_PG_PREPARE=0`` turns them off (the same cursor as
everywhere else).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections


def prepared_cursor(using: str = DEFAULT_DB_ALIAS) -> Any:
    """A cursor (a context manager, like ``connection.cursor()``) whose statements PostgreSQL
    prepares; on another database, or with ``YAJI_PG_PREPARE=0``, the connection's usual
    cursor."""
    connection = connections[using]
    make = getattr(connection, "prepared_cursor", None)
    if make is None or not settings.YAJI_PG_PREPARE:
        return connection.cursor()
    return make()
