"""Idempotency keys for API POSTs that create or move things (Stripe-style).

Usage — one decorator under the route decorator; it also documents the header in OpenAPI::

    from yaji.core.idempotency import idempotent

    @router.post("/orders", response={201: OrderOut})
    @idempotent                      # or @idempotent(required=True) for money movements
    def order_create(request, payload: OrderIn):
        ...

A client sends ``Idempotency-Key: <1–255 printable ASCII>``; a retry with the same key and the
same request replays the first response byte for byte, with ``Idempotent-Replayed: true``, and
does not run the view again. Keys are scoped per caller (the authenticated user, else "anon")
and kept 24 hours.

Outcomes, all rendered as the platform error body ``{"code", "message", "extra"}``:

* malformed key → 400 ``invalid_idempotency_key``;
* same key, different method/path/body → 409 ``idempotency_key_reused``;
* same key while the first request still runs (< 60 s) → 409 ``idempotency_request_in_progress``;
* a 5xx or an unhandled exception is not stored, so a retry runs the view again.

Only responses of requests that reached the view are stored: a failed authentication or an
invalid payload (422) never claims the key. The record is written in its own short
transaction before the view runs and completed after it, so the unique constraint on
(scope, key) is what serialises concurrent retries.

How it hooks into django-ninja: ``Operation.run`` does authentication, parsing, the view and
the exception handlers, so wrapping it (``ninja.decorators.decorate_view``) sees the final
response, error bodies included — but it runs *before* authentication, when ``request.auth`` is
not set yet. So the decorator installs two layers on the operation: the inner one wraps the view
function (auth done, payload valid: it claims the key or replays), the outer one wraps ``run``
and stores whatever response leaves ninja.

**In-transaction mode** — ``@idempotent(required=True, in_transaction=True)`` — for hot
endpoints whose effect is one durable transaction (a red-packet grab): nothing is written
before the view runs; the view stores its response *inside* that transaction with
:func:`idempotency_store_within` (the service calls back into the view, see
``yaji.redpackets.api``), so the record commits or rolls back with the effect — one commit per
request instead of three. A concurrent duplicate loses on the record's unique (scope, key) at
commit time and its effect rolls back with it. A refusal (an ``ApplicationError`` with a 4xx the
view raises) moved nothing and is **not** stored — a retry runs the view again — but it is
checked against the stored record first, so the retry of a request that succeeded replays its
response, and a key used for a different request still answers ``idempotency_key_reused``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar, overload

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, connection, transaction
from django.http import HttpRequest, HttpResponse
from django.http.request import RawPostDataException
from django.http.response import HttpResponseBase
from ninja.decorators import decorate_view
from ninja.operation import Operation
from ninja.utils import contribute_operation_callback

from yaji.core import clock
from yaji.core.errors import (
    ApplicationError,
    IdempotencyKeyRequired,
    IdempotencyKeyReused,
    IdempotencyRequestInProgress,
    InvalidIdempotencyKey,
)
from yaji.core.models import IdempotencyRecord
from yaji.core.sqlparts import SqlPart, sql_insert_part

logger = logging.getLogger(__name__)

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
RECORD_TTL = timedelta(hours=24)
# An in-progress record older than this belongs to a request whose process most likely died.
STALE_AFTER = timedelta(seconds=60)

# Printable ASCII without leading/trailing spaces: proxies trim those, which would silently turn
# two different keys into one.
_KEY_PATTERN = r"^[!-~](?:[ -~]{0,253}[!-~])?$"
_KEY = re.compile(_KEY_PATTERN)

IDEMPOTENCY_OPENAPI: dict[str, Any] = {
    "parameters": [
        {
            "in": "header",
            "name": IDEMPOTENCY_HEADER,
            "required": False,
            "description": (
                "Any unique string (e.g. a UUID) of 1–255 printable ASCII characters. A retry "
                "with the same key and body replays the first response (header "
                "`Idempotent-Replayed: true`); the same key with a different body is rejected "
                "with 409. Keys are kept 24 hours per caller."
            ),
            "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": _KEY_PATTERN},
        }
    ],
    # ninja keys responses by int status; a str key would duplicate "409" in the JSON.
    "responses": {
        409: {
            "description": "Idempotency-Key reused with a different request, or still in progress."
        }
    },
}

_CLAIM_ATTR = "_yaji_idempotency_claim"
_PENDING_ATTR = "_yaji_idempotency_pending"  # in-transaction mode: the key, not yet stored
_STORED_ATTR = "_yaji_idempotency_stored"


# --- services ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class IdempotencyBegin:
    """Result of :func:`idempotency_begin`: either we own the record or it holds a replay."""

    record: IdempotencyRecord
    replay: bool


def idempotency_request_hash(*, method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256()
    # Length-prefix the parts so ("POST", "/a", b"b") and ("POST", "/ab", b"") differ.
    for part in (method.upper().encode(), path.encode()):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    digest.update(body)
    return digest.hexdigest()


def idempotency_begin(
    *, scope: str, key: str, method: str, path: str, request_hash: str
) -> IdempotencyBegin:
    """Claim (scope, key) for a new request, or find the stored response to replay.

    Raises IdempotencyKeyReused / IdempotencyRequestInProgress when the request must not run.
    """
    for _attempt in range(3):
        now = clock.now()
        # Committed on its own (autocommit) before the view runs, so concurrent retries see
        # the claim; one plain statement (ADR 0036) — a taken key inserts nothing, no error.
        record = _claim_insert(
            scope=scope, key=key, method=method, path=path, request_hash=request_hash, now=now
        )
        if record is not None:
            return IdempotencyBegin(record=record, replay=False)

        existing = _stored_record(scope=scope, key=key)
        if existing is None:
            continue  # the owner gave up (5xx) between our insert and our read: try again

        if existing.expires_at <= now:
            # An expired key is a fresh key; the conditional update makes one taker win.
            taken = IdempotencyRecord.objects.filter(
                pk=existing.pk, expires_at=existing.expires_at
            ).update(
                method=method,
                path=path[:2048],
                request_hash=request_hash,
                state=IdempotencyRecord.State.IN_PROGRESS,
                locked_at=now,
                expires_at=now + RECORD_TTL,
                response_status=None,
                response_body=b"",
                response_content_type="",
            )
            if taken:
                return IdempotencyBegin(record=_reload(existing), replay=False)
            continue

        if existing.request_hash != request_hash:
            raise IdempotencyKeyReused(extra={"key": key})
        if existing.state == IdempotencyRecord.State.COMPLETED:
            return IdempotencyBegin(record=existing, replay=True)
        if existing.locked_at > now - STALE_AFTER:
            raise IdempotencyRequestInProgress(extra={"key": key})

        taken = IdempotencyRecord.objects.filter(
            pk=existing.pk,
            state=IdempotencyRecord.State.IN_PROGRESS,
            locked_at=existing.locked_at,
        ).update(locked_at=now, expires_at=now + RECORD_TTL)
        if taken:
            logger.warning("idempotency: took over stale in-progress key", extra={"key": key})
            return IdempotencyBegin(record=_reload(existing), replay=False)
    raise IdempotencyRequestInProgress(extra={"key": key})


def idempotency_complete(*, record: IdempotencyRecord, response: HttpResponseBase) -> bool:
    """Store the response of the request that owns ``record``; a 5xx releases the key instead.

    Returns whether the response was stored.
    """
    storable = isinstance(response, HttpResponse) and response.status_code < 500
    if not storable:
        idempotency_abandon(record=record)
        return False
    assert isinstance(response, HttpResponse)  # narrowed above, for the type checker
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(
            _COMPLETE_SQL,
            [
                IdempotencyRecord.State.COMPLETED.value,
                response.status_code,
                bytes(response.content),
                response.get("Content-Type", ""),
                adapt(clock.now()),
                record.pk,
                IdempotencyRecord.State.IN_PROGRESS.value,
                adapt(record.locked_at),
            ],
        )
        updated = cursor.rowcount
    if not updated:
        # Someone took the key over after STALE_AFTER; their response will be the stored one.
        logger.warning(
            "idempotency: record changed owner before completion", extra={"key": record.key}
        )
    return bool(updated)


def idempotency_abandon(*, record: IdempotencyRecord) -> None:
    """Forget an attempt that failed on our side, so that a retry runs the view again."""
    IdempotencyRecord.objects.filter(
        pk=record.pk, state=IdempotencyRecord.State.IN_PROGRESS, locked_at=record.locked_at
    ).delete()


def idempotency_replay_response(*, record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(
        bytes(record.response_body),
        status=record.response_status or 200,
        content_type=record.response_content_type or None,
    )
    response[REPLAYED_HEADER] = "true"
    return response


def idempotency_purge_expired(*, batch: int = 1000) -> int:
    """Delete up to ``batch`` expired records; returns how many went."""
    ids = list(
        IdempotencyRecord.objects.filter(expires_at__lte=clock.now()).values_list("pk", flat=True)[
            :batch
        ]
    )
    if not ids:
        return 0
    deleted, _per_model = IdempotencyRecord.objects.filter(pk__in=ids).delete()
    return deleted


# Plain statements for the classic path's claim and completion (ADR 0036): two per request
# on every idempotent POST, where the ORM's compiler and model machinery cost more CPU than
# the indexed writes. Quoted identifiers read the same on PostgreSQL and SQLite (>= 3.35 for
# RETURNING); datetimes go through the backend's own adapter, as the ORM would send them.
_CLAIM_SQL = (
    'INSERT INTO "core_idempotencyrecord" ("created_at", "updated_at", "scope", "key", '
    '"method", "path", "request_hash", "state", "locked_at", "expires_at", "response_body", '
    '"response_content_type") VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) '
    'ON CONFLICT ("scope", "key") DO NOTHING RETURNING "id"'
)
_COMPLETE_SQL = (
    'UPDATE "core_idempotencyrecord" SET "state" = %s, "response_status" = %s, '
    '"response_body" = %s, "response_content_type" = %s, "updated_at" = %s '
    'WHERE "id" = %s AND "state" = %s AND "locked_at" = %s'
)


def _claim_insert(
    *, scope: str, key: str, method: str, path: str, request_hash: str, now: datetime
) -> IdempotencyRecord | None:
    """A new in-progress record for (scope, key), or None if the key is taken."""
    adapt = connection.ops.adapt_datetimefield_value
    expires_at = now + RECORD_TTL
    state = IdempotencyRecord.State.IN_PROGRESS.value
    with connection.cursor() as cursor:
        cursor.execute(
            _CLAIM_SQL,
            [
                adapt(now),
                adapt(now),
                scope,
                key,
                method,
                path[:2048],
                request_hash,
                state,
                adapt(now),
                adapt(expires_at),
                b"",
                "",
            ],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    record = IdempotencyRecord(
        id=row[0],
        created_at=now,
        updated_at=now,
        scope=scope,
        key=key,
        method=method,
        path=path[:2048],
        request_hash=request_hash,
        state=state,
        locked_at=now,
        expires_at=expires_at,
        response_body=b"",
        response_content_type="",
    )
    record._state.adding = False
    record._state.db = connection.alias
    return record


def _reload(record: IdempotencyRecord) -> IdempotencyRecord:
    record.refresh_from_db()
    return record


# --- in-transaction mode ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PendingKey:
    """A request's key in in-transaction mode: known, checked, not yet written."""

    scope: str
    key: str
    method: str
    path: str
    request_hash: str


