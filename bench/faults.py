#!/usr/bin/env python
"""Fault script: a bad day for a running Virtool, while PathoScope analyses run.

    .venv/bin/python bench/faults.py [--scale 20] [--outage 20] [--keep]

What it does (see bench/README.md for the figures):

1. starts a whole instance the way `make run` does (`bin/run`: supervisord with daphne, one worker per queue,
   beat and the file manager) in a throwaway data path with its own SQLite database, on free ports, beside a
   Redis of the script's own (append-only file on, as a production Redis has) that the script can kill;
2. as an administrator, through the API only: uploads the demo reference and imports it, builds its index,
   uploads the real RpRSV library (`../shared/data/samples/rprsv_{1,2}.fq.gz`, resampled to `--scale` times its
   10,000 pairs so that an analysis lasts long enough to be hit) and creates the sample;
3. three faults, each while a `pathoscope_bowtie` analysis runs:
   - **web**: SIGKILL to daphne. Supervisord starts it again; the analysis is not affected.
   - **Redis**: SIGKILL to redis-server, started again `--outage` seconds later on the same files. During the
     outage a new analysis is requested: 503 `service_unavailable`, its job kept; once Redis is back the job is
     sent again (the outbox) and runs. The running analysis goes on (its heartbeat is in the database).
   - **worker**: SIGKILL to the large-queue worker's main process, during the analysis it runs. Supervisord
     starts it again; the new worker marks the job `terminated` (the job's worker died) and the workflow's
     cleanup removes the half-made analysis. A last analysis shows the worker works again.
4. prints the recovery times and every analysis's end, checks that nothing is left half-made (no analysis row
   or folder of a failed analysis, no job scratch folder, no reservation), and stops everything (Ctrl-C to
   supervisord, then Redis). Every wait is bounded; traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _sandbox import ROOT, SHARED
from pathoscope import resample

PREFIX = "virtool-faults"
FINISHED = ("complete", "error", "terminated", "cancelled", "timeout")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except requests.RequestException:
            value = None
        if value:
            return value
        time.sleep(interval)
    raise SystemExit(f"faults: gave up after {timeout:.0f} s waiting for {what}")


class Instance:
    """`bin/run` in a temp data path, with a Redis of the script's own."""

    def __init__(self, temp: Path) -> None:
        self.temp = temp
        self.data = temp / "data"
        self.port = free_port()
        self.redis_port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.redis: subprocess.Popen | None = None
        self.env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("DATABASE_URL", "CELERY_BROKER_URL", "SENTRY_DSN", "VIRTOOL_TEST_DATABASE_NAME")
        }
        self.env.update(
            VIRTOOL_DATA_PATH=str(self.data),
            VIRTOOL_PORT=str(self.port),
            REDIS_URL=f"redis://127.0.0.1:{self.redis_port}/0",
            VIRTOOL_CHANNEL_PREFIX=PREFIX,
            ALLOWED_HOSTS="127.0.0.1,localhost",
        )
        (temp / "redis").mkdir()
        self.start_redis()
        self.log = (temp / "run.log").open("w")
        self.run = subprocess.Popen(
            ["bash", "bin/run"],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start_redis(self) -> None:
        self.redis = subprocess.Popen(
            [
                *("redis-server", "--bind", "127.0.0.1", "--port", str(self.redis_port), "--appendonly", "yes"),
                *("--save", "", "--dir", str(self.temp / "redis"), "--logfile", str(self.temp / "redis" / "log")),
            ]
        )
        wait(lambda: self.redis_cli("ping") == "PONG", 20, "Redis")

    def kill_redis(self) -> None:
        assert self.redis is not None
        self.redis.kill()
        self.redis.wait()

    def redis_cli(self, *args: str) -> str:
        result = subprocess.run(
            ["redis-cli", "-p", str(self.redis_port), *args], capture_output=True, text=True, check=False
        )
        return result.stdout.strip()

    def ctl(self, *args: str) -> str:
        result = subprocess.run(["bash", "bin/ctl", *args], cwd=ROOT, env=self.env, capture_output=True, text=True)
        return result.stdout.strip()

    def pid(self, program: str) -> int:
        return int(self.ctl("pid", program) or 0)

    def worker_ready_count(self, program: str) -> int:
        path = self.data / "logs" / f"{program}.log"
        return path.read_text(errors="replace").count(" ready.") if path.exists() else 0

    def sent_at(self, job_id: str) -> str | None:
        """When the job's message reached the broker (the outbox's record; not in the API), read from SQLite."""
        with contextlib.closing(sqlite3.connect(f"file:{self.data / 'virtool.sqlite3'}?mode=ro", uri=True)) as db:
            row = db.execute("SELECT sent_at FROM jobs_job WHERE id = ?", [job_id]).fetchone()
        return row[0] if row else None

    def manage(self, *args: str, stdin: str = "") -> None:
        subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, input=stdin, text=True, check=True)

    def stop(self) -> None:
        if self.run.poll() is None:
            os.kill(self.run.pid, signal.SIGINT)
            try:
                self.run.wait(120)
            except subprocess.TimeoutExpired:
                os.killpg(self.run.pid, signal.SIGKILL)
                self.run.wait()
        if self.redis is not None and self.redis.poll() is None:
            self.redis.terminate()
            self.redis.wait(20)
        self.log.close()


