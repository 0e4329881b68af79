"""Start a Celery worker for one queue with a concurrency derived from the instance limits."""

from __future__ import annotations

import os
import shutil
import socket
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from jobs.constants import Queue


def node_name(queue: str) -> str:
    """The Celery node name: `<queue>@<machine>`, or `<queue>@<VIRTOOL_WORKER_HOST>.<machine>` when the worker host
    is named otherwise. A worker starting up terminates the jobs its node name left running (its previous life),
    so two worker hosts must never share one: hosts on one machine, or machines cloned with one host name, are
    told apart by VIRTOOL_WORKER_HOST, and replicas sharing VIRTOOL_WORKER_HOST by their machine (container) name.
    """
    host = settings.VIRTOOL_WORKER_HOST
    if not host or host == socket.gethostname():
        return f"{queue}@%h"
    return f"{queue}@{host}.%h"


def queue_concurrency(queue: str) -> int:
    """How many jobs of a queue fit in the instance's `proc` limit at once (at least one)."""
    if queue == Queue.SMALL:
        return max(1, settings.VIRTOOL_PROC // max(1, settings.VIRTOOL_SM_PROC))
    if queue == Queue.LARGE:
        return max(1, settings.VIRTOOL_PROC // max(1, settings.VIRTOOL_LG_PROC))
    return 2


class Command(BaseCommand):
    """`manage.py run_worker small`: exec `celery worker -Q small -c N -n small@HOST`."""

    help = "Start a Celery worker for one queue (default, small or large)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("queue", choices=[queue.value for queue in Queue])
        parser.add_argument("--concurrency", type=int, default=None, help="Override the derived concurrency.")
        parser.add_argument("--loglevel", default="INFO")

    def handle(self, *args, queue: str, concurrency: int | None, loglevel: str, **options) -> None:
        celery = shutil.which("celery", path=os.path.dirname(sys.executable)) or shutil.which("celery")
        if celery is None:
            raise CommandError("celery is not installed in this environment")
        count = concurrency or queue_concurrency(queue)
        argv = [
            celery,
            "-A",
            "virtool_site",
            "worker",
            "-Q",
            queue,
            "-c",
            str(count),
            "-n",
            node_name(queue),
            "--loglevel",
            loglevel,
            "--without-gossip",
            "--without-mingle",
        ]
        self.stdout.write(f"starting {queue} worker with concurrency {count}")
        self.stdout.flush()
        os.execv(celery, argv)