class IdempotencyConflict(IdempotencyRequestInProgress):
    """Raised by :func:`idempotency_store_within` when another request stored the key first;
    the view's transaction must roll back (let it propagate). The decorator then answers with
    the stored response, ``idempotency_key_reused`` or a fresh run (an expired record)."""


def idempotency_json_response(data: Any, *, status: int = 200) -> HttpResponse:
    """``data`` rendered as ninja's default JSON renderer renders a view's result."""
    from ninja.renderers import JSONRenderer

    renderer = JSONRenderer()
    return HttpResponse(
        json.dumps(data, cls=renderer.encoder_class, **renderer.json_dumps_params),
        status=status,
        content_type=f"{renderer.media_type}; charset={renderer.charset}",
    )


def idempotency_store_within(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Store ``response`` as the answer to this request's ``Idempotency-Key``, inside the
    caller's (the effect's) transaction; returns it for the view to return unchanged.

    Only for views under ``@idempotent(in_transaction=True)``; a request without a key (an
    optional key) stores nothing. Raises :class:`IdempotencyConflict` when the key is taken.
    """
    pending: PendingKey | None = getattr(request, _PENDING_ATTR, None)
    if pending is None:
        return response
    if not transaction.get_connection().in_atomic_block:
        raise ImproperlyConfigured(
            "idempotency_store_within belongs inside the effect's transaction"
        )
    try:
        _completed_record(pending, response=response, now=clock.now()).save(force_insert=True)
    except IntegrityError as exc:
        # No savepoint: the effect's transaction is finished either way (PostgreSQL aborted
        # it); raising out of it rolls the effect back.
        raise IdempotencyConflict(extra={"key": pending.key}) from exc
    setattr(request, _STORED_ATTR, True)
    return response


def idempotency_store_part(request: HttpRequest, response: HttpResponse) -> SqlPart | None:
    """:func:`idempotency_store_within` as a statement part (ADR 0050): the completed record,
    to run with the effect's writes in one statement; None for a request without a key. A key
    taken meanwhile fails the statement on the unique (scope, key) — the caller raises
    :class:`IdempotencyConflict` then (see :func:`idempotency_conflict_from`)."""
    pending: PendingKey | None = getattr(request, _PENDING_ATTR, None)
    if pending is None:
        return None
    setattr(request, _STORED_ATTR, True)
    return idempotency_store_part_for(pending, response=response, now=clock.now())


def idempotency_store_part_for(
    pending: PendingKey, *, response: HttpResponse, now: datetime
) -> SqlPart:
    """The completed record's ``INSERT`` for a key (also what the bench's ceiling runs)."""
    return sql_insert_part(_completed_record(pending, response=response, now=now))


def _completed_record(
    pending: PendingKey, *, response: HttpResponse, now: datetime
) -> IdempotencyRecord:
    """The (unsaved) record of a key whose effect completed with ``response``."""
    return IdempotencyRecord(
        scope=pending.scope,
        key=pending.key,
        method=pending.method,
        path=pending.path[:2048],
        request_hash=pending.request_hash,
        state=IdempotencyRecord.State.COMPLETED,
        locked_at=now,
        expires_at=now + RECORD_TTL,
        response_status=response.status_code,
        response_body=bytes(response.content),
        response_content_type=response.get("Content-Type", ""),
    )


def idempotency_conflict_from(
    exc: IntegrityError, request: HttpRequest
) -> IdempotencyConflict | None:
    """The :class:`IdempotencyConflict` an ``IntegrityError`` of a statement carrying
    :func:`idempotency_store_part` means, if it was the record's unique (scope, key)."""
    pending: PendingKey | None = getattr(request, _PENDING_ATTR, None)
    constraint = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None) or ""
    if pending is None or "idempotency" not in constraint:
        return None
    return IdempotencyConflict(extra={"key": pending.key})


