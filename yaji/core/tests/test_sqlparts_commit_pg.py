"""``sql_parts_execute_commit``: the parts and the COMMIT in one round trip (ADR 0049), and the
``required`` guard that fails the whole statement when a part wrote nothing."""

from __future__ import annotations

import pytest
from django.db import DataError, connection, transaction

from yaji.core.models import OutboxEvent
from yaji.core.outbox import outbox_part
from yaji.core.sqlparts import (
    REQUIRED_MISSING,
    SqlPart,
    sql_parts_execute_commit,
    sql_parts_statement,
)

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

# Returns the id of an outbox row that does not exist: writes nothing, returns NULL.
_NOTHING = SqlPart(
    "UPDATE core_outboxevent SET attempts = attempts WHERE topic = %s RETURNING topic",
    ("no.such.topic",),
    returns=True,
)


def test_the_parts_commit_with_the_statement() -> None:
    with transaction.atomic(durable=True), connection.cursor() as cursor:
        values = sql_parts_execute_commit(
            connection.connection,
            cursor,
            [outbox_part(topic="test.one_trip", payload={"n": 1}, key="k")],
        )
        # Committed already: another session sees the row before the block ends.
        assert connection.connection.info.transaction_status == 0  # IDLE
    assert values == (None,)
    assert OutboxEvent.objects.filter(topic="test.one_trip").count() == 1


def test_a_required_part_that_wrote_nothing_fails_the_statement_and_nothing_commits() -> None:
    with (
        pytest.raises(DataError) as raised,
        transaction.atomic(durable=True),
        connection.cursor() as cursor,
        connection.wrap_database_errors,
    ):
        sql_parts_execute_commit(
            connection.connection,
            cursor,
            [outbox_part(topic="test.guarded", payload={}, key="k"), _NOTHING],
            required=1,
        )
    assert raised.value.__cause__.sqlstate == REQUIRED_MISSING  # type: ignore[union-attr]
    assert not OutboxEvent.objects.filter(topic="test.guarded").exists()


def test_the_guard_is_one_more_result_column_only_when_asked() -> None:
    plain, _ = sql_parts_statement([_NOTHING])
    guarded, _ = sql_parts_statement([_NOTHING], required=0)
    assert "1 / (CASE WHEN" not in plain
    guard = ", 1 / (CASE WHEN ((SELECT * FROM _p0_)) IS NULL THEN 0 ELSE 1 END)"
    assert guarded == plain + guard
