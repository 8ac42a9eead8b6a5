"""Background tasks of payments (thin: they call services and are safe to run twice).

The worker has no periodic scheduler yet: run ``yaji payments-housekeeping`` from cron or a
systemd timer (e.g. every minute), or enqueue :data:`payments_housekeeping_task`.
"""

from __future__ import annotations

from django_tasks import task

from yaji.payments.housekeeping import payments_housekeeping


@task()
def payments_housekeeping_task() -> dict[str, int]:
    return payments_housekeeping()