# A hot effect (a red-packet grab, ADR 0044) reserves its key *before* its contended work and
# completes it with its other writes in one round trip (yaji.core.sqlparts): the reservation is
# an in-progress record inserted in the effect's transaction (a concurrent duplicate waits on
# the unique (scope, key) there, holding no hot lock, and then finds it taken); completing it is
# an UPDATE of that row. Nobody ever sees the in-progress state: both commit together.
_RESERVED_ATTR = "_yaji_idempotency_reserved"


def idempotency_reserve_part(request: HttpRequest) -> SqlPart | None:
    """In-transaction mode: this request's key as an in-progress record, a statement part to
    run inside the effect's transaction before its contended work (portable SQL: run it alone
    with :func:`yaji.core.sqlparts.sql_part_execute` or with other parts). None without a key.
    Pass its result to :func:`idempotency_reserved`."""
    pending: PendingKey | None = getattr(request, _PENDING_ATTR, None)
    if pending is None:
        return None
    now = clock.now()
    setattr(request, _RESERVED_ATTR, (None, now))
    return idempotency_reserve_part_for(pending, now=now)


def idempotency_reserve_part_for(pending: PendingKey, *, now: datetime) -> SqlPart:
    """The reservation's statement for a key (also what the bench's ceiling runs)."""
    adapt = connection.ops.adapt_datetimefield_value
    return SqlPart(
        _CLAIM_SQL,
        (
            adapt(now),
            adapt(now),
            pending.scope,
            pending.key,
            pending.method,
            pending.path[:2048],
            pending.request_hash,
            IdempotencyRecord.State.IN_PROGRESS.value,
            adapt(now),
            adapt(now + RECORD_TTL),
            b"",
            "",
        ),
        returns=True,
    )