class Client:
    """An administrator's session, as the browser has it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.session = requests.Session()
        self.session.headers["Origin"] = url

    def call(self, method: str, path: str, expect: int | None = None, **kwargs: Any) -> requests.Response:
        response = self.session.request(method, f"{self.url}/api{path}", timeout=120, **kwargs)
        if expect is not None and response.status_code != expect:
            raise SystemExit(f"faults: {method} {path} answered {response.status_code}: {response.text[:300]}")
        return response

    def upload(self, path: Path, upload_type: str) -> int:
        with path.open("rb") as handle:
            response = self.call(
                "POST",
                f"/uploads?name={path.name}&type={upload_type}",
                201,
                data=handle,
                headers={"Content-Type": "application/octet-stream"},
            )
        return response.json()["id"]

    def job_state(self, job_id: str) -> str:
        return self.call("GET", f"/jobs/{job_id}", 200).json()["state"]

    def job(self, job_id: str) -> dict:
        return self.call("GET", f"/jobs/{job_id}", 200).json()

    def wait_job(self, job_id: str, timeout: float = 600) -> str:
        return wait(lambda: (state := self.job_state(job_id)) in FINISHED and state, timeout, f"job {job_id}", 0.5)

    def analyse(self, sample_id: str, ref_id: str) -> requests.Response:
        return self.call("POST", f"/samples/{sample_id}/analyses", json={"ref_id": ref_id})


def answering(url: str) -> bool:
    try:
        return requests.get(f"{url}/api", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=20, help="times the 10,000 RpRSV pairs (default 20)")
    parser.add_argument("--outage", type=float, default=20.0, help="seconds Redis stays down (default 20)")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder (logs of every process)")
    options = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # progress shows as it happens, also into a file

    temp = Path(tempfile.mkdtemp(prefix="virtool-faults-"))
    instance: Instance | None = None
    times: dict[str, float] = {}
    ends: list[tuple[str, str, str]] = []
    try:
        reads = (
            resample(options.scale, temp)
            if options.scale > 1
            else (
                SHARED / "samples" / "rprsv_1.fq.gz",
                SHARED / "samples" / "rprsv_2.fq.gz",
            )
        )
        instance = Instance(temp)
        print(f"faults: instance at {instance.url}, data {instance.data}")
        wait(lambda: answering(instance.url), 300, "the web server")
        for program in ("worker_default", "worker_small", "worker_large"):
            wait(lambda program=program: instance.worker_ready_count(program) >= 1, 300, program)
        instance.manage("create_user", "admin", "--role", "full", "--password-stdin", stdin="faults-password\n")
        client = Client(instance.url)
        login = client.call("POST", "/account/login", json={"handle": "admin", "password": "faults-password"})
        assert login.ok, login.text

        upload = client.upload(SHARED / "references" / "demo-plant-viruses.json.gz", "reference")
        reference = client.call("POST", "/refs", 201, json={"import_from": upload, "name": "Demo"}).json()
        assert client.wait_job(reference["job"]["id"]) == "complete"
        index = client.call("POST", f"/refs/{reference['id']}/indexes", 201).json()
        assert client.wait_job(index["job"]["id"]) == "complete"
        files = [client.upload(path, "reads") for path in reads]
        sample = client.call("POST", "/samples", 201, json={"name": "RpRSV", "files": files}).json()
        assert client.wait_job(sample["job"]["id"]) == "complete"
        print(f"faults: sample {sample['id']} ready ({options.scale}x RpRSV), reference {reference['id']} indexed")

        def start_analysis(label: str) -> tuple[str, str]:
            analysis = client.analyse(sample["id"], reference["id"])
            if analysis.status_code != 201:
                raise SystemExit(f"faults: analysis ({label}) answered {analysis.status_code}: {analysis.text}")
            document = analysis.json()
            job_id = document["job"]["id"]
            wait(lambda: client.job_state(job_id) == "running", 120, f"analysis {label} to run")
            return document["id"], job_id

        # 1. The web server dies.
        analysis, job = start_analysis("web fault")
        web = instance.pid("web")
        os.kill(web, signal.SIGKILL)
        killed = time.monotonic()
        wait(lambda: not answering(instance.url) or instance.pid("web") != web, 10, "the web server to go")
        wait(lambda: answering(instance.url), 120, "the web server to come back", 0.05)
        times["web killed → API answers again"] = time.monotonic() - killed
        ends.append(("running while web was killed", analysis, client.wait_job(job)))

        # 2. Redis dies for `outage` seconds.
        analysis, job = start_analysis("Redis fault")
        instance.kill_redis()
        down = time.monotonic()
        time.sleep(1)
        api_during = answering(instance.url)
        started = time.monotonic()
        refused = client.analyse(sample["id"], reference["id"])
        times["job-creating request while Redis is down: answer time"] = time.monotonic() - started
        assert refused.status_code == 503, (refused.status_code, refused.text)
        assert refused.headers["Content-Type"] == "application/json", refused.headers
        assert refused.json()["id"] == "service_unavailable", refused.text
        print(
            f"faults: during the outage GET /api {'answers' if api_during else 'does not answer'}; "
            f"POST analysis → 503 {refused.json()['message']!r}"
        )
        kept = [
            document
            for document in client.call("GET", "/jobs?per_page=100", 200).json()["documents"]
            if document["state"] == "waiting"
        ]
        assert len(kept) == 1, kept
        kept_job = kept[0]["id"]
        time.sleep(max(0.0, options.outage - (time.monotonic() - down)))
        instance.start_redis()
        back = time.monotonic()
        times["Redis down (s)"] = back - down
        wait(lambda: instance.sent_at(kept_job), 180, "the job made during the outage to be sent")
        times["Redis back → job made during the outage is sent (outbox)"] = time.monotonic() - back
        wait(lambda: client.job_state(kept_job) != "waiting", 300, "the job made during the outage to start")
        times["Redis back → that job starts (after the running analysis)"] = time.monotonic() - back
        ends.append(("running while Redis was down", analysis, client.wait_job(job)))
        kept_analysis = client.job(kept_job)["args"]["analysis_id"]
        ends.append(("requested while Redis was down (503)", kept_analysis, client.wait_job(kept_job)))

        # 3. The worker running an analysis dies.
        analysis, job = start_analysis("worker fault")
        worker = instance.pid("worker_large")
        ready_before = instance.worker_ready_count("worker_large")
        os.kill(worker, signal.SIGKILL)
        killed = time.monotonic()
        state = client.wait_job(job, 300)
        times["worker killed → its job ends (terminated)"] = time.monotonic() - killed
        wait(lambda: instance.worker_ready_count("worker_large") > ready_before, 300, "the worker to come back")
        times["worker killed → worker ready again"] = time.monotonic() - killed
        ends.append(("running on the worker that was killed", analysis, state))
        detail = client.job(job)["status"][-1]["error"]["details"][0]
        half_made = {
            "analysis answers": client.call("GET", f"/analyses/{analysis}").status_code,
            "analysis folder": (instance.data / "samples" / sample["id"] / "analysis" / analysis).exists(),
            "job scratch folder": (instance.data / "jobs" / job).exists(),
        }
        analysis, job = start_analysis("after the worker came back")
        ends.append(("after the worker came back", analysis, client.wait_job(job)))
        reservations = instance.redis_cli("--scan", "--pattern", f"{PREFIX}:resources:*:reservations")
        held = sum(int(instance.redis_cli("hlen", key) or 0) for key in reservations.split())

        print("\nrecovery times")
        for what, seconds in times.items():
            print(f"  {what:<62} {seconds:6.2f} s")
        print("\nanalyses")
        for what, analysis_id, end in ends:
            print(f"  {what:<40} {analysis_id}  {end}")
        print(f"\nthe killed worker's job: {detail}")
        print(f"left of it: {half_made}; reservations held now: {held}")
        assert [end for _, _, end in ends] == ["complete", "complete", "complete", "terminated", "complete"], ends
        assert half_made == {"analysis answers": 404, "analysis folder": False, "job scratch folder": False}
        assert held == 0
        print("\nfaults: the instance came back by itself after every fault; nothing was left half-made")
    finally:
        if instance is not None:
            instance.stop()
        if options.keep:
            print(f"kept {temp}")
        else:
            shutil.rmtree(temp, ignore_errors=True)


if __name__ == "__main__":
    main()
