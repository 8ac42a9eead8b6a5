"""Each backend where it applies: FTS5 on SQLite, full text on PostgreSQL
(``DATABASE_URL=postgres://...``). The shared behaviour is in test_search.py."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection

from yaji.search.analysis import query_terms
from yaji.search.backends import Fts5Backend, PostgresBackend, backend_get
from yaji.search.models import SearchDocument
from yaji.search.selectors import SearchParams, search_run
from yaji.search.tests.factories import listed, relay, reviewer_user, shop_open

sqlite_only = pytest.mark.skipif(settings.IS_POSTGRES, reason="FTS5 backend: SQLite only")
postgres_only = pytest.mark.postgres_only


@pytest.fixture
def pair(db) -> tuple[object, object]:  # type: ignore[no-untyped-def]
    """Two products with 丝巾: one in the title, one only in the story."""
    reviewer = reviewer_user()
    shop = shop_open(reviewer=reviewer, shop_type="studio")
    in_title = listed(shop, reviewer=reviewer, title_zh="真丝丝巾", story_zh="江南织造。")
    in_story = listed(shop, reviewer=reviewer, title_zh="团扇", story_zh="可与丝巾同系列搭配。")
    relay()
    return in_title, in_story


def _ranked(query: str) -> list[int]:
    return [p.pk for p in search_run(SearchParams(q=query)).hits]


@pytest.mark.django_db
def test_listing_reaches_the_index_through_the_outbox() -> None:
    reviewer = reviewer_user()
    shop = shop_open(reviewer=reviewer)
    product = listed(shop, reviewer=reviewer, title_zh="缂丝书签")
    assert not SearchDocument.objects.filter(pk=product.pk).exists()  # not yet delivered
    assert _ranked("缂丝") == []
    assert relay() >= 1
    assert _ranked("缂丝") == [product.pk]
    assert _ranked("kesi") == [product.pk]  # synonym
    assert _ranked("ks") == [product.pk]  # initials


def test_backend_follows_the_database() -> None:
    expected = PostgresBackend if settings.IS_POSTGRES else Fts5Backend
    assert isinstance(backend_get(), expected)


@sqlite_only
def test_fts5_table_and_query(pair) -> None:  # type: ignore[no-untyped-def]
    in_title, in_story = pair
    with connection.cursor() as cursor:
        cursor.execute("SELECT sql FROM sqlite_master WHERE name = 'search_fts'")
        assert "fts5" in cursor.fetchone()[0].lower()
        cursor.execute("SELECT rowid FROM search_fts ORDER BY rowid")
        assert [r[0] for r in cursor.fetchall()] == sorted([in_title.pk, in_story.pk])
    assert Fts5Backend.compile(query_terms("丝巾 and")) == (
        '("丝巾" OR "围巾" OR "方巾" OR "scarf") AND ("and" OR "and"*)'
    )
    # bm25 with the title weighted 4:1 puts the title match first.
    assert _ranked("丝巾") == [in_title.pk, in_story.pk]
    assert backend_get().count() == 2
    backend_get().remove([in_story.pk])
    assert backend_get().count() == 1


@postgres_only
@pytest.mark.django_db
def test_postgres_vector_column_and_gin_index(pair) -> None:  # type: ignore[no-untyped-def]
    in_title, in_story = pair
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'search_document_vector_gin'"
        )
        assert "gin (search_vector)" in cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM search_document WHERE search_vector IS NOT NULL")
        assert cursor.fetchone()[0] == 2
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            "EXPLAIN SELECT product_id FROM search_document "
            "WHERE search_vector @@ to_tsquery('simple', %s)",
            [PostgresBackend.compile(query_terms("丝巾"))],
        )
        plan = "\n".join(r[0] for r in cursor.fetchall())
    assert "search_document_vector_gin" in plan, plan
    assert PostgresBackend.compile(query_terms("丝巾 and")) == (
        "(丝巾 | 围巾 | 方巾 | scarf) & (and | and:*)"
    )
    # ts_rank with the title as weight A puts the title match first.
    assert _ranked("丝巾") == [in_title.pk, in_story.pk]
    assert backend_get().count() == 2


def _document_writes() -> tuple[int, int]:
    """(inserts, updates) of search_document rows in this transaction so far."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n_tup_ins, n_tup_upd FROM pg_stat_xact_user_tables "
            "WHERE relname = 'search_document'"
        )
        row = cursor.fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


@postgres_only
def test_a_document_is_written_once_with_its_vector(pair) -> None:  # type: ignore[no-untyped-def]
    from yaji.search.services import search_index_rebuild

    in_title, in_story = pair
    before = _document_writes()
    list(search_index_rebuild())  # both documents replaced
    inserted, updated = (a - b for a, b in zip(_document_writes(), before, strict=True))
    # One row version per document: the trigger computes the vector in the upsert itself,
    # and the backend's own UPDATE finds no row without one (ADR 0063).
    assert (inserted, updated) == (0, 2)
    assert _ranked("丝巾") == [in_title.pk, in_story.pk]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE search_document SET title_tokens = %s WHERE product_id = %s",
            ["团扇 宫扇", in_story.pk],
        )
    assert _ranked("宫扇") == [in_story.pk]  # any write of the texts recomputes the vector