def idempotency_reserved(request: HttpRequest, record_id: int | None) -> None:
    """The reservation's outcome: None means the key is taken — raises
    :class:`IdempotencyConflict` (roll the effect back; the decorator settles it)."""
    pending: PendingKey | None = getattr(request, _PENDING_ATTR, None)
    reserved = getattr(request, _RESERVED_ATTR, None)
    if pending is None or reserved is None:
        return
    if record_id is None:
        delattr(request, _RESERVED_ATTR)
        raise IdempotencyConflict(extra={"key": pending.key})
    setattr(request, _RESERVED_ATTR, (record_id, reserved[1]))


def idempotency_complete_part(request: HttpRequest, response: HttpResponse) -> SqlPart | None:
    """The reserved record completed with ``response`` (stored as the key's answer), a
    statement part to run with the effect's last writes; None if nothing was reserved."""
    reserved = getattr(request, _RESERVED_ATTR, None)
    if reserved is None or reserved[0] is None:
        return None
    setattr(request, _STORED_ATTR, True)
    return idempotency_complete_part_for(
        record_id=reserved[0], locked_at=reserved[1], response=response
    )


def idempotency_complete_part_for(
    *, record_id: int, locked_at: datetime, response: HttpResponse
) -> SqlPart:
    """The completion's statement for a reserved record (also what the bench's ceiling runs)."""
    adapt = connection.ops.adapt_datetimefield_value
    return SqlPart(
        _COMPLETE_SQL,
        (
            IdempotencyRecord.State.COMPLETED.value,
            response.status_code,
            bytes(response.content),
            response.get("Content-Type", ""),
            adapt(clock.now()),
            record_id,
            IdempotencyRecord.State.IN_PROGRESS.value,
            adapt(locked_at),
        ),
    )


