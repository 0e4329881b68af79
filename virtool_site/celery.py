"""The Celery app and its queues."""

from __future__ import annotations

import os
from enum import StrEnum

from celery import Celery
from kombu import Exchange
from kombu import Queue as KombuQueue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "virtool_site.settings")


class Queue(StrEnum):
    """Celery queues: Virtool's small and large job sizes, plus default for short periodic work."""

    DEFAULT = "default"
    SMALL = "small"
    LARGE = "large"


app = Celery("virtool")
app.config_from_object("django.conf:settings", namespace="CELERY")
# One direct exchange per queue, so a message routed to `small` can only ever land in `small`.
app.conf.task_queues = [
    KombuQueue(queue.value, Exchange(queue.value, type="direct"), routing_key=queue.value) for queue in Queue
]
app.autodiscover_tasks()
