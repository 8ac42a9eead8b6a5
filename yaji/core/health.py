"""Readiness checks: can this process serve real traffic right now?"""

from __future__ import annotations

from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor


def _database() -> dict[str, Any]:
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "not ready", reported, not raised
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True}


def _migrations() -> dict[str, Any]:
    try:
        connection = connections[DEFAULT_DB_ALIAS]
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}
    pending = [f"{migration.app_label}.{migration.name}" for migration, _ in plan]
    # The names are capped so a fresh database does not make a huge probe answer.
    return {"ok": not pending, "pending_count": len(pending), "pending": pending[:20]}


def readiness() -> dict[str, dict[str, Any]]:
    database = _database()
    if not database["ok"]:
        return {"database": database, "migrations": {"ok": False, "error": "database unreachable"}}
    return {"database": database, "migrations": _migrations()}