_RERUN = object()
# Quoted identifiers, as PostgreSQL and SQLite both read them (the model's db_table is fixed).
_STORED_SQL = 'SELECT * FROM "core_idempotencyrecord" WHERE "scope" = %s AND "key" = %s'


def _stored_record(*, scope: str, key: str) -> IdempotencyRecord | None:
    """The record of (scope, key), by a plain statement: this runs for every refusal of an
    in-transaction endpoint (every "all taken" of a red-packet storm), where the ORM's query
    compiler would cost more CPU than the indexed look-up itself."""
    rows = list(IdempotencyRecord.objects.raw(_STORED_SQL, [scope, key]))
    return rows[0] if rows else None


def _settle_refusal(pending: PendingKey, *, conflict: bool) -> HttpResponse | object | None:
    """A refused (or conflicting) request: replay the stored answer if this key has one,
    ``_RERUN`` if the view should run again, None to let the refusal stand. May raise the
    key's own errors (reused, in progress)."""
    existing = _stored_record(scope=pending.scope, key=pending.key)
    if existing is None:
        # The holder gave up meanwhile (a classic-mode 5xx): the key is free again.
        return _RERUN if conflict else None
    if existing.expires_at <= clock.now():
        if conflict:  # an expired record blocks the insert: forget it, run again
            IdempotencyRecord.objects.filter(
                pk=existing.pk, expires_at=existing.expires_at
            ).delete()
            return _RERUN
        return None
    if existing.request_hash != pending.request_hash:
        raise IdempotencyKeyReused(extra={"key": pending.key})
    if existing.state == IdempotencyRecord.State.COMPLETED:
        return idempotency_replay_response(record=existing)
    raise IdempotencyRequestInProgress(extra={"key": pending.key})


