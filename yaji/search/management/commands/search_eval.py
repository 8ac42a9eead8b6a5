"""``yaji search-eval [--json]``: NDCG@10 and the zero-result rate of the labelled queries
against the current index (build it with ``yaji demo-data``)."""

from __future__ import annotations

import json as jsonlib

from django.core.management.base import BaseCommand, CommandError

from yaji.search.evaluation import search_evaluate


class Command(BaseCommand):
    help = "Evaluate search quality over the labelled query set (NDCG@10, zero-result rate)."

    def add_arguments(self, parser) -> None:  # type: ignore[no-untyped-def]
        parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
        parser.add_argument("--queries", action="store_true", help="list every query's outcome")

    def handle(self, *args, json: bool, queries: bool, **options) -> None:  # type: ignore[no-untyped-def]
        report = search_evaluate()
        if json:
            self.stdout.write(_dumps(report if queries else _without_queries(report)))
            return
        self.stdout.write(
            f"NDCG@10 {report['ndcg_at_10']:.3f}   zero-result rate "
            f"{report['zero_result_rate']:.1%}   over {report['queries']} queries"
        )
        for group, numbers in report["groups"].items():
            self.stdout.write(
                f"  {group:<12} NDCG@10 {numbers['ndcg_at_10']:.3f}   zero results "
                f"{numbers['zero_result_rate']:.1%}   ({numbers['queries']} queries)"
            )
        if report["judged_products_missing"]:
            self.stderr.write(
                f"{report['judged_products_missing']} judged products are not in the database: "
                "build the demo catalogue first (yaji demo-data)."
            )
        if queries:
            for row in report["per_query"]:
                self.stdout.write(
                    f"  {row['ndcg_at_10']:.2f}  {row['total']:>4}  {row['group']:<11} {row['q']}"
                    f"  → {' / '.join(row['top'])}"
                )
        if report["queries"] == 0:
            raise CommandError("no labelled queries")


def _without_queries(report: dict) -> dict:  # type: ignore[type-arg]
    return {k: v for k, v in report.items() if k != "per_query"}


def _dumps(report: dict) -> str:  # type: ignore[type-arg]
    return jsonlib.dumps(report, ensure_ascii=False, sort_keys=True)
