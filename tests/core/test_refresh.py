"""Refreshers run one at a time across workers: the Redis lock of `core.refresh`."""

from __future__ import annotations

import threading

from core.refresh import run_once, single_flight


def test_a_second_run_while_one_holds_the_lock_does_nothing():
    inside = threading.Event()
    release = threading.Event()
    results: list[object] = []

    def slow() -> str:
        inside.set()
        release.wait(10)
        return "done"

    first = threading.Thread(target=lambda: results.append(run_once("test-refresher", slow)))
    first.start()
    assert inside.wait(10)
    assert run_once("test-refresher", lambda: "again") is None  # skipped: the first still runs
    release.set()
    first.join(10)
    assert results == ["done"]
    assert run_once("test-refresher", lambda: "again") == "again"  # the lock was given back


def test_the_lock_is_given_back_when_the_refresher_fails():
    try:
        with single_flight("failing") as acquired:
            assert acquired
            raise RuntimeError("GitHub fell over")
    except RuntimeError:
        pass
    with single_flight("failing") as acquired:
        assert acquired
