"""``yaji verify-log``: recompute the copyright log from its leaves and check every signed
checkpoint and the consistency between them (``--from SIZE --to SIZE`` for a range).
Exit status 1 on any problem."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from yaji.copyright import signing
from yaji.copyright.audit import log_audit
from yaji.copyright.log_keys import log_origin, log_public_key


class Command(BaseCommand):
    help = "Verify the whole copyright log: leaves, nodes, checkpoint signatures and consistency."

    def add_arguments(self, parser) -> None:  # type: ignore[no-untyped-def]
        parser.add_argument("--from", dest="first", type=int, help="Size of the older checkpoint.")
        parser.add_argument("--to", dest="second", type=int, help="Size of the newer checkpoint.")
        parser.add_argument("--log-key", help="The log's public key (base64); default: ours.")

    def handle(self, *args, first, second, log_key, **options) -> None:  # type: ignore[no-untyped-def]
        console = Console(file=self.stdout._out, width=None if self.stdout.isatty() else 120)
        try:
            public_key = signing.unb64(log_key, size=32) if log_key else log_public_key()
        except signing.SignatureFormatError as exc:
            raise CommandError(f"--log-key: {exc}") from exc
        columns = [
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        ]
        with Progress(*columns, console=console, transient=False) as progress:
            task = progress.add_task("leaves", total=None)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            report = log_audit(
                public_key=public_key,
                origin=log_origin(),
                first=first,
                second=second,
                progress=advance,
            )
        for problem in report.problems:
            console.print(f"[red]FAIL[/red] {problem}", highlight=False)
        summary = (
            f"{report.leaves} leaves, {report.nodes} interior nodes, "
            f"{report.checkpoints} checkpoints"
        )
        if not report.ok:
            raise CommandError(
                f"the copyright log does NOT verify ({len(report.problems)} problems; {summary})"
            )
        console.print(f"OK: the copyright log verifies ({summary})", highlight=False)
