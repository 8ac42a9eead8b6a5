"""The per-request health check (ADR 0053): no ``SELECT 1`` on a quiet connection, and a
connection the server ended is still found dead and replaced before the request's query."""

from __future__ import annotations

import time

import psycopg
import pytest
from django.core.signals import request_finished, request_started
from django.db import connection
from django.test.utils import CaptureQueriesContext
from psycopg.conninfo import make_conninfo

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def _request_queries() -> list[str]:
    """One request's worth: the signals Django sends around it, one query inside."""
    request_started.send(sender=None)
    try:
        with CaptureQueriesContext(connection) as ctx, connection.cursor() as cursor:
            cursor.execute("SELECT 41 + 1")
            assert cursor.fetchone() == (42,)
    finally:
        request_finished.send(sender=None)
    return [q["sql"] for q in ctx.captured_queries]


def test_a_quiet_connection_is_not_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    assert connection.health_check_enabled
    _request_queries()
    asked: list[bool] = []
    real = connection.is_usable
    monkeypatch.setattr(connection, "is_usable", lambda: asked.append(True) or real())
    assert _request_queries() == ["SELECT 41 + 1"]
    assert asked == []


def test_a_connection_the_server_ended_is_replaced() -> None:
    _request_queries()
    before = connection.connection.info.backend_pid
    with psycopg.connect(_conninfo(), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [before])
    for _ in range(50):  # the server's goodbye reaches the socket
        if not connection.connection.closed and _readable():
            break
        time.sleep(0.02)
    assert _request_queries() == ["SELECT 41 + 1"]  # no error: a new connection answered
    assert connection.connection.info.backend_pid != before


def _conninfo() -> str:
    s = connection.settings_dict
    return make_conninfo(
        dbname=s["NAME"],
        user=s.get("USER") or None,
        password=s.get("PASSWORD") or None,
        host=s.get("HOST") or None,
        port=str(s["PORT"]) if s.get("PORT") else None,
    )


def _readable() -> bool:
    from yaji.core.pgbackend.base import connection_quiet

    return not connection_quiet(connection.connection)