# --- request helpers --------------------------------------------------------------------------


def idempotency_scope(request: HttpRequest) -> str:
    """``user:<pk>`` for an authenticated caller (ninja auth or session), else ``anon``."""
    auth = getattr(request, "auth", None)
    user: Any = None
    if isinstance(auth, AbstractBaseUser):
        user = auth
    elif auth is not None and isinstance(getattr(auth, "user", None), AbstractBaseUser):
        user = auth.user  # token objects that carry their user
    else:
        session_user = getattr(request, "user", None)
        if session_user is not None and session_user.is_authenticated:
            user = session_user
    return f"user:{user.pk}" if user is not None else "anon"


def _request_body(request: HttpRequest) -> bytes:
    try:
        return request.body
    except RawPostDataException:
        # A multipart body was already streamed into POST/FILES; hash what was parsed from it.
        parts = [
            f"{name}={value}" for name, values in sorted(request.POST.lists()) for value in values
        ]
        for name, files in sorted(request.FILES.lists()):
            parts.extend(f"{name}:{upload.name}:{upload.size}" for upload in files)
        return "\n".join(parts).encode()


def _parse_key(request: HttpRequest, *, required: bool) -> str | None:
    raw = request.headers.get(IDEMPOTENCY_HEADER)
    if raw is None:
        if required:
            raise IdempotencyKeyRequired()
        return None
    if not _KEY.match(raw):
        raise InvalidIdempotencyKey()
    return raw


# --- ninja integration ------------------------------------------------------------------------

ViewFunc = TypeVar("ViewFunc", bound=Callable[..., Any])


