"""Prepared statements for the hot raw statements (ADR 0058): a ``prepared_cursor`` statement
is prepared on the server and answers as Django's cursor does; Django's own cursors still
prepare nothing; ``YAJI_PG_PREPARE=0`` gives Django's cursor."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from yaji.core.prepared import prepared_cursor

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

_PROBE = "SELECT %s::int + 1, %s::timestamptz, %s::text"


def _prepared() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_a_prepared_cursor_statement_is_prepared_and_answers_the_same() -> None:
    at = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    with connection.cursor() as cursor:
        cursor.execute(_PROBE, [41, at, "甲"])
        plain = cursor.fetchone()
    assert not any("::int + 1" in s for s in _prepared())  # Django's cursor: not prepared
    with CaptureQueriesContext(connection) as ctx:
        for _ in range(3):
            with prepared_cursor() as cursor:
                cursor.execute(_PROBE, [41, at, "甲"])
                assert cursor.fetchone() == plain == (42, at, "甲")
    assert len(ctx.captured_queries) == 3  # logged like any query
    assert [s for s in _prepared() if "::int + 1" in s] == [
        "SELECT $1::int + 1, $2::timestamptz, $3::text"
    ]
    with connection.cursor() as cursor:  # still client-side bound and unprepared afterwards
        cursor.execute("SELECT %s::int * 2", [21])
        assert cursor.fetchone() == (42,)
    assert not any("* 2" in s for s in _prepared())


def test_a_prepared_cursor_error_is_djangos_error() -> None:
    from django.db import ProgrammingError

    with pytest.raises(ProgrammingError), transaction.atomic(), prepared_cursor() as cursor:
        cursor.execute("SELECT no_such_column FROM redpackets_redpacket WHERE id = %s", [1])


def test_switched_off_it_is_djangos_cursor(settings: pytest.FixtureRequest) -> None:
    settings.YAJI_PG_PREPARE = False  # type: ignore[attr-defined]
    with prepared_cursor() as cursor:
        cursor.execute("SELECT %s::int - 1", [43])
        assert cursor.fetchone() == (42,)
    assert not any("- 1" in s for s in _prepared())
