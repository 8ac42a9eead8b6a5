"""The background worker: outbox relay, Django Tasks database worker and periodic jobs
(``yaji.core.periodic``: order timers and the like), in daemon threads.

``yaji worker`` runs one in the foreground; ``yaji serve`` embeds one in each web process so the
single-machine install needs one command. Both loops are safe to run in several processes at
once: the relay claims events with leases (SKIP LOCKED on PostgreSQL) and the tasks worker claims
tasks the same way.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from dataclasses import dataclass

from django.db import close_old_connections, connection
from django_tasks_db.management.commands.db_worker import Worker as TasksWorker

from yaji.core.idempotency import idempotency_purge_expired
from yaji.core.outbox import outbox_relay_once
from yaji.core.periodic import periodic_run_due

logger = logging.getLogger(__name__)

# Expired idempotency keys are only garbage; sweeping them now and then is plenty.
PURGE_EVERY_SECONDS = 600.0


@dataclass(frozen=True)
class DrainResult:
    events: int


class BackgroundWorker:
    def __init__(
        self,
        *,
        outbox: bool = True,
        tasks: bool = True,
        periodic: bool = True,
        interval: float = 1.0,
        batch: int = 100,
        worker_id: str | None = None,
    ) -> None:
        self.outbox = outbox
        self.tasks = tasks
        self.periodic = periodic
        self.interval = interval
        self.batch = batch
        self.worker_id = (worker_id or f"{socket.gethostname()}-{os.getpid()}")[:64]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._tasks_worker: TasksWorker | None = None

    # --- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        """Start the loops in daemon threads and return at once."""
        if self._threads:
            raise RuntimeError("BackgroundWorker already started")
        self._stop.clear()
        if self.outbox:
            self._spawn("yaji-outbox", self._outbox_loop)
        if self.tasks:
            self._tasks_worker = self._make_tasks_worker(batch=False)
            self._spawn("yaji-tasks", self._tasks_loop)
        if self.periodic:
            self._spawn("yaji-periodic", self._periodic_loop)
        logger.info(
            "background worker started",
            extra={"worker_id": self.worker_id, "outbox": self.outbox, "tasks": self.tasks},
        )

    def request_stop(self) -> None:
        """Ask the loops to finish their current item; only sets flags (signal-safe)."""
        self._stop.set()
        if self._tasks_worker is not None:
            self._tasks_worker.running = False

    def stop(self, *, timeout: float = 30.0) -> None:
        """request_stop(), then wait for the loops (up to ``timeout`` seconds)."""
        self.request_stop()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                logger.warning("background thread %s did not stop in time", thread.name)
        self._threads = []
        self._tasks_worker = None

    def wait(self) -> None:
        """Block until stop() is called (from a signal handler or another thread)."""
        while not self._stop.wait(0.5):
            pass

    @property
    def alive(self) -> bool:
        return any(thread.is_alive() for thread in self._threads)

    def run_once(self) -> DrainResult:
        """Deliver everything due now and run every ready task, in this thread, then return."""
        events = self._drain_outbox() if self.outbox else 0
        if self.tasks:
            self._make_tasks_worker(batch=True).run()
            # Tasks may have published events of their own.
            events += self._drain_outbox() if self.outbox else 0
        return DrainResult(events=events)

    # --- loops ------------------------------------------------------------------------------

    def _spawn(self, name: str, target: object) -> None:
        thread = threading.Thread(target=self._guarded(target), name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    @staticmethod
    def _guarded(target: object):  # type: ignore[no-untyped-def]  # returns a thread target
        def run() -> None:
            try:
                target()  # type: ignore[operator]
            finally:
                # Database connections are per thread; close ours so it does not linger.
                connection.close()

        return run

    def _make_tasks_worker(self, *, batch: bool) -> TasksWorker:
        return TasksWorker(
            queue_names=["*"],
            interval=self.interval,
            batch=batch,
            backend_name="default",
            startup_delay=not batch,
            max_tasks=None,
            worker_id=self.worker_id,
            excluded_queue_names=[],
        )

    def _tasks_loop(self) -> None:
        assert self._tasks_worker is not None
        while not self._stop.is_set():
            try:
                self._tasks_worker.run()
                return
            except Exception:  # a database outage must not kill the thread for good
                logger.exception("tasks worker crashed; restarting in %ss", self.interval * 5)
                self._stop.wait(self.interval * 5)

    def _periodic_loop(self) -> None:
        while not self._stop.is_set():
            close_old_connections()
            periodic_run_due()
            self._stop.wait(self.interval)

    def _outbox_loop(self) -> None:
        next_purge = time.monotonic()
        while not self._stop.is_set():
            close_old_connections()
            try:
                handled = outbox_relay_once(batch=self.batch)
                if time.monotonic() >= next_purge:
                    idempotency_purge_expired()
                    next_purge = time.monotonic() + PURGE_EVERY_SECONDS
            except Exception:
                logger.exception("outbox relay failed; retrying")
                handled = 0
            if handled < self.batch:
                self._stop.wait(self.interval)

    def _drain_outbox(self) -> int:
        total = 0
        while True:
            handled = outbox_relay_once(batch=self.batch)
            total += handled
            if handled == 0:
                return total
