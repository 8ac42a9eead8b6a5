"""Background tasks of the copyright log.

The worker has no periodic scheduler yet: sign checkpoints at an interval with ``yaji
copyright-checkpoint`` from cron / a systemd timer, or enqueue :data:`checkpoint_task`.
Both are safe to run twice or concurrently (an unchanged head is not signed again).
"""

from __future__ import annotations

from django_tasks import task

from yaji.copyright.services import checkpoint_create


@task()
def checkpoint_task() -> int:
    checkpoint = checkpoint_create()
    return checkpoint.size if checkpoint else 0
