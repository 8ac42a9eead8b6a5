"""Full-text backends behind one small interface, chosen by the database vendor.

Both index the same analysed token strings (:mod:`yaji.search.analysis`) — the title with a
higher weight than the body — and answer the same compiled query. Everything else (filters,
facets, sorting, signals) is ordinary SQL on ``search_document``, shared by both.

- SQLite: an FTS5 virtual table ``search_fts(title, body)`` keyed by the product id (rowid);
  relevance is ``bm25`` (negated, so larger is better).
- PostgreSQL: a ``search_vector tsvector`` column on ``search_document`` built with the
  ``simple`` configuration (no stemming, no stop words: the tokens are ours), GIN-indexed,
  computed by a trigger whenever the row's token columns are written (ADR 0063);
  relevance is ``ts_rank``.

An attribute filter tests the document's ``attribute_values`` (a JSON list of ``kind:value``,
ADR 0055): ``jsonb`` containment (GIN-indexed) on PostgreSQL, ``json_each`` on SQLite.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any, Protocol

from django.db import DatabaseError, connection
from django.db.models import BooleanField, FloatField, QuerySet
from django.db.models.expressions import RawSQL

from yaji.search.analysis import QueryTerm

TITLE_WEIGHT = 4.0
BODY_WEIGHT = 1.0
# SQLite ranks at most this many text matches before filters (see Fts5Backend.top).
FTS_CANDIDATES = 20_000
# PostgreSQL computes ts_rank for at most this many candidates (see PostgresBackend.top).
TEXT_RANK_WINDOW = 240


@dataclass(frozen=True)
class IndexRow:
    product_id: int
    title: str
    body: str


class SearchBackend(Protocol):
    vendor: str

    def index(self, rows: Iterable[IndexRow]) -> None:
        """Insert or replace the full-text entries of these products."""

    def remove(self, product_ids: Iterable[int]) -> None: ...

    def clear(self) -> None: ...

    def prune(self) -> None:
        """Drop full-text entries whose document is gone."""

    def planned(self, *, text: bool = True) -> AbstractContextManager[None]:
        """Around a search's statements (``text``: with a full-text match): whatever the
        backend needs for good plans."""

    def match(
        self, terms: list[QueryTerm], *, relaxed: bool = False, min_match: int | None = None
    ) -> RawSQL:
        """A boolean expression over ``search_document``: the row matches every term (or at
        least ``min_match`` of them)."""

    def top(
        self,
        matched: QuerySet[Any],
        terms: list[QueryTerm],
        *,
        relaxed: bool = False,
        limit: int,
        matches: int | None = None,
        min_match: int | None = None,
    ) -> list[tuple[int, float]]:
        """(product id, text relevance — larger is better) of the best ``limit`` rows of
        ``matched`` (a filtered ``search_document`` queryset), best first."""

    def count(self) -> int:
        """How many products the full-text structure holds (for checks and the command)."""

    def vocabulary(self) -> Iterator[tuple[str, int]]:
        """Every indexed token with the number of documents carrying it, from the full-text
        structure itself (what a vocabulary recount starts from)."""

    def attribute_match(self, key: str) -> RawSQL:
        """A boolean expression over ``search_document``: the row carries the attribute value
        ``key`` (``era:宋代``)."""


def attribute_key(kind: str, value: str) -> str:
    """How ``attribute_values`` spells one value: ``era:宋代``."""
    return f"{kind}:{value}"


def _alternatives(term: QueryTerm, *, relaxed: bool) -> list[tuple[str, bool]]:
    """(token, is_prefix) pairs any of which satisfies ``term``."""
    out = [(token, False) for token in term.alternatives]
    if term.prefix:
        out.append((term.word, True))
    if relaxed:
        out.extend((token, False) for token in term.relaxed)
    return out


# A "at least k of the n words" match is written as an OR of every k-word AND; past this many
# combinations a level is skipped (the query string and the planner's work would blow up).
PARTIAL_COMBINATIONS_MAX = 40


def partial_levels(n: int) -> list[int]:
    """The "at least k words, the last among them" levels a query of ``n`` words can be
    relaxed to, most first (see ``_combined``), then the same without the head word."""
    with_head = [
        k for k in range(n - 1, 0, -1) if math.comb(n - 1, k - 1) <= PARTIAL_COMBINATIONS_MAX
    ]
    without = [-k for k in range(n - 1, 0, -1) if math.comb(n, k) <= PARTIAL_COMBINATIONS_MAX]
    return with_head + without


def _combined(groups: list[str], *, min_match: int | None, conj: str, disj: str) -> str:
    """Every group, or at least ``min_match`` of them — the last one always among them when
    ``min_match`` is positive: a Chinese or English phrase names the thing last (送给妈妈的真丝
    **丝巾**, 中秋节玉兔**礼盒**), so a partial match keeps its head word. ``-min_match``: any
    ``min_match`` of them, head or not (when no product has the head word)."""
    if min_match is None or min_match >= len(groups):
        return conj.join(groups)
    if min_match < 0:
        k, pool, head = -min_match, groups, ""
    else:
        k, pool, head = min_match - 1, groups[:-1], groups[-1]
    if k <= 0:
        return head
    if k == 1:
        rest = disj.join(pool)
    else:
        rest = disj.join(
            "(" + conj.join(chosen) + ")" for chosen in itertools.combinations(pool, k)
        )
    return f"{head}{conj}({rest})" if head else rest


class Fts5Backend:
    vendor = "sqlite"

    def index(self, rows: Iterable[IndexRow]) -> None:
        rows = list(rows)
        if not rows:
            return
        with connection.cursor() as cursor:
            cursor.executemany(
                "DELETE FROM search_fts WHERE rowid = %s", [(r.product_id,) for r in rows]
            )
            cursor.executemany(
                "INSERT INTO search_fts (rowid, title, body) VALUES (%s, %s, %s)",
                [(r.product_id, r.title, r.body) for r in rows],
            )

    def remove(self, product_ids: Iterable[int]) -> None:
        ids = [(pk,) for pk in product_ids]
        if ids:
            with connection.cursor() as cursor:
                cursor.executemany("DELETE FROM search_fts WHERE rowid = %s", ids)

    def clear(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM search_fts")

    def prune(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM search_fts WHERE rowid NOT IN (SELECT product_id FROM search_document)"
            )

    def planned(self, *, text: bool = True) -> AbstractContextManager[None]:
        return nullcontext()

    @staticmethod
    def compile(
        terms: list[QueryTerm], *, relaxed: bool = False, min_match: int | None = None
    ) -> str:
        """An FTS5 query: every token quoted (tokens are [Han]+ or [a-z0-9]+, so the quotes
        are only there to keep words such as ``and``/``not`` from being operators). Every
        term must match, or at least ``min_match`` of them."""
        groups = []
        for term in terms:
            options = [
                f'"{token}"*' if is_prefix else f'"{token}"'
                for token, is_prefix in _alternatives(term, relaxed=relaxed)
            ]
            groups.append("(" + " OR ".join(options) + ")")
        return _combined(groups, min_match=min_match, conj=" AND ", disj=" OR ")

    def match(
        self, terms: list[QueryTerm], *, relaxed: bool = False, min_match: int | None = None
    ) -> RawSQL:
        return RawSQL(
            "search_document.product_id IN "
            "(SELECT rowid FROM search_fts WHERE search_fts MATCH %s)",
            (self.compile(terms, relaxed=relaxed, min_match=min_match),),
            output_field=BooleanField(),
        )

    def top(
        self,
        matched: QuerySet[Any],
        terms: list[QueryTerm],
        *,
        relaxed: bool = False,
        limit: int,
        matches: int | None = None,
        min_match: int | None = None,
    ) -> list[tuple[int, float]]:
        # Two cheap steps joined in Python: the FTS index ranks its matches by bm25 (computed by
        # the MATCH that drives the scan), the documents query applies the filters. Putting
        # both in one statement makes SQLite re-run the MATCH once per candidate row (seconds
        # at 20k documents).
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT rowid, -bm25(search_fts, %s, %s) FROM search_fts WHERE search_fts MATCH %s "
                "ORDER BY bm25(search_fts, %s, %s), rowid DESC LIMIT %s",
                (
                    TITLE_WEIGHT,
                    BODY_WEIGHT,
                    self.compile(terms, relaxed=relaxed, min_match=min_match),
                    TITLE_WEIGHT,
                    BODY_WEIGHT,
                    FTS_CANDIDATES,
                ),
            )
            ranked = cursor.fetchall()
        allowed = set(matched.values_list("pk", flat=True))
        return [(int(pk), float(score)) for pk, score in ranked if pk in allowed][:limit]

    def count(self) -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM search_fts")
            return int(cursor.fetchone()[0])

    def vocabulary(self) -> Iterator[tuple[str, int]]:
        # fts5vocab reads the index's own term list; a temp table, so no migration and nothing
        # left behind in the database file.
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_fts_terms "
                "USING fts5vocab(main, search_fts, row)"
            )
            cursor.execute("SELECT term, doc FROM temp.search_fts_terms")
            for term, documents in cursor.fetchall():
                yield str(term), int(documents)

    def attribute_match(self, key: str) -> RawSQL:
        return RawSQL(
            "EXISTS (SELECT 1 FROM json_each(search_document.attribute_values) WHERE value = %s)",
            (key,),
            output_field=BooleanField(),
        )


class PostgresBackend:
    vendor = "postgresql"

    # ts_rank's weights are {D, C, B, A}; the title is A and the body B.
    _WEIGHTS = "{0.1, 0.2, %s, %s}" % (BODY_WEIGHT / TITLE_WEIGHT, 1.0)  # noqa: UP031

    def index(self, rows: Iterable[IndexRow]) -> None:
        rows = list(rows)
        if not rows:
            return
        # The trigger of migration 0010 computes the vector when the document row is written
        # (one row version per write, ADR 0063). Only a row whose vector was cleared (``clear``)
        # without its texts being written since is filled here; the others match no row.
        with connection.cursor() as cursor:
            cursor.executemany(
                "UPDATE search_document SET search_vector = "
                "setweight(to_tsvector('simple', %s), 'A') || "
                "setweight(to_tsvector('simple', %s), 'B') "
                "WHERE product_id = %s AND search_vector IS NULL",
                [(r.title, r.body, r.product_id) for r in rows],
            )

    def remove(self, product_ids: Iterable[int]) -> None:
        # The vector lives on the document row, which the caller deletes.
        return None

    def clear(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("UPDATE search_document SET search_vector = NULL")

    def prune(self) -> None:
        return None

    @staticmethod
    def compile(
        terms: list[QueryTerm], *, relaxed: bool = False, min_match: int | None = None
    ) -> str:
        """A ``to_tsquery`` string: ``(a | b | a:*) & (c | ...)``; tokens need no quoting.
        With ``min_match``: at least that many of the terms."""
        groups = []
        for term in terms:
            options = [
                f"{token}:*" if is_prefix else token
                for token, is_prefix in _alternatives(term, relaxed=relaxed)
            ]
            groups.append("(" + " | ".join(options) + ")")
        return _combined(groups, min_match=min_match, conj=" & ", disj=" | ")

    @contextmanager
    def planned(self, *, text: bool = True) -> Iterator[None]:
        # The planner cannot see that testing ``@@`` on a row means de-TOASTing its vector,
        # and it overestimates how many rows an OR of synonyms matches, so at 100k documents
        # it picked a sequential scan over every vector (0.5–1 s) instead of the GIN bitmap
        # (a few ms). The search's own statements are told to take the index; the setting is
        # put back afterwards (or rolled back with an aborted transaction). Browsing without
        # words needs none of it.
        if not text:
            yield
            return
        with connection.cursor() as cursor:
            cursor.execute("SET enable_seqscan = off")
        try:
            yield
        finally:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("RESET enable_seqscan")
            except DatabaseError:  # the transaction is aborted: its SET goes with it
                pass

    def match(
        self, terms: list[QueryTerm], *, relaxed: bool = False, min_match: int | None = None
    ) -> RawSQL:
        return RawSQL(
            "search_document.search_vector @@ to_tsquery('simple', %s)",
            (self.compile(terms, relaxed=relaxed, min_match=min_match),),
            output_field=BooleanField(),
        )

    def top(
        self,
        matched: QuerySet[Any],
        terms: list[QueryTerm],
        *,
        relaxed: bool = False,
        limit: int,
        matches: int | None = None,
        min_match: int | None = None,
    ) -> list[tuple[int, float]]:
        # ts_rank reads each row's whole tsvector (most are TOASTed): over every match of a
        # broad query at 100k documents that is most of a search's time. So the matches are
        # first ordered by the precomputed business-signal score (an in-row float: no vector
        # read), and only the best TEXT_RANK_WINDOW of those get a text rank; the rest keep
        # their signal order behind them. Exact whenever a query matches fewer documents.
        rank = RawSQL(
            "ts_rank(%s::float4[], search_document.search_vector, to_tsquery('simple', %s))",
            (self._WEIGHTS, self.compile(terms, relaxed=relaxed, min_match=min_match)),
            output_field=FloatField(),
        )
        if matches is not None and matches <= TEXT_RANK_WINDOW:  # few: rank them all at once
            rows = (
                matched.annotate(text_score=rank)
                .order_by("-text_score", "-pk")
                .values_list("pk", "text_score")[:limit]
            )
            return [(int(pk), float(score or 0.0)) for pk, score in rows]
        candidates = list(
            matched.order_by("-signals_score", "-pk").values_list("pk", flat=True)[:limit]
        )
        if not candidates:
            return []
        head = candidates[:TEXT_RANK_WINDOW]
        ranks = dict(
            matched.model.objects.filter(pk__in=head)
            .annotate(text_score=rank)
            .values_list("pk", "text_score")
        )
        ranked = sorted(
            ((int(pk), float(ranks.get(pk) or 0.0)) for pk in head), key=lambda r: (-r[1], -r[0])
        )
        floor = ranked[-1][1] if ranked else 0.0
        return ranked + [(int(pk), floor) for pk in candidates[TEXT_RANK_WINDOW:]]

    def count(self) -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM search_document WHERE search_vector IS NOT NULL")
            return int(cursor.fetchone()[0])

    def vocabulary(self) -> Iterator[tuple[str, int]]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT word, ndoc FROM ts_stat("
                "'SELECT search_vector FROM search_document WHERE search_vector IS NOT NULL')"
            )
            for word, documents in cursor.fetchall():
                yield str(word), int(documents)

    def attribute_match(self, key: str) -> RawSQL:
        # ``@>`` is what the GIN (jsonb_path_ops) index on the column answers.
        return RawSQL(
            "search_document.attribute_values @> %s::jsonb",
            (json.dumps([key], ensure_ascii=False),),
            output_field=BooleanField(),
        )


def backend_get() -> SearchBackend:
    """The backend of the default database (embedded SQLite or production PostgreSQL)."""
    if connection.vendor == "postgresql":
        return PostgresBackend()
    if connection.vendor == "sqlite":
        return Fts5Backend()
    raise NotImplementedError(f"no search backend for database vendor {connection.vendor!r}")
