"""The Celery app, with one exchange per job queue (the queues are the job engine's: `jobs.constants.Queue`)."""

from __future__ import annotations

import os

from celery import Celery
from kombu import Exchange
from kombu import Queue as KombuQueue

from jobs.constants import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "virtool_site.settings")


app = Celery("virtool")
app.config_from_object("django.conf:settings", namespace="CELERY")
# One direct exchange per queue, so a message routed to `small` can only ever land in `small`.
app.conf.task_queues = [
    KombuQueue(queue.value, Exchange(queue.value, type="direct"), routing_key=queue.value) for queue in Queue
]
app.autodiscover_tasks()
