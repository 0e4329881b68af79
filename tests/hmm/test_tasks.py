"""Virtool's tasks (`/api/tasks`, the `tasks` websocket interface): an HMM install is a task with an integer id,
read from its job; Virtool's job lists leave it out."""

from __future__ import annotations

import pytest

from core import events
from jobs.models import Job, Task
from tests.conftest import client_for, run_waiting_jobs
from tests.hmm.conftest import hmm_upload

pytestmark = pytest.mark.django_db(transaction=True)

TASK_KEYS = {"id", "type", "complete", "progress", "step", "error", "context", "count", "file_size", "created_at"}


def test_an_hmm_install_is_a_task_in_the_api_and_on_the_websocket(
    data_path, admin_user, make_user, jobs_here, channel_reader
):
    client = client_for(admin_user)
    reader = channel_reader().join(events.GROUP_ALL)
    upload = hmm_upload(admin_user)
    job_id = client.post("/api/hmms/status/updates", {"upload_id": upload.pk}, format="json").json()["task"]["job_id"]
    task = Task.objects.get(job_id=job_id)
    assert isinstance(task.pk, int)
    # The HMM status names the same task (and its job, for our own pages).
    status_task = client.get("/api/hmms/status").json()["task"]
    assert (status_task["id"], status_task["job_id"]) == (task.pk, job_id)

    waiting = client.get(f"/api/tasks/{task.pk}").json()
    assert waiting == {
        "id": task.pk,
        "type": "install_hmms",
        "complete": False,
        "progress": 0,
        "step": "waiting",
        "error": None,
        "context": Job.objects.get(pk=job_id).args,
        "count": 0,
        "file_size": upload.size,
        "created_at": waiting["created_at"],
    }
    assert waiting["context"]["name"] == "vthmm.tar.gz"
    assert run_waiting_jobs() == ["complete"]

    done = client.get(f"/api/tasks/{task.pk}").json()
    assert (done["complete"], done["progress"], done["step"], done["error"]) == (True, 100, "import_annotations", None)
    assert client_for(make_user("reader")).get("/api/tasks").json() == [done]
    # Not a job for Virtool's client.
    assert client.get("/api/jobs/v2").json()["items"] == []
    assert client.get(f"/api/jobs/v2/{job_id}").status_code == 404

    ours = [m for m in reader.messages() if m["interface"] == "tasks"]
    assert ours[0]["operation"] == "insert"
    assert ours[0]["data"]["id"] == task.pk
    assert {m["operation"] for m in ours[1:]} == {"update"}
    assert all(set(m["data"]) == TASK_KEYS for m in ours)
    # Preparing shows 3 %, as in Virtool; from the first step on, progress only grows.
    assert [m["data"]["progress"] for m in ours if m["data"]["step"] == "preparing"] == [3]
    progress = [m["data"]["progress"] for m in ours if m["data"]["step"] not in ("waiting", "preparing")]
    assert {"decompress", "install_profiles", "import_annotations"} <= {m["data"]["step"] for m in ours}
    assert progress == sorted(progress)
    assert (ours[-1]["data"]["complete"], ours[-1]["data"]["progress"]) == (True, 100)

    # Clearing the finished job removes its task: a `tasks` delete with the integer id.
    reader.messages()
    assert client.delete(f"/api/jobs/{job_id}").status_code == 204
    deletes = [m for m in reader.messages() if m["interface"] == "tasks"]
    assert deletes == [{"interface": "tasks", "operation": "delete", "data": [task.pk]}]
    assert client.get(f"/api/tasks/{task.pk}").status_code == 404


def test_unknown_and_out_of_range_task_ids_are_404(admin_client, anon_client):
    assert anon_client.get("/api/tasks").status_code == 401
    for task_id in ("1", "0", str(2**31), str(2**70)):
        response = admin_client.get(f"/api/tasks/{task_id}")
        assert response.status_code == 404
        assert response.json()["id"] == "not_found"
    assert admin_client.get("/api/tasks/abc").status_code == 404
