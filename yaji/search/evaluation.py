"""Search quality against the labelled query set (``data/eval_queries.json``).

Each query carries graded judgements (3 = exactly what was asked, 2 = a close match, 1 =
related) of demo-catalogue products, named by their Chinese title. The evaluation runs every
query through :func:`search_run` (relevance order, as a shopper sees it) and reports NDCG@10
(exponential gain, log2 discount, ideal ranking from all judged products) and the share of
queries with no result at all, overall and per query group (two-character words, phrases,
English, pinyin, initials, traditional characters, typos).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from yaji.catalog.models import Product
from yaji.search.selectors import SearchParams, search_run

QUERIES_PATH = Path(__file__).parent / "data" / "eval_queries.json"
K = 10


@dataclass(frozen=True)
class LabelledQuery:
    q: str
    group: str
    relevant: dict[str, int]  # title_zh → grade


@dataclass(frozen=True)
class QueryOutcome:
    q: str
    group: str
    total: int
    ndcg: float
    server_ms: float
    top: list[str]


def queries_load(path: Path = QUERIES_PATH) -> list[LabelledQuery]:
    rows = json.loads(path.read_text(encoding="utf-8"))
    return [
        LabelledQuery(r["q"], r["group"], {k: int(v) for k, v in r["relevant"].items()})
        for r in rows
    ]


def dcg(grades: list[int]) -> float:
    return sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(grades[:K]))


def ndcg_at_k(ranked_grades: list[int], all_grades: list[int]) -> float:
    ideal = dcg(sorted(all_grades, reverse=True))
    return dcg(ranked_grades) / ideal if ideal else 0.0


def _grades_by_id(queries: list[LabelledQuery]) -> tuple[dict[str, int], int]:
    """title → product id of the judged products present (titles of the demo are unique)."""
    titles = {t for q in queries for t in q.relevant}
    ids = dict(Product.objects.filter(title_zh__in=titles).values_list("title_zh", "id"))
    return ids, len(titles - set(ids))


def query_evaluate(query: LabelledQuery, ids: dict[str, int]) -> QueryOutcome:
    started = time.perf_counter()
    result = search_run(SearchParams(q=query.q, page_size=K), facets=False)
    elapsed = (time.perf_counter() - started) * 1000
    grade_of = {ids[t]: g for t, g in query.relevant.items() if t in ids}
    ranked = [grade_of.get(p.pk, 0) for p in result.hits[:K]]
    return QueryOutcome(
        q=query.q,
        group=query.group,
        total=result.total,
        ndcg=ndcg_at_k(ranked, list(grade_of.values())),
        server_ms=elapsed,
        top=[p.title_zh for p in result.hits[:3]],
    )


def _summary(outcomes: list[QueryOutcome]) -> dict[str, float | int]:
    n = len(outcomes)
    return {
        "queries": n,
        "ndcg_at_10": round(sum(o.ndcg for o in outcomes) / n, 4) if n else 0.0,
        "zero_result_rate": round(sum(o.total == 0 for o in outcomes) / n, 4) if n else 0.0,
    }


def search_evaluate(queries: list[LabelledQuery] | None = None) -> dict[str, Any]:
    """Run the labelled queries against the current index; the report as a JSON-able dict."""
    queries = queries_load() if queries is None else queries
    ids, missing = _grades_by_id(queries)
    outcomes = [query_evaluate(q, ids) for q in queries]
    groups = sorted({o.group for o in outcomes})
    times = sorted(o.server_ms for o in outcomes)
    report: dict[str, Any] = {
        **_summary(outcomes),
        "judged_products_missing": missing,
        "search_p50_ms": round(times[len(times) // 2], 1) if times else 0.0,
        "groups": {g: _summary([o for o in outcomes if o.group == g]) for g in groups},
        "per_query": [
            {
                "q": o.q,
                "group": o.group,
                "total": o.total,
                "ndcg_at_10": round(o.ndcg, 4),
                "top": o.top,
            }
            for o in outcomes
        ],
    }
    return report
