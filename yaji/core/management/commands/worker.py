"""``yaji worker``: the background worker (outbox relay + tasks) in the foreground."""

from __future__ import annotations

import signal
from argparse import ArgumentParser
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand

from yaji.core.background import BackgroundWorker


class Command(BaseCommand):
    help = "Deliver outbox events and run background tasks until stopped (SIGINT/SIGTERM)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--once",
            action="store_true",
            help="Drain what is due now, then exit (for tests and cron).",
        )
        parser.add_argument("--interval", type=float, default=1.0, help="Seconds between polls.")
        parser.add_argument("--batch", type=int, default=100, help="Outbox events per claim.")
        parser.add_argument("--no-outbox", action="store_true", help="Do not relay outbox events.")
        parser.add_argument("--no-tasks", action="store_true", help="Do not run background tasks.")

    def handle(self, *args: Any, **options: Any) -> None:
        worker = BackgroundWorker(
            outbox=not options["no_outbox"],
            tasks=not options["no_tasks"],
            interval=options["interval"],
            batch=options["batch"],
        )
        if options["once"]:
            result = worker.run_once()
            self.stdout.write(f"drained: {result.events} outbox event(s) handled")
            return

        def shutdown(signum: int, frame: FrameType | None) -> None:
            self.stdout.write(f"{signal.strsignal(signum)}: finishing current work…")
            # A second signal during shutdown kills the process the usual way.
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            worker.request_stop()

        signal.signal(signal.SIGINT, shutdown)
        signal.signal(signal.SIGTERM, shutdown)
        worker.start()
        self.stdout.write(
            f"yaji worker {worker.worker_id} running "
            f"(outbox={worker.outbox}, tasks={worker.tasks}); Ctrl+C to stop"
        )
        worker.wait()
        worker.stop()
        self.stdout.write("yaji worker stopped")
