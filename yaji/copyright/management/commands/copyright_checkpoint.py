"""``yaji copyright-checkpoint``: sign the current tree head (skipped when unchanged).

Run it at an interval (cron / systemd timer, e.g. every minute) or enqueue
``yaji.copyright.tasks.checkpoint_task``; safe to run twice or concurrently."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from yaji.copyright.services import checkpoint_create


class Command(BaseCommand):
    help = "Sign a checkpoint of the copyright log (if it grew since the last one)."

    def handle(self, *args, **options) -> None:  # type: ignore[no-untyped-def]
        checkpoint = checkpoint_create()
        if checkpoint is None:
            self.stdout.write("the copyright log is empty; nothing to sign")
            return
        self.stdout.write(
            f"checkpoint size {checkpoint.size} root {checkpoint.root_hash} at {checkpoint.timestamp}"
        )
