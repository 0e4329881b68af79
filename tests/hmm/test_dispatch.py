"""HMM changes reach browsers: annotations as `hmm`, the status document as `status`, and the install's progress
as Virtool's `tasks` messages (what Virtool's own client follows on its HMM page)."""

from __future__ import annotations

import pytest

from core import events
from hmm import services
from tests.conftest import client_for, run_waiting_jobs
from tests.hmm.conftest import DATA, annotations, hmm_upload

pytestmark = pytest.mark.django_db(transaction=True)


def install():
    services.hmm_install_files(profiles=DATA / "profiles.hmm", annotations=DATA / "annotations.json.gz", user=None)


def by_interface(messages: list[dict]) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for message in messages:
        grouped.setdefault(message["interface"], []).append(message)
    return grouped


def test_an_install_sends_each_annotation_and_the_status(data_path, channel_reader):
    reader = channel_reader().join(events.GROUP_ALL)
    install()
    messages = by_interface(reader.messages())
    records = {record["id"]: record for record in annotations()}
    assert sorted(message["data"]["id"] for message in messages["hmm"]) == sorted(records)
    first = next(message for message in messages["hmm"] if message["data"]["id"] == "8s1nqs1w")
    assert first == {
        "interface": "hmm",
        "operation": "insert",
        "data": {
            "id": "8s1nqs1w",
            "cluster": 10,
            "count": 113,
            "names": ["L1", "L1 protein", "major capsid protein"],
            "families": {"Papillomaviridae": 102},
        },
    }
    status = messages["status"][-1]  # (the status row is created on first use: an insert may come first)
    assert status["operation"] == "update"
    assert status["data"]["id"] == "hmm"
    assert status["data"]["installed"]["count"] == 3

    # Installed again with the same ids: the annotations are updates, not new ones.
    install()
    again = by_interface(reader.messages())
    assert {message["operation"] for message in again["hmm"]} == {"update"}
    assert len(again["hmm"]) == 3


def test_a_purge_sends_the_ids_once(data_path, channel_reader):
    install()
    reader = channel_reader().join(events.GROUP_ALL)
    services.hmm_purge()
    messages = by_interface(reader.messages())
    assert [(m["operation"], sorted(m["data"])) for m in messages["hmm"]] == [
        ("delete", sorted(record["id"] for record in annotations()))
    ]
    assert [m["data"]["installed"] for m in messages["status"]] == [None]


def test_the_install_job_reports_its_progress_live(data_path, admin_user, jobs_here, channel_reader):
    client = client_for(admin_user)
    reader = channel_reader().join(events.GROUP_ALL)
    response = client.post("/api/hmms/status/updates", {"upload_id": hmm_upload(admin_user).pk}, format="json")
    job_id = response.json()["task"]["job_id"]
    assert run_waiting_jobs() == ["complete"]
    messages = by_interface(reader.messages())

    from jobs.models import Task

    tasks = [message["data"] for message in messages["tasks"]]
    assert messages["tasks"][0]["operation"] == "insert"
    assert {(message["operation"], message["data"]["type"]) for message in messages["tasks"][1:]} == {
        ("update", "install_hmms")
    }
    assert {task["id"] for task in tasks} == {Task.objects.get(job_id=job_id).pk}
    steps = [task["step"] for task in tasks]
    assert steps[-1] == "import_annotations"
    for step in ("decompress", "check_files", "install_profiles"):
        assert step in steps
    # Preparing shows 3 %, as in Virtool; from the first step on, progress only grows.
    progress = [task["progress"] for task in tasks if task["step"] not in ("waiting", "preparing")]
    assert progress == sorted(progress)
    assert progress[0] == 0
    assert (tasks[-1]["complete"], tasks[-1]["progress"]) == (True, 100)

    # The status document follows the same job: created waiting, then step by step to complete.
    statuses = [message["data"] for message in messages["status"]]
    assert statuses[0]["task"]["state"] == "waiting"
    assert statuses[-1]["task"]["complete"] is True
    assert statuses[-1]["installed"]["name"] == "vthmm.tar.gz"
    assert len(messages["hmm"]) == 3
