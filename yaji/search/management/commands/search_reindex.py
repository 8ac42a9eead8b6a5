"""``yaji search-reindex``: rebuild the search index from the catalog, with a progress bar.

Idempotent and safe while the site runs: documents are replaced batch by batch (one short
transaction each), stale ones are dropped first and the suggestion and spelling vocabularies are
recounted last.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from yaji.search.backends import backend_get
from yaji.search.models import SearchDocument, SearchVocabulary
from yaji.search.services import search_index_rebuild


class Command(BaseCommand):
    help = "Rebuild the search index (documents, facets, suggestions, full text) from the catalog."

    def add_arguments(self, parser) -> None:  # type: ignore[no-untyped-def]
        parser.add_argument("--batch-size", type=int, default=200, help="products per transaction")
        parser.add_argument("--quiet", action="store_true", help="no progress bar or summary")

    def handle(self, *args, batch_size: int, quiet: bool, **options) -> None:  # type: ignore[no-untyped-def]
        if not 1 <= batch_size <= 5000:
            raise CommandError("--batch-size must be between 1 and 5000")
        console = Console(file=self.stderr._out, quiet=quiet)
        started = time.monotonic()
        with Progress(
            TextColumn("[bold]search index 搜索索引"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            disable=quiet,
        ) as progress:
            task = progress.add_task("reindex", total=None)
            for done in search_index_rebuild(
                batch_size=batch_size, on_start=lambda total: progress.update(task, total=total)
            ):
                progress.update(task, completed=done)
        if not quiet:
            backend = backend_get()
            self.stdout.write(
                f"Search index rebuilt ({backend.vendor}): {SearchDocument.objects.count()} "
                f"documents, {backend.count()} full-text entries, "
                f"{SearchVocabulary.objects.count()} spelling-vocabulary tokens in "
                f"{time.monotonic() - started:.1f}s"
            )
