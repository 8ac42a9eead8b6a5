"""``yaji reconcile``: prove the books add up; exit status 1 on any discrepancy.

Runs every registered reconciliation check (``--check NAME`` to pick some, ``--list`` to see
them) and prints one table of checks with OK/FAIL and one of what is off. Meant for a daily
scheduled run and for operators after an incident.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from yaji.ledger.reconciliation import (
    ReconciliationCheck,
    reconciliation_checks,
    reconciliation_run,
)


class _RichProgress:
    """Adapts one rich task to the reconciliation ``Progress`` protocol."""

    def __init__(self, progress: Progress, description: str) -> None:
        self._progress = progress
        self._task = progress.add_task(description, total=None)

    def start(self, total: int) -> None:
        self._progress.update(self._task, total=total, completed=0)

    def advance(self, step: int = 1) -> None:
        self._progress.advance(self._task, step)


class Command(BaseCommand):
    help = "Check that the ledger adds up (and every registered reconciliation check passes)."

    def add_arguments(self, parser) -> None:  # type: ignore[no-untyped-def]
        parser.add_argument(
            "--check", action="append", dest="names", metavar="NAME", help="Run only this check."
        )
        parser.add_argument("--list", action="store_true", help="List the checks and exit.")

    def handle(self, *args, names: list[str] | None, list: bool, **options) -> None:  # type: ignore[no-untyped-def]
        out = self.stdout._out  # rich writes partial lines; OutputWrapper would add newlines
        console = Console(file=out, width=None if self.stdout.isatty() else 160)
        if list:
            for check in reconciliation_checks():
                console.print(f"{check.name}\t{check.description}", highlight=False)
            return
        known = {check.name for check in reconciliation_checks()}
        unknown = sorted(set(names or []) - known)
        if unknown:
            raise CommandError(f"unknown check(s): {', '.join(unknown)}")

        columns = [
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        ]
        err = Console(file=self.stderr._out)
        with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as bar:

            def progress_for(check: ReconciliationCheck) -> _RichProgress:
                return _RichProgress(bar, check.name)

            results = reconciliation_run(names=names, progress_for=progress_for)

        summary = Table(title="Reconciliation")
        summary.add_column("Check")
        summary.add_column("Status")
        summary.add_column("Issues", justify="right")
        summary.add_column("What it proves")
        for result in results:
            status = "[green]OK[/]" if result.ok else "[bold red]FAIL[/]"
            issues = "error" if result.error else str(len(result.discrepancies))
            summary.add_row(result.name, status, issues, result.description)
        console.print(summary)

        failed = [result for result in results if not result.ok]
        if not failed:
            console.print(f"[green]All {len(results)} checks passed.[/]")
            return
        details = Table(title="What is off")
        details.add_column("Check")
        details.add_column("Subject")
        details.add_column("Expected", justify="right")
        details.add_column("Actual", justify="right")
        for result in failed:
            if result.error:
                details.add_row(result.name, "check crashed", "", result.error)
            for item in result.discrepancies:
                details.add_row(result.name, item.subject, item.expected, item.actual)
        console.print(details)
        raise CommandError(f"reconciliation failed: {len(failed)} of {len(results)} checks")
