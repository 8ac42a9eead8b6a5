"""``yaji demo-data``: build the demo world, with a progress bar. Safe to run again."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from yaji.demo.products import catalogue_bulk_seed, judgements_json
from yaji.demo.world import DEMO_PASSWORD, chapters, demo_people
from yaji.search.evaluation import QUERIES_PATH
from yaji.search.services import search_index_rebuild


class Command(BaseCommand):
    help = "Build the deterministic, bilingual Yaji demo world (people, roles, real-name checks)."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--buyers", type=int, default=24, help="number of buyer accounts")
        parser.add_argument("--minors", type=int, default=3, help="how many buyers are minors")
        parser.add_argument("--quiet", action="store_true", help="no progress bar or summary")
        parser.add_argument(
            "--products",
            type=int,
            default=None,
            help="top the catalogue up to this many listed products with bulk inserts "
            "(benchmarks: --products 100000), then reindex search",
        )
        parser.add_argument(
            "--catalogue-only",
            action="store_true",
            help="with --products: only the bulk catalogue and its index, not the demo world",
        )
        parser.add_argument(
            "--search-labels",
            action="store_true",
            help="only rewrite the labelled search queries (yaji/search/data/eval_queries.json) "
            "from the demo catalogue",
        )

    def handle(
        self,
        *args,
        buyers: int,
        minors: int,
        quiet: bool,
        products: int | None,
        search_labels: bool,
        catalogue_only: bool,
        **options,
    ):  # type: ignore[no-untyped-def]
        if search_labels:
            QUERIES_PATH.write_text(judgements_json(), encoding="utf-8")
            self.stdout.write(f"Wrote {QUERIES_PATH}")
            return
        if products is not None and not 1 <= products <= 2_000_000:
            raise CommandError("--products must be between 1 and 2000000")
        console = Console(stderr=True, quiet=quiet)
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[current]}"),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            world = [] if catalogue_only and products else chapters(buyers=buyers, minors=minors)
            for title, steps, chapter in world:
                task = progress.add_task(title, total=steps, current="")
                for label in chapter():
                    progress.update(task, advance=1, current=label)
            if products is not None:
                task = progress.add_task("bulk catalogue 批量商品", total=None, current="")
                catalogue_bulk_seed(
                    total=products,
                    on_progress=lambda done, total: progress.update(
                        task, completed=done, total=total, current="inserted"
                    ),
                )
                task = progress.add_task("search 搜索索引", total=None, current="")
                for done in search_index_rebuild(
                    batch_size=1000, on_start=lambda total: progress.update(task, total=total)
                ):
                    progress.update(task, completed=done, current="indexed")
                if connection.vendor == "postgresql":
                    # Fresh planner statistics: after a bulk load the planner would otherwise
                    # still think the tables are empty and pick nested loops over 100k rows.
                    with connection.cursor() as cursor:
                        cursor.execute("ANALYZE")
        if quiet or (catalogue_only and products):
            return
        people = demo_people(buyers=buyers, minors=minors)
        self.stdout.write(
            f"Demo world ready: {len(people)} people. Password for all: {DEMO_PASSWORD}"
        )
        for person in people[:11]:
            self.stdout.write(
                f"  {person.email:<38} {', '.join(person.roles):<16} {person.display_name}"
            )
        self.stdout.write(f"  ... and {len(people) - 11} buyers (buyer01@yaji.demo ...)")
