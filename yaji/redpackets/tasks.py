"""Background tasks of red packets.

Scheduling: the worker has no periodic scheduler yet, so refunds run from ``yaji
redpackets-expire`` (cron or a systemd timer, e.g. every minute), or by enqueueing
:data:`red_packets_expire_task` (``red_packets_expire_task.enqueue()``), which ``yaji worker``
then runs. Either is safe to run twice or concurrently.
"""

from __future__ import annotations

from django_tasks import task

from yaji.redpackets.payment_funding import red_packet_cancel_unpaid_due
from yaji.redpackets.services import red_packet_expire_due


@task()
def red_packets_expire_task() -> int:
    return red_packet_expire_due() + red_packet_cancel_unpaid_due()
