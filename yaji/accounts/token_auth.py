"""Bearer-token authentication on the request path: one plain statement, or a cache hit.

Why (ADR 0036): the ORM version — ``ApiToken.objects.select_related("user", "device")
.filter(...).first()`` plus two autocommitted UPDATEs on first use per minute — was about half
of the CPU of a trivial authenticated request; compiling the query and building three model
instances cost more than the indexed look-up itself.

* **The statement**: the token's columns and the user's, by ``token_hash``, in one hand-written
  ``SELECT`` whose Python-side converters are resolved once per backend; the ``User`` is built
  with ``Model.from_db`` like the ORM would, without ``password`` and ``phone`` (deferred: loaded
  on first access, so neither the hash nor the ciphertext travels per request or sits in a
  cache). The device is not loaded (``token.device_id`` is).
* **The cache** (when enabled: Redis is configured, or ``YAJI_AUTH_CACHE=on``): the raw row of
  a *valid* token, keyed by the token hash, for at most ``ENTRY_TTL_S`` and never past the
  token's expiry, stamped with the user's **auth generation** as read *before* the row was read
  from the database. A hit counts only if the user's generation is still that value. Every
  event that can make a token or its user's row stale writes a new random generation after its
  transaction commits (:func:`auth_generation_bump`): revocation (logout, device sign-out,
  refresh rotation and reuse, password change and reset — all through ``_tokens_revoke``) and
  every save or delete of the user row (deactivation, deletion, profile, password; a signal,
  since it must not depend on every writer remembering). Revocation also deletes the entries
  of the revoked tokens. A missing generation never matches, so an evicted generation key fails
  safe (a database read), never open.
* **Near copies** (ADR 0060, ``token_near``): with Redis, storing an entry and bumping a
  generation are Lua scripts that also publish the change, so every process can keep copies of
  the entries; the fast path's read-only peek looks at them first.
* **The touch**: ``last_used_at`` stays throttled to once per ``TOKEN_TOUCH_INTERVAL`` per token
  and is one statement; on PostgreSQL the device's ``last_seen_at`` is updated in the same
  statement (a data-modifying CTE), on SQLite by a second one.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.signals import setting_changed
from django.db import connection, transaction
from django.db.models import Field
from django.db.models.expressions import Col

from yaji.accounts.errors import TokenInvalid
from yaji.accounts.models import ApiToken, Device, TokenKind, User
from yaji.accounts.token_near import BUMP as NEAR_BUMP
from yaji.accounts.token_near import STORE as NEAR_STORE
from yaji.accounts.token_near import bump_message, near_tokens, store_head
from yaji.core import clock
from yaji.core.cache import events_channel
from yaji.core.prepared import prepared_cursor
from yaji.core.redis_lean import LeanScript

ENTRY_TTL_S = 30
# Longer than any entry lives; an expired generation only costs a database read.
GENERATION_TTL_S = 24 * 3600
TOKEN_TOUCH_INTERVAL = timedelta(seconds=60)
ACCESS_PREFIX = "yat_"

# Not loaded on the request path (deferred fields, fetched on first access): the password hash
# and the encrypted phone number have no business in a cache or in every request's memory.
_USER_DEFERRED = frozenset({"password", "phone"})
_TOKEN_FIELDS = ("id", "device_id", "expires_at", "revoked_at", "last_used_at")


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _entry_key(hashed: str) -> str:
    return f"auth:tok:{hashed}"


def _user_key(hashed: str) -> str:
    return f"auth:uid:{hashed}"  # a token's user never changes


def _generation_key(user_id: int) -> str:
    return f"auth:gen:{user_id}"


def cache_enabled() -> bool:
    mode = getattr(settings, "YAJI_AUTH_CACHE", "auto")
    if mode == "auto":
        # Without Redis the cache is per process; with several worker processes a revocation in
        # one would not reach the others' caches. So only where the cache is shared.
        return bool(getattr(settings, "REDIS_URL", None))
    return mode == "on"


# --- the statement ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Statement:
    sql: str
    # PostgreSQL: the same row, and the touch when due, in one statement (see _row_read).
    sql_touching: str
    token_converters: tuple[tuple[Col, tuple[Callable[..., Any], ...]], ...]
    user_fields: tuple[str, ...]
    user_converters: tuple[tuple[Col, tuple[Callable[..., Any], ...]], ...]


_statements: dict[str, _Statement] = {}


def _converters(fields: Sequence[Field], alias: str) -> tuple:  # type: ignore[type-arg]
    out = []
    for field in fields:
        col = field.get_col(alias)
        out.append(
            (col, tuple(connection.ops.get_db_converters(col) + col.get_db_converters(connection)))
        )
    return tuple(out)


def _statement() -> _Statement:
    found = _statements.get(connection.vendor)
    if found is not None:
        return found
    q = connection.ops.quote_name
    token_fields = [ApiToken._meta.get_field(name) for name in _TOKEN_FIELDS]
    user_fields = [f for f in User._meta.concrete_fields if f.attname not in _USER_DEFERRED]
    token_table, user_table = q(ApiToken._meta.db_table), q(User._meta.db_table)
    columns = [f"t.{q(f.column)}" for f in token_fields] + [f"u.{q(f.column)}" for f in user_fields]
    joined = (
        f"FROM {token_table} t INNER JOIN {user_table} u ON u.{q('id')} = t.{q('user_id')} "
        f"WHERE t.{q('token_hash')} = %s AND t.{q('kind')} = %s"
    )
    sql = f"SELECT {', '.join(columns)} {joined}"
    found = _Statement(
        sql=sql,
        sql_touching=_touching_sql(columns, joined, token_fields, user_fields),
        token_converters=_converters(token_fields, "t"),
        user_fields=tuple(f.attname for f in user_fields),
        user_converters=_converters(user_fields, "u"),
    )
    _statements[connection.vendor] = found
    return found


def _touching_sql(
    columns: list[str],
    joined: str,
    token_fields: Sequence[Field],  # type: ignore[type-arg]
    user_fields: Sequence[Field],  # type: ignore[type-arg]
) -> str:
    """The read as a CTE, and :func:`_touch`'s two UPDATEs on the row it found, done only if
    the token is live (:func:`_valid`'s conditions) and its touch is due — the same rows
    written under the same conditions as ``_touch`` after ``_valid``. Parameters: the read's,
    then now (the touch), now (not expired), the cutoff, now (the device). The outer SELECT
    gives the row as read (the touch's new time is set in Python, as ``_touch`` does)."""
    q = connection.ops.quote_name
    tokens, devices = q(ApiToken._meta.db_table), q(Device._meta.db_table)
    aliases = [f"c{i}" for i in range(len(columns))]
    token_id = aliases[[f.attname for f in token_fields].index("id")]
    active = aliases[len(token_fields) + [f.attname for f in user_fields].index("is_active")]
    last_used = q("last_used_at")
    return (
        f"WITH found AS (SELECT {', '.join(f'{c} AS {a}' for c, a in zip(columns, aliases, strict=True))} "  # noqa: S608 - identifiers from model metadata; values are parameters
        f"{joined}), "
        f"touched AS (UPDATE {tokens} SET {last_used} = %s "
        f"WHERE {q('id')} = (SELECT {token_id} FROM found) AND (SELECT {active} FROM found) "
        f"AND {q('revoked_at')} IS NULL AND {q('expires_at')} > %s "
        f"AND ({last_used} IS NULL OR {last_used} < %s) RETURNING {q('device_id')}), "
        f"seen AS (UPDATE {devices} SET {q('last_seen_at')} = %s "
        f"WHERE {q('id')} IN (SELECT {q('device_id')} FROM touched)) "
        f"SELECT {', '.join(aliases)} FROM found"
    )


def _convert(values: Sequence[Any], converters: tuple) -> list[Any]:  # type: ignore[type-arg]
    out = []
    for value, (col, funcs) in zip(values, converters, strict=True):
        for func in funcs:
            value = func(value, col, connection)
        out.append(value)
    return out


@dataclass(frozen=True, slots=True)
class _Row:
    """The raw (database-typed) values of one token and its user: what the cache stores."""

    token: tuple[Any, ...]
    user: tuple[Any, ...]


def _row_read(hashed: str, *, touch_at: datetime | None = None) -> _Row | None:
    """The token's row. ``touch_at`` (PostgreSQL): touch it in the same statement if it is
    live and its touch is due at that time (one round trip fewer on a token's first request of
    the minute; the caller still runs ``_valid`` and sets the touched time, see
    :func:`_read_valid`)."""
    statement = _statement()
    # Prepared (ADR 0058): the same text on every uncached bearer request.
    with prepared_cursor() as cursor:
        if touch_at is not None and connection.vendor == "postgresql":
            cursor.execute(
                statement.sql_touching,
                [
                    hashed,
                    TokenKind.ACCESS.value,
                    touch_at,
                    touch_at,
                    touch_at - TOKEN_TOUCH_INTERVAL,
                    touch_at,
                ],
            )
        else:
            cursor.execute(statement.sql, [hashed, TokenKind.ACCESS.value])
        found = cursor.fetchone()
    if found is None:
        return None
    split = len(_TOKEN_FIELDS)
    return _Row(token=tuple(found[:split]), user=tuple(found[split:]))


def _token_build(row: _Row) -> ApiToken:
    statement = _statement()
    token_id, device_id, expires_at, revoked_at, last_used_at = _convert(
        row.token, statement.token_converters
    )
    user = User.from_db(
        connection.alias, list(statement.user_fields), _convert(row.user, statement.user_converters)
    )
    token = ApiToken.from_db(
        connection.alias,
        ["id", "user_id", "device_id", "kind", "expires_at", "revoked_at", "last_used_at"],
        [token_id, user.pk, device_id, TokenKind.ACCESS, expires_at, revoked_at, last_used_at],
    )
    token.user = user
    return token


def _valid(token: ApiToken, now: datetime) -> bool:
    user: User = token.user
    return token.revoked_at is None and token.expires_at > now and user.is_active


# --- the touch -------------------------------------------------------------------------------


def _touch_due(token: ApiToken, now: datetime) -> bool:
    return token.last_used_at is None or now - token.last_used_at > TOKEN_TOUCH_INTERVAL


def _touch(token: ApiToken, now: datetime) -> bool:
    """Record the use; throttled by the ``WHERE`` too, so processes racing write once."""
    if not _touch_due(token, now):
        return False
    q = connection.ops.quote_name
    tokens, devices = q(ApiToken._meta.db_table), q(Device._meta.db_table)
    last_used, last_seen, pk = q("last_used_at"), q("last_seen_at"), q("id")
    cutoff = now - TOKEN_TOUCH_INTERVAL
    update_token = (
        f"UPDATE {tokens} SET {last_used} = %s WHERE {pk} = %s "  # noqa: S608 - identifiers from model metadata; values are parameters
        f"AND ({last_used} IS NULL OR {last_used} < %s)"
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"WITH touched AS ({update_token} RETURNING {q('device_id')}) "  # noqa: S608 - identifiers from model metadata; values are parameters
                f"UPDATE {devices} SET {last_seen} = %s "
                f"WHERE {pk} IN (SELECT {q('device_id')} FROM touched)",
                [now, token.pk, cutoff, now],
            )
        else:
            cursor.execute(update_token, [now, token.pk, cutoff])
            if cursor.rowcount:
                Device.objects.filter(pk=token.device_id).update(last_seen_at=now)
    token.last_used_at = now
    return True


def _read_valid(hashed: str, now: datetime) -> tuple[ApiToken, _Row]:
    """The live token from the database (else ``TokenInvalid``), its use recorded when due,
    and its row with the recorded time. PostgreSQL: read and touch are one statement."""
    touching = connection.vendor == "postgresql"
    row = _row_read(hashed, touch_at=now) if touching else _row_read(hashed)
    if row is None:
        raise TokenInvalid()
    token = _token_build(row)
    if not _valid(token, now):
        raise TokenInvalid()  # the statement's touch wrote nothing either
    if touching:
        touched = _touch_due(token, now)
        if touched:
            token.last_used_at = now
    else:
        touched = _touch(token, now)
    if touched:
        row = _Row(token=_raw_with_last_used(row, token), user=row.user)
    return token, row


# --- the cache -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Entry:
    generation: str
    user_id: int
    row: _Row


def _generation_current(user_id: int) -> str:
    """The user's generation, created if absent (so an entry never carries "none")."""
    key = _generation_key(user_id)
    current = cache.get(key)
    if current is None:
        cache.add(key, secrets.token_hex(8), GENERATION_TTL_S)
        current = cache.get(key)
    return str(current) if current is not None else ""


def _entry_store(hashed: str, entry: _Entry, token: ApiToken, now: datetime) -> None:
    ttl = min(ENTRY_TTL_S, int((token.expires_at - now).total_seconds()))
    if ttl <= 0 or not entry.generation:
        return
    conf = _peek_conf_get()
    backend = conf.backend
    if backend is None:  # the in-process cache (YAJI_AUTH_CACHE=on without Redis)
        cache.set(_entry_key(hashed), entry, ttl)
        return
    # Stored as cache.set would, and announced to every process's near copies (ADR 0060) in
    # the same script, only if the generation it carries is still the user's.
    dumps = backend._cache._serializer.dumps
    client = backend._cache.get_client(write=True)
    stored = dumps(entry)
    head = store_head(hashed=hashed, user_id=entry.user_id, ttl_s=ttl, generation=entry.generation)
    announced = _scripts_get(client)[0](
        keys=[
            backend.make_key(_entry_key(hashed)),
            backend.make_key(_generation_key(entry.user_id)),
        ],
        args=[stored, ttl, dumps(entry.generation), conf.channel, head],
        client=client,
    )
    if announced and conf.near:
        near_tokens.applied_here(head + stored, channel=conf.channel)


_scripts: dict[int, tuple[Any, Any]] = {}


def _scripts_get(client: Any) -> tuple[Any, Any]:
    """The store and bump scripts (token_near) registered on ``client``."""
    found = _scripts.get(id(client))
    if found is None or found[0].registered_client is not client:
        found = _scripts[id(client)] = (
            client.register_script(NEAR_STORE),
            client.register_script(NEAR_BUMP),
        )
    return found


def _authenticate_cached(hashed: str, now: datetime) -> ApiToken:
    found = cache.get_many([_entry_key(hashed), _user_key(hashed)])
    entry: _Entry | None = found.get(_entry_key(hashed))
    if entry is not None and cache.get(_generation_key(entry.user_id)) == entry.generation:
        token = _token_build(entry.row)
        if not _valid(token, now):  # expired since it was cached
            raise TokenInvalid()
        if _touch(token, now):
            row = _Row(token=_raw_with_last_used(entry.row, token), user=entry.row.user)
            _entry_store(hashed, _Entry(entry.generation, entry.user_id, row), token, now)
        return token
    user_id: int | None = found.get(_user_key(hashed))
    # Read the generation *before* the row: a revocation committing after our read bumps it,
    # so the entry we store is already dead; one committing before it is in the row we read.
    generation = _generation_current(user_id) if user_id is not None else ""
    token, row = _read_valid(hashed, now)
    if user_id is None:
        # First sight of this token: learn its user (immutable); cache the row next time, once
        # the generation can be read before the row.
        cache.set(_user_key(hashed), token.user_id, ENTRY_TTL_S * 20)
    else:
        _entry_store(hashed, _Entry(generation, user_id, row), token, now)
    return token


def _raw_with_last_used(row: _Row, token: ApiToken) -> tuple[Any, ...]:
    # The touched time as the database returns it (PostgreSQL: aware datetime; SQLite: the
    # converters accept an aware datetime as well as its text form).
    values = list(row.token)
    values[_TOKEN_FIELDS.index("last_used_at")] = token.last_used_at
    return tuple(values)


# --- public ----------------------------------------------------------------------------------


def token_authenticate(raw_token: str) -> ApiToken:
    """The live access token for ``raw_token``, its ``user`` loaded (see the module doc)."""
    if not raw_token or not raw_token.startswith(ACCESS_PREFIX):
        raise TokenInvalid()
    hashed = token_hash(raw_token)
    now = clock.now()
    if cache_enabled():
        return _authenticate_cached(hashed, now)
    return _read_valid(hashed, now)[0]


def auth_generation_bump(*, user_ids: Iterable[int], token_hashes: Iterable[str] = ()) -> None:
    """Every cached token of these users stops counting, and the entries of ``token_hashes``
    go: now, and again after the current transaction commits. A no-op without the cache.

    Now: requests until the commit miss the cache and read the database, which still shows
    the old state to them — correct until the change commits. They may store an entry with
    the new generation; the bump after commit kills those. (Tests that run inside one
    transaction never commit, and rely on the first bump.) A failed bump (Redis down) is
    logged and bounded by ``ENTRY_TTL_S``.
    """
    if not cache_enabled():
        return
    users = sorted(set(user_ids))
    hashes = list(token_hashes)
    if not users and not hashes:
        return

    def bump() -> None:
        generations = {u: secrets.token_hex(8) for u in users}
        conf = _peek_conf_get()
        if conf.backend is not None:
            _bump_redis(conf, generations, hashes)
            return
        if users:
            cache.set_many(
                {_generation_key(u): g for u, g in generations.items()}, GENERATION_TTL_S
            )
        if hashes:
            cache.delete_many([_entry_key(h) for h in hashes])

    bump()
    if connection.in_atomic_block:
        transaction.on_commit(bump, robust=True)


def _bump_redis(conf: _PeekConf, generations: dict[int, str], hashes: list[str]) -> None:
    """The new generations set and the revoked entries deleted as cache.set_many and
    delete_many would, and the change published to every process's near copies, in one
    script: Redis never holds a bump whose message was not sent (ADR 0060)."""
    backend = conf.backend
    dumps = backend._cache._serializer.dumps
    client = backend._cache.get_client(write=True)
    keys = [backend.make_key(_generation_key(u)) for u in generations]
    keys += [backend.make_key(_entry_key(h)) for h in hashes]
    message = bump_message(generations=generations, hashes=hashes)
    args = [len(generations), GENERATION_TTL_S, conf.channel, message]
    _scripts_get(client)[1](
        keys=keys, args=[*args, *(dumps(g) for g in generations.values())], client=client
    )
    if conf.near:
        near_tokens.applied_here(message, channel=conf.channel)


def _user_row_changed(sender: type, instance: User, **kwargs: Any) -> None:
    if instance.pk is not None:
        auth_generation_bump(user_ids=[instance.pk])


def auth_cache_signals_connect() -> None:
    """Any save or delete of a user row (admin deactivation, deletion, profile, password)
    invalidates that user's cached bearer tokens: the cached row would be stale."""
    from django.db.models.signals import post_delete, post_save

    post_save.connect(_user_row_changed, sender=User, dispatch_uid="yaji-auth-cache-save")
    post_delete.connect(_user_row_changed, sender=User, dispatch_uid="yaji-auth-cache-delete")


# --- read-only peek (the fast path, ADR 0043) ------------------------------------------------

# One round trip: the entry, the token's user id (an int, stored unpickled by Django's Redis
# serializer, so Lua can build the generation key from it) and that user's generation. Keys
# are the cache's full keys; ARGV[1] is the generation key without the user id. A caller's own
# read-only chunk may ride along (``rider``): it runs with ``uid`` (the token's user id, a
# string), ``K`` (the keys after the first two) and ``A`` (the arguments after the first) and
# returns a string; it must write nothing. It runs before the token is validated, so the
# caller may use its answer only once the token is (``TokenPeek.user_id`` not None).
_PEEK_HEAD = """
local entry = redis.call('GET', KEYS[1])
if not entry then return false end
local uid = redis.call('GET', KEYS[2])
if not uid then return {entry} end
local gen = redis.call('GET', ARGV[1] .. uid) or false
"""
_PEEK_TAIL = "return {entry, uid, gen, false}\n"
_RIDER = """local K, A = {}, {}
for i = 3, #KEYS do K[#K + 1] = KEYS[i] end
for i = 2, #ARGV do A[#A + 1] = ARGV[i] end
local rider = (function(K, A, uid)
%s
end)(K, A, uid)
return {entry, uid, gen, rider}
"""

# rider -> its script, called on the cache's client: the fast path's one Redis call per answer,
# so packed by hand on a connection of the calling thread's own (ADR 0059)
_peek_scripts: dict[str, LeanScript] = {}


@dataclass(frozen=True, slots=True)
class TokenPeek:
    user_id: int | None  # None: Django's authentication would not answer from the cache alone
    rider: str | None  # the rider's answer (None: none asked, or it could not ride along)


@dataclass(frozen=True, slots=True)
class _PeekConf:
    """What every peek would otherwise look up in the settings and the cache handler (a
    fifth of a fast answer's Python): read once per process, again after ``setting_changed``."""

    backend: Any  # Django's RedisCache, or None: the peek cannot answer
    location: str | None
    generation_prefix: str  # the cache's full key of a generation, without the user id
    channel: str  # the cache's events channel (ADR 0060), a full key
    near: bool  # look up this process's near copies first (YAJI_AUTH_NEAR_CACHE)


_peek_conf: list[_PeekConf] = []


def _peek_conf_get() -> _PeekConf:
    if _peek_conf:
        return _peek_conf[0]
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache as DjangoRedisCache

    backend = caches["default"]  # ``cache`` is a proxy to it
    if not cache_enabled() or not isinstance(backend, DjangoRedisCache):
        conf = _PeekConf(backend=None, location=None, generation_prefix="", channel="", near=False)
    else:
        conf = _PeekConf(
            backend=backend,
            location=str(settings.CACHES["default"].get("LOCATION") or "") or None,
            generation_prefix=backend.make_key(_generation_key(0))[:-1],
            channel=events_channel(backend),
            near=bool(getattr(settings, "YAJI_AUTH_NEAR_CACHE", True)),
        )
    _peek_conf.append(conf)
    return conf


def _peek_conf_clear(**_kwargs: Any) -> None:
    _peek_conf.clear()


setting_changed.connect(_peek_conf_clear, dispatch_uid="yaji.accounts.token_auth.peek_conf")


def token_cache_location() -> str | None:
    """The Redis URL the token cache lives at, when it is a shared Redis cache."""
    return _peek_conf_get().location


_NOT_CACHED = TokenPeek(user_id=None, rider=None)


def token_cached_user_id(raw_token: str, now: datetime) -> int | None:
    """The user id of ``raw_token`` if Django's authentication would accept it **from the
    cache, writing nothing**; None in every other case (no Redis cache, malformed, no entry,
    a stale generation, revoked, expired, inactive user, or a touch due — the request then goes
    to Django, which reads the database, touches and re-caches as usual).

    Same keys and the same checks as :func:`_authenticate_cached`'s hit, read in one Redis
    round trip (two when the token's user-id key has gone while its entry lives). Raises
    ``redis.RedisError`` when Redis fails: callers fall through.
    """
    return token_cached_peek(raw_token, now).user_id


def token_cached_peek(
    raw_token: str,
    now: datetime,
    *,
    rider: str | None = None,
    rider_keys: Sequence[str] = (),
    rider_args: Sequence[Any] = (),
) -> TokenPeek:
    """:func:`token_cached_user_id`, with an optional read-only Lua ``rider`` answered in the
    same round trip (see ``_RIDER``; its keys must live in the token cache's Redis)."""
    conf = _peek_conf_get()
    redis_cache = conf.backend
    # None: no cache, or YAJI_AUTH_CACHE=on over the in-process cache (not shared)
    if not raw_token.startswith(ACCESS_PREFIX) or redis_cache is None:
        return _NOT_CACHED
    client = redis_cache._cache.get_client(write=False)
    loads = redis_cache._cache._serializer.loads
    hashed = token_hash(raw_token)
    if conf.near:
        near = near_tokens.lookup(hashed, client=client, channel=conf.channel)
        if near is not None:
            entry = loads(near[2])
            if isinstance(entry, _Entry) and (entry.user_id, entry.generation) == near[:2]:
                live = _entry_live_user(entry, now)
                # The rider was not asked: the caller reads for itself, if it needs to.
                return TokenPeek(user_id=live, rider=None) if live is not None else _NOT_CACHED
    script = _peek_scripts.get(rider or "")
    if script is None:
        source = _PEEK_HEAD + (_RIDER % rider if rider else _PEEK_TAIL)
        script = _peek_scripts[rider or ""] = LeanScript(source)
    gen_prefix = conf.generation_prefix
    keys = [redis_cache.make_key(_entry_key(hashed)), redis_cache.make_key(_user_key(hashed))]
    found = script(
        keys=[*keys, *(rider_keys if rider else ())],
        args=[gen_prefix, *(rider_args if rider else ())],
        client=client,
    )
    if not found:
        return _NOT_CACHED
    entry = loads(found[0])
    if not isinstance(entry, _Entry):
        return _NOT_CACHED
    answer: str | None = None
    if len(found) == 4 and int(found[1]) == entry.user_id:
        raw_generation = found[2]
        if rider and found[3] is not None:
            answer = found[3].decode() if isinstance(found[3], bytes) else str(found[3])
    else:  # the user-id key expired (or disagrees): read the generation as Django does
        raw_generation = client.get(redis_cache.make_key(_generation_key(entry.user_id)))
    if raw_generation is None or loads(raw_generation) != entry.generation:
        return _NOT_CACHED
    live = _entry_live_user(entry, now)
    return TokenPeek(user_id=live, rider=answer) if live is not None else _NOT_CACHED


def _entry_live_user(entry: _Entry, now: datetime) -> int | None:
    """The entry's user id if Django's cached authentication would accept it now without
    writing anything (its generation already checked by the caller)."""
    statement = _statement()
    _id, _device, expires_at, revoked_at, last_used_at = _convert(
        entry.row.token, statement.token_converters
    )
    if revoked_at is not None or expires_at <= now:
        return None
    if not _user_active(entry.row, statement):
        return None
    if last_used_at is None or now - last_used_at > TOKEN_TOUCH_INTERVAL:
        return None  # Django would record the use (and re-store the entry): let it
    return entry.user_id


def _user_active(row: _Row, statement: _Statement) -> bool:
    index = statement.user_fields.index("is_active")
    value = row.user[index]
    col, funcs = statement.user_converters[index]
    for func in funcs:
        value = func(value, col, connection)
    return bool(value)
