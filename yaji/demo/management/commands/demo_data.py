"""``yaji demo-data``: build the demo world, with a progress bar. Safe to run again."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from yaji.demo.world import DEMO_PASSWORD, chapters, demo_people


class Command(BaseCommand):
    help = "Build the deterministic, bilingual Yaji demo world (people, roles, real-name checks)."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--buyers", type=int, default=24, help="number of buyer accounts")
        parser.add_argument("--minors", type=int, default=3, help="how many buyers are minors")
        parser.add_argument("--quiet", action="store_true", help="no progress bar or summary")

    def handle(self, *args, buyers: int, minors: int, quiet: bool, **options):  # type: ignore[no-untyped-def]
        console = Console(stderr=True, quiet=quiet)
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[current]}"),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            for title, steps, chapter in chapters(buyers=buyers, minors=minors):
                task = progress.add_task(title, total=steps, current="")
                for label in chapter():
                    progress.update(task, advance=1, current=label)
        if quiet:
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
