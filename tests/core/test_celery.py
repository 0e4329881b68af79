"""Celery wiring: a real worker with embedded beat runs the periodic session clean-up."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from tests.conftest import ROOT, process_env, stop
from virtool_site.celery import Queue, app

pytestmark = pytest.mark.django_db(transaction=True)


def test_queues_and_reliability_defaults():
    assert {queue.name for queue in app.conf.task_queues} == {"default", "small", "large"}
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert Queue.SMALL == "small"
    assert "sessions-clear-expired" in app.conf.beat_schedule


def test_sessions_clear_expired_task_removes_only_expired():
    store = SessionStore()
    store.create()
    Session.objects.create(session_key="old", session_data="", expire_date=timezone.now() - timedelta(minutes=1))
    from core.tasks import sessions_clear_expired_task

    assert sessions_clear_expired_task.apply().get() == 1
    assert list(Session.objects.values_list("session_key", flat=True)) == [store.session_key]


@pytest.mark.live
def test_beat_schedules_session_cleanup_on_a_real_worker(tmp_path):
    store = SessionStore()
    store.create()
    Session.objects.create(session_key="stale", session_data="", expire_date=timezone.now() - timedelta(hours=1))
    log = (tmp_path / "celery.log").open("w")
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "virtool_site",
            "worker",
            "-B",
            "-Q",
            "default",
            "-c",
            "1",
            "--without-gossip",
            "--without-mingle",
            "-s",
            str(tmp_path / "beat-schedule"),
            "--loglevel",
            "INFO",
        ],
        cwd=ROOT,
        env=process_env(VIRTOOL_SESSION_CLEANUP_INTERVAL="1"),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while Session.objects.filter(session_key="stale").exists() and time.monotonic() < deadline:
            assert worker.poll() is None, (tmp_path / "celery.log").read_text()
            time.sleep(0.5)
    finally:
        stop(worker)
        log.close()
    assert not Session.objects.filter(session_key="stale").exists(), (tmp_path / "celery.log").read_text()
    assert Session.objects.filter(session_key=store.session_key).exists()
