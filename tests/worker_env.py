"""A pytest plugin loaded (`-p tests.worker_env`) before Django reads its settings: each pytest-xdist worker of a run
gets a Redis database and a data folder of its own, so that workers share no queue, channel group, file or SQLite
database. Without xdist it does nothing."""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if worker:
    number = int(worker.removeprefix("gw"))
    redis = urlsplit(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    os.environ["REDIS_URL"] = urlunsplit(redis._replace(path=f"/{number}"))
    data_path = os.path.join(os.environ.get("VIRTOOL_DATA_PATH", "data"), worker)
    os.makedirs(data_path, exist_ok=True)
    os.environ["VIRTOOL_DATA_PATH"] = data_path
