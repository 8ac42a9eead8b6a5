"""Several apps' writes in one round trip (PostgreSQL): statement parts joined into one ``WITH``.

A hot transaction that holds a contended row lock (a red packet's slot, ADR 0044) pays for
every round trip made while it holds it. Each app keeps writing its own tables — the ledger
its posting, the outbox its events, idempotency its record — but instead of executing, it
returns a *part*; the caller joins the parts into one data-modifying ``WITH`` statement::

    parts = [claim_part, ledger_transfer_part(...), outbox_part(...)]
    claim_id, transaction_id, _ = sql_parts_execute(cursor, parts)

PostgreSQL runs every data-modifying CTE exactly once, all with the statement's snapshot, and
the statement is atomic: any error (a unique violation, a CHECK) fails all of it. Parts must not
read each other's writes (they cannot: one snapshot); a part that depends on its own earlier
rows (the ledger's lock → transaction → entries) chains its CTEs through ``RETURNING``.

- :class:`SqlPart` is one statement (``INSERT``/``UPDATE``, optionally ``RETURNING`` one column);
  it can also run alone (:func:`sql_part_execute`), on SQLite too if its SQL is portable.
- :func:`sql_insert_part` is a model instance's ``INSERT`` built from the model's own fields
  (``pre_save`` and database preparation as ``Model.save`` does them), so no hand-written
  column list has to follow the model.
- :class:`SqlChain` is several CTEs of one app (``{p}`` in their SQL is the part's unique
  prefix) and a scalar ``result`` expression over them; PostgreSQL only.

SQLite has no data-modifying CTEs: callers keep their ORM path there (it is the reference the
PostgreSQL path is tested against).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Model


@dataclass(frozen=True, slots=True)
class SqlPart:
    """One write statement; ``returns``: it ends in ``RETURNING <one column>``."""

    sql: str
    params: tuple[Any, ...]
    returns: bool = False


@dataclass(frozen=True, slots=True)
class SqlChain:
    """CTEs ``(name, "(body)" or "MATERIALIZED (body)")`` with ``{p}`` as their prefix, and a
    scalar ``result`` expression over them (``NULL`` for none)."""

    ctes: tuple[tuple[str, str], ...]
    params: tuple[Any, ...]
    result: str = "NULL"


Part = SqlPart | SqlChain

REQUIRED_MISSING = "22012"  # the SQLSTATE of a failed ``required`` guard (division_by_zero)


def sql_parts_statement(
    parts: Sequence[Part], *, required: int | None = None
) -> tuple[str, list[Any]]:
    """The ``WITH`` statement of ``parts`` and its parameters (in the statement's order).
    ``required``: the index of a part whose value must not be NULL — if it is, the statement
    fails (SQLSTATE 22012, ``division_by_zero``) and nothing of it is written."""
    if not parts:
        raise ValueError("no statement parts")
    ctes: list[str] = []
    results: list[str] = []
    params: list[Any] = []
    for index, part in enumerate(parts):
        prefix = f"_p{index}_"
        if isinstance(part, SqlPart):
            ctes.append(f"{prefix} AS ({part.sql})")
            results.append(f"(SELECT * FROM {prefix})" if part.returns else "NULL")  # noqa: S608
        else:
            for name, body in part.ctes:
                ctes.append(f"{prefix}{name} AS {body.replace('{p}', prefix)}")
            results.append(part.result.replace("{p}", prefix))
        params.extend(part.params)
    if required is not None:
        results.append(f"1 / (CASE WHEN ({results[required]}) IS NULL THEN 0 ELSE 1 END)")
    return "WITH " + ", ".join(ctes) + " SELECT " + ", ".join(results), params


def sql_parts_execute(cursor: Any, parts: Sequence[Part]) -> tuple[Any, ...]:
    """Run ``parts`` as one statement (PostgreSQL); one value per part: what a returning
    :class:`SqlPart` returned (None if it wrote nothing), a chain's ``result``, else None."""
    sql, params = sql_parts_statement(parts)
    cursor.execute(sql, params)
    row = cursor.fetchone()
    return tuple(row)


def sql_parts_execute_commit(
    connection: Any, cursor: Any, parts: Sequence[Part], *, required: int | None = None
) -> tuple[Any, ...]:
    """Run ``parts`` as one statement and ``COMMIT`` in the same round trip (psycopg's pipeline
    mode on ``connection``, the psycopg connection ``cursor`` belongs to): the last round trip of
    a transaction holding a contended row lock, which the commit releases — one wake-up of the
    holder fewer than execute, read, commit. ``required``: see :func:`sql_parts_statement` (a
    write that must have happened, checked by the database, since nothing can be checked in
    Python before the commit). Errors (the statement's, or the commit's) raise from here with
    nothing committed; the caller rolls the transaction back. Returns one value per part."""
    sql, params = sql_parts_statement(parts, required=required)
    with connection.pipeline():
        cursor.execute(sql, params)
        connection.commit()
    row = cursor.fetchone()
    return tuple(row)[: len(parts)]


def sql_part_execute(cursor: Any, part: SqlPart) -> Any:
    """Run one part on its own; what it returned, else None."""
    cursor.execute(part.sql, list(part.params))
    if not part.returns:
        return None
    row = cursor.fetchone()
    return row[0] if row else None


def sql_insert_part(instance: Model) -> SqlPart:
    """The ``INSERT`` of an unsaved ``instance`` as a part: every concrete column, prepared as
    ``Model.save`` prepares it (``auto_now``/``auto_now_add`` set on the instance too); a primary
    key left None is left to the database (its identity default). Portable SQL."""
    qn = connection.ops.quote_name
    columns: list[str] = []
    params: list[Any] = []
    for field in instance._meta.concrete_fields:
        if field.primary_key and getattr(instance, field.attname) is None:
            continue
        value = field.pre_save(instance, add=True)
        columns.append(qn(field.column))
        params.append(field.get_db_prep_save(value, connection))
    sql = (
        f"INSERT INTO {qn(instance._meta.db_table)} ({', '.join(columns)}) "  # noqa: S608  # model's own names
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    return SqlPart(sql, tuple(params))


# --- reading rows back as models (a hot path's one plain read instead of the ORM's compile) ---

_CONVERTERS: dict[tuple[str, type[Model]], list[tuple[Any, Any, list[Any]]]] = {}


def sql_model_columns(model: type[Model], alias: str) -> str:
    """``alias."col", …`` of every concrete field of ``model``, in :func:`sql_model_from_row`'s
    order (portable SQL)."""
    qn = connection.ops.quote_name
    return ", ".join(f"{alias}.{qn(field.column)}" for field in model._meta.concrete_fields)


def sql_model_from_row(model: type[Model], row: Sequence[Any], start: int = 0) -> Model | None:
    """The ``model`` instance whose :func:`sql_model_columns` begin at ``row[start]``, its
    values converted as the ORM converts them (None when its primary key is NULL: an outer join
    that found nothing)."""
    key = (connection.vendor, model)
    fields = _CONVERTERS.get(key)
    if fields is None:
        fields = []
        for field in model._meta.concrete_fields:
            col = field.get_col(model._meta.db_table)
            converters = connection.ops.get_db_converters(col) + field.get_db_converters(connection)
            fields.append((field, col, converters))
        _CONVERTERS[key] = fields
    values = []
    for offset, (field, col, converters) in enumerate(fields):
        value = row[start + offset]
        if field.primary_key and value is None:
            return None
        for converter in converters:
            value = converter(value, col, connection)
        values.append(value)
    return model.from_db(connection.alias, [field.attname for field, _, _ in fields], values)