def _claiming_view(view_func: Callable[..., Any], *, required: bool) -> Callable[..., Any]:
    @functools.wraps(view_func)
    def claim_then_run(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        key = _parse_key(request, required=required)
        if key is None:
            return view_func(request, *args, **kwargs)
        path = request.get_full_path()
        begun = idempotency_begin(
            scope=idempotency_scope(request),
            key=key,
            method=request.method or "POST",
            path=path,
            request_hash=idempotency_request_hash(
                method=request.method or "POST", path=path, body=_request_body(request)
            ),
        )
        if begun.replay:
            return idempotency_replay_response(record=begun.record)
        setattr(request, _CLAIM_ATTR, begun.record)
        return view_func(request, *args, **kwargs)

    return claim_then_run


def _transactional_view(view_func: Callable[..., Any], *, required: bool) -> Callable[..., Any]:
    @functools.wraps(view_func)
    def check_then_run(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        key = _parse_key(request, required=required)
        if key is None:
            return view_func(request, *args, **kwargs)
        method = request.method or "POST"
        path = request.get_full_path()
        pending = PendingKey(
            scope=idempotency_scope(request),
            key=key,
            method=method,
            path=path,
            request_hash=idempotency_request_hash(
                method=method, path=path, body=_request_body(request)
            ),
        )
        setattr(request, _PENDING_ATTR, pending)
        for attempt in range(2):
            try:
                return view_func(request, *args, **kwargs)
            except ApplicationError as exc:
                if exc.status >= 500:
                    raise
                settled = _settle_refusal(pending, conflict=isinstance(exc, IdempotencyConflict))
                if settled is _RERUN and attempt == 0:
                    continue
                if isinstance(settled, HttpResponse):
                    return settled
                raise
        raise IdempotencyRequestInProgress(extra={"key": key})  # pragma: no cover - guard

    return check_then_run


def _store_unstored(request: HttpRequest, response: HttpResponseBase) -> None:
    """In-transaction mode: a 2xx the view did not store itself is stored now (not atomic
    with its effect — a view that moves things should use idempotency_store_within)."""
    pending: PendingKey | None = getattr(request, _PENDING_ATTR, None)
    if pending is None:
        return
    delattr(request, _PENDING_ATTR)
    if hasattr(request, _RESERVED_ATTR):
        delattr(request, _RESERVED_ATTR)
    if getattr(request, _STORED_ATTR, False):
        delattr(request, _STORED_ATTR)
        return
    if not (isinstance(response, HttpResponse) and 200 <= response.status_code < 300):
        return
    if response.get(REPLAYED_HEADER) == "true":
        return
    now = clock.now()
    try:
        with transaction.atomic():
            IdempotencyRecord.objects.create(
                scope=pending.scope,
                key=pending.key,
                method=pending.method,
                path=pending.path[:2048],
                request_hash=pending.request_hash,
                state=IdempotencyRecord.State.COMPLETED,
                locked_at=now,
                expires_at=now + RECORD_TTL,
                response_status=response.status_code,
                response_body=bytes(response.content),
                response_content_type=response.get("Content-Type", ""),
            )
    except IntegrityError:
        logger.warning("idempotency: an unstored 2xx lost its key", extra={"key": pending.key})


def _recording_run(run: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    @functools.wraps(run)
    def run_then_record(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            response = run(request, *args, **kwargs)
        except BaseException:
            record = _pop_claim(request)
            if record is not None:
                idempotency_abandon(record=record)
            raise
        _store_unstored(request, response)
        record = _pop_claim(request)
        if record is not None:
            idempotency_complete(record=record, response=response)
        return response

    return run_then_record


def _pop_claim(request: HttpRequest) -> IdempotencyRecord | None:
    record = getattr(request, _CLAIM_ATTR, None)
    if record is not None:
        delattr(request, _CLAIM_ATTR)
    return record


def _with_openapi(extra: dict[str, Any] | None) -> dict[str, Any]:
    merged = dict(extra or {})
    parameters = list(merged.get("parameters", []))
    if not any(p.get("name") == IDEMPOTENCY_HEADER for p in parameters):
        parameters.extend(IDEMPOTENCY_OPENAPI["parameters"])
    merged["parameters"] = parameters
    responses = dict(merged.get("responses", {}))
    for status, spec in IDEMPOTENCY_OPENAPI["responses"].items():
        responses.setdefault(status, spec)
    merged["responses"] = responses
    return merged


@overload
def idempotent(
    view_func: ViewFunc, *, required: bool = False, in_transaction: bool = False
) -> ViewFunc: ...
@overload
def idempotent(
    view_func: None = None, *, required: bool = False, in_transaction: bool = False
) -> Callable[[ViewFunc], ViewFunc]: ...
def idempotent(
    view_func: ViewFunc | None = None, *, required: bool = False, in_transaction: bool = False
) -> ViewFunc | Callable[[ViewFunc], ViewFunc]:
    """Make a ninja operation honour ``Idempotency-Key`` (see the module docstring);
    ``in_transaction``: the view stores its response in its effect's transaction."""

    def apply(func: ViewFunc) -> ViewFunc:
        def install(operation: Operation) -> None:
            if operation.is_async:
                raise ImproperlyConfigured("@idempotent supports sync operations only")
            wrap = _transactional_view if in_transaction else _claiming_view
            operation.view_func = wrap(operation.view_func, required=required)
            operation.openapi_extra = _with_openapi(operation.openapi_extra)

        if hasattr(func, "_ninja_operation"):
            install(func._ninja_operation)  # placed above @router.post
        else:
            contribute_operation_callback(func, install)
        # decorate_view keeps the run wrapper when ninja clones operations for each API mount.
        decorate_view(_recording_run)(func)
        return func

    if view_func is not None:
        return apply(view_func)
    return apply
