"""A reference's `task` is Virtool's task that filled it (import, clone): the `/api/tasks/{id}` document."""

from __future__ import annotations

import pytest

from jobs.models import Task
from tests.conftest import client_for
from tests.references.conftest import EXPORT_20, make_reference_upload, run_waiting_jobs

pytestmark = pytest.mark.django_db(transaction=True)


def test_import_and_clone_are_tasks_the_reference_names(make_user, mocker):
    mocker.patch("jobs.services.job_enqueue")
    curator = make_user("cura", permissions=["create_ref", "upload_file"])
    client = client_for(curator)
    upload = make_reference_upload(curator, source=EXPORT_20)
    created = client.post("/api/refs", {"import_from": upload.name_on_disk, "name": "Source"}, format="json").json()
    task = Task.objects.get(job__workflow="import_reference")
    waiting = created["task"]
    assert (waiting["id"], waiting["type"], waiting["complete"], waiting["step"]) == (
        task.pk,
        "import_reference",
        False,
        "waiting",
    )
    assert run_waiting_jobs() == ["complete"]
    document = client.get(f"/api/refs/{created['id']}").json()
    assert document["task"] == client.get(f"/api/tasks/{task.pk}").json()
    assert (document["task"]["complete"], document["task"]["progress"], document["task"]["error"]) == (True, 100, None)
    # Virtool's job lists leave the import out.
    assert client.get("/api/jobs").json()["documents"] == []

    clone = client.post("/api/refs", {"clone_from": created["id"], "name": "Mine"}, format="json").json()
    clone_task = Task.objects.get(job__workflow="clone_reference")
    assert clone_task.pk > task.pk
    assert clone["task"]["id"] == clone_task.pk
    assert clone["task"]["type"] == "clone_reference"
    assert run_waiting_jobs() == ["complete"]
    listed = client.get("/api/tasks").json()
    assert [(t["id"], t["type"], t["complete"]) for t in listed] == [
        (clone_task.pk, "clone_reference", True),
        (task.pk, "import_reference", True),
    ]
