"""The database a benchmark runs against: PostgreSQL only, a scratch database by default.

A benchmark seeds thousands of users, packets and postings; it must never do that in the
database ``DATABASE_URL`` names. By default it creates ``<name>_run`` next to it (dropped first
if a previous run left it), migrates it, points this process's Django connection and the server
subprocess at it, and drops it afterwards unless ``--keep-db`` (then the next ``--keep-db`` run
reuses it and only pending migrations run). ``--in-place`` uses ``DATABASE_URL``'s database as
it is (already migrated, disposable): the test does this on pytest's test database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import psycopg
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections
from psycopg import sql
from psycopg.conninfo import make_conninfo

SCRATCH_SUFFIX = "_run"
PG_NAME_MAX = 63

NOT_POSTGRES = (
    "yaji bench needs PostgreSQL: set DATABASE_URL=postgres://USER@HOST:5432/NAME. "
    "SQLite takes one writer at a time, so concurrent throughput measured on it means nothing."
)


@dataclass(frozen=True, slots=True)
class BenchDatabase:
    name: str
    url: str  # DATABASE_URL for the server subprocess
    conninfo: str  # for the raw-SQL ceiling's own psycopg connections
    scratch: bool


def require_postgres() -> None:
    if connections["default"].vendor != "postgresql":
        raise CommandError(NOT_POSTGRES)


def _settings() -> dict[str, Any]:
    return connections["default"].settings_dict


def _conninfo(name: str) -> str:
    s = _settings()
    return make_conninfo(
        dbname=name,
        user=s.get("USER") or None,
        password=s.get("PASSWORD") or None,
        host=s.get("HOST") or None,
        port=str(s["PORT"]) if s.get("PORT") else None,
    )


def _url(name: str) -> str:
    s = _settings()
    auth = quote(s.get("USER") or "", safe="")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"], safe="")
    host = s.get("HOST") or "127.0.0.1"
    port = f":{s['PORT']}" if s.get("PORT") else ""
    return f"postgres://{auth}{'@' if auth else ''}{host}{port}/{quote(name, safe='')}"


def _use(name: str) -> None:
    """Point this process's default connection at database ``name`` (closed, reopened lazily)."""
    connections["default"].close()
    _settings()["NAME"] = name


@contextmanager
def bench_database(
    *, in_place: bool, keep: bool, say: Callable[[str], None]
) -> Iterator[BenchDatabase]:
    require_postgres()
    base = _settings()["NAME"]
    if in_place:
        yield BenchDatabase(name=base, url=_url(base), conninfo=_conninfo(base), scratch=False)
        return

    name = f"{base}{SCRATCH_SUFFIX}"
    if len(name) > PG_NAME_MAX:
        raise CommandError(f"scratch database name {name!r} is longer than {PG_NAME_MAX}")
    ident = sql.Identifier(name)
    with psycopg.connect(_conninfo(base), autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and not keep:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(ident))
            exists = None
        if not exists:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(ident))
    say(f"scratch database {name} ({'kept' if keep else 'dropped afterwards'}); migrating…")
    _use(name)
    try:
        call_command("migrate", verbosity=0, interactive=False)
        yield BenchDatabase(name=name, url=_url(name), conninfo=_conninfo(name), scratch=True)
    finally:
        connections.close_all()
        _use(base)
        if not keep:
            with psycopg.connect(_conninfo(base), autocommit=True) as admin:
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))
