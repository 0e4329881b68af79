"""Refreshers run one at a time across every worker: a lock in Redis per refresher, held while it runs.

Beat fires each refresher on every worker host's schedule it reaches; a second run that finds the lock taken does
nothing (it is the same work). The lock expires on its own (`timeout`) if a worker dies holding it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

T = TypeVar("T")


@contextmanager
def single_flight(name: str, *, timeout: float = 900.0) -> Iterator[bool]:
    """Yields True to the one holder of lock `name`, False to anyone else while it is held."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    lock = client.lock(f"virtool:refresh:{name}", timeout=timeout, blocking=False)
    acquired = bool(lock.acquire(blocking=False))
    try:
        yield acquired
    finally:
        if acquired:
            try:
                lock.release()
            except redis.exceptions.LockError:
                logger.warning("refresh lock %s expired before %s finished", name, name)
        client.close()


def run_once(name: str, refresh: Callable[[], T], *, timeout: float = 900.0) -> T | None:
    """Run `refresh` unless another worker is running the refresher `name`; its result, or None when skipped."""
    with single_flight(name, timeout=timeout) as acquired:
        if not acquired:
            logger.info("refresh %s skipped: already running elsewhere", name)
            return None
        return refresh()
